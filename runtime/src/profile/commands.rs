//! The `[commands]` table of a profile: which programs a skill may ask to
//! run, how each is approved, and the limits of one command.

use super::approvals::ApprovalMode;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a skill may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommandPolicy {
    /// Program name → how a request to run it is decided. A program not
    /// listed is refused before anyone is asked. Default: none.
    pub programs: BTreeMap<String, ApprovalMode>,
    /// Seconds one command may run. Default 300.
    pub timeout_seconds: u64,
    /// Bytes of stdout (and of stderr) kept from one command. Default 1 MiB.
    pub max_output_bytes: u64,
}

impl Default for CommandPolicy {
    fn default() -> Self {
        Self {
            programs: BTreeMap::new(),
            timeout_seconds: 300,
            max_output_bytes: 1024 * 1024,
        }
    }
}

/// The allowed range of each numeric key.
pub(crate) const RANGES: &[(&str, u64, u64)] = &[
    ("timeout-seconds", 1, 3600),
    ("max-output-bytes", 1024, 64 * 1024 * 1024),
];

/// Whether `name` is a program name a profile may list: a bare file name.
pub fn valid_program(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}
