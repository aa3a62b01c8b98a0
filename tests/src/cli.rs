//! The `airlock` binary as the CLI tests run it: hermetic (its own home, no
//! configuration file, no log override), and its output for messages.

use std::path::Path;
use std::process::{Command, Output};

/// `BINARY --home HOME`, with no `AIRLOCK_HOME`, no `AIRLOCK_LOG` and no
/// user configuration file. Pass `env!("CARGO_BIN_EXE_airlock")`.
pub fn hermetic(binary: &str, home: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.arg("--home")
        .arg(home)
        .env_remove("AIRLOCK_HOME")
        .env_remove("AIRLOCK_LOG")
        .env("XDG_CONFIG_HOME", home.join("no-config"));
    cmd
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
