//! What happened during a run, as the host saw it: log messages, progress,
//! denials and withheld files, plus the output budget they share. The CLI
//! prints events as they arrive; the report keeps them all.
//!
//! Everything the journal keeps is bounded per run, so a skill cannot grow
//! host memory or the audit log by calling often: every call to an
//! `airlock:skill` interface is counted against `limits.max-host-calls`
//! ([`Journal::host_call`]), denials against `limits.max-denials`, log and
//! progress messages against `limits.max-output-bytes`, inference events
//! against `inference.max-calls`, and withheld files against
//! `limits.max-files-listed`. The audit records of a run are batched
//! ([`RunAudit`] holds at most one batch in memory).

use crate::audit::RunAudit;
use crate::audit::schema::{self, Access, RunEvent};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Severity of a skill's log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Detail for developers.
    Debug,
    /// Normal progress.
    Info,
    /// Something the user should look at.
    Warn,
    /// Something failed.
    Error,
}

impl Level {
    /// As written in events and audit records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// One thing that happened during a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The skill logged a message.
    Log {
        /// How serious.
        level: Level,
        /// The text.
        message: String,
    },
    /// The skill reported progress.
    Progress {
        /// Units done.
        done: u64,
        /// Units in all (0 when unknown).
        total: u64,
        /// What is being done.
        message: String,
    },
    /// The skill printed part of its answer (passed to the live view; the
    /// text is kept once, at the start of the run's output, not as events).
    Print {
        /// The text.
        text: String,
    },
    /// The skill asked a model; one event per call, when the call ends.
    Inference {
        /// Airlock's name for the model.
        model: String,
        /// The model's pinned digest.
        digest: String,
        /// `chat` or `chat-stream`.
        call: String,
        /// Prompt tokens (after the chat template).
        prompt_tokens: u32,
        /// Tokens generated.
        completion_tokens: u32,
        /// Of `prompt_tokens`, how many the engine held from an earlier call
        /// of the same run (or chat session) and did not read again.
        prompt_tokens_reused: u32,
        /// Why generation ended (`stop`, `stop-sequence`, `length`), when it did.
        finish: Option<String>,
        /// Why the call failed, when it did.
        error: Option<String>,
        /// Wall-clock time of the call.
        elapsed_ms: u64,
    },
    /// The host refused a request.
    Denied {
        /// The capability that was missing (`workspace-read`, `workspace-write`).
        capability: String,
        /// The path as the skill gave it.
        path: String,
        /// Which rule refused it.
        reason: String,
    },
}

/// Receives events as they happen (the CLI's live view).
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// Why the host stopped a run before the skill returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Abort {
    /// A profile limit was reached.
    Limit {
        /// The profile key, e.g. `limits.max-output-bytes`.
        key: String,
        /// Its value.
        max: u64,
        /// A sentence for the user.
        message: String,
    },
    /// The skill abused a host call (for example, a message far over the per-call size).
    Abuse(String),
    /// The audit log could not be written: the run stops (fail closed).
    Audit(String),
}

impl Abort {
    /// The sentence for the user.
    pub fn message(&self) -> &str {
        match self {
            Abort::Limit { message, .. } | Abort::Abuse(message) | Abort::Audit(message) => message,
        }
    }
}

/// The per-run counts the journal bounds, with their limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Counted {
    /// Calls to the `airlock:skill` interfaces so far.
    host_calls: u64,
    /// `limits.max-host-calls`.
    max_host_calls: u64,
    /// Denials so far (recorded or not).
    denials: u64,
    /// `limits.max-denials`.
    max_denials: u64,
}

/// The run's record of events and the output budget.
pub struct Journal {
    events: Vec<Event>,
    printed: String,
    withheld: BTreeMap<String, String>,
    sink: Option<EventSink>,
    output_used: u64,
    output_max: u64,
    abort: Option<Abort>,
    audit: Option<RunAudit>,
    counted: Counted,
}

