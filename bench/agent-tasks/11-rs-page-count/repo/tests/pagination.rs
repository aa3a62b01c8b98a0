use pager::{page, page_count};

#[test]
fn exact_pages() {
    assert_eq!(page_count(9, 3), 3);
}

#[test]
fn partial_last_page() {
    assert_eq!(page_count(10, 3), 4);
}

#[test]
fn empty_list_has_one_page() {
    assert_eq!(page_count(0, 10), 1);
}

#[test]
fn second_page() {
    let items: Vec<u32> = (1..=10).collect();
    assert_eq!(page(&items, 2, 3), vec![4, 5, 6]);
}
