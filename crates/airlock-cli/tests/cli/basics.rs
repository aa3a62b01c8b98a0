//! The `airlock` binary, driven as a user would: arguments in, text or JSON
//! and an exit code out. `run` gets `--allow-unsigned`, as these tests run
//! the guest components from their paths (signed plugins: `plugins_cli`).
#![allow(clippy::unwrap_used)]

use crate::support::{airlock, text};
use airlock_tests::{guests, workspace};

/// A workspace with a planted key in a normal file and a `.env` beside it.
fn planted() -> tempfile::TempDir {
    workspace(&[
        (
            "src/deploy.py",
            "AWS_ACCESS_KEY_ID = \"AKIAIOSFODNN7EXAMPLE\"\n",
        ),
        (".env", "DATABASE_PASSWORD=never-leaves-the-sandbox\n"),
        ("README.md", "# demo\n"),
    ])
}

#[test]
fn secret_scan_reports_the_planted_key_and_withholds_the_env_file() {
    let home = tempfile::tempdir().unwrap();
    let ws = planted();
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::SECRET_SCAN,
            "--workspace",
            ws.path().to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("src/deploy.py:1:"),
        "the planted key is reported:\n{stdout}"
    );
    assert!(stdout.contains("aws-access-key-id"), "{stdout}");
    assert!(
        !stdout.contains("AKIAIOSFODNN7EXAMPLE"),
        "the secret itself is redacted:\n{stdout}"
    );
    assert!(
        !stdout.contains("never-leaves-the-sandbox")
            && !stderr.contains("never-leaves-the-sandbox")
    );
    assert!(
        stdout.contains(".env"),
        "the skill says .env exists but was withheld:\n{stdout}"
    );
    assert!(
        stderr.contains("Withheld by the deny-list (never read):\n  .env  (rule `.env`)"),
        "the host says it withheld .env:\n{stderr}"
    );
    assert!(
        !stderr.contains("[denied]"),
        "the skill never even tried to read .env:\n{stderr}"
    );
}

#[test]
fn secret_scan_json_and_fail_on() {
    let home = tempfile::tempdir().unwrap();
    let ws = planted();
    let ws = ws.path().to_str().unwrap();
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::SECRET_SCAN,
            "-w",
            ws,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["skill"]["name"], "secret-scan");
    assert_eq!(report["profile"], "read-only");
    assert_eq!(report["withheld"][".env"], ".env");
    let findings = report["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["path"] == "src/deploy.py"
            && f["line"] == 1
            && f["rule_id"] == "aws-access-key-id"),
        "{findings:?}"
    );
    assert!(!text(&out.stdout).contains("never-leaves-the-sandbox"));

    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::SECRET_SCAN,
            "-w",
            ws,
            "--fail-on",
            "medium",
            "--quiet",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(5),
        "findings at or above --fail-on exit 5"
    );
}

#[test]
fn secret_scan_sarif_is_valid_sarif_2_1_0() {
    let home = tempfile::tempdir().unwrap();
    let ws = planted();
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::SECRET_SCAN,
            "-w",
            ws.path().to_str().unwrap(),
            "--arg",
            "format=sarif",
            "--quiet",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "aws-access-key-id");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/deploy.py"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        1
    );
}

#[test]
fn network_skill_is_refused_with_exit_code_3() {
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[]);
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::NET_TCP,
            "-w",
            ws.path().to_str().unwrap(),
            "--input",
            "127.0.0.1:9",
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "error: refused to run {}: it imports `wasi:sockets/",
            guests::NET_TCP
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Airlock never grants network access to skills"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("CONNECTED"));
}

#[test]
fn inspect_shows_network_imports_and_the_verdict() {
    let home = tempfile::tempdir().unwrap();
    let out = airlock(home.path(), &["inspect", guests::NET_TCP]);
    assert_eq!(out.status.code(), Some(3));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("wasi:sockets/tcp@0.2.") && stdout.contains("<- network: never granted"),
        "{stdout}"
    );
    assert!(stdout.contains("Verdict: REFUSED"), "{stdout}");

    let out = airlock(home.path(), &["inspect", guests::SECRET_SCAN, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["runnable"], true);
    assert_eq!(info["describe"]["name"], "secret-scan");
    assert_eq!(info["describe"]["wit_version"], "0.1.0");
    assert_eq!(info["describe"]["capabilities"][0], "workspace-read:.");
    assert!(
        info["exports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == "run")
    );
}

#[test]
fn limits_exit_with_code_4_and_name_the_key() {
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[("p.toml", "[limits]\nwall-clock-seconds = 1\n")]);
    let profile = ws.path().join("p.toml");
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::ADVERSARY,
            "-w",
            ws.path().to_str().unwrap(),
            "-p",
            profile.to_str().unwrap(),
            "-a",
            "case=loop",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.trim_end().lines().collect();
    assert_eq!(
        lines,
        [
            lines[0],
            "error: deadline reached: the skill ran longer than the profile's limits.wall-clock-seconds = 1"
        ]
    );
    assert!(lines[0].starts_with("audit: run "), "{stderr}");
}