impl Journal {
    /// An empty journal with `output_max` bytes of output budget, and the
    /// default caps on host calls and denials (see [`Journal::with_caps`]).
    pub fn new(output_max: u64, sink: Option<EventSink>) -> Self {
        let defaults = crate::profile::Limits::default();
        Self {
            events: Vec::new(),
            printed: String::new(),
            withheld: BTreeMap::new(),
            sink,
            output_used: 0,
            output_max,
            abort: None,
            audit: None,
            counted: Counted {
                host_calls: 0,
                max_host_calls: defaults.max_host_calls,
                denials: 0,
                max_denials: defaults.max_denials,
            },
        }
    }

    /// Hold the run to `limits.max-denials` and `limits.max-host-calls`.
    pub fn with_caps(mut self, limits: &crate::profile::Limits) -> Self {
        self.counted.max_denials = limits.max_denials;
        self.counted.max_host_calls = limits.max_host_calls;
        self
    }

    /// Count one call to an `airlock:skill` interface (`call` names it, as
    /// `workspace::stat`), before it does anything. Traps when the host has
    /// stopped the run, or when this call is over `limits.max-host-calls`.
    pub fn host_call(&mut self, call: &'static str) -> wasmtime::Result<()> {
        self.audit_check()?;
        let c = &mut self.counted;
        c.host_calls = c.host_calls.saturating_add(1);
        if c.host_calls > c.max_host_calls {
            let max = c.max_host_calls;
            let message = format!(
                "host-call limit reached: {call} would be call {} of this run, over the profile's limits.max-host-calls = {max}",
                c.host_calls
            );
            self.abort(Abort::Limit {
                key: "limits.max-host-calls".into(),
                max,
                message,
            });
            return self.audit_check();
        }
        Ok(())
    }

