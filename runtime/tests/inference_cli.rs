//! `airlock run` with a model, end to end as a user runs it: the model pinned
//! with `airlock model add`, granted by a profile, checked before the run,
//! streamed to the terminal; and the refusals when any of that is not so.
#![allow(clippy::unwrap_used)]

use airlock_tests::{guests, test_model, workspace};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn airlock(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .env("AIRLOCK_HOME", home)
        .env("XDG_CONFIG_HOME", home.join("no-config"))
        .env_remove("AIRLOCK_LOG")
        .output()
        .unwrap()
}

/// `airlock` inside a network namespace of its own (only a down loopback
/// device): whatever it tried, no packet could leave this machine.
fn airlock_without_network(home: &Path, args: &[&str]) -> Output {
    let out = Command::new("unshare")
        .args(["--net", "--map-root-user", env!("CARGO_BIN_EXE_airlock")])
        .args(args)
        .env("AIRLOCK_HOME", home)
        .env("XDG_CONFIG_HOME", home.join("no-config"))
        .env_remove("AIRLOCK_LOG")
        .output()
        .expect("run unshare (util-linux): these tests need a private network namespace");
    assert!(
        !text(&out.stderr).starts_with("unshare:"),
        "cannot create a network namespace: {}",
        text(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh home with the test model pinned as `smollm2` (the name the
/// shipped `assistant` profile grants), and one-thread engine settings.
fn home_with_model() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let model = test_model();
    let out = airlock(
        home.path(),
        &["model", "add", model.to_str().unwrap(), "--name", "smollm2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = home.path().join("config.toml");
    std::fs::write(&config, "[engine]\nthreads = 1\n").unwrap();
    (home, config)
}

/// `airlock [--config CONFIG] run SKILL --profile assistant --workspace WS EXTRA...`.
fn run_assistant(
    home: &Path,
    config: Option<&Path>,
    skill: &str,
    ws: &Path,
    extra: &[&str],
) -> Output {
    let mut args = Vec::new();
    if let Some(config) = config {
        args.extend(["--config", config.to_str().unwrap()]);
    }
    args.extend([
        "run",
        skill,
        "--allow-unsigned",
        "--profile",
        "assistant",
        "--workspace",
    ]);
    args.push(ws.to_str().unwrap());
    args.extend(extra);
    airlock(home, &args)
}

fn stored_file(home: &Path) -> PathBuf {
    std::fs::read_dir(home.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "gguf"))
        .unwrap()
}

#[test]
fn explain_streams_a_real_answer_and_cites_its_sources() {
    let (home, config) = home_with_model();
    let ws = workspace(&[
        (
            "src/calc.py",
            "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n",
        ),
        (".env", "PASSWORD=never-read\n"),
    ]);
    let out = run_assistant(
        home.path(),
        Some(&config),
        guests::EXPLAIN,
        ws.path(),
        &["--input", "What does the add function do?"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let (answer, sources) = stdout.split_once("Sources:").unwrap();
    assert!(answer.trim().len() > 10, "no answer: {stdout}");
    assert!(sources.contains("src/calc.py"), "{stdout}");
    assert!(
        !stdout.contains(".env") || stdout.contains("withheld"),
        "{stdout}"
    );
    assert!(
        stderr.contains("[model] smollm2 (sha256:b179c9523d0e"),
        "{stderr}"
    );
}

#[test]
fn json_reports_the_answer_and_the_inference_used() {
    let (home, config) = home_with_model();
    let ws = workspace(&[]);
    let out = run_assistant(
        home.path(),
        Some(&config),
        guests::INFER,
        ws.path(),
        &["--input", "Say hello.", "--arg", "max-tokens=8", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["inference"]["calls"], 1);
    let answer: serde_json::Value =
        serde_json::from_str(report["output"].as_str().unwrap()).unwrap();
    assert_eq!(answer["model"], "smollm2");
    let call = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "inference")
        .unwrap();
    assert_eq!(
        call["digest"],
        format!("sha256:{}", airlock_tests::TEST_MODEL_SHA256)
    );
}

#[test]
fn a_drifted_model_refuses_the_run_showing_both_digests() {
    let (home, config) = home_with_model();
    let stored = stored_file(home.path());
    let mut perms = std::fs::metadata(&stored).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&stored, perms).unwrap();
    let mut bytes = std::fs::read(&stored).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&stored, &bytes).unwrap();

    let ws = workspace(&[]);
    let out = run_assistant(home.path(), Some(&config), guests::INFER, ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("drifted"), "{stderr}");
    assert!(
        stderr.contains(airlock_tests::TEST_MODEL_SHA256),
        "the pinned digest is shown: {stderr}"
    );
    assert!(text(&out.stdout).is_empty(), "the skill never ran");
}

#[test]
fn a_granted_model_missing_from_the_store_is_a_setup_error() {
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[]);
    let out = run_assistant(home.path(), None, guests::INFER, ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("smollm2"), "{stderr}");
    assert!(stderr.contains("airlock model add"), "{stderr}");
}

#[test]
fn a_non_loopback_endpoint_in_the_config_is_refused_before_the_run() {
    let (home, _) = home_with_model();
    let ws = workspace(&[]);
    for endpoint in ["http://10.0.0.1:11434", "http://example.com"] {
        let config = home.path().join("remote.toml");
        std::fs::write(
            &config,
            format!("[engine]\nbackend = \"ollama\"\nendpoint = \"{endpoint}\"\n"),
        )
        .unwrap();
        let out = airlock_without_network(
            home.path(),
            &[
                "--config",
                config.to_str().unwrap(),
                "run",
                guests::INFER,
                "--allow-unsigned",
                "--profile",
                "assistant",
                "--workspace",
                ws.path().to_str().unwrap(),
            ],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{endpoint}: {stderr}");
        assert!(stderr.contains(endpoint), "{stderr}");
        assert!(stderr.contains("refused"), "{stderr}");
    }
}

#[test]
fn a_skill_that_abandons_an_answer_midway_exits_cleanly() {
    // The engine is still decoding when the skill returns; the process must
    // stop it and wait rather than exit under llama.cpp (which crashed).
    let (home, config) = home_with_model();
    let ws = workspace(&[]);
    for _ in 0..4 {
        let out = run_assistant(
            home.path(),
            Some(&config),
            guests::INFER,
            ws.path(),
            &[
                "--input",
                "Tell me a long story.",
                "--arg",
                "case=abandon",
                "--arg",
                "max-tokens=300",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
}

#[test]
fn a_skill_sees_the_context_the_engine_runs_with() {
    let (home, config) = home_with_model();
    let ws = workspace(&[]);
    let out = run_assistant(
        home.path(),
        Some(&config),
        guests::INFER,
        ws.path(),
        &["--arg", "case=models", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // SmolLM2 is trained on 8192 tokens; with no setting the engine caps at 4096.
    assert_eq!(models[0]["context-length"], 4096, "{models}");
    assert_eq!(models[0]["family"], "llama");
    assert_eq!(models[0]["name"], "smollm2");
}
