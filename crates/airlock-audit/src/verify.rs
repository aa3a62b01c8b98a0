//! Checking an audit log (or an export of one): every record's hash, the
//! chain from record to record and across files, every checkpoint's
//! signature against the key of its own time, and the tail against the head
//! file, the sealing key and any checkpoint exported elsewhere.

use super::files::{Head, Layout, segment_name};
use super::record::{GENESIS_PREV, Record, kind};
use super::seal::{self, SealKeys};
use crate::error::{FileError, ReadError};
use serde::Serialize;
use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::path::Path;

/// The first thing found wrong.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct Problem {
    /// The record's sequence number, when known.
    pub seq: Option<u64>,
    /// The file.
    pub file: String,
    /// The 1-based line in that file (0: not about one line).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// A checkpoint, for reports.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct CheckpointRef {
    /// Its sequence number.
    pub seq: u64,
    /// When it was sealed.
    pub time: String,
    /// Its hash.
    pub hash: String,
}

/// The result of a verification.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    /// Everything checked out.
    pub ok: bool,
    /// The log's id.
    pub log_id: Option<String>,
    /// Records read that verified.
    pub records: u64,
    /// Files read.
    pub files: u32,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// The last verified record's sequence number.
    pub last_seq: Option<u64>,
    /// The last verified record's hash (the chain head).
    pub head: Option<String>,
    /// The last verified checkpoint.
    pub last_checkpoint: Option<CheckpointRef>,
    /// Records after the last checkpoint (not yet sealed).
    pub unsealed: u64,
    /// Runs with a `run-start` and no end record (still running, or killed
    /// and not yet marked by a later start).
    pub open_runs: Vec<String>,
    /// Things worth knowing that are not tampering (a torn final record).
    pub warnings: Vec<String>,
    /// The first problem, when not ok.
    pub failure: Option<Problem>,
}

/// A checkpoint exported with `airlock audit checkpoint --export`.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// Where it was read from.
    pub source: String,
    /// The checkpoint record, parsed.
    pub record: Record,
    /// Its exact line.
    pub line: String,
}

impl Anchor {
    /// Read an exported checkpoint file.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        let text = std::fs::read_to_string(path).map_err(|e| FileError::new("read", path, e))?;
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| ReadError::NotAnExport {
                path: path.to_path_buf(),
                source,
            })?;
        let line = value
            .get("record")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| ReadError::NoRecord {
                path: path.to_path_buf(),
            })?
            .to_string();
        let record = Record::parse(&line).map_err(|source| ReadError::Damaged {
            path: path.to_path_buf(),
            source,
        })?;
        if record.kind != kind::CHECKPOINT {
            return Err(ReadError::NotACheckpoint {
                path: path.to_path_buf(),
            });
        }
        Ok(Self {
            source: path.display().to_string(),
            record,
            line,
        })
    }
}

/// The running state of a chain walk.
struct Chain {
    expected_seq: Option<u64>,
    prev: Option<String>,
    log_id: Option<String>,
    expected_key: Option<String>,
    used_keys: HashSet<String>,
    open_runs: BTreeSet<String>,
    report: Report,
}

impl Chain {
    fn new() -> Self {
        Self {
            expected_seq: None,
            prev: None,
            log_id: None,
            expected_key: None,
            used_keys: HashSet::new(),
            open_runs: BTreeSet::new(),
            report: Report::default(),
        }
    }

