//! One audit record: a fixed envelope (schema version, sequence number, time,
//! the previous record's hash, kind, run) around kind-specific data, written
//! as one line of canonical JSON and hash-chained to the record before it.
//!
//! Canonical means: object keys sorted, no insignificant whitespace, the
//! encoding `serde_json` gives a parsed value. A record's `hash` is the
//! SHA-256 of its canonical form without the `hash` key, so any change to any
//! byte of a line (even whitespace) is detected: a verifier re-encodes each
//! parsed line and requires the very same bytes.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The record schema version this build writes and reads.
pub const SCHEMA_VERSION: u64 = 1;

/// The `prev` of the first record of a log.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The kinds of record, as written in `kind`.
pub mod kind {
    /// The first record of a log: its id and the first checkpoint key.
    pub const LOG_START: &str = "log-start";
    /// The first record of a new file after rotation.
    pub const SEGMENT_START: &str = "segment-start";
    /// A signed checkpoint over the chain so far.
    pub const CHECKPOINT: &str = "checkpoint";
    /// A torn record (a crash while writing) was discarded on recovery.
    pub const RECOVERED: &str = "recovered";
    /// A run began: who, where, which skill, profile, limits and models.
    pub const RUN_START: &str = "run-start";
    /// A run ended: outcome, exit code, output, usage.
    pub const RUN_END: &str = "run-end";
    /// A run that began but whose process ended without a `run-end`.
    pub const RUN_INCOMPLETE: &str = "run-incomplete";
    /// A run refused before any skill code ran (signature, policy, drift).
    pub const RUN_REFUSED: &str = "run-refused";
    /// A workspace access, allowed or denied.
    pub const ACCESS: &str = "access";
    /// An inference call: messages, parameters, output, tokens, latency.
    pub const INFERENCE: &str = "inference";
    /// A log message from the skill.
    pub const LOG: &str = "log";
    /// A command the skill ran (after its approval): exit status, output.
    pub const COMMAND: &str = "command";
    /// A request for approval and its decision (who, how).
    pub const APPROVAL: &str = "approval";
    /// An administrative change (plugin, trust, model).
    pub const ADMIN: &str = "admin";
}

/// A record ready to be sealed into the chain: everything but `seq`, `prev`
/// and `hash`, which the writer assigns under the log's lock.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Record kind (see [`kind`]).
    pub kind: &'static str,
    /// The run it belongs to, if any.
    pub run: Option<String>,
    /// When it happened (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// Kind-specific data.
    pub data: Value,
}

impl Draft {
    /// A draft stamped with the current time.
    pub fn now(kind: &'static str, run: Option<&str>, data: Value) -> Self {
        Self {
            kind,
            run: run.map(str::to_string),
            time: now_rfc3339(),
            data,
        }
    }

    /// Seal into a chained record line (with its trailing newline) and return
    /// it with its hash.
    pub fn seal(self, seq: u64, prev: &str) -> (String, String) {
        let mut obj = Map::new();
        obj.insert("v".into(), SCHEMA_VERSION.into());
        obj.insert("seq".into(), seq.into());
        obj.insert("time".into(), self.time.into());
        obj.insert("prev".into(), prev.into());
        obj.insert("kind".into(), self.kind.into());
        if let Some(run) = self.run {
            obj.insert("run".into(), run.into());
        }
        obj.insert("data".into(), self.data);
        // `obj` has no `hash` yet: its encoding is what the hash covers.
        let value = Value::Object(obj);
        let hash = hex::encode(Sha256::digest(value.to_string().as_bytes()));
        let Value::Object(mut obj) = value else {
            unreachable!("built as an object above")
        };
        obj.insert("hash".into(), hash.clone().into());
        let mut line = Value::Object(obj).to_string();
        line.push('\n');
        (line, hash)
    }
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

/// SHA-256 (hex) of the canonical encoding of `obj` without its `hash` key.
pub fn hash_of(obj: &Map<String, Value>) -> String {
    let mut hasher = Sha256::new();
    let without: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| k.as_str() != "hash")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    hasher.update(Value::Object(without).to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// A record read back from a line.
#[derive(Debug, Clone)]
pub struct Record {
    /// Sequence number (0 for the log's first record).
    pub seq: u64,
    /// When.
    pub time: String,
    /// The previous record's hash.
    pub prev: String,
    /// Kind.
    pub kind: String,
    /// Run id, if any.
    pub run: Option<String>,
    /// Kind-specific data.
    pub data: Value,
    /// This record's hash as written.
    pub hash: String,
}

/// Why a line is not a well-formed record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// Not JSON, or not an object.
    #[error("the line is not a JSON object ({0})")]
    NotJson(String),
    /// The bytes are not the canonical encoding of what they parse to.
    #[error("the line is not in canonical form (bytes were added, removed or reordered)")]
    NotCanonical,
    /// A required envelope field is missing or has the wrong type.
    #[error("field `{0}` is missing or malformed")]
    Field(&'static str),
    /// A schema version this build does not read.
    #[error(
        "schema version {0} is not supported by this Airlock (it reads version {SCHEMA_VERSION})"
    )]
    Version(u64),
    /// The stored hash does not match the contents.
    #[error("the record's hash does not match its contents (the record was modified)")]
    Hash,
}

