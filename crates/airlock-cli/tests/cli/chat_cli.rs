//! `airlock chat`, driven as a person drives it: the real binary in a real
//! pseudo-terminal, typing at its prompt (rustyline, in raw mode), pressing
//! Ctrl-C during a turn and answering the approval prompt.
//!
//! The turns that ask a model run the `coder` agent, unsigned, under the
//! shipped `coder` profile, on the real test model pinned as `smollm2`
//! (`AIRLOCK_TEST_MODEL`, fetched by `scripts/test`). The turns that change
//! files run the `adversary` test guest, which takes what to do from its
//! arguments only, so the session passes them on every turn with `--arg`.
//!
//! The terminal is read with non-blocking reads and short sleeps rather than
//! `Expect::expect`, which polls without sleeping (see approvals_cli.rs).
//! Waits look for what a step prints, never for the prompt alone: rustyline
//! redraws the prompt as keys are typed.
#![cfg(unix)]

use crate::support::{airlock, airlock_command, describe, text, utf8};
use airlock_tests::pty::{Pty, WaitStatus};
use airlock_tests::{guests, test_model};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The prompt for a new message (without its colour).
const PROMPT: &str = "you> ";

const QUESTION: &str = "What does the add function do?";

/// A fresh home with the test model pinned as `smollm2` (what `assistant`
/// grants), and a configuration with one engine thread.
fn home_with_model() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().expect("home");
    let model = test_model();
    let out = airlock(
        home.path(),
        &["model", "add", utf8(&model), "--name", "smollm2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let config = home.path().join("config.toml");
    std::fs::write(&config, "[engine]\nthreads = 1\n").expect("write the config");
    (home, config)
}

fn calc_workspace() -> tempfile::TempDir {
    airlock_tests::workspace(&[(
        "src/calc.py",
        "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n",
    )])
}

/// `airlock [--config C] chat --skill CODER --allow-unsigned --profile
/// coder -w WS`: the coding agent, unsigned, under the shipped profile.
fn coder_chat(home: &Path, config: &Path, ws: &Path) -> Pty {
    spawn(
        home,
        &[
            "--config",
            utf8(config),
            "chat",
            "--skill",
            guests::CODER,
            "--allow-unsigned",
            "--profile",
            "coder",
            "-w",
            utf8(ws),
        ],
    )
}

/// Every audit record, through `airlock audit show --json`.
fn audit_records(home: &Path) -> Vec<Value> {
    let out = airlock(home, &["audit", "show", "--json", "--limit", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line of `audit show --json` is JSON"))
        .collect()
}

/// The one record of `kind` that run `run` wrote.
fn record<'a>(all: &'a [Value], run: &str, kind: &str) -> &'a Value {
    let found: Vec<&Value> = all
        .iter()
        .filter(|r| r["run"] == run && r["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} record of run {run}: {all:#?}");
    found[0]
}

/// The value of argument `key` a run started with.
fn arg_of(start: &Value, key: &str) -> Option<String> {
    start["data"]["args"]
        .as_array()
        .expect("the run's args")
        .iter()
        .rev()
        .find(|pair| pair[0] == key)
        .and_then(|pair| pair[1].as_str().map(str::to_string))
}

/// `airlock ARGS` in a pseudo-terminal.
fn spawn(home: &Path, args: &[&str]) -> Pty {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    Pty::spawn(airlock_command(home), &args)
}

/// What the chat tests do at the terminal, on top of [`Pty`].
trait Chat {
    /// Type `line` and Enter at the prompt.
    fn line(&mut self, line: &str);
    /// The run id of turn `n`, from its summary line `turn N · run ID · ...`.
    fn turn_run_id(&mut self, n: usize) -> String;
    /// Read to the end; the exit code and everything shown.
    fn exit(self) -> (i32, String);
}

impl Chat for Pty {
    fn line(&mut self, line: &str) {
        self.wait_for(PROMPT);
        self.send(&format!("{line}\r"));
    }

    fn turn_run_id(&mut self, n: usize) -> String {
        self.wait_for(&format!("turn {n} · run "));
        let id = self.wait_for(" ");
        assert!(
            id.len() >= 8 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'),
            "a run id, not {id:?}:\n{}",
            self.transcript()
        );
        id
    }

    fn exit(self) -> (i32, String) {
        let (status, shown) = self.finish();
        match status {
            WaitStatus::Exited(_, code) => (code, shown),
            other => panic!("airlock did not exit normally ({other:?}); it showed:\n{shown}"),
        }
    }
}

/// A turn asks the model and streams its answer, then the session's
/// commands show that run's audit trail and the conversation.
#[test]
fn a_turn_streams_the_answer_and_audit_and_history_show_it() {
    let (home, config) = home_with_model();
    let ws = calc_workspace();
    let mut pty = coder_chat(home.path(), &config, ws.path());
    pty.wait_for("airlock chat: coder");
    pty.line(QUESTION);
    // The agent says what each step does, then streams its answer.
    pty.wait_for("[info] step 1: ");
    let run = pty.turn_run_id(1);
    let rest = pty.wait_for("tokens");
    assert!(
        rest.contains(" prompt + "),
        "the summary counts tokens: {rest}"
    );
    let shown = pty.transcript();
    let answer = shown
        .rsplit("[model] smollm2")
        .nth(1)
        .and_then(|a| a.split_once('\n'))
        .map_or("", |(_, a)| a);
    assert!(
        answer.trim().len() > 10,
        "a streamed answer before the last model line: {shown}"
    );
    assert!(shown.contains("Steps: "), "the agent's steps: {shown}");

    pty.line("/audit");
    pty.wait_for(&format!("run {run}"));
    pty.wait_for(&format!("input   {QUESTION}"));
    // The inference record: the prompt the model was given, and its answer.
    pty.wait_for("model       smollm2");
    pty.wait_for("[user]");
    pty.wait_for("[answer]");
    pty.wait_for("end         ok · exit 0");

    pty.line("/history");
    pty.wait_for(&format!("[1] you: {QUESTION}"));
    pty.wait_for("agent: ");
    pty.wait_for(&format!("(run {run})"));

    pty.line("/exit");
    let (code, shown) = pty.exit();
    assert_eq!(code, 0, "{shown}");

    // The contract with the skill: the message as input, the history (none
    // yet) as an argument.
    let all = audit_records(home.path());
    let start = record(&all, &run, "run-start");
    assert_eq!(start["data"]["input"], QUESTION, "{start}");
    assert_eq!(arg_of(start, "history").as_deref(), Some("[]"), "{start}");
    assert_eq!(arg_of(start, "model"), None, "no model chosen: {start}");
}

/// Ctrl-C during a turn stops the model's answer and returns to the prompt;
/// the session goes on, and the next turn's history says what happened.
#[test]
fn ctrl_c_cancels_the_turn_and_the_session_goes_on() {
    let (home, config) = home_with_model();
    let ws = calc_workspace();
    let mut pty = coder_chat(home.path(), &config, ws.path());
    pty.wait_for("airlock chat: coder");
    pty.line(QUESTION);
    // One model call is done; the next is being generated now.
    pty.wait_for("[model] smollm2");
    let asked = Instant::now();
    pty.send("\x03");
    pty.wait_for("turn 1 cancelled");
    let cancelled_after = asked.elapsed();
    pty.wait_for("audit: run ");
    let first = pty.wait_for(" ");
    pty.wait_for("turn 1 · run ");

    // The same session takes the next message, with `/model` chosen.
    pty.line("/model");
    pty.wait_for("* smollm2");
    pty.line("/model smollm2");
    pty.wait_for("The next turns use the model `smollm2`.");
    pty.line("What does calc.py contain?");
    pty.wait_for("[model] smollm2");
    let second = pty.turn_run_id(2);
    pty.line("/exit");
    let (code, shown) = pty.exit();
    assert_eq!(code, 0, "{shown}");
    assert!(
        cancelled_after < Duration::from_secs(60),
        "cancelled after {cancelled_after:?}"
    );

    let all = audit_records(home.path());
    // The cancelled run is recorded as ended: cancelled, exit 130.
    let end = record(&all, &first, "run-end");
    assert_eq!(end["data"]["outcome"], "cancelled", "{end}");
    assert_eq!(end["data"]["exit-code"], 130, "{end}");
    let start = record(&all, &second, "run-start");
    let history: Value =
        serde_json::from_str(&arg_of(start, "history").expect("a history argument"))
            .expect("the history is JSON");
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
    assert_eq!(history[0]["user"], QUESTION, "{history}");
    assert!(
        history[0]["assistant"]
            .as_str()
            .is_some_and(|a| a.contains("cancelled")),
        "{history}"
    );
    assert_eq!(arg_of(start, "model").as_deref(), Some("smollm2"));
}

/// A read-write profile whose edits ask first.
fn ask_profile(dir: &Path) -> String {
    let path = dir.join("edits-ask.toml");
    std::fs::write(
        &path,
        "name = \"edits-ask\"\n\n[[grant]]\npath = \".\"\naccess = \"read-write\"\n\n[edits]\nmode = \"ask\"\n",
    )
    .expect("write the profile");
    utf8(&path).to_string()
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A turn that changed a file (after a yes at the approval prompt) is undone
/// with `/undo`, to the file's exact bytes; a file edited by hand since is
/// not touched unless `/undo --force`.
#[test]
fn undo_reverts_the_last_turn_that_changed_a_file() {
    let home = tempfile::tempdir().expect("home");
    let ws = tempfile::tempdir().expect("workspace");
    let original: Vec<u8> = b"old\r\ntext \xff\xfe no newline at the end".to_vec();
    std::fs::write(ws.path().join("notes.txt"), &original).expect("write notes.txt");
    let profile = ask_profile(home.path());
    let mut pty = spawn(
        home.path(),
        &[
            "chat",
            "--skill",
            guests::ADVERSARY,
            "--allow-unsigned",
            "--profile",
            &profile,
            "-w",
            utf8(ws.path()),
            "--arg",
            "case=write",
            "--arg",
            "path=notes.txt",
            "--arg",
            "content=new-text",
        ],
    );
    pty.wait_for("airlock chat: guest_adversary");
    pty.line("/undo");
    pty.wait_for("No turn of this session changed a file");

    pty.line("please change notes.txt");
    pty.wait_for("wants to modify notes.txt");
    pty.wait_for("Allow?");
    pty.send("y\r");
    pty.wait_for("ok: written");
    let first = pty.turn_run_id(1);
    pty.wait_for("wrote 8 B");
    assert_eq!(read(ws.path().join("notes.txt")), b"new-text");

    pty.line("/undo");
    pty.wait_for("restored  notes.txt");
    pty.wait_for(&format!("Undid run {first}: 1 change(s)."));
    assert_eq!(
        read(ws.path().join("notes.txt")),
        original,
        "the exact bytes"
    );
    pty.line("/undo");
    pty.wait_for("No turn of this session changed a file");

    // Changed again, then edited by hand: the undo is refused, then forced.
    pty.line("once more");
    pty.wait_for("Allow?");
    pty.send("y\r");
    let second = pty.turn_run_id(2);
    std::fs::write(ws.path().join("notes.txt"), b"edited by hand").expect("edit by hand");
    pty.line("/undo");
    pty.wait_for("notes.txt has changed since run");
    pty.wait_for("nothing was undone");
    assert_eq!(read(ws.path().join("notes.txt")), b"edited by hand");
    pty.line("/undo --force");
    pty.wait_for(&format!("Undid run {second}: 1 change(s)."));
    assert_eq!(read(ws.path().join("notes.txt")), original);

    // Ctrl-C at the approval prompt answers no and cancels the turn.
    pty.line("and again");
    pty.wait_for("Allow?");
    pty.send("\x03");
    pty.wait_for("(no; cancelling the turn)");
    pty.wait_for("turn 3 cancelled");
    let third = pty.turn_run_id(3);
    assert_eq!(read(ws.path().join("notes.txt")), original);
    pty.line("/undo");
    pty.wait_for("No turn of this session changed a file");

    pty.wait_for(PROMPT);
    pty.send("\x04");
    let (code, shown) = pty.exit();
    assert_eq!(code, 0, "{shown}");

    let all = audit_records(home.path());
    let declined = record(&all, &third, "approval");
    assert_eq!(declined["data"]["decision"]["allowed"], false, "{declined}");
    let undos: Vec<Option<&str>> = all
        .iter()
        .filter(|r| r["kind"] == "admin" && r["data"]["action"] == "undo")
        .map(|r| r["data"]["details"]["run"].as_str())
        .collect();
    assert_eq!(undos, [Some(first.as_str()), Some(second.as_str())]);
    let approval = record(&all, &first, "approval");
    assert_eq!(approval["data"]["decision"]["how"], "interactive");
    assert_eq!(approval["data"]["decision"]["allowed"], true);
}

/// The prompt: `/help`, an unknown command, Ctrl-C clearing a line,
/// messages over several lines, `//` for a message that starts with `/`,
/// and Ctrl-D ending the session.
#[test]
fn the_prompt_takes_commands_and_messages_over_several_lines() {
    let home = tempfile::tempdir().expect("home");
    let ws = airlock_tests::workspace(&[("notes.txt", "hello\n")]);
    let mut pty = spawn(
        home.path(),
        &[
            "chat",
            "--skill",
            guests::ADVERSARY,
            "--allow-unsigned",
            "-w",
            utf8(ws.path()),
            "--arg",
            "case=read",
            "--arg",
            "path=notes.txt",
        ],
    );
    pty.wait_for("airlock chat: guest_adversary");
    pty.line("/frobnicate now");
    pty.wait_for("unknown command `/frobnicate`");
    // The list follows, in order.
    for command in [
        "/help",
        "/model [NAME]",
        "/profile",
        "/undo [--force]",
        "/audit [--full]",
        "/history",
        "/clear",
        "/exit",
    ] {
        pty.wait_for(command);
    }
    pty.line("/help");
    pty.wait_for("Type a message to run a turn.");
    pty.wait_for("/model [NAME]");
    pty.wait_for("/undo [--force]");
    pty.wait_for("Ctrl-C cancels a running turn");

    pty.line("/audit");
    pty.wait_for("No turn has run yet");
    pty.line("/profile");
    pty.wait_for("profile  read-only");
    pty.wait_for("network: never");

    // Ctrl-C at the prompt drops the line, not the session.
    pty.wait_for(PROMPT);
    pty.send("this is never sent");
    pty.send("\x03");
    // Between two prompts the terminal is not in raw mode: type only once
    // the next prompt reads keys.
    std::thread::sleep(Duration::from_millis(500));
    pty.line("first line \\");
    pty.wait_for("...> ");
    pty.send("second line\r");
    pty.wait_for("ok: hello");
    let one = pty.turn_run_id(1);
    pty.line("\"\"\"");
    pty.wait_for("...> ");
    pty.send("/not a command\r");
    pty.wait_for("...> ");
    pty.send("  indented\r");
    pty.wait_for("...> ");
    pty.send("\"\"\"\r");
    let two = pty.turn_run_id(2);
    pty.line("//etc/hosts");
    let three = pty.turn_run_id(3);
    pty.line("/history");
    pty.wait_for("[3] you: /etc/hosts");
    pty.line("/clear");
    pty.wait_for("Forgot 3 turn(s)");
    pty.line("/history");
    pty.wait_for("No turns yet.");
    pty.wait_for(PROMPT);
    pty.send("\x04");
    let (code, shown) = pty.exit();
    assert_eq!(code, 0, "{shown}");

    let all = audit_records(home.path());
    let input = |run: &str| record(&all, run, "run-start")["data"]["input"].clone();
    assert_eq!(input(&one), "first line \nsecond line");
    assert_eq!(input(&two), "/not a command\n  indented");
    assert_eq!(input(&three), "/etc/hosts");
    let starts = all.iter().filter(|r| r["kind"] == "run-start").count();
    assert_eq!(starts, 3, "the cleared line never ran: {all:#?}");
    let history = arg_of(record(&all, &three, "run-start"), "history").expect("history");
    let history: Value = serde_json::from_str(&history).expect("JSON");
    assert_eq!(history[1]["user"], "/not a command\n  indented");
    assert_eq!(
        history[1]["assistant"].as_str().map(str::trim),
        Some("ok: hello")
    );
}

/// Without the `coder` plugin, the error says how to install it or what to
/// pass instead.
#[test]
fn without_coder_installed_the_error_says_how_to_get_it() {
    let home = tempfile::tempdir().expect("home");
    let ws = tempfile::tempdir().expect("workspace");
    let out = airlock(home.path(), &["chat", "-w", utf8(ws.path())]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("`coder` is not installed"), "{stderr}");
    assert!(stderr.contains("airlock plugin install"), "{stderr}");
    assert!(stderr.contains("--skill PATH"), "{stderr}");
    assert!(stderr.contains("--allow-unsigned"), "{stderr}");

    // A model the profile does not grant is a usage error too.
    let out = airlock(
        home.path(),
        &[
            "chat",
            "--skill",
            guests::ADVERSARY,
            "--allow-unsigned",
            "-w",
            utf8(ws.path()),
            "--model",
            "gpt-9",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("grants no model"),
        "{}",
        describe(&out)
    );
}