    /// Check one record against the chain so far.
    fn feed(&mut self, record: &Record, first_in_file: Option<u32>) -> Result<(), String> {
        if let Some(expected) = self.expected_seq
            && record.seq != expected
        {
            return Err(format!(
                "the sequence jumps from #{} to #{}: records were deleted, inserted or reordered",
                expected.saturating_sub(1),
                record.seq
            ));
        }
        if let Some(prev) = &self.prev
            && &record.prev != prev
        {
            return Err(
                "the record does not chain to the one before it (its `prev` is not that record's hash): a record was deleted, inserted, reordered or replaced".into(),
            );
        }
        self.report.unsealed += 1;
        match record.kind.as_str() {
            kind::LOG_START => {
                if record.seq != 0 || record.prev != GENESIS_PREV {
                    return Err("a `log-start` record in the middle of the log".into());
                }
                self.log_id = record.str("log-id").map(str::to_string);
                let key = record
                    .str("key")
                    .ok_or("the `log-start` record has no key")?;
                self.expected_key = Some(key.to_string());
            }
            kind::SEGMENT_START => {
                let Some(file) = first_in_file else {
                    return Err("a `segment-start` record that is not the first of its file".into());
                };
                if record.u64("file") != Some(u64::from(file)) {
                    return Err(format!(
                        "the `segment-start` record names file {:?}, but it is in {}",
                        record.u64("file"),
                        segment_name(file)
                    ));
                }
            }
            kind::CHECKPOINT => self.checkpoint(record)?,
            kind::RUN_START => {
                if let Some(run) = &record.run {
                    self.open_runs.insert(run.clone());
                }
            }
            kind::RUN_END | kind::RUN_INCOMPLETE => {
                if let Some(run) = &record.run {
                    self.open_runs.remove(run);
                }
            }
            _ => {}
        }
        if record.kind != kind::SEGMENT_START
            && let Some(file) = first_in_file
            && file > 1
        {
            return Err(format!(
                "{} does not begin with a `segment-start` record",
                segment_name(file)
            ));
        }
        self.expected_seq = Some(record.seq + 1);
        self.prev = Some(record.hash.clone());
        self.report.records += 1;
        self.report.last_seq = Some(record.seq);
        self.report.head = Some(record.hash.clone());
        Ok(())
    }

    fn checkpoint(&mut self, record: &Record) -> Result<(), String> {
        let field = |k: &str| {
            record
                .str(k)
                .map(str::to_string)
                .ok_or_else(|| format!("the checkpoint has no `{k}`"))
        };
        let (head, key, next_key, signature) = (
            field("head")?,
            field("key")?,
            field("next-key")?,
            field("signature")?,
        );
        let log_id = field("log-id")?;
        // Exactly what the writer seals: nothing added, nothing re-spelled,
        // since the signature covers these fields and not the record's bytes.
        if record.run.is_some() {
            return Err("a checkpoint that names a run: the record was altered".into());
        }
        let keys: Vec<&str> = record
            .data
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if keys != ["head", "key", "log-id", "next-key", "signature"] {
            return Err(format!(
                "the checkpoint's fields are {keys:?}, not the five a checkpoint has: the record was altered"
            ));
        }
        let lower_hex = |v: &str| {
            v.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        };
        if ![&head, &key, &next_key, &signature]
            .iter()
            .all(|v| lower_hex(v))
        {
            return Err("the checkpoint's hex fields are not in the form the writer writes: the record was altered".into());
        }
        if head != record.prev {
            return Err(
                "the checkpoint seals a different chain head than the record before it".into(),
            );
        }
        match &self.log_id {
            Some(id) if *id != log_id => {
                return Err(format!(
                    "the checkpoint belongs to log {log_id}, not this log ({id})"
                ));
            }
            Some(_) => {}
            None => self.log_id = Some(log_id.clone()),
        }
        match &self.expected_key {
            Some(expected) if *expected != key => {
                return Err(format!(
                    "the checkpoint is signed with key {}…, but the key of its time (announced by the previous checkpoint) is {}…: the chain was re-sealed",
                    &key[..key.len().min(16)],
                    &expected[..expected.len().min(16)]
                ));
            }
            Some(_) => {}
            None => self.report.warnings.push(format!(
                "the first checkpoint's key ({}…) is taken as given: this export does not start at the log's first record; compare it with a checkpoint exported earlier",
                &key[..key.len().min(16)]
            )),
        }
        if next_key == key || self.used_keys.contains(&next_key) || self.used_keys.contains(&key) {
            return Err("the checkpoint reuses a sealing key: the chain was re-sealed".into());
        }
        let message = seal::message(&log_id, record.seq, &record.time, &head, &key, &next_key);
        if !seal::verify(&key, &message, &signature) {
            return Err("the checkpoint's signature does not verify".into());
        }
        self.used_keys.insert(key);
        self.expected_key = Some(next_key);
        self.report.checkpoints += 1;
        self.report.unsealed = 0;
        self.report.last_checkpoint = Some(CheckpointRef {
            seq: record.seq,
            time: record.time.clone(),
            hash: record.hash.clone(),
        });
        Ok(())
    }
}

