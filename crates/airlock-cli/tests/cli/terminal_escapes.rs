//! What a skill, a model or a file produced reaches the terminal shown,
//! never obeyed: `airlock run`'s live view and output, and `airlock audit
//! show`. `--json` output stays exact.
//!
//! The attack in each test: text that, printed raw, erases the line it is on
//! and returns to its start (`ESC[2K` `\r`) to print a forged line over it,
//! or conceals text (`ESC[8m`).
#![cfg(unix)]

use crate::support::{airlock, airlock_command, describe, text, utf8};
use airlock_tests::guests;
use airlock_tests::pty::{Pty, WaitStatus};
use serde_json::Value;
use std::path::Path;

/// Erase the line, return to its start, and write a forged one.
const FORGED: &str = "real\x1b[2K\rforged";
/// How the renderer shows [`FORGED`].
const FORGED_SHOWN: &str = "real\\x1b[2K^Mforged";

/// Nothing of the attack was obeyed: no erase-line after `real`, no
/// conceal, no bare carriage return before the forged text. (Airlock's own
/// progress spinner erases its own line; that is not the skill's text.)
fn assert_not_obeyed(shown: &str, what: &str) {
    assert!(
        !shown.contains("real\x1b[2K"),
        "{what}: erase-line printed raw:\n{shown:?}"
    );
    assert!(
        !shown.contains("\x1b[8m"),
        "{what}: conceal printed raw:\n{shown:?}"
    );
    assert!(
        !shown.contains("\rforged"),
        "{what}: a bare \\r printed raw:\n{shown:?}"
    );
}

fn audit_json(home: &Path) -> Vec<Value> {
    let out = airlock(home, &["audit", "show", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line of `audit show --json` is JSON"))
        .collect()
}

#[test]
fn audit_show_escapes_log_line() {
    let home = tempfile::tempdir().expect("home");
    let ws = airlock_tests::workspace(&[("notes.txt", "x\n")]);
    let message = format!("{FORGED} \x1b[8mconcealed\x1b[0m");
    let out = airlock(
        home.path(),
        &[
            "run",
            guests::ADVERSARY,
            "--allow-unsigned",
            "-w",
            utf8(ws.path()),
            "--arg",
            "case=log",
            "--arg",
            &format!("message={message}"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // The live view (stderr) shows the log line escaped.
    let stderr = text(&out.stderr);
    assert_not_obeyed(&stderr, "the live view");
    assert!(
        stderr.contains(&format!("[info] {FORGED_SHOWN} \\x1b[8mconcealed")),
        "{stderr}"
    );

    let show = airlock(home.path(), &["audit", "show"]);
    assert_eq!(show.status.code(), Some(0), "{}", describe(&show));
    let shown = text(&show.stdout);
    assert_not_obeyed(&shown, "audit show");
    assert!(
        shown.contains(&format!("log/info    {FORGED_SHOWN}")),
        "{shown}"
    );
    let full = text(&airlock(home.path(), &["audit", "show", "--full"]).stdout);
    assert_not_obeyed(&full, "audit show --full");

    // --json is the record, byte for byte.
    let logged: Vec<String> = audit_json(home.path())
        .iter()
        .filter(|r| r["kind"] == "log")
        .filter_map(|r| r["data"]["message"].as_str().map(str::to_string))
        .collect();
    assert_eq!(logged, [message]);
}

/// The same through what a skill returns and what it was given (the only
/// parts the `hello` guest echoes), which older builds also record.
#[test]
fn audit_show_escapes_skill_output_and_input() {
    let home = tempfile::tempdir().expect("home");
    let ws = airlock_tests::workspace(&[]);
    let out = airlock(
        home.path(),
        &[
            "run",
            guests::HELLO,
            "--allow-unsigned",
            "-w",
            utf8(ws.path()),
            "--input",
            FORGED,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    // Piped, the output is the skill's, exactly.
    assert_eq!(text(&out.stdout), format!("hello, {FORGED}\n"));
    for args in [&["audit", "show"][..], &["audit", "show", "--full"]] {
        let show = airlock(home.path(), args);
        assert_eq!(show.status.code(), Some(0), "{}", describe(&show));
        let shown = text(&show.stdout);
        assert_not_obeyed(&shown, &args.join(" "));
        assert!(
            shown.contains(&format!("input   {FORGED_SHOWN}")),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("output    hello, {FORGED_SHOWN}")),
            "{shown}"
        );
    }
    let end = audit_json(home.path())
        .into_iter()
        .find(|r| r["kind"] == "run-end")
        .expect("a run-end record");
    assert_eq!(end["data"]["output"], format!("hello, {FORGED}"));
}

/// On a terminal the skill's output is shown escaped; `--json` keeps it
/// exact even there.
#[test]
fn run_output_on_a_terminal_is_escaped_and_json_is_exact() {
    let home = tempfile::tempdir().expect("home");
    let ws = airlock_tests::workspace(&[]);
    let args: Vec<String> = [
        "run",
        guests::HELLO,
        "--allow-unsigned",
        "-w",
        utf8(ws.path()),
        "--input",
        FORGED,
    ]
    .map(String::from)
    .to_vec();
    let pty = Pty::spawn(airlock_command(home.path()), &args);
    let (status, shown) = pty.finish();
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "{status:?}\n{shown}"
    );
    assert_not_obeyed(&shown, "run on a terminal");
    assert!(shown.contains(&format!("hello, {FORGED_SHOWN}")), "{shown}");

    let mut json = args.clone();
    json.push("--json".into());
    let pty = Pty::spawn(airlock_command(home.path()), &json);
    let (status, shown) = pty.finish();
    assert!(
        matches!(status, WaitStatus::Exited(_, 0)),
        "{status:?}\n{shown}"
    );
    let start = shown.find('{').expect("a JSON document");
    let report: Value = serde_json::from_str(shown[start..].trim()).expect("run --json is JSON");
    assert_eq!(report["output"], format!("hello, {FORGED}"), "{report}");
}
