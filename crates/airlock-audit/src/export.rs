//! Getting records out: a checkpoint to keep elsewhere (the anchor that
//! makes a rewritten or truncated log detectable even by someone holding the
//! sealing key), and ranges of records with what an offline verifier needs.

use super::record::{Record, kind};
use super::verify::{EXPORT_HEADER_KEY, read_records};
use crate::error::ReadError;
use serde_json::{Value, json};
use std::path::Path;

/// The latest checkpoint of the log in `dir`, as the JSON document that
/// `airlock audit checkpoint --export` writes.
pub fn latest_checkpoint(dir: &Path) -> Result<Value, ReadError> {
    let records = read_records(dir)?;
    let (record, line) = records
        .iter()
        .rev()
        .find(|(r, _)| r.kind == kind::CHECKPOINT)
        .ok_or(ReadError::NoCheckpoint)?;
    Ok(json!({
        "airlock-audit-checkpoint": 1,
        "log-id": record.str("log-id"),
        "seq": record.seq,
        "time": record.time,
        "hash": record.hash,
        "record": line,
    }))
}

/// The smallest sealed range that holds every record `selected` accepts:
/// from the checkpoint before the first selected record (or the log's
/// start) to the first checkpoint after the last one (or the log's end).
pub fn sealed_range(
    records: &[(Record, String)],
    selected: &dyn Fn(&Record) -> bool,
) -> Option<(usize, usize)> {
    let first = records.iter().position(|(r, _)| selected(r))?;
    let last = records.iter().rposition(|(r, _)| selected(r))?;
    let start = records[..first]
        .iter()
        .rposition(|(r, _)| r.kind == kind::CHECKPOINT)
        .unwrap_or(0);
    let end = records[last..]
        .iter()
        .position(|(r, _)| r.kind == kind::CHECKPOINT)
        .map_or(records.len() - 1, |p| last + p);
    Some((start, end))
}

/// The export document: a header line, then the records' exact lines.
pub fn export_lines(
    records: &[(Record, String)],
    range: (usize, usize),
    log_id: Option<&str>,
) -> Vec<String> {
    let (start, end) = range;
    let slice = &records[start..=end];
    let header = json!({
        EXPORT_HEADER_KEY: 1,
        "log-id": log_id,
        "exported": super::record::now_rfc3339(),
        "from-seq": slice.first().map(|(r, _)| r.seq),
        "to-seq": slice.last().map(|(r, _)| r.seq),
        "verify-with": "airlock audit verify --export FILE [--checkpoint EXPORTED-CHECKPOINT]",
    });
    let mut lines = vec![header.to_string()];
    lines.extend(slice.iter().map(|(_, line)| line.clone()));
    lines
}