fn fail(mut report: Report, seq: Option<u64>, file: &str, line: usize, reason: String) -> Report {
    report.ok = false;
    report.failure = Some(Problem {
        seq,
        file: file.to_string(),
        line,
        reason,
    });
    report
}

/// Check `record` (read from `line`) against the exported checkpoints with
/// its sequence number, marking those found; one that differs is an error.
fn match_anchors(
    anchors: &[Anchor],
    seen: &mut [bool],
    record: &Record,
    line: &str,
) -> Result<(), String> {
    for (anchor, seen) in anchors.iter().zip(seen.iter_mut()) {
        if anchor.record.seq == record.seq {
            if line != anchor.line {
                return Err(format!(
                    "record #{} differs from the checkpoint exported in {}: the log was rewritten",
                    record.seq, anchor.source
                ));
            }
            *seen = true;
        }
    }
    Ok(())
}

/// The lines of a file: complete ones, and a torn (newline-less) remainder.
fn lines_of(path: &Path) -> Result<(Vec<String>, Option<usize>), FileError> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| FileError::new("read", path, e))?;
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            lines.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
            start = i + 1;
        }
    }
    let torn = (start < bytes.len()).then(|| bytes.len() - start);
    Ok((lines, torn))
}

/// Verify the log in `dir`, and that it contains each exported checkpoint in
/// `anchors`.
pub fn verify_log(dir: &Path, anchors: &[Anchor]) -> Report {
    let layout = Layout::new(dir);
    let mut chain = Chain::new();
    let segments = match layout.segments() {
        Ok(s) => s,
        Err(e) => {
            return fail(
                chain.report,
                None,
                &layout.log_dir().display().to_string(),
                0,
                e.to_string(),
            );
        }
    };
    if segments.is_empty() {
        return fail(
            chain.report,
            None,
            &layout.log_dir().display().to_string(),
            0,
            "there is no audit log here (no log files)".into(),
        );
    }
    let head = match Head::read(&layout.head()) {
        Ok(h) => h,
        Err(e) => {
            return fail(
                chain.report,
                None,
                &layout.head().display().to_string(),
                0,
                e.reason(),
            );
        }
    };
    let mut head_seen: Option<String> = None;
    let mut anchors_seen = vec![false; anchors.len()];
    let last_segment = segments.last().copied().unwrap_or(1);
    for (i, &n) in segments.iter().enumerate() {
        let name = format!("log/{}", segment_name(n));
        if u32::try_from(i + 1).ok() != Some(n) {
            return fail(
                chain.report,
                chain.expected_seq,
                &name,
                0,
                format!(
                    "log file {} is missing: the files must run 1, 2, 3… without gaps",
                    segment_name(u32::try_from(i + 1).unwrap_or(0))
                ),
            );
        }
        let (lines, torn) = match lines_of(&layout.segment(n)) {
            Ok(l) => l,
            Err(e) => return fail(chain.report, chain.expected_seq, &name, 0, e.to_string()),
        };
        if lines.is_empty() && torn.is_none() {
            if n == last_segment && n > 1 {
                chain.report.warnings.push(format!(
                    "{name} is empty (Airlock stopped while starting it); the next run removes it and goes on"
                ));
                chain.report.files += 1;
                continue;
            }
            return fail(
                chain.report,
                chain.expected_seq,
                &name,
                0,
                "the file is empty".into(),
            );
        }
        for (j, line) in lines.iter().enumerate() {
            let record = match Record::parse(line) {
                Ok(r) => r,
                Err(e) => {
                    return fail(
                        chain.report,
                        chain.expected_seq,
                        &name,
                        j + 1,
                        e.to_string(),
                    );
                }
            };
            if chain.report.records == 0 && record.kind != kind::LOG_START {
                return fail(
                    chain.report,
                    Some(record.seq),
                    &name,
                    j + 1,
                    "the log does not begin with its `log-start` record: its beginning was removed"
                        .into(),
                );
            }
            if let Err(reason) = chain.feed(&record, (j == 0).then_some(n)) {
                return fail(chain.report, Some(record.seq), &name, j + 1, reason);
            }
            if head.as_ref().is_some_and(|h| h.seq == record.seq) {
                head_seen = Some(record.hash.clone());
            }
            if let Err(reason) = match_anchors(anchors, &mut anchors_seen, &record, line) {
                return fail(chain.report, Some(record.seq), &name, j + 1, reason);
            }
        }
        if let Some(bytes) = torn {
            if n == last_segment {
                chain.report.warnings.push(format!(
                    "{bytes} bytes of an unfinished record end {name} (Airlock stopped while writing it); the next run discards them and records that it did"
                ));
            } else {
                return fail(
                    chain.report,
                    chain.expected_seq,
                    &name,
                    lines.len() + 1,
                    "an unfinished record in a file that is not the last".into(),
                );
            }
        }
        chain.report.files += 1;
    }
    let end = chain.report.last_seq.unwrap_or(0);
    let last_file = format!("log/{}", segment_name(last_segment));
    for (k, anchor) in anchors.iter().enumerate() {
        if anchor.record.data.get("log-id").and_then(|v| v.as_str()) != chain.log_id.as_deref() {
            return fail(
                chain.report,
                None,
                &anchor.source,
                0,
                format!(
                    "the exported checkpoint belongs to log {}, but this log is {}: the log was replaced",
                    anchor.record.str("log-id").unwrap_or("?"),
                    chain.log_id.as_deref().unwrap_or("?")
                ),
            );
        }
        if !anchors_seen[k] {
            return fail(
                chain.report,
                Some(end),
                &last_file,
                0,
                format!(
                    "the log ends at #{end}, but the checkpoint exported in {} sealed it up to #{}: its tail was cut off",
                    anchor.source, anchor.record.seq
                ),
            );
        }
    }
    if let Some(head) = &head {
        if Some(head.log_id.as_str()) != chain.log_id.as_deref() {
            return fail(
                chain.report,
                None,
                "head.json",
                0,
                format!("the head file belongs to log {}, not this one", head.log_id),
            );
        }
        match &head_seen {
            None => {
                return fail(
                    chain.report,
                    Some(end),
                    &last_file,
                    0,
                    format!(
                        "the log ends at #{end}, but checkpoint #{} was sealed at {}: records were cut off the end",
                        head.seq, head.time
                    ),
                );
            }
            Some(hash) if *hash != head.hash => {
                return fail(
                    chain.report,
                    Some(head.seq),
                    &last_file,
                    0,
                    format!(
                        "record #{} is not the checkpoint the head file recorded: the log was rewritten",
                        head.seq
                    ),
                );
            }
            Some(_) => {}
        }
    }
    match SealKeys::read(&layout.key()) {
        Ok(keys) => {
            let expected = chain.expected_key.clone().unwrap_or_default();
            let matches = seal::public_hex(&keys.current) == expected
                || keys
                    .next
                    .as_ref()
                    .is_some_and(|k| seal::public_hex(k) == expected);
            if !matches {
                return fail(
                    chain.report,
                    Some(end),
                    &last_file,
                    0,
                    "the sealing key has moved past the log's last checkpoint: checkpoints were cut off the end, or the key file was replaced".into(),
                );
            }
        }
        Err(e) => return fail(chain.report, None, "seal.key", 0, e.to_string()),
    }
    chain.report.log_id = chain.log_id.clone();
    chain.report.open_runs = chain.open_runs.iter().cloned().collect();
    chain.report.ok = true;
    chain.report
}

