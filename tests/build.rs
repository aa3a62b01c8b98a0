//! Builds every guest skill the tests use (the fixtures under `guests/` and
//! the real plugins under `../plugins/`) for `wasm32-wasip2`, and writes
//! their paths as constants (`airlock_tests::guests::*`), so `cargo test`
//! needs nothing else. The nested cargo gets its own target directory, so it
//! never waits on the outer build's lock.

// Ambient std::fs allowed: the build script finds and builds the guest skills.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every guest crate, as (package name, constant name). The build fails if a
/// crate under `guests/` is missing here, or if no test names a constant.
const GUESTS: &[(&str, &str)] = &[
    ("guest-adversary", "ADVERSARY"),
    ("guest-hello", "HELLO"),
    ("guest-net-tcp", "NET_TCP"),
    ("guest-net-dns", "NET_DNS"),
    ("guest-future-wit", "FUTURE_WIT"),
    ("guest-infer", "INFER"),
    ("secret-scan", "SECRET_SCAN"),
    ("repo-map", "REPO_MAP"),
    ("explain", "EXPLAIN"),
    ("review", "REVIEW"),
    ("coder", "CODER"),
];

fn main() {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf();
    for dir in ["guests", "../plugins", "../sdk", "../wit"] {
        println!("cargo:rerun-if-changed={}", manifest.join(dir).display());
    }
    let target_dir = guest_target_dir(&workspace);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .arg("build")
        .arg("--release")
        .arg("--target=wasm32-wasip2")
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _) in GUESTS {
        cmd.arg("-p").arg(package);
    }
    // Flags meant for the host build must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the guest skills");
    assert!(
        status.success(),
        "building the guest skills failed; is the target installed? run `rustup target add wasm32-wasip2` (scripts/setup does)"
    );
    let mut out = String::new();
    for (package, constant) in GUESTS {
        let file = target_dir
            .join("wasm32-wasip2/release")
            .join(format!("{}.wasm", package.replace('-', "_")));
        assert!(
            file.is_file(),
            "guest {package} did not produce {}",
            file.display()
        );
        out.push_str(&format!(
            "/// The `{package}` component.\npub const {constant}: &str = {:?};\n",
            file.display().to_string()
        ));
    }
    check_every_guest_is_listed_and_used(&manifest);
    let out_file = PathBuf::from(env("OUT_DIR")).join("guests.rs");
    std::fs::write(out_file, out).expect("write guests.rs");
}

/// A guest nobody builds or nobody tests is dead weight that looks like
/// coverage; refuse both.
fn check_every_guest_is_listed_and_used(manifest: &Path) {
    let guests_dir = manifest.join("guests");
    for entry in std::fs::read_dir(&guests_dir).expect("read tests/guests") {
        let name = entry
            .expect("guest entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let package = format!("guest-{name}");
        assert!(
            GUESTS.iter().any(|(p, _)| *p == package),
            "tests/guests/{name} is not listed in GUESTS in tests/build.rs"
        );
    }
    let mut sources = String::new();
    for dir in [
        "all",
        "../crates/airlock-cli/tests/cli",
        "../crates/airlock-cli/benches",
        "../crates/airlock-runtime/benches",
    ] {
        let dir = manifest.join(dir);
        println!("cargo:rerun-if-changed={}", dir.display());
        for entry in std::fs::read_dir(&dir).expect("read test sources") {
            let path = entry.expect("test source").path();
            if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).expect("read test source"));
            }
        }
    }
    for (package, constant) in GUESTS {
        assert!(
            sources.contains(&format!("guests::{constant}")),
            "guest {package} (guests::{constant}) is used by no test; use it or remove it"
        );
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

/// `<target>/wasm-guests`, next to the outer build's own target directory.
fn guest_target_dir(workspace: &Path) -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("wasm-guests");
    }
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let out = PathBuf::from(env("OUT_DIR"));
    out.ancestors()
        .nth(4)
        .map(|t| t.join("wasm-guests"))
        .unwrap_or_else(|| workspace.join("target/wasm-guests"))
}
