//! The approval gate for file edits, driven as a person would drive it: the
//! real `airlock` binary in a real pseudo-terminal (the prompt is asked on
//! `/dev/tty`, so only a terminal can answer it), and without one.
//!
//! Each test has its own `--home` (audit log, undo records, compile cache)
//! and its own workspace. The skill is the `adversary` test guest:
//! `case=write|rm|mkdir` and `path=`, `content=`; it prints `ok: ...` or
//! `err: access-denied|CAPABILITY|PATH|REASON` and returns normally, so a
//! refused change still ends with exit 0 and the refusal in its output.
//!
//! The terminal is read with non-blocking reads and short sleeps rather than
//! `Expect::expect`, which polls without sleeping: on a small machine running
//! tests in parallel, several spinning readers would starve the very
//! processes they wait for.
#![cfg(unix)]

use crate::approvals::common::*;
use crate::support::{airlock, airlock_command, describe, text};
use airlock_tests::pty::{Pty, Signal, WaitStatus};
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

#[test]
fn approving_at_the_terminal_makes_the_change_and_records_who_approved() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let mut pty = prompt_for_notes(home.path(), ws.path(), "workspace-write");
    // Nothing is written while the question waits.
    assert_eq!(read(ws.path().join("notes.txt")), OLD.as_bytes());
    pty.send("y\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(shown.contains("ok: written"), "{shown}");
    assert_eq!(read(ws.path().join("notes.txt")), b"new-text");
    assert!(
        temp_files(ws.path()).is_empty(),
        "{:?}",
        temp_files(ws.path())
    );

    let run = run_id(&shown);
    let all = audit_records(home.path());
    let approval = approval_of(&all, &run);
    let data = &approval["data"];
    assert_eq!(data["decision"]["allowed"], true, "{approval}");
    assert_eq!(data["decision"]["how"], "interactive", "{approval}");
    assert_eq!(data["mode"], "ask", "{approval}");
    assert_eq!(data["request"]["skill"], "guest_adversary", "{approval}");
    assert_eq!(data["request"]["subject"]["type"], "edit", "{approval}");
    assert_eq!(
        data["request"]["subject"]["path"], "notes.txt",
        "{approval}"
    );
    assert_eq!(data["request"]["subject"]["change"], "modify", "{approval}");
    let who = data["decision"]["who"].as_str().expect("who approved");
    assert!(
        who.contains("(uid "),
        "the person at the terminal: {approval}"
    );
    let writes: Vec<&Value> = records(&all, &run, "access")
        .into_iter()
        .filter(|r| r["data"]["op"] == "write-file")
        .collect();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0]["data"]["path"], "notes.txt");
    assert_eq!(writes[0]["data"]["allowed"], true);
    assert_eq!(writes[0]["data"]["bytes"], 8);
    assert_eq!(writes[0]["data"]["replaces"], true);
    // The decision is recorded before the change it allows.
    let position = |r: &Value| all.iter().position(|x| x == r).expect("a listed record");
    assert!(position(approval) < position(writes[0]));
}

#[test]
fn declining_at_the_terminal_refuses_the_change_and_leaves_the_file() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let mut pty = prompt_for_notes(home.path(), ws.path(), "workspace-write");
    // An answer it does not know asks again; it is not taken as a yes.
    pty.send("maybe\r");
    pty.wait_for("Please answer y, n or r");
    pty.send("n\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(
        shown.contains("err: access-denied|workspace-write|notes.txt|"),
        "{shown}"
    );
    assert!(
        shown.contains("declined it at the approval prompt"),
        "{shown}"
    );
    assert!(!shown.contains("ok: written"), "{shown}");
    assert_eq!(read(ws.path().join("notes.txt")), OLD.as_bytes());
    assert!(temp_files(ws.path()).is_empty());

    let run = run_id(&shown);
    let all = audit_records(home.path());
    let decision = &approval_of(&all, &run)["data"]["decision"];
    assert_eq!(decision["allowed"], false, "{decision}");
    assert_eq!(decision["how"], "interactive", "{decision}");
    assert!(
        !records(&all, &run, "access")
            .iter()
            .any(|r| r["data"]["op"] == "write-file" && r["data"]["allowed"] == true),
        "no write was recorded as made"
    );
}

