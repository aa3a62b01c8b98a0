//! How every module drives this build's `airlock`: through
//! `airlock_tests::cli::hermetic` (its own home, no user configuration file,
//! no admin policy, profile directory, passphrase or log filter from the
//! environment of whoever runs the tests), and the checks most tests make on
//! what it printed.

use std::ffi::OsStr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub use airlock_tests::cli::{describe, scrub, text};

/// The binary under test.
pub const AIRLOCK: &str = env!("CARGO_BIN_EXE_airlock");

/// `airlock --home HOME`, hermetic.
pub fn airlock_command(home: &Path) -> Command {
    airlock_tests::cli::hermetic(AIRLOCK, home)
}

/// `airlock --home HOME ARGS` without a terminal (stdin is /dev/null), run
/// to the end.
pub fn airlock<S: AsRef<OsStr>>(home: &Path, args: &[S]) -> Output {
    airlock_command(home)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the airlock binary")
}

/// As [`airlock`], with `$AIRLOCK_POLICY_FILE` set to `policy` if given.
pub fn airlock_with_policy<S: AsRef<OsStr>>(
    home: &Path,
    policy: Option<&Path>,
    args: &[S],
) -> Output {
    let mut cmd = airlock_command(home);
    if let Some(policy) = policy {
        cmd.env("AIRLOCK_POLICY_FILE", policy);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the airlock binary")
}

/// Assert exit code `code`; return stdout.
#[track_caller]
pub fn expect_code(out: &Output, code: i32) -> String {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
    text(&out.stdout)
}

/// Assert success (exit 0); return stdout.
#[track_caller]
pub fn ok(out: &Output) -> String {
    expect_code(out, 0)
}

/// Assert a refusal (exit 3); return the error line(s) on stderr.
#[track_caller]
pub fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(3), "{}", describe(out));
    text(&out.stderr).trim_end().to_string()
}

/// A temporary path as the `&str` an argument list takes.
pub fn utf8(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// SHA-256 of `bytes`, in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// An admin policy file as an administrator writes it: root-owned, mode
/// 0644, in a directory only its owner can write. `None` when the tests do
/// not run as root (the file could not be root-owned, so every run would be
/// refused).
pub fn admin_policy(text: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir().expect("a directory for the policy file");
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, text).expect("write the policy file");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))
        .expect("chmod the policy file");
    if std::fs::metadata(&file)
        .expect("stat the policy file")
        .uid()
        != 0
    {
        eprintln!(
            "skipped: admin policy files must be root-owned, and these tests do not run as root"
        );
        return None;
    }
    Some((dir, file))
}
