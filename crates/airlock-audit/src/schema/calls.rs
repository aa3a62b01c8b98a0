//! The payloads of what happens during a run: workspace accesses, model
//! calls, log messages, approvals and commands.

use super::Redacted;
use serde::{Deserialize, Serialize};

/// `access`: a workspace call, allowed or denied. `op`, `path` and
/// `allowed` are always there; the rest depends on `op` (`docs/audit.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Access {
    /// The call (`read-file`, `walk`, …) or, for a denial, the capability
    /// (`workspace-read`, `exec`, `limit`).
    pub op: String,
    /// The path (for a search, its scope; for `limit`, the limit's key).
    pub path: String,
    /// Whether it was allowed.
    pub allowed: bool,
    /// For a denial: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// A call that failed for a reason other than a denial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `list-dir`, `walk`: entries returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<u64>,
    /// `stat`: the file's size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// `read-range`: where the read began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// `read-file`, `read-range`, `write-file`, `remove-file`: bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// `write-file`: sha256 of the new contents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `write-file`: whether it replaced a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaces: Option<bool>,
    /// `search`: what was searched for and found.
    #[serde(flatten)]
    pub search: Option<Search>,
    /// `limit`: the limit's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// `limit`: its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
}

impl Access {
    /// An access to `path` by `op`, with none of the details that depend on
    /// `op` (set those with struct update syntax).
    pub fn new(op: impl Into<String>, path: impl Into<String>, allowed: bool) -> Self {
        Self {
            op: op.into(),
            path: path.into(),
            allowed,
            rule: None,
            error: None,
            entries: None,
            size: None,
            offset: None,
            bytes: None,
            sha256: None,
            replaces: None,
            search: None,
            limit: None,
            max: None,
        }
    }
}

/// A search's query and result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Search {
    /// The pattern.
    pub pattern: String,
    /// The glob that narrowed the files, if any.
    pub glob: Option<String>,
    /// Matching lines.
    pub matches: u64,
    /// The files that matched.
    pub files_matched: Vec<String>,
    /// Whether the result was cut short.
    pub truncated: bool,
}

/// `inference`: one model call, when it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Inference {
    /// The model's name.
    pub model: String,
    /// Its pinned digest.
    pub digest: String,
    /// `chat` or `chat-stream`.
    pub call: String,
    /// The request as checked (message contents redacted when redaction is on).
    pub request: InferenceRequest,
    /// The answer (redacted when redaction is on).
    pub output: String,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Of `prompt_tokens`, those the engine held from an earlier call of the
    /// same run (or chat session) and did not read again. Absent in records
    /// written before prefix reuse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_reused: Option<u64>,
    /// `stop`, `stop-sequence`, `length`, or `null`.
    pub finish: Option<String>,
    /// Why the call failed, if it did.
    pub error: Option<String>,
    /// How long it took.
    pub elapsed_ms: u64,
    /// What redaction hid in the messages and the answer.
    pub redacted: Redacted,
}

/// An inference request as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferenceRequest {
    /// The conversation, oldest first.
    pub messages: Vec<ChatMessage>,
    /// Sampling settings.
    pub sampling: Sampling,
    /// The answer's shape.
    pub format: Format,
    /// Whether the answer was streamed.
    pub stream: bool,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// What it says.
    pub content: String,
}

/// Sampling settings (field names as the inference crate spells them).
/// Floating-point values are `f64`: an `f32` setting is recorded as the
/// `f64` it converts to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// 0 is greedy.
    pub temperature: f64,
    /// Nucleus sampling; 1.0 is off.
    pub top_p: f64,
    /// Sampling seed.
    pub seed: u64,
    /// Stop sequences.
    pub stop: Vec<String>,
}

/// The shape an answer had to have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum Format {
    /// Free text.
    Text,
    /// JSON matching this JSON Schema.
    JsonSchema(String),
    /// Text matching this GBNF grammar.
    Grammar(String),
}

/// `log`: a log message of the skill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    /// `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// The message (redacted when redaction is on).
    pub message: String,
    /// What redaction hid.
    pub redacted: Redacted,
}

