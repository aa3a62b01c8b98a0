//! Pagination helpers for list endpoints.

/// Number of pages needed to show `total` items, `per_page` at a time.
///
/// A partly filled last page counts as a page, and an empty list still has
/// one (empty) page. `per_page` must be at least 1.
pub fn page_count(total: usize, per_page: usize) -> usize {
    if total == 0 {
        return 1;
    }
    total / per_page
}

/// The items on page `page` (numbered from 1); empty if past the end.
pub fn page<T: Clone>(items: &[T], page: usize, per_page: usize) -> Vec<T> {
    let start = page.saturating_sub(1) * per_page;
    items.iter().skip(start).take(per_page).cloned().collect()
}
