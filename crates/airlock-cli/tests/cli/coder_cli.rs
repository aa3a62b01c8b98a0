//! The coding agent (`plugins/coder`) end to end on the real SmolLM2 model:
//! `airlock run coder` as a user runs it, checked through what the user
//! sees and through the audit trail.
//!
//! The model decodes greedily, so each run is repeatable; what the tests
//! assert is what the agent guarantees whatever the model chooses: every
//! tool call is one the engine held to the schema and the host carried out,
//! an edit happens only after a yes at the terminal and is recorded, and a
//! conversation longer than the context is fitted without cutting the task.
#![cfg(unix)]

use crate::support::{describe, text};
use airlock_tests::pty::{Pty, WaitStatus};
use airlock_tests::{guests, test_model};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A small Python project.
const CALC: &str = "def add(a, b):\n    return a + b\n\n\ndef scale(values, factor):\n    \"\"\"Multiply every value by factor.\"\"\"\n    return [v * factor for v in values]\n";

fn project() -> tempfile::TempDir {
    let ws = tempfile::tempdir().expect("workspace");
    std::fs::create_dir(ws.path().join("src")).expect("mkdir src");
    std::fs::write(ws.path().join("src/calc.py"), CALC).expect("write calc.py");
    std::fs::write(
        ws.path().join("README.md"),
        "# calc\nA tiny calculator library. The tests live in test_calc.py.\n",
    )
    .expect("write README");
    std::fs::write(
        ws.path().join("test_calc.py"),
        "from src.calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    )
    .expect("write test");
    ws
}

/// `airlock --home HOME --config HOME/config.toml`, hermetic.
fn airlock_command(home: &Path) -> Command {
    let mut cmd = crate::support::airlock_command(home);
    cmd.arg("--config").arg(home.join("config.toml"));
    cmd
}

/// As [`airlock_command`] with `args`, without a terminal.
fn airlock(home: &Path, args: &[String]) -> Output {
    airlock_command(home)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("start airlock")
}

/// A home with the test model pinned as `smollm2` (the name the `coder`
/// profile grants) and `config` as its configuration.
fn home_with_model(config: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("home");
    std::fs::write(home.path().join("config.toml"), config).expect("write config");
    let model = test_model();
    let out = airlock(
        home.path(),
        &[
            "model".into(),
            "add".into(),
            model.display().to_string(),
            "--name".into(),
            "smollm2".into(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    home
}

fn coder_args(ws: &Path, task: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "run".into(),
        guests::CODER.into(),
        "--allow-unsigned".into(),
        "--profile".into(),
        "coder".into(),
        "--workspace".into(),
        ws.display().to_string(),
        "--input".into(),
        task.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_id(output: &str) -> String {
    output
        .split("audit: run ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a run id after `audit: run`")
        .to_string()
}

/// The records of one run, through `airlock audit show --json`.
fn run_records(home: &Path, run: &str) -> Vec<Value> {
    let out = airlock(home, &["audit".into(), "show".into(), "--json".into()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON lines"))
        .filter(|r| r["run"] == run)
        .collect()
}

fn of_kind<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["kind"] == kind).collect()
}

fn verify(home: &Path) {
    let out = airlock(home, &["audit".into(), "verify".into()]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
}

#[test]
fn a_question_about_a_file_is_answered_after_a_schema_held_tool_call_reads_it() {
    let home = home_with_model("");
    let ws = project();
    let out = airlock(
        home.path(),
        &coder_args(
            ws.path(),
            "What does the function scale in src/calc.py do?",
            &["--non-interactive", "--arg", "max-steps=2"],
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    // The model chose which file to read (greedy decoding makes the choice
    // repeatable, not necessarily wise): whichever it was, it is a file of
    // the project, and it was read.
    let read = stderr
        .split("step 1: read_file ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("the first step reads a file: {}", describe(&out)))
        .to_string();
    let content = std::fs::read_to_string(ws.path().join(&read)).expect("a project file");
    assert!(
        stdout.contains(&format!("Steps: read_file {read}")),
        "{stdout}"
    );

    let records = run_records(home.path(), &run_id(&stderr));
    let calls = of_kind(&records, "inference");
    assert!(calls.len() >= 2, "tool calls and an answer: {calls:#?}");
    // Every tool call was decoded under the schema and parses as one.
    let tool_calls: Vec<&&Value> = calls
        .iter()
        .filter(|c| c["data"]["request"]["format"]["kind"] == "json-schema")
        .collect();
    assert!(!tool_calls.is_empty());
    for call in &tool_calls {
        let output = call["data"]["output"].as_str().expect("output text");
        let parsed: Value = serde_json::from_str(output).expect("a tool call is JSON");
        assert!(parsed["tool"].is_string(), "{parsed}");
    }
    // The file the call named was read by the host, and its content went
    // back to the model in the next call.
    assert!(
        records
            .iter()
            .any(|r| r["data"]["op"] == "read-file" && r["data"]["path"] == read.as_str()),
        "{records:#?}"
    );
    let second = &calls[1]["data"]["request"]["messages"];
    let last_message = second
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .expect("messages");
    assert!(last_message.contains(content.trim()), "{last_message}");
    // The answer was streamed as free text (no schema) and the run finished.
    let last = calls.last().expect("an answer");
    assert_eq!(last["data"]["call"], "chat-stream");
    assert_eq!(last["data"]["request"]["format"]["kind"], "text");
    assert_eq!(of_kind(&records, "run-end")[0]["data"]["outcome"], "ok");
    verify(home.path());
}

#[test]
fn an_edit_and_the_projects_tests_each_run_only_after_a_yes_and_are_in_the_audit_trail() {
    let home = home_with_model("");
    let ws = project();
    // The project's notes say how to test; the agent runs that after a change.
    std::fs::write(
        ws.path().join("AIRLOCK.md"),
        "# Notes for agents\nTest: `python3 -B test_calc.py`\n",
    )
    .expect("write AIRLOCK.md");
    std::fs::write(
        ws.path().join("test_calc.py"),
        "from src.calc import add\n\nassert add(2, 3) == 5\nprint('tests pass')\n",
    )
    .expect("write the test");
    let before = snapshot(ws.path());
    let mut pty = Pty::spawn(
        airlock_command(home.path()),
        &coder_args(
            ws.path(),
            "Write the word done into a new file done.txt",
            &["--arg", "max-steps=2"],
        ),
    );
    pty.wait_for("following the project's notes in AIRLOCK.md");
    pty.wait_for("skill `coder` wants to");
    pty.wait_for("Allow?");
    pty.send("y\r");
    pty.wait_for("testing the change, as AIRLOCK.md says: python3 -B test_calc.py");
    pty.wait_for("python3 -B test_calc.py");
    pty.wait_for("Allow?");
    pty.send("y\r");
    let (status, shown) = pty.finish();
    let WaitStatus::Exited(_, code) = status else {
        panic!("airlock did not exit normally ({status:?}):\n{shown}");
    };
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("Ran: python3 -B test_calc.py (exit code 0)"),
        "{shown}"
    );

    let records = run_records(home.path(), &run_id(&shown));
    let approvals = of_kind(&records, "approval");
    assert_eq!(
        approvals.len(),
        2,
        "the edit and the command: {approvals:#?}"
    );
    for approval in &approvals {
        assert_eq!(
            approval["data"]["decision"]["allowed"], true,
            "{approval:#}"
        );
    }
    let writes: Vec<&Value> = records
        .iter()
        .filter(|r| r["data"]["op"] == "write-file" && r["data"]["allowed"] == true)
        .collect();
    assert_eq!(writes.len(), 1, "{records:#?}");
    let path = writes[0]["data"]["path"].as_str().expect("a path");
    let commands = of_kind(&records, "command");
    let ran = commands
        .iter()
        .find(|c| c["data"]["exit-code"] == 0)
        .unwrap_or_else(|| panic!("the tests ran and passed: {commands:#?}"));
    assert_eq!(ran["data"]["program"], "python3");
    assert_eq!(
        ran["data"]["args"],
        serde_json::json!(["-B", "test_calc.py"])
    );
    // The file the trail names is the one that changed on disk, and nothing
    // else did.
    let after = snapshot(ws.path());
    let changed: Vec<&String> = after
        .iter()
        .filter(|(p, c)| before.iter().find(|(q, _)| q == p).map(|(_, d)| d) != Some(c))
        .map(|(p, _)| p)
        .collect();
    assert_eq!(changed, [path], "{shown}");
    assert!(shown.contains(&format!("Changed: {path}")), "{shown}");
    verify(home.path());
}

/// Every file under `dir` with its content, sorted.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list").flatten() {
            let p: PathBuf = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").display().to_string();
                out.push((rel, std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_conversation_longer_than_the_context_is_fitted_without_cutting_the_task() {
    // A 1024-token context, and a chat history several times that size.
    let home = home_with_model("[models.smollm2]\ncontext-length = 1024\n");
    let ws = project();
    let history: Vec<Value> = (0..40)
        .map(|i| {
            serde_json::json!({
                "user": format!("Question {i}: what does module number {i} do in this project, in detail?"),
                "assistant": format!("Answer {i}: module {i} holds helpers for the calculator and is covered by the tests in test_calc.py; nothing in it talks to the network."),
            })
        })
        .collect();
    let history = serde_json::to_string(&history).expect("JSON");
    let task = "Which function in src/calc.py multiplies values? (marker 7f3a)";
    let out = airlock(
        home.path(),
        &coder_args(
            ws.path(),
            task,
            &[
                "--non-interactive",
                "--arg",
                &format!("history={history}"),
                "--arg",
                "max-steps=2",
            ],
        ),
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stderr = text(&out.stderr);
    // Not silent: the user is told what was left out.
    assert!(stderr.contains("earlier turn(s) left out"), "{stderr}");
    let records = run_records(home.path(), &run_id(&stderr));
    let calls = of_kind(&records, "inference");
    assert!(!calls.is_empty());
    for call in &calls {
        if call["data"]["call"] == "chat" {
            assert!(call["data"]["error"].is_null(), "{call:#}");
        }
        assert!(
            call["data"]["prompt-tokens"].as_u64().expect("tokens") < 1024,
            "{call:#}"
        );
        // The task, whole, in every prompt, and never the oldest turns.
        let request = serde_json::to_string(&call["data"]["request"]).expect("JSON");
        assert!(request.contains(task), "the task was cut: {request}");
        assert!(!request.contains("Answer 0:"), "{request}");
    }
    // Before any step took room, the newest turn was kept.
    let first = serde_json::to_string(&calls[0]["data"]["request"]).expect("JSON");
    assert!(first.contains("Answer 39:"), "{first}");
    verify(home.path());
}
