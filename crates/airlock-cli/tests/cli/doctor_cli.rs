//! `airlock doctor` as an officer uses it: a fresh installation is green
//! but for what a managed workstation must add (the admin policy, a trusted
//! key); each thing that breaks the posture turns its own check red, with
//! exit 5, named, with its fix: a proxy variable, a state directory open to
//! others, an admin policy file others can change, a model file that is not
//! what was pinned, a tampered audit log.
#![allow(clippy::unwrap_used)]

use crate::support::{airlock, airlock_command, describe, utf8};
use airlock_tests::{TEST_MODEL_SHA256, guests, test_model, workspace};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Output, Stdio};

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(out)))
}

/// The finding of check `name` in `doctor --json`'s output.
fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {report:#}"))
}

fn level(report: &Value, name: &str) -> String {
    check(report, name)["level"].as_str().unwrap().to_string()
}

/// `airlock doctor --json EXTRA`, with no proxy variable from the caller's
/// environment (the `proxy` check would rightly fail on it).
fn doctor(home: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let out = without_proxies(home)
        .args(["doctor", "--json"])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.code(), json(&out))
}

fn without_proxies(home: &Path) -> std::process::Command {
    let mut cmd = airlock_command(home);
    for name in airlock_session::doctor::PROXY_VARIABLES {
        cmd.env_remove(name);
    }
    cmd
}

#[test]
fn a_fresh_installation_is_green_but_for_the_policy_and_the_keys_a_workstation_adds() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("state");
    let (code, report) = doctor(&home, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["ok"], true);
    for name in [
        "bubblewrap",
        "namespaces",
        "seccomp",
        "sandbox",
        "proxy",
        "engine",
        "state-directory",
        "plugins",
        "models",
        "audit-log",
    ] {
        assert_eq!(level(&report, name), "ok", "{name}: {report:#}");
    }
    assert_eq!(level(&report, "admin-policy"), "warn");
    assert!(
        check(&report, "admin-policy")["fix"]
            .as_str()
            .unwrap()
            .contains("/etc/airlock/policy.toml")
    );
    assert_eq!(level(&report, "trust-store"), "warn");
    // Nothing was created: the doctor only looks.
    assert!(!home.exists());
    // --strict counts the warnings.
    let (code, report) = doctor(&home, &["--strict"]);
    assert_eq!(code, Some(5), "{report:#}");
    assert_eq!(report["ok"], false);

    // For people: one line per check, the fix under it, a count at the end.
    let out = without_proxies(&home)
        .arg("doctor")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("WARN  admin-policy"), "{text}");
    assert!(text.contains("ok    sandbox"), "{text}");
    assert!(
        text.contains("fix: `airlock trust add NAME KEY.pub`"),
        "{text}"
    );
    assert!(text.contains("10 ok, 2 warning(s), 0 failure(s)"), "{text}");
}

#[test]
fn a_proxy_variable_is_red_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = without_proxies(dir.path())
        .args(["doctor", "--json"])
        .env("https_proxy", "http://127.0.0.2:3128")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));
    let report = json(&out);
    let proxy = check(&report, "proxy");
    assert_eq!(proxy["level"], "fail");
    assert!(
        proxy["summary"].as_str().unwrap().contains("https_proxy"),
        "{proxy}"
    );
}

#[test]
fn a_state_directory_others_can_change_is_red() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::create_dir(home.join("trust")).unwrap();
    let planted = home.join("trust").join("evil.pub");
    std::fs::write(&planted, "key").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    let (code, report) = doctor(home, &[]);
    assert_eq!(code, Some(5), "{report:#}");
    let state = check(&report, "state-directory");
    assert_eq!(state["level"], "fail", "{state}");
    let details = state["details"].to_string();
    assert!(
        details.contains(&format!(
            "{} has mode 777: writable by others",
            home.display()
        )),
        "{details}"
    );
    assert!(
        details.contains(&format!(
            "{} has mode 666: writable by others",
            planted.display()
        )),
        "{details}"
    );
    assert!(state["fix"].as_str().unwrap().contains("chmod -R go-w"));
}