    /// Calls to the `airlock:skill` interfaces and denials so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.counted.host_calls, self.counted.denials)
    }

    /// Record the run in the audit log too.
    pub fn set_audit(&mut self, audit: Option<RunAudit>) {
        self.audit = audit;
    }

    /// Whether the run is audited.
    pub fn audited(&self) -> bool {
        self.audit.is_some()
    }

    /// Write an audit record: batched unless `durable`, when it is synced
    /// before this returns. A failure stops the run (see [`Journal::audit_check`]).
    pub fn audit(&mut self, payload: &impl RunEvent, durable: bool) {
        let Some(audit) = &self.audit else { return };
        if let Err(e) = audit.record(payload, durable) {
            self.abort = Some(Abort::Audit(e.to_string()));
        }
    }

    /// Redact text bound for the audit log, when the options ask for it.
    pub fn audit_redact(&self, text: &str) -> (String, BTreeMap<&'static str, u64>) {
        match &self.audit {
            Some(audit) => audit.redact(text),
            None => (text.to_string(), BTreeMap::new()),
        }
    }

    /// Trap when the host has stopped the run: the audit log failed (nothing
    /// more may happen unrecorded), or a limit was reached.
    pub fn audit_check(&self) -> wasmtime::Result<()> {
        match &self.abort {
            Some(abort) => Err(wasmtime::Error::msg(abort.message().to_string())),
            None => Ok(()),
        }
    }

    /// Record an event and pass it to the sink; log messages and denials
    /// go to the audit log as well. A denial over `limits.max-denials` is
    /// not recorded: the first one writes a last record saying so and stops
    /// the run (the caller's next [`Journal::audit_check`] traps).
    pub fn record(&mut self, event: Event) {
        if matches!(event, Event::Denied { .. }) && !self.count_denial() {
            return;
        }
        if let Some(sink) = &self.sink {
            sink(&event);
        }
        match &event {
            Event::Log { level, message } => {
                let log = self.log_record(*level, message);
                self.audit(&log, false);
            }
            Event::Denied {
                capability,
                path,
                reason,
            } => self.audit(&denial_record(capability, path, reason), false),
            _ => {}
        }
        self.events.push(event);
    }

    /// The `log` record of a message, redacted when the options ask for it.
    fn log_record(&self, level: Level, message: &str) -> schema::Log {
        let (message, redacted) = self.audit_redact(message);
        schema::Log {
            level: level.as_str().into(),
            message,
            redacted: schema::redacted(redacted),
        }
    }

    /// Count a denial; whether it may be recorded.
    fn count_denial(&mut self) -> bool {
        let c = &mut self.counted;
        c.denials = c.denials.saturating_add(1);
        if c.denials <= c.max_denials {
            return true;
        }
        if c.denials == c.max_denials + 1 {
            let max = c.max_denials;
            let message = format!(
                "denial limit reached: the skill was refused more than {max} times in this run (the profile's limits.max-denials = {max}); the run was stopped, and denials after the first {max} were not recorded"
            );
            self.audit(&denial_limit_record(max, &message), false);
            self.abort(Abort::Limit {
                key: "limits.max-denials".into(),
                max,
                message,
            });
        }
        false
    }

    /// The skill printed part of its answer: shown live, kept as the start
    /// of the run's output.
    pub fn print(&mut self, text: String) {
        if let Some(sink) = &self.sink {
            sink(&Event::Print { text: text.clone() });
        }
        self.printed.push_str(&text);
    }

    /// What the skill printed so far.
    pub fn printed(&self) -> &str {
        &self.printed
    }

    /// Note a file the deny-list withheld from a listing.
    pub fn withheld(&mut self, path: String, rule: &str) {
        self.withheld
            .entry(path)
            .or_insert_with(|| rule.to_string());
    }

    /// Spend `bytes` of output budget; on overrun, record the abort and
    /// return it (the caller then traps).
    pub fn charge_output(&mut self, bytes: u64, what: &str) -> Result<(), Abort> {
        let used = self.output_used.saturating_add(bytes);
        if used > self.output_max {
            let abort = Abort::Limit {
                key: "limits.max-output-bytes".into(),
                max: self.output_max,
                message: format!(
                    "output limit reached: {what} would bring the run's output to {used} bytes, over the profile's limits.max-output-bytes = {}",
                    self.output_max
                ),
            };
            self.abort = Some(abort.clone());
            return Err(abort);
        }
        self.output_used = used;
        Ok(())
    }

    /// Record why the host is stopping the run.
    pub fn abort(&mut self, abort: Abort) {
        self.abort.get_or_insert(abort);
    }

    /// The abort reason, if the host stopped the run.
    pub fn abort_reason(&self) -> Option<&Abort> {
        self.abort.as_ref()
    }

    /// Events in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Output bytes spent so far.
    pub fn output_used(&self) -> u64 {
        self.output_used
    }

    /// Take the events recorded so far (for a failure report).
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Take the events, withheld files and printed text out of the journal.
    pub fn into_parts(self) -> (Vec<Event>, BTreeMap<String, String>, String) {
        (self.events, self.withheld, self.printed)
    }
}

/// The `access` record of a denial.
fn denial_record(capability: &str, path: &str, reason: &str) -> Access {
    Access {
        rule: Some(reason.into()),
        ..Access::new(capability, path, false)
    }
}

/// The last `access` record of a run over `limits.max-denials`.
fn denial_limit_record(max: u64, message: &str) -> Access {
    const KEY: &str = "limits.max-denials";
    Access {
        rule: Some(message.into()),
        limit: Some(KEY.into()),
        max: Some(max),
        ..Access::new("limit", KEY, false)
    }
}

