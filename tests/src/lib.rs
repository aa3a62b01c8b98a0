//! Shared helpers for Airlock's integration tests: the guest skills built by
//! `build.rs`, a shared host, and workspace fixtures.

// Ambient std::fs allowed: test code builds its fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

pub mod cli;
#[cfg(unix)]
pub mod pty;

/// Paths of the guest components, built by `build.rs`.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

use airlock_runtime::inference::embedded::EmbeddedBackend;
use airlock_runtime::inference::{ModelSource, ModelSpec};
use airlock_runtime::{Airlock, LoadedSkill, Profile, Request, RunFailure, RunModels, RunReport};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

/// One host per test process, as in production: one engine, many runs. Its
/// compile cache lives under the target directory, shared by test runs.
pub fn airlock() -> &'static Airlock {
    static AIRLOCK: LazyLock<Airlock> = LazyLock::new(|| {
        let home = test_home();
        Airlock::new(Some(&home)).expect("start the Airlock host")
    });
    &AIRLOCK
}

/// A state directory for tests, inside the build's target directory.
pub fn test_home() -> PathBuf {
    let guests = Path::new(guests::HELLO);
    // <target>/wasm-guests/wasm32-wasip2/release/x.wasm -> <target>/airlock-test-home
    guests
        .ancestors()
        .nth(4)
        .map(|t| t.join("airlock-test-home"))
        .unwrap_or_else(|| std::env::temp_dir().join("airlock-test-home"))
}

/// Load a guest once per process.
pub fn skill(path: &str) -> Arc<LoadedSkill> {
    static SKILLS: LazyLock<Mutex<HashMap<String, Arc<LoadedSkill>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut skills = SKILLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = skills.get(path) {
        return s.clone();
    }
    let loaded = Arc::new(airlock().load(Path::new(path)).expect("load guest"));
    skills.insert(path.to_string(), loaded.clone());
    loaded
}

/// Run a guest over `workspace` under `profile` with `args`.
pub fn run(
    guest: &str,
    profile: &Profile,
    workspace: &Path,
    args: &[(&str, &str)],
) -> Result<RunReport, RunFailure> {
    let request = Request {
        input: None,
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    run_request(guest, profile, workspace, request, None)
}

/// Run a guest with a full request and, for skills that ask a model, the
/// models the run may use.
pub fn run_request(
    guest: &str,
    profile: &Profile,
    workspace: &Path,
    request: Request,
    models: Option<RunModels>,
) -> Result<RunReport, RunFailure> {
    let skill = skill(guest);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(airlock().run(&skill, profile, workspace, &request, models, None))
}

/// llama.cpp threads in tests: tests run in parallel, and llama.cpp's
/// spinning threads slow down badly when they outnumber free cores.
pub const TEST_THREADS: u32 = 1;

/// The name tests give the test model.
pub const TEST_MODEL_NAME: &str = "smollm2";

/// The test model on the embedded llama.cpp engine, shared by every test in
/// the process (as production shares one loaded model across skills). The
/// model store is bypassed here: its own tests cover pinning and drift.
pub fn embedded_models() -> RunModels {
    static BACKEND: LazyLock<Arc<EmbeddedBackend>> =
        LazyLock::new(|| Arc::new(EmbeddedBackend::new(TEST_THREADS)));
    RunModels {
        backend: BACKEND.clone(),
        models: vec![test_model_spec()],
    }
}

/// The test model's spec for the embedded engine.
pub fn test_model_spec() -> ModelSpec {
    ModelSpec {
        name: TEST_MODEL_NAME.into(),
        digest: format!("sha256:{TEST_MODEL_SHA256}"),
        family: "llama".into(),
        source: ModelSource::Gguf { path: test_model() },
        context_length: 2048,
    }
}

/// A profile from TOML text.
pub fn profile(toml: &str) -> Profile {
    Profile::parse(
        toml,
        airlock_runtime::profile::ProfileSource::Builtin("test".into()),
    )
    .unwrap()
}

/// A temporary workspace with files: `("path/to/file", "contents")`.
pub fn workspace(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }
    dir
}

/// Make a symbolic link `link` (inside `dir`) pointing at `target`.
pub fn symlink(dir: &Path, target: &str, link: &str) {
    let full = dir.join(link);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, full).unwrap();
}

/// The real test model, SmolLM2-135M-Instruct (Q4_1 GGUF), fetched by
/// `scripts/fetch-test-model` (which `scripts/test` runs). Panics with the
/// command to run when it is missing: these tests need the real model.
pub fn test_model() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = std::env::var_os("AIRLOCK_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/test-model/SmolLM2-135M-Instruct.Q4_1.gguf"));
    assert!(
        path.is_file(),
        "the test model {} is missing; run scripts/fetch-test-model (scripts/test does)",
        path.display()
    );
    path
}

/// The sha256 of the test model, as `scripts/fetch-test-model` checks it.
pub const TEST_MODEL_SHA256: &str =
    "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

pub mod llama_server;
pub mod ollama_fixture;