/// `approval`: a decision on a gated action, synced before the action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// What was asked.
    pub request: ApprovalRequest,
    /// What was decided.
    pub decision: Decision,
    /// The profile's mode for it (`allow`, `ask`, `deny`).
    pub mode: String,
}

/// A request for a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// The skill asking.
    pub skill: String,
    /// What it wants.
    pub subject: Subject,
    /// Why it is risky, when it is.
    pub risks: Vec<String>,
}

/// What a skill wanted to do (field names as the approval gate spells them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Subject {
    /// Change a file.
    Edit {
        /// Workspace-relative path.
        path: String,
        /// `create`, `modify`, `delete` or `create-dir`.
        change: String,
        /// The counts of the diff a person was shown, when one was.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<DiffCounts>,
        /// Size before, when the file existed.
        bytes_before: Option<u64>,
        /// Size after (0 for a deletion).
        bytes_after: u64,
        /// sha256 of the content before, when the file existed.
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256_before: Option<String>,
        /// sha256 of the content after, unless it is a deletion or a folder.
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256_after: Option<String>,
    },
    /// Run a program.
    Command {
        /// The program.
        program: String,
        /// Its arguments (redacted when redaction is on).
        args: Vec<String>,
        /// The workspace-relative working directory.
        cwd: String,
    },
}

/// The size of a diff shown for approval (not its content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DiffCounts {
    /// Lines added.
    pub lines_added: u64,
    /// Lines removed.
    pub lines_removed: u64,
    /// Lines left out of what was shown.
    pub lines_not_shown: u64,
    /// Whether the counts are approximate.
    pub approximate: bool,
}

/// A decision, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Whether the action could go ahead.
    pub allowed: bool,
    /// How it was decided.
    pub how: How,
    /// Who decided: the user at the terminal, or `profile` / `airlock`.
    pub who: String,
    /// For a denial: the sentence the skill got.
    pub reason: Option<String>,
}

/// How a decision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// The profile's mode is `deny`.
    ProfileDeny,
    /// The profile's mode is `allow` and the action is not risky.
    ProfileAllow,
    /// A person answered at the terminal.
    Interactive,
    /// An earlier "yes for this run" for the same path or command.
    ThisRun,
    /// Nobody could be asked, so it was denied.
    NonInteractive,
}

impl How {
    /// As written in the record.
    pub const fn as_str(self) -> &'static str {
        match self {
            How::ProfileDeny => "profile-deny",
            How::ProfileAllow => "profile-allow",
            How::Interactive => "interactive",
            How::ThisRun => "this-run",
            How::NonInteractive => "non-interactive",
        }
    }
}

/// `command`: a command a skill ran (or that the sandbox refused to start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Command {
    /// The program.
    pub program: String,
    /// Its arguments (redacted when redaction is on).
    pub args: Vec<String>,
    /// The workspace-relative working directory.
    pub cwd: String,
    /// Why the sandbox refused to start it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How it ran, when it did.
    #[serde(flatten)]
    pub ran: Option<Ran>,
}

/// How a command ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Ran {
    /// Its exit status, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Whether it ran out of time.
    pub timed_out: bool,
    /// Whether its output was cut.
    pub truncated: bool,
    /// How long it ran.
    pub elapsed_ms: u64,
    /// The limit that stopped it, if one did.
    pub limit: Option<String>,
    /// The limits it ran under, as a sentence.
    pub limits: String,
    /// What became of the files it changed.
    pub changes: Vec<AppliedChange>,
    /// Its standard output (redacted when redaction is on).
    pub stdout: String,
    /// Its standard error (redacted when redaction is on).
    pub stderr: String,
    /// What redaction hid.
    pub redacted: Redacted,
}

/// What became of one file a command changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct AppliedChange {
    /// Workspace-relative path.
    pub path: String,
    /// `create`, `modify`, `delete`, `create-dir`, or `other`.
    pub change: String,
    /// Whether the workspace now holds it.
    pub applied: bool,
    /// Why not, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