/// "r" is yes for this exact path until the run ends. The adversary guest
/// changes one path once per run, and no test guest writes the same path
/// twice, so the second, unprompted request (`how = "this-run"`) cannot be
/// reached through the binary; `approval.rs`'s unit tests cover that path of
/// the gate. What is checked here: "r" allows the change, it is recorded as
/// an interactive yes, and it does not outlive its run.
#[test]
fn yes_for_this_run_allows_the_change_and_ends_with_the_run() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let mut pty = prompt_for_notes(home.path(), ws.path(), "workspace-write");
    pty.send("r\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(shown.contains("ok: written"), "{shown}");
    assert_eq!(read(ws.path().join("notes.txt")), b"new-text");
    let first = run_id(&shown);
    let all = audit_records(home.path());
    let decision = &approval_of(&all, &first)["data"]["decision"];
    assert_eq!(decision["allowed"], true, "{decision}");
    assert_eq!(decision["how"], "interactive", "{decision}");

    // A new run asks again for the same path.
    let mut pty = Pty::spawn(
        airlock_command(home.path()),
        &run_args(
            ws.path(),
            "workspace-write",
            &["case=write", "path=notes.txt", "content=third"],
            &[],
        ),
    );
    pty.wait_for("wants to modify notes.txt");
    pty.wait_for("+third");
    pty.wait_for("Allow?");
    pty.send("n\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(
        shown.contains("declined it at the approval prompt"),
        "{shown}"
    );
    assert_eq!(read(ws.path().join("notes.txt")), b"new-text");
    let second = run_id(&shown);
    assert_ne!(first, second);
    let all = audit_records(home.path());
    assert_eq!(
        approval_of(&all, &second)["data"]["decision"]["how"],
        "interactive"
    );
}

#[test]
fn without_a_terminal_a_change_that_needs_asking_is_refused_naming_the_profile_key() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let write = ["case=write", "path=notes.txt", "content=new-text"];

    // No terminal at all: stdin is /dev/null.
    let out = airlock(
        home.path(),
        &run_args(ws.path(), "workspace-write", &write, &[]),
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        stdout.contains("err: access-denied|workspace-write|notes.txt|"),
        "{}",
        describe(&out)
    );
    assert!(
        stdout.contains("edits.mode = \"allow\""),
        "the refusal names the key that would allow it: {}",
        describe(&out)
    );
    assert!(!text(&out.stderr).contains("Allow?"), "{}", describe(&out));
    assert_eq!(read(ws.path().join("notes.txt")), OLD.as_bytes());
    let piped = run_id(&text(&out.stderr));

    // A terminal, but --non-interactive: no question either.
    let pty = Pty::spawn(
        airlock_command(home.path()),
        &run_args(ws.path(), "workspace-write", &write, &["--non-interactive"]),
    );
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(!shown.contains("Allow?"), "nothing was asked:\n{shown}");
    assert!(
        shown.contains("err: access-denied|workspace-write|notes.txt|"),
        "{shown}"
    );
    assert!(shown.contains("edits.mode = \"allow\""), "{shown}");
    assert_eq!(read(ws.path().join("notes.txt")), OLD.as_bytes());
    let flagged = run_id(&shown);

    let all = audit_records(home.path());
    for run in [&piped, &flagged] {
        let decision = &approval_of(&all, run)["data"]["decision"];
        assert_eq!(decision["allowed"], false, "{decision}");
        assert_eq!(decision["how"], "non-interactive", "{decision}");
        assert_eq!(decision["who"], "airlock", "{decision}");
    }
}

