//! The typed payload (`data`) of each record kind, as `docs/audit.md`
//! describes it. Parsing a record's `data` into its type and serializing it
//! back gives the very same canonical bytes (the golden log proves it), so a
//! writer and a reader that share these types cannot drift apart.
//!
//! Field names are as written: kebab-case, except where the writer's own
//! types spell them otherwise (`trusted_as`, an approval's `bytes_before`,
//! the sampling settings' `max_tokens`, a finding's `rule_id`). A field that
//! is always written, even as `null`, is an `Option` without
//! `skip_serializing_if`; one that is left out when it does not apply skips
//! `None`.

use crate::Identity;
use crate::record::{Record, kind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

mod calls;
mod run;

pub use calls::{
    Access, AppliedChange, Approval, ApprovalRequest, ChatMessage, Command, Decision, DiffCounts,
    Format, How, Inference, InferenceRequest, Log, Ran, Sampling, Search, Subject,
};
pub use run::{
    Described, Finding, Finished, InferenceUsage, RunEnd, RunIncomplete, RunRefused, RunStart,
    SignedBy, Signer, Skill, Usage,
};

/// The kinds of record, as an enum (the strings are [`kind`]'s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// [`LogStart`].
    LogStart,
    /// [`SegmentStart`].
    SegmentStart,
    /// [`Checkpoint`].
    Checkpoint,
    /// [`Recovered`].
    Recovered,
    /// [`RunStart`].
    RunStart,
    /// [`RunEnd`].
    RunEnd,
    /// [`RunIncomplete`].
    RunIncomplete,
    /// [`RunRefused`].
    RunRefused,
    /// [`Access`].
    Access,
    /// [`Inference`].
    Inference,
    /// [`Log`].
    Log,
    /// [`Command`].
    Command,
    /// [`Approval`].
    Approval,
    /// [`Admin`].
    Admin,
}

impl Kind {
    /// Every kind, in the order of [`kind`].
    pub const ALL: [Kind; 14] = [
        Kind::LogStart,
        Kind::SegmentStart,
        Kind::Checkpoint,
        Kind::Recovered,
        Kind::RunStart,
        Kind::RunEnd,
        Kind::RunIncomplete,
        Kind::RunRefused,
        Kind::Access,
        Kind::Inference,
        Kind::Log,
        Kind::Command,
        Kind::Approval,
        Kind::Admin,
    ];

    /// The kind as written in a record's `kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::LogStart => kind::LOG_START,
            Kind::SegmentStart => kind::SEGMENT_START,
            Kind::Checkpoint => kind::CHECKPOINT,
            Kind::Recovered => kind::RECOVERED,
            Kind::RunStart => kind::RUN_START,
            Kind::RunEnd => kind::RUN_END,
            Kind::RunIncomplete => kind::RUN_INCOMPLETE,
            Kind::RunRefused => kind::RUN_REFUSED,
            Kind::Access => kind::ACCESS,
            Kind::Inference => kind::INFERENCE,
            Kind::Log => kind::LOG,
            Kind::Command => kind::COMMAND,
            Kind::Approval => kind::APPROVAL,
            Kind::Admin => kind::ADMIN,
        }
    }

    /// The kind written as `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of redacted secrets per rule (`{}` when none, or redaction is off).
pub type Redacted = BTreeMap<String, u64>;

/// The counts [`crate::RunAudit::redact`] returns, as a payload keeps them.
pub fn redacted(counts: BTreeMap<&str, u64>) -> Redacted {
    counts
        .into_iter()
        .map(|(rule, n)| (rule.to_string(), n))
        .collect()
}

/// A payload recorded during a run, through [`crate::RunAudit::record`]:
/// the type says the kind, so a writer cannot file a payload under another
/// kind. (A run's start and end, and the records outside runs, have their
/// own functions.)
pub trait RunEvent: Serialize {
    /// The kind of record this is the payload of.
    const KIND: Kind;
}

impl RunEvent for Access {
    const KIND: Kind = Kind::Access;
}

impl RunEvent for Inference {
    const KIND: Kind = Kind::Inference;
}

impl RunEvent for Log {
    const KIND: Kind = Kind::Log;
}

impl RunEvent for Command {
    const KIND: Kind = Kind::Command;
}

impl RunEvent for Approval {
    const KIND: Kind = Kind::Approval;
}

/// `log-start`: the first record of a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LogStart {
    /// The log's id (32 hex digits).
    pub log_id: String,
    /// The public half of the first checkpoint key.
    pub key: String,
    /// The Airlock that started the log.
    pub airlock_version: String,
    /// The host it ran on.
    pub host: String,
}

/// `segment-start`: the first record of each later log file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct SegmentStart {
    /// The log's id.
    pub log_id: String,
    /// This file's number.
    pub file: u32,
    /// The name of the file before it.
    pub previous_file: String,
}

/// `checkpoint`: a signed seal over the chain so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Checkpoint {
    /// The log's id.
    pub log_id: String,
    /// The hash it seals (the record before it).
    pub head: String,
    /// The public key that signed it.
    pub key: String,
    /// The public key that signs the next checkpoint.
    pub next_key: String,
    /// The Ed25519 signature (hex).
    pub signature: String,
}

