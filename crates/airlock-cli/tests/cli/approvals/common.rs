//! Helpers shared by the approval tests (`approvals_cli`, the gate as a
//! person drives it, and `approval_attacks`, what a skill tries against
//! it): workspaces, profiles, the audit records and the pseudo-terminal
//! prompt.

use crate::support::{airlock, airlock_command, describe, text, utf8};
use airlock_tests::guests;
use airlock_tests::pty::{Pty, WaitStatus};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The original content of the file the tests ask to change.
pub const OLD: &str = "old-text\n";

/// The arguments of `airlock run` for the adversary skill: `skill_args` are
/// the `KEY=VALUE` pairs, each passed with `--arg`.
pub fn run_args(ws: &Path, profile: &str, skill_args: &[&str], extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "run".into(),
        guests::ADVERSARY.into(),
        "--allow-unsigned".into(),
        "-w".into(),
        utf8(ws).into(),
        "--profile".into(),
        profile.into(),
    ];
    for kv in skill_args {
        args.push("--arg".into());
        args.push((*kv).into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The run id from the summary line `audit: run ID (...)`.
pub fn run_id(output: &str) -> String {
    let start = output
        .find("audit: run ")
        .unwrap_or_else(|| panic!("no `audit: run ID` line in:\n{output}"))
        + "audit: run ".len();
    output[start..]
        .split_whitespace()
        .next()
        .expect("a run id after `audit: run`")
        .to_string()
}

/// A workspace holding `notes.txt` = [`OLD`].
pub fn notes_workspace() -> tempfile::TempDir {
    airlock_tests::workspace(&[("notes.txt", OLD)])
}

pub fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Names of `.airlock-write-*` temporary files anywhere under `dir`.
pub fn temp_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list the workspace").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry
                .file_name()
                .to_string_lossy()
                .starts_with(".airlock-write-")
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// A profile file under `dir`: the whole workspace read-write, edits as `mode`.
pub fn profile_file(dir: &Path, mode: &str, extra: &str) -> String {
    let path = dir.join(format!("edits-{mode}.toml"));
    std::fs::write(
        &path,
        format!(
            "name = \"edits-{mode}\"\n\n[[grant]]\npath = \".\"\naccess = \"read-write\"\n\n[edits]\nmode = \"{mode}\"\n{extra}"
        ),
    )
    .expect("write the profile");
    utf8(&path).to_string()
}

/// Every audit record, through `airlock audit show --json`.
pub fn audit_records(home: &Path) -> Vec<Value> {
    let out = airlock(home, &["audit", "show", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line of `audit show --json` is JSON"))
        .collect()
}

/// The records of one kind that run `run` wrote.
pub fn records<'a>(all: &'a [Value], run: &str, kind: &str) -> Vec<&'a Value> {
    all.iter()
        .filter(|r| r["run"] == run && r["kind"] == kind)
        .collect()
}

pub fn exit_code(status: WaitStatus, transcript: &str) -> i32 {
    match status {
        WaitStatus::Exited(_, code) => code,
        other => panic!("airlock did not exit normally ({other:?}); it showed:\n{transcript}"),
    }
}

/// Spawn the write of `new-text` over `notes.txt` under `profile` in a
/// terminal, and wait for the whole prompt.
pub fn prompt_for_notes(home: &Path, ws: &Path, profile: &str) -> Pty {
    let mut pty = Pty::spawn(
        airlock_command(home),
        &run_args(
            ws,
            profile,
            &["case=write", "path=notes.txt", "content=new-text"],
            &[],
        ),
    );
    pty.wait_for("skill `guest_adversary` wants to modify notes.txt");
    pty.wait_for("--- a/notes.txt");
    pty.wait_for("+++ b/notes.txt");
    pty.wait_for("-old-text");
    pty.wait_for("+new-text");
    pty.wait_for("Allow?");
    pty
}

/// The one approval record of `run`.
pub fn approval_of<'a>(all: &'a [Value], run: &str) -> &'a Value {
    let approvals = records(all, run, "approval");
    assert_eq!(approvals.len(), 1, "one approval record: {approvals:#?}");
    approvals[0]
}