#[test]
fn denials_are_shown_live_and_the_skill_error_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let ws = planted();
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::ADVERSARY,
            "-w",
            ws.path().to_str().unwrap(),
            "-a",
            "case=read",
            "-a",
            "path=../etc/passwd",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the skill handled the denial itself"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("[denied] workspace-read `../etc/passwd`: the path climbs above the workspace root with `..`"),
        "{stderr}"
    );
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::ADVERSARY,
            "-w",
            ws.path().to_str().unwrap(),
            "-a",
            "case=nope",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("error: skill `adversary` failed: invalid input: unknown case `nope`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn state_directory_inside_the_workspace_is_protected() {
    let ws = workspace(&[("README.md", "x")]);
    let home = ws.path().join("state");
    std::fs::create_dir(&home).unwrap();
    let out = airlock(
        &home,
        &[
            "run",
            "--allow-unsigned",
            guests::ADVERSARY,
            "-w",
            ws.path().to_str().unwrap(),
            "-p",
            "workspace-write",
            "-a",
            "case=write",
            "-a",
            "path=state/cache/notes.txt",
            "--quiet",
        ],
    );
    assert_eq!(
        text(&out.stdout).trim_end(),
        "err: access-denied|workspace-write|state/cache/notes.txt|inside Airlock's state directory, which skills can never read or write"
    );
    // Not even readable: the cache key lives there.
    let out = airlock(
        &home,
        &[
            "run",
            "--allow-unsigned",
            guests::ADVERSARY,
            "-w",
            ws.path().to_str().unwrap(),
            "-a",
            "case=list",
            "-a",
            "path=state/cache",
            "--quiet",
        ],
    );
    assert_eq!(
        text(&out.stdout).trim_end(),
        "err: access-denied|workspace-read|state/cache|inside Airlock's state directory, which skills can never read or write"
    );
}

#[test]
fn usage_errors_exit_2_with_a_fix() {
    let home = tempfile::tempdir().unwrap();
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::HELLO,
            "-w",
            "/nonexistent/airlock-ws",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "error: workspace /nonexistent/airlock-ws is not a directory; pass one with --workspace DIR"
    );
    let ws = workspace(&[("notes.txt", "not wasm")]);
    let bogus = ws.path().join("notes.txt");
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            bogus.to_str().unwrap(),
            "-w",
            ws.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(
        "is not a valid WebAssembly component: it does not start with the WebAssembly magic bytes"
    ));
    let out = airlock(
        home.path(),
        &[
            "run",
            "--allow-unsigned",
            guests::HELLO,
            "-p",
            "no-such-profile",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = airlock(
        home.path(),
        &["run", "--allow-unsigned", guests::HELLO, "--arg", "novalue"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`novalue` is not KEY=VALUE"));
}

#[test]
fn profile_commands() {
    let home = tempfile::tempdir().unwrap();
    let out = airlock(home.path(), &["profile", "list"]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    for name in ["read-only", "workspace-write", "locked-down"] {
        assert!(stdout.contains(name), "{stdout}");
    }
    let out = airlock(home.path(), &["profile", "show", "locked-down", "--json"]);
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["limits"]["memory-mib"], 64);
    assert!(
        p["deny-list"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == ".env")
    );

    let ws = workspace(&[
        ("bad.toml", "[limits]\nmemory = 1\n"),
        ("good.toml", "[[grant]]\npath = \"src\"\n"),
    ]);
    let bad = ws.path().join("bad.toml");
    let good = ws.path().join("good.toml");
    let out = airlock(
        home.path(),
        &[
            "profile",
            "check",
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stdout).contains("ok: "));
    assert!(
        text(&out.stderr).contains(&format!(
            "error: {}:2:1: unknown field `memory`",
            bad.display()
        )),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_teaches_and_lists_exit_codes() {
    let home = tempfile::tempdir().unwrap();
    let out = airlock(home.path(), &["--help"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("Exit codes:") && stdout.contains("4   a limit stopped the skill"),
        "{stdout}"
    );
    assert!(stdout.contains("Examples:"));
}
