//! The audit trail: every run, inference call, workspace access and log
//! message, recorded locally in an append-only, hash-chained JSON Lines log
//! with signed checkpoints (`docs/audit.md` has the schema and guarantees).
//!
//! - [`record`]: the record envelope, canonical encoding and hashing;
//! - [`seal`]: forward-evolving Ed25519 checkpoint keys;
//! - [`writer`]: appending under a lock, durability, recovery, rotation;
//! - [`verify`]: checking every record, the chain and every checkpoint;
//! - [`files`], [`identity`], [`redact`]: layout, who/where, secret redaction;
//! - [`schema`]: the typed payload of each record kind;
//! - [`query`]: selecting runs and records (by run id, time, skill);
//! - [`error`]: what can go wrong, typed ([`AuditError`]).
//!
//! A run's records are written through a [`RunAudit`]; actions that change
//! something (a file write, an inference answer, the run's end) are synced to
//! disk before they are reported done. When the log cannot be written, the
//! run stops: Airlock fails closed.

// Ambient std::fs allowed: this crate's job is its log directory (segments, seals, locks).
#![allow(clippy::disallowed_methods)]
#![deny(missing_docs)]

pub mod error;
pub mod export;
pub mod files;
pub mod identity;
pub mod query;
pub mod record;
pub mod redact;
pub mod schema;
pub mod seal;
pub mod verify;
mod writer;

use record::{Draft, kind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use error::{AuditError, FileError, Inconsistency, ReadError, SealKeyError};
pub use files::audit_dir;
pub use identity::Identity;

/// Rotate to a new log file when the current one is larger than this.
pub const DEFAULT_ROTATE_BYTES: u64 = 64 * 1024 * 1024;

/// A batch of non-durable records (reads, logs, denials) is written once it
/// holds this many records.
const BATCH_RECORDS: usize = 256;

/// Settings from the configuration's `[audit]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditOptions {
    /// The site identity recorded with every run (`audit.identity`).
    pub identity: Option<String>,
    /// Redact detected secrets in stored prompts and outputs.
    pub redact_secrets: bool,
    /// Rotate log files at this size.
    pub rotate_bytes: u64,
}

impl Default for AuditOptions {
    fn default() -> Self {
        Self {
            identity: None,
            redact_secrets: false,
            rotate_bytes: DEFAULT_ROTATE_BYTES,
        }
    }
}

/// One process's handle on the audit log.
pub struct AuditLog {
    writer: Mutex<writer::Writer>,
    options: AuditOptions,
    dir: PathBuf,
}

impl AuditLog {
    /// Open the log in `home/audit` (creating it, private, on first use) and
    /// record runs that a killed process left open as incomplete.
    pub fn open(home: &Path, options: AuditOptions) -> Result<Arc<Self>, AuditError> {
        let dir = audit_dir(home);
        let mut writer = writer::Writer::open(files::Layout::new(&dir), options.rotate_bytes)?;
        writer.close_abandoned_runs()?;
        Ok(Arc::new(Self {
            writer: Mutex::new(writer),
            options,
            dir,
        }))
    }

    /// The audit directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options in force.
    pub fn options(&self) -> &AuditOptions {
        &self.options
    }

    fn append(
        &self,
        drafts: Vec<Draft>,
        durable: bool,
        checkpoint: bool,
    ) -> Result<(), AuditError> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|_| AuditError::Poisoned("audit writer"))?;
        writer.append(drafts, durable, checkpoint)
    }

    /// Record the start of a run (durably) and return its handle.
    pub fn begin_run(self: &Arc<Self>, start: &RunStart) -> Result<RunAudit, AuditError> {
        let mut id = [0u8; 6];
        getrandom::fill(&mut id).map_err(|error| AuditError::Randomness {
            what: "no randomness",
            error,
        })?;
        let run = hex::encode(id);
        let mut start = start.clone();
        let mut redacted: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut hide = |text: &str| {
            let (clean, counts) = self.redact(text);
            for (rule, n) in counts {
                *redacted.entry(rule).or_default() += n;
            }
            clean
        };
        start.input = start.input.as_deref().map(&mut hide);
        for (_, value) in &mut start.args {
            *value = hide(value);
        }
        let mut data = serde_json::to_value(&start)?;
        if let Some(obj) = data.as_object_mut() {
            obj.insert("redacted".into(), serde_json::to_value(&redacted)?);
            obj.insert(
                "identity".into(),
                serde_json::to_value(Identity::current(self.options.identity.clone()))?,
            );
            obj.insert("airlock-version".into(), env!("CARGO_PKG_VERSION").into());
            obj.insert("pid".into(), std::process::id().into());
        }
        let draft = Draft::now(kind::RUN_START, Some(&run), data);
        let marker = files::Layout::new(&self.dir)
            .open_dir()
            .join(format!("{run}.json"));
        let open = files::OpenRun {
            run: run.clone(),
            pid: std::process::id(),
            process_start: files::process_start(std::process::id()),
            started: draft.time.clone(),
            skill: start.skill.name.clone(),
        };
        // The marker first: a process killed right after the run-start is
        // still found and its run marked incomplete by the next start.
        let text = serde_json::to_string(&open)?;
        seal::write_private_quick(&marker, text.as_bytes())?;
        if let Err(e) = self.append(vec![draft], true, false) {
            let _ = std::fs::remove_file(&marker);
            return Err(e);
        }
        Ok(RunAudit {
            shared: Arc::new(RunShared {
                log: self.clone(),
                run,
                pending: Mutex::new(Vec::new()),
                marker,
            }),
        })
    }

    /// Record a run refused before any skill code ran, and seal it.
    pub fn refused(&self, skill: &str, code: u8, reason: &str) -> Result<(), AuditError> {
        let data = json!({
            "skill": skill,
            "exit-code": code,
            "reason": reason,
            "identity": Identity::current(self.options.identity.clone()),
            "airlock-version": env!("CARGO_PKG_VERSION"),
        });
        self.append(vec![Draft::now(kind::RUN_REFUSED, None, data)], true, true)
    }

    /// Record an administrative change (plugin, trust or model) and seal it.
    pub fn admin(&self, action: &str, details: Value) -> Result<(), AuditError> {
        let data = json!({
            "action": action,
            "details": details,
            "identity": Identity::current(self.options.identity.clone()),
        });
        self.append(vec![Draft::now(kind::ADMIN, None, data)], true, true)
    }

    /// Seal a checkpoint over everything recorded so far.
    pub fn checkpoint(&self) -> Result<(), AuditError> {
        self.append(Vec::new(), true, true)
    }

    /// Redact `text` when the options ask for it; the counts say what was hidden.
    pub fn redact(&self, text: &str) -> (String, BTreeMap<&'static str, u64>) {
        let mut counts = BTreeMap::new();
        if !self.options.redact_secrets {
            return (text.to_string(), counts);
        }
        let out = redact::redact(text, &mut counts);
        (out, counts)
    }
}