#[test]
fn a_profile_that_denies_edits_refuses_without_asking_even_at_a_terminal() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let profile = profile_file(home.path(), "deny", "");
    for (case, path) in [
        ("case=write", "path=notes.txt"),
        ("case=rm", "path=notes.txt"),
        ("case=mkdir", "path=new-dir"),
    ] {
        let args = if case == "case=write" {
            vec![case, path, "content=new-text"]
        } else {
            vec![case, path]
        };
        let pty = Pty::spawn(
            airlock_command(home.path()),
            &run_args(ws.path(), &profile, &args, &[]),
        );
        let (status, shown) = pty.finish();
        assert_eq!(exit_code(status, &shown), 0, "{shown}");
        assert!(!shown.contains("Allow?"), "nothing was asked:\n{shown}");
        let target = path.trim_start_matches("path=");
        assert!(
            shown.contains(&format!("err: access-denied|workspace-write|{target}|")),
            "{case}: {shown}"
        );
        assert!(shown.contains("edits.mode = \"deny\""), "{case}: {shown}");
        let run = run_id(&shown);
        let all = audit_records(home.path());
        let decision = &approval_of(&all, &run)["data"]["decision"];
        assert_eq!(decision["allowed"], false, "{decision}");
        assert_eq!(decision["how"], "profile-deny", "{decision}");
    }
    assert_eq!(read(ws.path().join("notes.txt")), OLD.as_bytes());
    assert!(!ws.path().join("new-dir").exists());
}

