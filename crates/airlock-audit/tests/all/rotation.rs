//! Rotation to a new file keeps the chain and the checkpoints.

use crate::support::*;

// ------------------------------------------------------------ 11. rotation

#[test]
fn a_rotated_log_verifies_across_files_and_a_missing_file_is_caught() {
    let home = tempdir();
    let log = AuditLog::open(home.path(), rotating(2048)).expect("open a rotating log");
    add_runs(&log, 0..8);
    drop(log);
    let numbers = segments(home.path());
    assert!(numbers.len() >= 4, "several files: {numbers:?}");
    let layout = layout(home.path());
    let mut total = 0;
    for &n in &numbers {
        let lines = read_lines(&layout.segment(n));
        total += lines.len() as u64;
        if n > 1 {
            let first = parse(&lines[0]);
            assert_eq!(first.kind, kind::SEGMENT_START, "file {n}");
            assert_eq!(first.u64("file"), Some(u64::from(n)));
        }
    }
    let report = verify_home(home.path());
    assert_verifies(&report);
    assert_eq!(report.files as usize, numbers.len());
    assert_eq!(report.records, total);
    assert!(report.checkpoints >= 8, "{report:#?}");
    assert!(report.open_runs.is_empty(), "{report:#?}");
    let name = |n: u32| format!("log/{}", segment_name(n));
    let after_file = |n: u32| parse(read_lines(&layout.segment(n)).last().expect("a line")).seq + 1;

    // A middle file deleted.
    let copy = copy_home(home.path());
    fs::remove_file(Layout::new(&audit_dir(copy.path())).segment(2)).expect("delete file 2");
    assert_caught(
        &verify_home(copy.path()),
        Some(after_file(1)),
        &name(3),
        0,
        &["00000002.jsonl", "missing"],
    );

    // The first file deleted.
    let copy = copy_home(home.path());
    fs::remove_file(Layout::new(&audit_dir(copy.path())).segment(1)).expect("delete file 1");
    assert_caught(
        &verify_home(copy.path()),
        None,
        &name(2),
        0,
        &["00000001.jsonl", "missing"],
    );

    // A middle file deleted and the later ones renumbered to close the gap.
    let copy = copy_home(home.path());
    let copied = Layout::new(&audit_dir(copy.path()));
    fs::remove_file(copied.segment(2)).expect("delete file 2");
    for &n in &numbers[2..] {
        fs::rename(copied.segment(n), copied.segment(n - 1)).expect("renumber");
    }
    assert_caught(
        &verify_home(copy.path()),
        Some(after_file(2)),
        &name(2),
        1,
        &["deleted"],
    );

    // The last file deleted.
    let copy = copy_home(home.path());
    let last = *numbers.last().expect("a last file");
    fs::remove_file(Layout::new(&audit_dir(copy.path())).segment(last)).expect("delete it");
    assert_caught(
        &verify_home(copy.path()),
        Some(after_file(last - 1) - 1),
        &name(last - 1),
        0,
        &["cut off"],
    );
}