/// The first line of an export file.
pub const EXPORT_HEADER_KEY: &str = "airlock-audit-export";

/// Verify an export made by `airlock audit export`: a header line, then a
/// contiguous range of records that must chain and whose checkpoints must
/// verify, each with the key its predecessor announced.
pub fn verify_export(path: &Path, anchors: &[Anchor]) -> Report {
    let mut chain = Chain::new();
    let name = path.display().to_string();
    let (lines, torn) = match lines_of(path) {
        Ok(l) => l,
        Err(e) => return fail(chain.report, None, &name, 0, e.to_string()),
    };
    if torn.is_some() {
        return fail(
            chain.report,
            None,
            &name,
            lines.len() + 1,
            "the export's last line is cut off".into(),
        );
    }
    let header_ok = lines
        .first()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .is_some_and(|v| v.get(EXPORT_HEADER_KEY).is_some());
    if !header_ok {
        return fail(
            chain.report,
            None,
            &name,
            1,
            "not an Airlock audit export (no header line); make one with `airlock audit export`"
                .into(),
        );
    }
    let mut anchors_seen = vec![false; anchors.len()];
    for (j, line) in lines.iter().enumerate().skip(1) {
        let record = match Record::parse(line) {
            Ok(r) => r,
            Err(e) => {
                return fail(
                    chain.report,
                    chain.expected_seq,
                    &name,
                    j + 1,
                    e.to_string(),
                );
            }
        };
        let first_in_file = (record.kind == kind::SEGMENT_START)
            .then(|| record.u64("file").and_then(|f| u32::try_from(f).ok()))
            .flatten();
        if let Err(reason) = chain.feed(&record, first_in_file) {
            return fail(chain.report, Some(record.seq), &name, j + 1, reason);
        }
        if let Err(reason) = match_anchors(anchors, &mut anchors_seen, &record, line) {
            return fail(chain.report, Some(record.seq), &name, j + 1, reason);
        }
    }
    if chain.report.records == 0 {
        return fail(
            chain.report,
            None,
            &name,
            0,
            "the export holds no records".into(),
        );
    }
    if chain.report.unsealed > 0 {
        chain.report.warnings.push(format!(
            "the last {} record(s) come after the export's last checkpoint and are not sealed",
            chain.report.unsealed
        ));
    }
    for (k, anchor) in anchors.iter().enumerate() {
        if !anchors_seen[k] {
            chain.report.warnings.push(format!(
                "the checkpoint exported in {} (#{}) is outside this export's range",
                anchor.source, anchor.record.seq
            ));
        }
    }
    chain.report.files = 1;
    chain.report.log_id = chain.log_id.clone();
    chain.report.open_runs = chain.open_runs.iter().cloned().collect();
    chain.report.ok = true;
    chain.report
}

/// Every record of the log in `dir`, in order, with its exact line. Stops
/// at the first line that does not parse (the verifier says why).
pub fn read_records(dir: &Path) -> Result<Vec<(Record, String)>, ReadError> {
    let layout = Layout::new(dir);
    let mut out = Vec::new();
    for n in layout
        .segments()
        .map_err(|e| FileError::new("list", layout.log_dir(), e))?
    {
        let (lines, _) = lines_of(&layout.segment(n))?;
        for line in lines {
            match Record::parse(&line) {
                Ok(r) => out.push((r, line)),
                Err(_) => return Ok(out),
            }
        }
    }
    Ok(out)
}
