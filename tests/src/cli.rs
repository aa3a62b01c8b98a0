//! The `airlock` binary as the CLI tests run it: hermetic (its own home, no
//! configuration file, no admin policy, no log override), and its output for
//! messages.

use std::path::Path;
use std::process::{Command, Output};

/// The variables through which the caller's environment would reach
/// `airlock`: its home, log filter, admin policy file, admin profile
/// directory, key passphrase and fault injection. A test that needs one sets
/// it after [`hermetic`] or [`scrub`].
pub const AIRLOCK_ENV: &[&str] = &[
    "AIRLOCK_HOME",
    "AIRLOCK_LOG",
    "AIRLOCK_POLICY_FILE",
    "AIRLOCK_PROFILE_DIR",
    "AIRLOCK_REVOKED_FILE",
    "AIRLOCK_KEY_PASSPHRASE",
    "AIRLOCK_FAULT_CRASH_BEFORE_RENAME",
];

/// `BINARY --home HOME`, with none of [`AIRLOCK_ENV`] and no user
/// configuration file. Pass `env!("CARGO_BIN_EXE_airlock")`.
pub fn hermetic(binary: &str, home: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("--home").arg(home);
    scrub(&mut cmd, &home.join("no-config"));
    cmd
}

/// Remove [`AIRLOCK_ENV`] from `cmd`'s environment and point
/// `XDG_CONFIG_HOME` at `no_config` (a directory without an
/// `airlock/config.toml`): for a command that runs `airlock` without
/// `--home` (a client that starts it, or a test of the default state
/// directory).
pub fn scrub<'a>(cmd: &'a mut Command, no_config: &Path) -> &'a mut Command {
    for name in AIRLOCK_ENV {
        cmd.env_remove(name);
    }
    cmd.env("XDG_CONFIG_HOME", no_config)
}

/// Bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A finished command's exit code and output, for an assertion message.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}