impl Record {
    /// Parse one line (without its newline) and check that it is canonical
    /// and that its hash matches its contents. Chaining is the caller's job.
    pub fn parse(line: &str) -> Result<Self, LineError> {
        let value: Value =
            serde_json::from_str(line).map_err(|e| LineError::NotJson(e.to_string()))?;
        let Value::Object(obj) = value else {
            return Err(LineError::NotJson("not an object".into()));
        };
        let canonical = Value::Object(obj).to_string();
        if canonical != line {
            return Err(LineError::NotCanonical);
        }
        let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(&canonical) else {
            return Err(LineError::NotCanonical);
        };
        let version = obj
            .get("v")
            .and_then(Value::as_u64)
            .ok_or(LineError::Field("v"))?;
        if version != SCHEMA_VERSION {
            return Err(LineError::Version(version));
        }
        let text = |key: &'static str| -> Result<String, LineError> {
            obj.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(LineError::Field(key))
        };
        let record = Record {
            seq: obj
                .get("seq")
                .and_then(Value::as_u64)
                .ok_or(LineError::Field("seq"))?,
            time: text("time")?,
            prev: text("prev")?,
            kind: text("kind")?,
            run: match obj.get("run") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(LineError::Field("run")),
            },
            data: obj.get("data").cloned().ok_or(LineError::Field("data"))?,
            hash: text("hash")?,
        };
        if obj.keys().any(|k| {
            !matches!(
                k.as_str(),
                "v" | "seq" | "time" | "prev" | "kind" | "run" | "data" | "hash"
            )
        }) {
            return Err(LineError::Field("(unknown key)"));
        }
        if hash_of(&obj) != record.hash {
            return Err(LineError::Hash);
        }
        Ok(record)
    }

    /// A string field of `data`.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    /// An integer field of `data`.
    pub fn u64(&self, key: &str) -> Option<u64> {
        self.data.get(key).and_then(Value::as_u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sealed_line_parses_back_and_any_changed_byte_is_caught() {
        let draft = Draft::now(kind::LOG, Some("abc"), json!({"message": "hi", "n": 3}));
        let (line, hash) = draft.seal(7, GENESIS_PREV);
        let body = line.trim_end_matches('\n');
        let record = Record::parse(body).expect("parses");
        assert_eq!(record.seq, 7);
        assert_eq!(record.hash, hash);
        assert_eq!(record.str("message"), Some("hi"));
        for i in 0..body.len() {
            let mut bytes = body.as_bytes().to_vec();
            bytes[i] ^= 0x01;
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            assert!(Record::parse(&text).is_err(), "flip at {i} went unnoticed");
        }
        let spaced = body.replacen(':', ": ", 1);
        assert_eq!(Record::parse(&spaced).err(), Some(LineError::NotCanonical));
    }
}
