//! The payloads of a run's start and end, and of runs that never started
//! or never ended.

use super::Redacted;
use crate::{Identity, ModelRef};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `run-start`: a run began, after every check passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunStart {
    /// The skill.
    pub skill: Skill,
    /// The profile's name.
    pub profile: String,
    /// The sha256 of the profile's text.
    pub profile_digest: String,
    /// The profile's `[limits]` in force.
    pub limits: Value,
    /// The profile's `[inference]` in force.
    pub inference: Value,
    /// The inference engine, when models are granted.
    pub backend: Option<String>,
    /// Each granted model with its pinned digest.
    pub models: Vec<ModelRef>,
    /// The workspace root.
    pub workspace: PathBuf,
    /// `--input` (redacted when redaction is on).
    pub input: Option<String>,
    /// The `--arg KEY=VALUE` pairs (values redacted when redaction is on).
    pub args: Vec<(String, String)>,
    /// What redaction hid in `input` and `args`.
    pub redacted: Redacted,
    /// Who and where.
    pub identity: Identity,
    /// The Airlock that ran it.
    pub airlock_version: String,
    /// The process.
    pub pid: u32,
}

/// The skill of a run, as identified before it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Skill {
    /// The installed plugin's name, or the component file's stem.
    pub name: String,
    /// Currently always `null` (what the skill says of itself is in
    /// [`Finished::described`]).
    pub version: Option<String>,
    /// sha256 of the component.
    pub digest: String,
    /// The component file.
    pub path: PathBuf,
    /// Who signed it.
    pub signer: Signer,
}

/// Who signed a skill: a publisher, or a word (`"unsigned"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Signer {
    /// A publisher whose key is in the trust store.
    Signed(SignedBy),
    /// `"unsigned"`.
    Named(String),
}

/// A signature's publisher and the trust-store key that verified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBy {
    /// The publisher named in the signed manifest.
    pub publisher: String,
    /// The key's name in this machine's trust store.
    pub trusted_as: String,
    /// The key's fingerprint, `SHA256:<hex>`.
    pub fingerprint: String,
}

/// `run-end`: the run finished (with everything in [`Finished`]) or was
/// stopped (`outcome`, `exit-code`, `error` and `elapsed-ms` only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunEnd {
    /// `ok`, `skill-error`, or why it was stopped (`limit-exceeded`, …).
    pub outcome: String,
    /// The command's exit code.
    pub exit_code: u8,
    /// The skill's error, or why the run was stopped.
    pub error: Option<String>,
    /// How long the run took.
    pub elapsed_ms: u64,
    /// For a run that finished: what it reported.
    #[serde(flatten)]
    pub finished: Option<Finished>,
}

/// What a finished run reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Finished {
    /// What the skill says of itself.
    pub described: Described,
    /// The final output (redacted when redaction is on), or `null`.
    pub output: Option<String>,
    /// Its findings.
    pub findings: Vec<Finding>,
    /// Files withheld from listings: path → deny-list rule.
    pub withheld: BTreeMap<String, String>,
    /// Workspace usage.
    pub usage: Usage,
    /// Inference usage.
    pub inference: InferenceUsage,
    /// Bytes of output.
    pub output_bytes: u64,
    /// Calls to the host interfaces.
    pub host_calls: u64,
    /// What redaction hid in `output`.
    pub redacted: Redacted,
}

/// The skill's description of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Described {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// The `airlock:skill` version it was built for.
    pub wit_version: String,
}

/// One finding of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// `note`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// Message.
    pub message: String,
    /// Path, when about a file.
    pub path: Option<String>,
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column.
    pub column: Option<u32>,
}

/// A run's workspace usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Usage {
    /// Bytes read from files.
    pub bytes_read: u64,
    /// Bytes written to files.
    pub bytes_written: u64,
    /// Directory entries listed.
    pub files_listed: u64,
}

/// A run's inference usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct InferenceUsage {
    /// Calls started.
    pub calls: u64,
    /// Prompt tokens, all calls.
    pub prompt_tokens: u64,
    /// Generated tokens, all calls.
    pub completion_tokens: u64,
    /// Of `prompt_tokens`, those reused from earlier calls. Absent in
    /// records written before prefix reuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_reused: Option<u64>,
}

/// `run-incomplete`: a run whose process died without a `run-end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunIncomplete {
    /// When the run began.
    pub started: String,
    /// The skill's name.
    pub skill: String,
    /// The process that ran it.
    pub pid: u32,
    /// Why it is incomplete.
    pub reason: String,
}

/// `run-refused`: a run refused before any skill code ran (exit 3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunRefused {
    /// The skill, as given.
    pub skill: String,
    /// The exit code.
    pub exit_code: u8,
    /// The message the user saw.
    pub reason: String,
    /// Who and where.
    pub identity: Identity,
    /// The Airlock that refused it.
    pub airlock_version: String,
}
