//! Shared helpers for Airlock's integration tests: the guest skills built by
//! `build.rs`, a shared host, and workspace fixtures.

#![allow(clippy::unwrap_used)]

/// Paths of the guest components, built by `build.rs`.
pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/guests.rs"));
}

use airlock_runtime::{Airlock, LoadedSkill, Profile, Request, RunFailure, RunReport};
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
    let skill = skill(guest);
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(airlock().run(&skill, profile, workspace, &request, None))
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