/// `recovered`: bytes a crash left behind were discarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Recovered {
    /// The log file.
    pub file: String,
    /// How many bytes were discarded.
    pub discarded_bytes: u64,
    /// Their sha256.
    pub discarded_sha256: String,
    /// Why.
    pub reason: String,
}

/// `admin`: a plugin, trust or model command that succeeded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Admin {
    /// `plugin install`, `trust add`, `model remove`, …
    pub action: String,
    /// The command's arguments (and digests of the files it read).
    pub details: Value,
    /// Who and where.
    pub identity: Identity,
}

/// A record's payload, typed by its kind.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // each variant is the kind of the same name
pub enum Payload {
    LogStart(LogStart),
    SegmentStart(SegmentStart),
    Checkpoint(Checkpoint),
    Recovered(Recovered),
    RunStart(Box<RunStart>),
    RunEnd(Box<RunEnd>),
    RunIncomplete(RunIncomplete),
    RunRefused(RunRefused),
    Access(Access),
    Inference(Box<Inference>),
    Log(Log),
    Command(Box<Command>),
    Approval(Approval),
    Admin(Admin),
}

/// Why a record's payload is not of its kind's type.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// The kind is not one this build knows.
    #[error("`{0}` is not a kind of record this Airlock knows")]
    UnknownKind(String),
    /// The data does not have the kind's fields.
    #[error("the `{kind}` record's data does not match its schema: {source}")]
    Malformed {
        /// The kind.
        kind: Kind,
        /// Why.
        source: serde_json::Error,
    },
}

impl Payload {
    /// The typed payload of `record`.
    pub fn of(record: &Record) -> Result<Self, PayloadError> {
        let kind = Kind::parse(&record.kind)
            .ok_or_else(|| PayloadError::UnknownKind(record.kind.clone()))?;
        Self::parse(kind, &record.data).map_err(|source| PayloadError::Malformed { kind, source })
    }

    /// `data` as the payload of a record of `kind`.
    pub fn parse(kind: Kind, data: &Value) -> Result<Self, serde_json::Error> {
        fn typed<T: serde::de::DeserializeOwned>(data: &Value) -> Result<T, serde_json::Error> {
            T::deserialize(data)
        }
        Ok(match kind {
            Kind::LogStart => Self::LogStart(typed(data)?),
            Kind::SegmentStart => Self::SegmentStart(typed(data)?),
            Kind::Checkpoint => Self::Checkpoint(typed(data)?),
            Kind::Recovered => Self::Recovered(typed(data)?),
            Kind::RunStart => Self::RunStart(typed(data)?),
            Kind::RunEnd => Self::RunEnd(typed(data)?),
            Kind::RunIncomplete => Self::RunIncomplete(typed(data)?),
            Kind::RunRefused => Self::RunRefused(typed(data)?),
            Kind::Access => Self::Access(typed(data)?),
            Kind::Inference => Self::Inference(typed(data)?),
            Kind::Log => Self::Log(typed(data)?),
            Kind::Command => Self::Command(typed(data)?),
            Kind::Approval => Self::Approval(typed(data)?),
            Kind::Admin => Self::Admin(typed(data)?),
        })
    }

    /// The kind of record it is the payload of.
    pub fn kind(&self) -> Kind {
        match self {
            Self::LogStart(_) => Kind::LogStart,
            Self::SegmentStart(_) => Kind::SegmentStart,
            Self::Checkpoint(_) => Kind::Checkpoint,
            Self::Recovered(_) => Kind::Recovered,
            Self::RunStart(_) => Kind::RunStart,
            Self::RunEnd(_) => Kind::RunEnd,
            Self::RunIncomplete(_) => Kind::RunIncomplete,
            Self::RunRefused(_) => Kind::RunRefused,
            Self::Access(_) => Kind::Access,
            Self::Inference(_) => Kind::Inference,
            Self::Log(_) => Kind::Log,
            Self::Command(_) => Kind::Command,
            Self::Approval(_) => Kind::Approval,
            Self::Admin(_) => Kind::Admin,
        }
    }

    /// The record's `data`, as a writer puts it in a [`crate::record::Draft`].
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        match self {
            Self::LogStart(p) => serde_json::to_value(p),
            Self::SegmentStart(p) => serde_json::to_value(p),
            Self::Checkpoint(p) => serde_json::to_value(p),
            Self::Recovered(p) => serde_json::to_value(p),
            Self::RunStart(p) => serde_json::to_value(p),
            Self::RunEnd(p) => serde_json::to_value(p),
            Self::RunIncomplete(p) => serde_json::to_value(p),
            Self::RunRefused(p) => serde_json::to_value(p),
            Self::Access(p) => serde_json::to_value(p),
            Self::Inference(p) => serde_json::to_value(p),
            Self::Log(p) => serde_json::to_value(p),
            Self::Command(p) => serde_json::to_value(p),
            Self::Approval(p) => serde_json::to_value(p),
            Self::Admin(p) => serde_json::to_value(p),
        }
    }
}