#[test]
fn undo_restores_exact_bytes_removes_created_files_and_refuses_conflicts() {
    let home = tempfile::tempdir().expect("home");
    let original: Vec<u8> = (0..=255u8).cycle().take(256 * 4).collect();
    let ws = tempfile::tempdir().expect("workspace");
    std::fs::write(ws.path().join("data.bin"), &original).expect("write data.bin");
    std::fs::write(ws.path().join("gone.txt"), "keep me\n").expect("write gone.txt");
    let profile = profile_file(home.path(), "allow", "");
    let run = |args: &[&str]| -> String {
        let out = airlock(home.path(), &run_args(ws.path(), &profile, args, &[]));
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        assert!(text(&out.stdout).starts_with("ok: "), "{}", describe(&out));
        run_id(&text(&out.stderr))
    };
    let undo = |extra: &[&str]| -> Output {
        let mut args: Vec<String> = vec!["undo".into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        airlock(home.path(), &args)
    };

    let overwrite = run(&["case=write", "path=data.bin", "content=replaced"]);
    let create = run(&["case=write", "path=fresh.txt", "content=brand new"]);
    let remove = run(&["case=rm", "path=gone.txt"]);
    assert_eq!(read(ws.path().join("data.bin")), b"replaced");
    assert_eq!(read(ws.path().join("fresh.txt")), b"brand new");
    assert!(!ws.path().join("gone.txt").exists());

    let out = undo(&[&overwrite, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("undo --json prints JSON");
    assert_eq!(report["run"], overwrite.as_str(), "{report}");
    assert_eq!(
        report["files"],
        serde_json::json!([{ "path": "data.bin", "action": "restored" }])
    );
    assert_eq!(
        read(ws.path().join("data.bin")),
        original,
        "the exact bytes"
    );

    let out = undo(&[&create]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        text(&out.stdout).contains("fresh.txt"),
        "{}",
        describe(&out)
    );
    assert!(
        !ws.path().join("fresh.txt").exists(),
        "the created file is gone"
    );

    let out = undo(&[&remove]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(read(ws.path().join("gone.txt")), b"keep me\n");

    // Twice is refused.
    let out = undo(&[&overwrite]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("already undone"),
        "{}",
        describe(&out)
    );
    assert_eq!(read(ws.path().join("data.bin")), original);

    // A file changed since the run: nothing is touched, unless --force.
    let again = run(&["case=write", "path=data.bin", "content=second"]);
    std::fs::write(ws.path().join("data.bin"), b"edited by hand").expect("edit by hand");
    let out = undo(&[&again]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("data.bin"), "names the file: {stderr}");
    assert!(stderr.contains("--force"), "says how to go on: {stderr}");
    assert_eq!(read(ws.path().join("data.bin")), b"edited by hand");
    assert!(temp_files(ws.path()).is_empty());
    let out = undo(&[&again, "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert_eq!(read(ws.path().join("data.bin")), original);

    // Every undo is in the audit trail.
    let undos = audit_records(home.path())
        .into_iter()
        .filter(|r| r["kind"] == "admin" && r["data"]["action"] == "undo")
        .map(|r| r["data"]["details"]["run"].as_str().map(str::to_string))
        .collect::<Vec<_>>();
    let expected = [&overwrite, &create, &remove, &again].map(|r| Some(r.clone()));
    assert_eq!(undos, expected, "each undo that happened, and only those");
}

/// What this shows, honestly: `write_atomically` asks for approval *before*
/// it creates its `.airlock-write-*` temporary file, so killing Airlock while
/// the prompt waits kills it before the temporary file exists. It shows what a
/// user can observe of a crash mid-change — the file keeps its exact old
/// bytes and nothing is left behind — but not the microseconds between the
/// temporary file's creation and its rename, which no black-box test can stop
/// a process inside deterministically. A crash there would leave the old file
/// intact (rename is atomic) but a stray temporary file behind; that window
/// is guarded by the write-sync-rename design, not tested here.
#[test]
fn killing_airlock_while_a_change_waits_for_approval_leaves_the_file_intact() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let pty = prompt_for_notes(home.path(), ws.path(), "workspace-write");
    let (status, shown) = pty.kill();
    assert!(
        matches!(status, WaitStatus::Signaled(_, Signal::SIGKILL, _)),
        "{status:?}\n{shown}"
    );
    assert_eq!(read(ws.path().join("notes.txt")), OLD.as_bytes());
    assert!(
        temp_files(ws.path()).is_empty(),
        "{:?}",
        temp_files(ws.path())
    );
    let names: Vec<String> = std::fs::read_dir(ws.path())
        .expect("list the workspace")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["notes.txt"], "nothing else appeared");
}

/// The time a person takes to read the diff is not the skill's: answering
/// after the profile's wall-clock limit has passed still lets the approved
/// change be made and the skill finish (the run's clock stands still while
/// a person decides).
#[test]
fn time_spent_at_the_prompt_is_not_charged_to_the_skills_deadline() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let profile = profile_file(home.path(), "ask", "\n[limits]\nwall-clock-seconds = 3\n");
    let mut pty = prompt_for_notes(home.path(), ws.path(), &profile);
    std::thread::sleep(Duration::from_secs(5));
    pty.send("y\r");
    let (status, shown) = pty.finish();
    assert_eq!(read(ws.path().join("notes.txt")), b"new-text");
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(shown.contains("ok: written"), "{shown}");
    assert!(!shown.contains("deadline reached"), "{shown}");
    run_id(&shown);
}

#[test]
fn yes_for_this_run_covers_the_same_path_again_without_asking() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let mut pty = Pty::spawn(
        airlock_command(home.path()),
        &run_args(
            ws.path(),
            "workspace-write",
            &["case=write-times", "path=notes.txt", "content=v", "times=3"],
            &[],
        ),
    );
    pty.wait_for("wants to modify notes.txt");
    pty.wait_for("Allow?");
    pty.send("r\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert_eq!(
        shown.matches("Allow?").count(),
        1,
        "asked once for three writes: {shown}"
    );
    assert_eq!(shown.matches("ok: written").count(), 3, "{shown}");
    assert_eq!(read(ws.path().join("notes.txt")), b"v #2");
    let run = run_id(&shown);
    let all = audit_records(home.path());
    let how: Vec<&Value> = records(&all, &run, "approval")
        .iter()
        .map(|r| &r["data"]["decision"]["how"])
        .collect();
    assert_eq!(how, ["interactive", "this-run", "this-run"]);
}

/// The issue's "done when": a skill proposes an edit and runs the project's
/// tests, each after a yes, and the command has no network.
#[test]
fn an_edit_and_the_projects_tests_each_run_after_a_yes() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    std::fs::write(
        ws.path().join("test.sh"),
        "grep -q new-text notes.txt && echo TESTS-PASS || echo TESTS-FAIL\n\
         if (exec 3<>/dev/tcp/127.0.0.1/9) 2>/dev/null; then echo NET; else echo NO-NET; fi\n",
    )
    .expect("test script");
    let profile = profile_file(
        home.path(),
        "ask",
        "\n[commands.programs]\nbash = \"ask\"\n",
    );
    let mut pty = prompt_for_notes(home.path(), ws.path(), &profile);
    pty.send("y\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert_eq!(read(ws.path().join("notes.txt")), b"new-text");

    let mut pty = Pty::spawn(
        airlock_command(home.path()),
        &run_args(
            ws.path(),
            &profile,
            &["case=exec", "program=bash", "args=test.sh", "path=."],
            &[],
        ),
    );
    pty.wait_for("wants to run a command");
    pty.wait_for("bash test.sh");
    pty.wait_for("no network");
    pty.wait_for("Allow?");
    pty.send("y\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(shown.contains("TESTS-PASS"), "{shown}");
    assert!(shown.contains("NO-NET"), "{shown}");
    let run = run_id(&shown);
    let all = audit_records(home.path());
    assert_eq!(
        approval_of(&all, &run)["data"]["decision"]["how"],
        "interactive"
    );
    let commands = records(&all, &run, "command");
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0]["data"]["exit-code"], 0);
}

#[test]
fn a_risky_command_asks_at_the_terminal_even_under_allow() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let profile = profile_file(
        home.path(),
        "allow",
        "\n[commands.programs]\ngit = \"allow\"\n",
    );
    let mut pty = Pty::spawn(
        airlock_command(home.path()),
        &run_args(
            ws.path(),
            &profile,
            &[
                "case=exec",
                "program=git",
                "args=push origin main",
                "path=.",
            ],
            &[],
        ),
    );
    pty.wait_for("git push origin main");
    pty.wait_for("risk:");
    pty.wait_for("Allow?");
    pty.send("n\r");
    let (status, shown) = pty.finish();
    assert_eq!(exit_code(status, &shown), 0, "{shown}");
    assert!(shown.contains("err: access-denied|exec|git|"), "{shown}");
}

