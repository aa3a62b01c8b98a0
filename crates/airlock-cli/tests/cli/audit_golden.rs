//! The golden audit log: a log with every record kind, written by main's
//! `airlock` when the crate split of issue 15 started (commit 4e6f486,
//! `scripts/make-golden-audit`) and checked in under
//! `tests/fixtures/audit-golden/`. The audit format must not change: that log
//! must still verify, `audit verify|show|export` must print what they printed
//! then, and every record must re-encode to the very same bytes and hash.
//!
//! A new record kind fails `golden_records_reencode_byte_identical` until the
//! golden log holds one: regenerate it with the script (and say why in the
//! commit).
#![allow(clippy::unwrap_used)]

use crate::support::airlock;
use crate::support::{describe, text};
use airlock_runtime::audit::record::{Draft, GENESIS_PREV, Record};
use airlock_runtime::audit::schema::Kind;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const REGENERATE: &str = "if the audit format changed on purpose, regenerate the golden log with `scripts/make-golden-audit` and say why in the commit; otherwise the change breaks every log already written";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/audit-golden")
}

fn expected(name: &str) -> String {
    let path = fixture().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The golden log's files, in order.
fn log_files(audit: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(audit.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

/// A temporary Airlock home holding a copy of the golden log, private as
/// Airlock requires (git keeps no modes).
fn golden_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let from = fixture().join("audit");
    let to = home.path().join("audit");
    for dir in [to.clone(), to.join("log"), to.join("open")] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let mut files: Vec<PathBuf> = log_files(&from)
        .into_iter()
        .map(|p| Path::new("log").join(p.file_name().unwrap()))
        .collect();
    files.push("seal.key".into());
    files.push("head.json".into());
    for file in files {
        std::fs::copy(from.join(&file), to.join(&file)).unwrap();
        std::fs::set_permissions(to.join(&file), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    home
}

/// Exit 0 and an empty stderr; stdout with the audit directory's path as
/// `<HOME>/audit` (as the fixture has it; paths inside records are as recorded).
fn ok(home: &Path, args: &[&str]) -> String {
    let out = airlock(home, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "airlock {args:?}: {}",
        describe(&out)
    );
    assert!(
        out.stderr.is_empty(),
        "airlock {args:?} warned: {}",
        describe(&out)
    );
    let audit = home.join("audit");
    text(&out.stdout).replace(audit.to_str().unwrap(), "<HOME>/audit")
}

fn clip(line: &str) -> String {
    if line.len() <= 300 {
        return line.to_string();
    }
    let mut end = 300;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &line[..end], line.len())
}

/// `actual == expected`, or a failure naming the first line that differs
/// (the outputs are up to a megabyte: a whole-text diff would drown it).
fn assert_same(what: &str, actual: &str, expected: &str) {
    if actual == expected {
        return;
    }
    let (a, e): (Vec<&str>, Vec<&str>) = (actual.lines().collect(), expected.lines().collect());
    let at = a
        .iter()
        .zip(&e)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(e.len()));
    panic!(
        "{what} is not what main printed for the golden log when the split started: first difference at line {} ({} lines now, {} expected)\n  now:      {}\n  expected: {}\n{REGENERATE}",
        at + 1,
        a.len(),
        e.len(),
        a.get(at).map_or("(end of output)".into(), |l| clip(l)),
        e.get(at).map_or("(end of output)".into(), |l| clip(l)),
    );
}

/// The first line of an export with its `exported` time (when the export
/// was made) written as `<EXPORTED>`, as the fixture has it.
fn without_export_time(export: &str) -> String {
    let (header, rest) = export.split_once('\n').unwrap_or((export, ""));
    let key = "\"exported\":\"";
    let Some(start) = header.find(key).map(|i| i + key.len()) else {
        return export.to_string();
    };
    let end = start + header[start..].find('"').unwrap_or(0);
    format!("{}<EXPORTED>{}\n{rest}", &header[..start], &header[end..])
}

#[test]
fn golden_log_from_before_the_split_still_verifies() {
    let home = golden_home();
    let home = home.path();
    assert_same(
        "`airlock audit verify`",
        &ok(home, &["audit", "verify"]),
        &expected("expected-verify.txt"),
    );
    assert_same(
        "`airlock audit verify --json`",
        &ok(home, &["audit", "verify", "--json"]),
        &expected("expected-verify.json"),
    );
}

#[test]
fn golden_log_reads_back_the_same() {
    let home = golden_home();
    let home = home.path();
    assert_same(
        "`airlock audit show --limit 0`",
        &ok(home, &["audit", "show", "--limit", "0"]),
        &expected("expected-show.txt"),
    );
    assert_same(
        "`airlock audit show --json --limit 0`",
        &ok(home, &["audit", "show", "--json", "--limit", "0"]),
        &expected("expected-show.jsonl"),
    );
    let run = expected("export-run.txt");
    let export = ok(home, &["audit", "export", "--run", run.trim()]);
    assert_same(
        &format!("`airlock audit export --run {}`", run.trim()),
        &without_export_time(&export),
        &expected("expected-export.jsonl"),
    );
    // The export still checks offline.
    let file = home.join("export.jsonl");
    std::fs::write(&file, &export).unwrap();
    let out = airlock(
        home,
        &["audit", "verify", "--export", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(
        text(&out.stdout).contains(": verified"),
        "{}",
        describe(&out)
    );
}

#[test]
fn golden_records_reencode_byte_identical() {
    let audit = fixture().join("audit");
    // Every kind the schema declares (`Kind::ALL`, which the audit crate's
    // own tests hold equal to `record::kind`), so a new kind without a golden
    // record is noticed.
    let mut counts: BTreeMap<&str, usize> = Kind::ALL.iter().map(|k| (k.as_str(), 0)).collect();
    let mut prev = GENESIS_PREV.to_string();
    let mut seq = 0u64;
    for file in log_files(&audit) {
        let bytes = std::fs::read(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{name} is not UTF-8: {e}"));
        assert!(text.ends_with('\n'), "{name} ends with a whole line");
        for (i, line) in text.lines().enumerate() {
            let at = format!("{name} line {}", i + 1);
            let record = Record::parse(line)
                .unwrap_or_else(|e| panic!("{at} no longer parses ({e}): {}", clip(line)));
            assert_eq!(record.seq, seq, "{at}: sequence");
            assert_eq!(record.prev, prev, "{at}: chained to the record before");
            let Some(kind) = Kind::parse(&record.kind).map(Kind::as_str) else {
                panic!("{at}: kind `{}` is not in record::kind", record.kind);
            };
            *counts.entry(kind).or_default() += 1;
            // The writer's own encoding of what the line holds...
            let draft = Draft {
                kind,
                run: record.run.clone(),
                time: record.time.clone(),
                data: record.data.clone(),
            };
            let (sealed, hash) = draft.seal(record.seq, &record.prev);
            assert_eq!(sealed, format!("{line}\n"), "{at}: re-encoded differently");
            assert_eq!(hash, record.hash, "{at}: hash of the re-encoding");
            // ...and the documented one (docs/audit.md): sorted keys, no
            // whitespace, SHA-256 of the record without `hash`.
            let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value.to_string(), line, "{at}: canonical JSON");
            let stored = value.as_object_mut().unwrap().remove("hash").unwrap();
            assert_eq!(
                stored.as_str(),
                Some(hex::encode(Sha256::digest(value.to_string().as_bytes())).as_str()),
                "{at}: SHA-256 of the canonical record without `hash`"
            );
            prev = record.hash;
            seq += 1;
        }
    }
    let missing: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| *k)
        .collect();
    assert!(
        missing.is_empty(),
        "the golden log has no record of kind(s) {missing:?}; add a step that writes one to scripts/make-golden-audit and regenerate the log (counts: {counts:?})"
    );
}

#[test]
fn a_flipped_byte_in_the_golden_log_fails_verification() {
    let home = golden_home();
    let home = home.path();
    let file = home.join("audit/log/00000001.jsonl");
    let mut bytes = std::fs::read(&file).unwrap();
    // One letter of the skill's first log message: still valid JSON.
    let needle = b"\"message\":\"a message from the skill\"";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("the golden log holds the skill's log message");
    let line_no = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
    bytes[at + needle.len() - 2] ^= 0x01;
    std::fs::write(&file, bytes).unwrap();

    let out = airlock(home, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    let report = text(&out.stdout);
    assert!(
        report.contains(&format!(
            "FAILED verification at record #{} (log/00000001.jsonl line {line_no})",
            line_no - 1
        )),
        "{report}"
    );
    assert!(
        report.contains("the record's hash does not match its contents (the record was modified)"),
        "{report}"
    );
}
