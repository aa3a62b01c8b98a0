//! The TOML shape of a sandbox profile, exactly as written on disk.
//!
//! Parsing is strict: an unknown key is an error that names the key and the
//! keys that are allowed. Values are checked in [`super::Profile::parse`].

use serde::Deserialize;
use toml::Spanned;

/// A profile file. Every key is documented in `sandbox-profiles/README.md`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ProfileFile {
    /// Short name, shown in reports; defaults to the file stem.
    pub name: Option<String>,
    /// One sentence for the security officer.
    pub description: Option<String>,
    /// Workspace paths the skill may use.
    #[serde(default)]
    pub grant: Vec<GrantSpec>,
    /// Resource limits; every key has a safe default.
    #[serde(default)]
    pub limits: LimitsSpec,
    /// Models the skill may use, and its budget.
    #[serde(default)]
    pub inference: InferenceSpec,
    /// Extra deny-list patterns, added to the built-in ones (never replacing them).
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
    /// Whether file changes need a human's yes.
    #[serde(default)]
    pub edits: EditsSpec,
    /// Which programs the skill may ask to run.
    #[serde(default)]
    pub commands: CommandsSpec,
    /// Whether files with more than one hard link may be read.
    pub hard_links: Option<HardLinks>,
}

/// The top-level `hard-links` key: what to do with a regular file whose link
/// count is above one. The deny-list sees names only; a hard link gives a
/// secret's content a second, innocent name, so the default withholds them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HardLinks {
    /// Refuse to read or search any regular file with more than one link.
    #[default]
    Withhold,
    /// Allow them, except those that are the same file (device, inode) as a
    /// deny-listed file in the granted tree.
    Allow,
}

/// The `[commands]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CommandsSpec {
    #[serde(default)]
    pub programs: std::collections::BTreeMap<Spanned<String>, super::approvals::ApprovalMode>,
    pub timeout_seconds: Option<Spanned<u64>>,
    pub max_output_bytes: Option<Spanned<u64>>,
    pub max_processes: Option<Spanned<u64>>,
    pub memory_mib: Option<Spanned<u64>>,
    pub cpu_seconds: Option<Spanned<u64>>,
    pub max_file_mib: Option<Spanned<u64>>,
    pub max_open_files: Option<Spanned<u64>>,
    pub tmp_mib: Option<Spanned<u64>>,
    pub max_snapshot_mib: Option<Spanned<u64>>,
    pub max_scratch_mib: Option<Spanned<u64>>,
    pub scratch: Option<Spanned<Vec<Spanned<String>>>>,
}

/// The `[edits]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EditsSpec {
    pub mode: Option<super::approvals::ApprovalMode>,
    /// Files that run code later, added to the built-in list.
    pub always_ask: Option<Vec<Spanned<String>>>,
}

/// One `[[grant]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GrantSpec {
    /// Workspace-relative path; `.` is the whole workspace.
    pub path: Spanned<String>,
    /// `read` (default) or `read-write`.
    #[serde(default)]
    pub access: AccessSpec,
}

/// How a granted path may be used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessSpec {
    /// List, stat, read and search.
    #[default]
    Read,
    /// Everything `read` allows, plus write, create directories and remove files.
    ReadWrite,
}

/// The `[limits]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LimitsSpec {
    pub wall_clock_seconds: Option<Spanned<u64>>,
    pub memory_mib: Option<Spanned<u64>>,
    pub max_bytes_read: Option<Spanned<u64>>,
    pub max_bytes_written: Option<Spanned<u64>>,
    pub max_output_bytes: Option<Spanned<u64>>,
    pub max_files_listed: Option<Spanned<u64>>,
    pub max_denials: Option<Spanned<u64>>,
    pub max_host_calls: Option<Spanned<u64>>,
}

/// The `[inference]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct InferenceSpec {
    pub models: Option<Spanned<Vec<Spanned<String>>>>,
    pub max_calls: Option<Spanned<u64>>,
    pub max_prompt_tokens: Option<Spanned<u64>>,
    pub max_completion_tokens: Option<Spanned<u64>>,
    pub default_max_tokens: Option<Spanned<u64>>,
    pub max_call_seconds: Option<Spanned<u64>>,
    /// `[inference.roles]`: role -> model name.
    pub roles: Option<std::collections::BTreeMap<Spanned<String>, Spanned<String>>>,
}