/// A crash between writing the new content (to a temporary file, synced)
/// and the rename that replaces the old file leaves the old file intact.
/// The crash is injected with a debug-build fault switch at exactly that
/// point (`AIRLOCK_FAULT_CRASH_BEFORE_RENAME`): the process aborts there.
#[test]
fn a_crash_between_the_temporary_file_and_the_rename_leaves_the_old_file() {
    let home = tempfile::tempdir().expect("home");
    let ws = notes_workspace();
    let before = read(ws.path().join("notes.txt"));
    let profile = profile_file(home.path(), "allow", "");
    let out = airlock_command(home.path())
        .args(run_args(
            ws.path(),
            &profile,
            &["case=write", "path=notes.txt", "content=new-text"],
            &[],
        ))
        .env("AIRLOCK_FAULT_CRASH_BEFORE_RENAME", "1")
        .stdin(Stdio::null())
        .output()
        .expect("start airlock");
    assert!(
        !out.status.success(),
        "the fault did not fire: {}",
        describe(&out)
    );
    assert_eq!(
        read(ws.path().join("notes.txt")),
        before,
        "the old file is intact"
    );
    // What the crash left: the complete new content in a temporary file
    // beside it, never a half-written notes.txt.
    let temps = temp_files(ws.path());
    assert_eq!(temps.len(), 1, "{temps:?}");
    assert_eq!(read(PathBuf::from(&temps[0])), b"new-text");
    // The change was recorded (synced before it was made) and the run is
    // marked incomplete by the next start; the log verifies.
    let next = airlock(
        home.path(),
        &run_args(ws.path(), &profile, &["case=read", "path=notes.txt"], &[]),
    );
    assert_eq!(next.status.code(), Some(0), "{}", describe(&next));
    let all = audit_records(home.path());
    assert!(
        all.iter().any(|r| r["kind"] == "run-incomplete"),
        "{all:#?}"
    );
    let verify = airlock(home.path(), &["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", describe(&verify));
}