/// A journal that records into a fresh audit log in `home`, redacting
/// secrets, for tests of the records the host writes.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn redacting_journal(home: &std::path::Path) -> Journal {
    use crate::audit::{AuditLog, AuditOptions, RunStart, SkillRef};
    let log = AuditLog::open(
        home,
        AuditOptions {
            redact_secrets: true,
            ..AuditOptions::default()
        },
    )
    .unwrap();
    let run = log
        .begin_run(&RunStart {
            skill: SkillRef {
                name: "test".into(),
                version: None,
                digest: "0".repeat(64),
                path: "test.wasm".into(),
                signer: "unsigned".into(),
            },
            profile: "test".into(),
            profile_digest: "0".repeat(64),
            limits: serde_json::Value::Null,
            inference: serde_json::Value::Null,
            backend: None,
            models: Vec::new(),
            workspace: home.to_path_buf(),
            input: None,
            args: Vec::new(),
        })
        .unwrap();
    let mut journal = Journal::new(1024 * 1024, None);
    journal.set_audit(Some(run));
    journal
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::profile::Limits;
    use serde_json::json;

    /// A secret the redaction rules catch.
    const KEY: &str = "AKIAABCDEFGHIJKLMNOP";

    fn bytes(payload: &impl Serialize) -> String {
        serde_json::to_value(payload).unwrap().to_string()
    }

    #[test]
    fn log_and_denial_records_write_the_bytes_they_wrote_before() {
        // The typed payloads against the `json!` objects written before the
        // typed schema, for the same inputs (keys are sorted either way).
        let home = tempfile::tempdir().unwrap();
        for journal in [Journal::new(1024, None), redacting_journal(home.path())] {
            for level in [Level::Debug, Level::Info, Level::Warn, Level::Error] {
                let message = format!("found {KEY} in .env");
                let (clean, redacted) = journal.audit_redact(&message);
                let old = json!({ "level": level, "message": clean, "redacted": redacted });
                assert_eq!(bytes(&journal.log_record(level, &message)), old.to_string());
            }
        }
        let old = json!({ "op": "workspace-read", "path": ".env", "allowed": false, "rule": "withheld by the deny-list" });
        assert_eq!(
            bytes(&denial_record(
                "workspace-read",
                ".env",
                "withheld by the deny-list"
            )),
            old.to_string()
        );
        let old = json!({
            "op": "limit",
            "path": "limits.max-denials",
            "allowed": false,
            "rule": "denial limit reached",
            "limit": "limits.max-denials",
            "max": 3u64,
        });
        assert_eq!(
            bytes(&denial_limit_record(3, "denial limit reached")),
            old.to_string()
        );
    }

    #[test]
    fn a_redacting_journal_hides_the_secret_in_a_log_record() {
        let home = tempfile::tempdir().unwrap();
        let journal = redacting_journal(home.path());
        let log = journal.log_record(Level::Warn, &format!("key {KEY}"));
        assert!(!log.message.contains(KEY), "{}", log.message);
        assert_eq!(log.redacted.get("aws-access-key-id"), Some(&1));
    }

    fn journal(max_denials: u64, max_host_calls: u64) -> Journal {
        Journal::new(1024, None).with_caps(&Limits {
            max_denials,
            max_host_calls,
            ..Limits::default()
        })
    }

    fn denial() -> Event {
        Event::Denied {
            capability: "workspace-read".into(),
            path: ".env".into(),
            reason: "withheld by the deny-list".into(),
        }
    }

    #[test]
    fn denials_past_the_limit_are_not_kept_and_stop_the_run() {
        let mut j = journal(3, 100);
        for _ in 0..3 {
            j.record(denial());
            assert!(j.audit_check().is_ok());
        }
        for _ in 0..1000 {
            j.record(denial());
        }
        assert_eq!(j.events().len(), 3, "only the first three are kept");
        assert_eq!(j.counts().1, 1003);
        match j.abort_reason() {
            Some(Abort::Limit { key, max, message }) => {
                assert_eq!((key.as_str(), *max), ("limits.max-denials", 3));
                assert!(message.contains("were not recorded"), "{message}");
            }
            other => panic!("expected the denial limit, got {other:?}"),
        }
        let trap = j.audit_check().expect_err("the run stops");
        assert!(
            trap.to_string().contains("limits.max-denials = 3"),
            "{trap}"
        );
    }

    #[test]
    fn the_call_over_max_host_calls_traps_before_it_runs() {
        let mut j = journal(3, 2);
        assert!(j.host_call("workspace::stat").is_ok());
        assert!(j.host_call("workspace::grants").is_ok());
        let trap = j.host_call("workspace::stat").expect_err("the third call");
        assert!(
            trap.to_string()
                .contains("workspace::stat would be call 3 of this run, over the profile's limits.max-host-calls = 2"),
            "{trap}"
        );
        // Every later call traps too, and is not counted.
        assert!(j.host_call("log::log").is_err());
        assert_eq!(j.counts().0, 3);
    }
}