/// What is known about a run before the skill starts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RunStart {
    /// The skill.
    pub skill: SkillRef,
    /// Profile name.
    pub profile: String,
    /// sha256 of the profile text.
    pub profile_digest: String,
    /// The limits in force (JSON of the profile's `[limits]`).
    pub limits: Value,
    /// The inference policy in force.
    pub inference: Value,
    /// The engine that answers inference calls.
    pub backend: Option<String>,
    /// The models the run may use, each with its digest.
    pub models: Vec<ModelRef>,
    /// The workspace root.
    pub workspace: PathBuf,
    /// `--input`.
    pub input: Option<String>,
    /// `--arg KEY=VALUE`.
    pub args: Vec<(String, String)>,
}

/// The skill as identified before it runs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SkillRef {
    /// The installed plugin's name, or the component file's stem.
    pub name: String,
    /// The version, when known before the run (what the skill says of
    /// itself is in the `run-end` record's `described`).
    pub version: Option<String>,
    /// sha256 of the component.
    pub digest: String,
    /// The component file.
    pub path: PathBuf,
    /// Who signed it, or `unsigned`.
    pub signer: Value,
}

/// A model the run may use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ModelRef {
    /// Airlock's name.
    pub name: String,
    /// The pinned digest.
    pub digest: String,
}

struct RunShared {
    log: Arc<AuditLog>,
    run: String,
    pending: Mutex<Vec<Draft>>,
    marker: PathBuf,
}

/// The records of one run. Cheap to clone: the run's store and the command
/// that started it share one.
#[derive(Clone)]
pub struct RunAudit {
    shared: Arc<RunShared>,
}

impl RunAudit {
    /// The run's id.
    pub fn id(&self) -> &str {
        &self.shared.run
    }

    /// The log.
    pub fn log(&self) -> &Arc<AuditLog> {
        &self.shared.log
    }

    fn take_pending(&self, extra: Option<Draft>) -> Result<Vec<Draft>, AuditError> {
        let mut pending = self
            .shared
            .pending
            .lock()
            .map_err(|_| AuditError::Poisoned("run's audit buffer"))?;
        let mut drafts = std::mem::take(&mut *pending);
        drafts.extend(extra);
        Ok(drafts)
    }

    /// Record an event that needs no sync of its own (a read, a log
    /// message, a denial): batched, written with the next durable record.
    pub fn event(&self, kind: &'static str, data: Value) -> Result<(), AuditError> {
        let full = {
            let mut pending = self
                .shared
                .pending
                .lock()
                .map_err(|_| AuditError::Poisoned("run's audit buffer"))?;
            pending.push(Draft::now(kind, Some(&self.shared.run), data));
            pending.len() >= BATCH_RECORDS
        };
        if full {
            // Written now, synced with the next durable record.
            let drafts = self.take_pending(None)?;
            self.shared.log.append(drafts, false, false)?;
        }
        Ok(())
    }

    /// Record an event durably (with everything batched before it) before
    /// the action it describes is reported done.
    pub fn durable(&self, kind: &'static str, data: Value) -> Result<(), AuditError> {
        let drafts = self.take_pending(Some(Draft::now(kind, Some(&self.shared.run), data)))?;
        self.shared.log.append(drafts, true, false)
    }

    /// Record a typed payload of the run: durably (synced, with everything
    /// batched before it, as [`RunAudit::durable`]) or batched (as
    /// [`RunAudit::event`]). Its kind is the payload type's.
    pub fn record<P: schema::RunEvent>(
        &self,
        payload: &P,
        durable: bool,
    ) -> Result<(), AuditError> {
        let data = serde_json::to_value(payload)?;
        if durable {
            self.durable(P::KIND.as_str(), data)
        } else {
            self.event(P::KIND.as_str(), data)
        }
    }

    /// Record the run's end durably, seal a checkpoint and close the run.
    pub fn end(&self, data: Value) -> Result<(), AuditError> {
        let drafts = self.take_pending(Some(Draft::now(
            kind::RUN_END,
            Some(&self.shared.run),
            data,
        )))?;
        self.shared.log.append(drafts, true, true)?;
        let _ = std::fs::remove_file(&self.shared.marker);
        Ok(())
    }

    /// Redact `text` when the options ask for it.
    pub fn redact(&self, text: &str) -> (String, BTreeMap<&'static str, u64>) {
        self.shared.log.redact(text)
    }
}
