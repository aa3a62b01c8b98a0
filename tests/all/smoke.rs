//! The simplest end-to-end path: load a real component, run it, read its output.

use airlock_tests::{guests, profile, run, workspace};

#[test]
fn hello_runs_and_reports_itself() {
    let ws = workspace(&[]);
    let report = run(guests::HELLO, &profile(""), ws.path(), &[]).unwrap();
    assert_eq!(report.output.as_deref(), Some("hello, world"));
    assert_eq!(report.skill.name, "hello");
    assert_eq!(report.skill.wit_version, "0.1.0");
    assert_eq!(report.skill_digest.len(), 64);
    assert!(report.events.is_empty());
}