#[test]
fn an_admin_policy_file_others_can_change_is_red() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "allow-unsigned = false\n").unwrap();
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o666)).unwrap();
    let home = dir.path().join("state");
    let out = without_proxies(&home)
        .args(["doctor", "--json"])
        .env("AIRLOCK_POLICY_FILE", &policy)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));
    let report = json(&out);
    let admin = check(&report, "admin-policy");
    assert_eq!(admin["level"], "fail", "{admin}");
    let summary = admin["summary"].as_str().unwrap();
    assert!(summary.contains(utf8(&policy)), "{summary}");
    assert!(summary.contains("every run is refused"), "{summary}");
}

#[test]
fn a_model_file_changed_or_resized_since_its_pin_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let out = airlock(
        home,
        &["model", "add", utf8(&test_model()), "--name", "small"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let stored = home
        .join("models")
        .join(format!("sha256-{TEST_MODEL_SHA256}.gguf"));
    let (code, report) = doctor(home, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(level(&report, "models"), "ok");

    // One byte flipped, size kept: the quick check sees the file changed
    // (amber: the next run hashes it); --deep hashes it and finds the drift.
    std::fs::set_permissions(&stored, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&stored).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&stored, &bytes).unwrap();
    let (code, report) = doctor(home, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(level(&report, "models"), "warn", "{report:#}");
    let (code, report) = doctor(home, &["--deep"]);
    assert_eq!(code, Some(5), "{report:#}");
    let models = check(&report, "models");
    assert_eq!(models["level"], "fail");
    let details = models["details"].to_string();
    assert!(
        details.contains(&format!("the lock pins sha256:{TEST_MODEL_SHA256}")),
        "{details}"
    );

    // One byte short: red without hashing.
    bytes.pop();
    std::fs::write(&stored, &bytes).unwrap();
    let (code, report) = doctor(home, &[]);
    assert_eq!(code, Some(5), "{report:#}");
    let models = check(&report, "models");
    assert_eq!(models["level"], "fail");
    assert!(
        models["details"]
            .to_string()
            .contains("bytes, the lock pins"),
        "{models}"
    );
}

#[test]
fn a_tampered_or_removed_audit_log_is_red() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let ws = workspace(&[("a.txt", "nothing secret")]);
    let out = airlock(
        home,
        &[
            "run",
            "--allow-unsigned",
            guests::SECRET_SCAN,
            "--workspace",
            utf8(ws.path()),
            "--quiet",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let (code, report) = doctor(home, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(level(&report, "audit-log"), "ok", "{report:#}");

    let log = home.join("audit/log/00000001.jsonl");
    let original = std::fs::read_to_string(&log).unwrap();
    let edited = original.replacen("\"path\":\"a.txt\"", "\"path\":\"b.txt\"", 1);
    assert_ne!(edited, original, "the read of a.txt is recorded");
    std::fs::write(&log, edited).unwrap();
    let (code, report) = doctor(home, &[]);
    assert_eq!(code, Some(5), "{report:#}");
    let audit = check(&report, "audit-log");
    assert_eq!(audit["level"], "fail");
    assert!(
        audit["summary"]
            .as_str()
            .unwrap()
            .contains("log/00000001.jsonl line"),
        "{audit}"
    );
    // The whole log removed: its head remains, and says so.
    std::fs::remove_dir_all(home.join("audit/log")).unwrap();
    let (code, report) = doctor(home, &[]);
    assert_eq!(code, Some(5), "{report:#}");
    let audit = check(&report, "audit-log");
    assert_eq!(audit["level"], "fail");
    assert!(
        audit["summary"]
            .as_str()
            .unwrap()
            .contains("the log was removed"),
        "{audit}"
    );
}
