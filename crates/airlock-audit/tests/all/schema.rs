//! The typed record schema against the golden log (written by main before
//! the crate split, `tests/fixtures/audit-golden`): every record's `data`
//! parses into its kind's type and serializes back to the very same
//! canonical bytes, so a writer switched to the typed schema writes what
//! was written before, byte for byte.

use airlock_audit::query::{self, Filter, QueryError, Selection};
use airlock_audit::record::{Draft, Record, kind};
use airlock_audit::schema::{self, Kind, Payload, PayloadError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn golden_log() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/audit-golden/audit/log")
}

/// Every record of the golden log, with its exact line and where it is.
fn golden_records() -> Vec<(Record, String, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_log())
        .expect("the golden log is checked in")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 2, "the golden log has two files: {files:?}");
    let mut out = Vec::new();
    for file in files {
        let name = file
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&file).expect("the golden log is UTF-8");
        for (i, line) in text.lines().enumerate() {
            let at = format!("{name} line {}", i + 1);
            let record = Record::parse(line).unwrap_or_else(|e| panic!("{at}: {e}"));
            out.push((record, line.to_string(), at));
        }
    }
    out
}

#[test]
fn every_golden_record_reencodes_byte_identical_through_its_typed_payload() {
    let mut counts: BTreeMap<Kind, usize> = BTreeMap::new();
    for (record, line, at) in golden_records() {
        let payload = Payload::of(&record).unwrap_or_else(|e| panic!("{at}: {e}"));
        *counts.entry(payload.kind()).or_default() += 1;
        assert_eq!(payload.kind().as_str(), record.kind, "{at}: kind");
        let data = payload.to_value().expect("a typed payload serializes");
        assert_eq!(
            data.to_string(),
            record.data.to_string(),
            "{at}: the typed payload re-encodes differently"
        );
        // Sealed as a writer seals it: the same line and hash as stored.
        let draft = Draft {
            kind: payload.kind().as_str(),
            run: record.run.clone(),
            time: record.time.clone(),
            data,
        };
        let (sealed, hash) = draft.seal(record.seq, &record.prev);
        assert_eq!(sealed, format!("{line}\n"), "{at}: sealed differently");
        assert_eq!(hash, record.hash, "{at}: hash");
    }
    let missing: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| !counts.contains_key(k))
        .collect();
    assert!(
        missing.is_empty(),
        "the golden log has no record of {missing:?}: {counts:?}"
    );
}

#[test]
fn optional_fields_stay_absent_or_null_as_written() {
    // What the golden log has of each shape: a search's `glob: null`, a
    // stopped run's end without `described`, an approval without a diff,
    // an unsigned and a signed skill.
    let records = golden_records();
    let payloads: Vec<Payload> = records
        .iter()
        .map(|(r, _, at)| Payload::of(r).unwrap_or_else(|e| panic!("{at}: {e}")))
        .collect();
    let search = payloads.iter().find_map(|p| match p {
        Payload::Access(a) => a.search.as_ref(),
        _ => None,
    });
    let search = search.expect("a search in the golden log");
    assert_eq!(search.glob, None);
    assert_eq!(search.pattern, "hello");
    let (stopped, finished): (Vec<&schema::RunEnd>, Vec<&schema::RunEnd>) = payloads
        .iter()
        .filter_map(|p| match p {
            Payload::RunEnd(e) => Some(e.as_ref()),
            _ => None,
        })
        .partition(|e| e.finished.is_none());
    assert_eq!(stopped.len(), 1, "one run was stopped by a limit");
    assert_eq!(stopped[0].outcome, "limit-exceeded");
    assert_eq!(stopped[0].exit_code, 4);
    assert_eq!(finished.len(), 27);
    let signers: Vec<&schema::Signer> = payloads
        .iter()
        .filter_map(|p| match p {
            Payload::RunStart(s) => Some(&s.skill.signer),
            _ => None,
        })
        .collect();
    assert!(signers.contains(&&schema::Signer::Named("unsigned".into())));
    assert!(signers.iter().any(|s| matches!(
        s,
        schema::Signer::Signed(by) if by.trusted_as == "acme"
    )));
    let commands = payloads
        .iter()
        .filter(|p| matches!(p, Payload::Command(c) if c.ran.is_some() && c.error.is_none()))
        .count();
    assert_eq!(commands, 2);
}

#[test]
fn kind_lists_every_kind_the_record_module_declares_once() {
    let declared = [
        kind::LOG_START,
        kind::SEGMENT_START,
        kind::CHECKPOINT,
        kind::RECOVERED,
        kind::RUN_START,
        kind::RUN_END,
        kind::RUN_INCOMPLETE,
        kind::RUN_REFUSED,
        kind::ACCESS,
        kind::INFERENCE,
        kind::LOG,
        kind::COMMAND,
        kind::APPROVAL,
        kind::ADMIN,
    ];
    let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(names, declared);
    for k in Kind::ALL {
        assert_eq!(Kind::parse(k.as_str()), Some(k));
        assert_eq!(
            serde_json::to_value(k).expect("serializes"),
            serde_json::Value::from(k.as_str())
        );
    }
    assert_eq!(Kind::parse("run-begin"), None);
}

#[test]
fn a_record_whose_data_does_not_fit_its_kind_is_named_not_guessed() {
    let draft = Draft::now(
        kind::RUN_END,
        Some("abc"),
        serde_json::json!({"outcome": 3}),
    );
    let (line, _) = draft.seal(1, airlock_audit::record::GENESIS_PREV);
    let record = Record::parse(line.trim_end()).expect("a well-formed record");
    let err = Payload::of(&record).expect_err("an outcome is text");
    assert!(
        matches!(
            err,
            PayloadError::Malformed {
                kind: Kind::RunEnd,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("the `run-end` record's data"),
        "{err}"
    );
    let draft = Draft::now("run-paused", None, serde_json::json!({}));
    let (line, _) = draft.seal(1, airlock_audit::record::GENESIS_PREV);
    let record = Record::parse(line.trim_end()).expect("a well-formed record");
    assert!(matches!(
        Payload::of(&record),
        Err(PayloadError::UnknownKind(k)) if k == "run-paused"
    ));
}

#[test]
fn a_typed_payload_is_recorded_under_its_own_kind_and_reads_back_the_same() {
    use crate::support::{assert_verifies, open, records, run_start, tempdir, verify_home};
    use airlock_audit::schema::{Access, Log, Search};
    let home = tempdir();
    let log = open(home.path());
    let run = log.begin_run(&run_start(1)).expect("begin a run");
    let read = Access {
        bytes: Some(120),
        ..Access::new("read-file", "notes/a.txt", true)
    };
    let search = Access {
        search: Some(Search {
            pattern: "todo".into(),
            glob: None,
            matches: 2,
            files_matched: vec!["notes/a.txt".into()],
            truncated: false,
        }),
        ..Access::new("search", "notes", true)
    };
    let message = Log {
        level: "info".into(),
        message: "read the notes".into(),
        redacted: schema::redacted(BTreeMap::from([("github-token", 1)])),
    };
    run.record(&read, false).expect("batched");
    run.record(&message, false).expect("batched");
    run.record(&search, true)
        .expect("synced, with the batch before it");
    run.end(serde_json::json!({"outcome": "ok", "exit-code": 0, "error": null, "elapsed-ms": 5}))
        .expect("end the run");
    let ours: Vec<Record> = records(home.path())
        .into_iter()
        .filter(|r| r.run.as_deref() == Some(run.id()))
        .collect();
    let kinds: Vec<&str> = ours.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            kind::RUN_START,
            kind::ACCESS,
            kind::LOG,
            kind::ACCESS,
            kind::RUN_END
        ]
    );
    let back: Vec<Payload> = ours[1..4]
        .iter()
        .map(|r| Payload::of(r).expect("a typed payload"))
        .collect();
    assert_eq!(
        back,
        [
            Payload::Access(read),
            Payload::Log(message),
            Payload::Access(search)
        ]
    );
    assert_verifies(&verify_home(home.path()));
}

/// The golden log's records, as `query` takes them.
fn log() -> Vec<(Record, String)> {
    golden_records()
        .into_iter()
        .map(|(r, line, _)| (r, line))
        .collect()
}

fn run_ids(records: &[(Record, String)]) -> Vec<String> {
    records
        .iter()
        .filter(|(r, _)| r.kind == kind::RUN_START)
        .filter_map(|(r, _)| r.run.clone())
        .collect()
}

#[test]
fn a_run_prefix_selects_that_run_only_and_must_be_unique() {
    let records = log();
    let ids = run_ids(&records);
    assert_eq!(ids.len(), 29);
    let id = &ids[3];
    let filter = Filter {
        run: Some(id[..6].to_string()),
        ..Filter::default()
    };
    let selection = Selection::new(&filter, &records).expect("a unique prefix");
    assert!(selection.is_filtered());
    let picked: Vec<&Record> = records
        .iter()
        .map(|(r, _)| r)
        .filter(|r| selection.accepts(r))
        .collect();
    assert!(picked.len() >= 2, "its start and end at least");
    assert!(picked.iter().all(|r| r.run.as_deref() == Some(id.as_str())));
    // Checkpoints are in the exported range, but not selected for themselves.
    assert!(
        records
            .iter()
            .filter(|(r, _)| r.kind == kind::CHECKPOINT)
            .all(|(r, _)| !selection.exports(r))
    );

    let none = Filter {
        run: Some("zz".into()),
        ..Filter::default()
    };
    let err = Selection::new(&none, &records).expect_err("no run has that id");
    assert_eq!(err, QueryError::NoSuchRun("zz".into()));
    assert_eq!(
        err.to_string(),
        "no recorded run has an id starting with `zz` (see `airlock audit show`)"
    );

    // Some one-digit prefix is shared by several of 29 runs.
    let digit = "0123456789abcdef"
        .chars()
        .map(String::from)
        .find(|d| ids.iter().filter(|id| id.starts_with(d.as_str())).count() > 1)
        .expect("a shared first digit");
    let shared = Filter {
        run: Some(digit.clone()),
        ..Filter::default()
    };
    let Err(QueryError::AmbiguousRun { prefix, runs }) = Selection::new(&shared, &records) else {
        panic!("`{digit}` is ambiguous");
    };
    assert_eq!(prefix, digit);
    assert!(runs.len() > 1 && runs.iter().all(|r| r.starts_with(&digit)));
}

#[test]
fn skill_and_since_filters_select_by_the_recorded_skill_and_start_time() {
    let records = log();
    let infer = Filter {
        skill: Some("guest_infer".into()),
        ..Filter::default()
    };
    let selection = Selection::new(&infer, &records).expect("a skill filter");
    let runs: std::collections::BTreeSet<&str> = records
        .iter()
        .map(|(r, _)| r)
        .filter(|r| selection.accepts(r))
        .filter_map(|r| r.run.as_deref())
        .collect();
    assert_eq!(runs.len(), 2, "two inference runs: {runs:?}");

    let future = Filter {
        since: Some("2999-01-01".into()),
        ..Filter::default()
    };
    let selection = Selection::new(&future, &records).expect("a date");
    assert!(!records.iter().any(|(r, _)| selection.accepts(r)));
    let past = Filter {
        since: Some("2026-12-07T13:14:28Z".into()),
        ..Filter::default()
    };
    let selection = Selection::new(&past, &records).expect("a time");
    let late: Vec<&Record> = records
        .iter()
        .map(|(r, _)| r)
        .filter(|r| selection.accepts(r))
        .collect();
    assert!(!late.is_empty() && late.len() < records.len());
    assert!(late.iter().all(|r| {
        query::time_of(r)
            .is_some_and(|t| t >= query::parse_since("2026-12-07T13:14:28Z").expect("a time"))
    }));

    let bad = Filter {
        since: Some("last-tuesdayish".into()),
        ..Filter::default()
    };
    let err = Selection::new(&bad, &records).expect_err("not a time");
    assert_eq!(
        err.to_string(),
        "--since \"last-tuesdayish\" is not a time: write an RFC 3339 time or date (2026-11-26T09:00:00Z, 2026-11-26) or an age (30m, 2h, 7days)"
    );
    assert!(query::parse_since("2h").is_ok());
}

#[test]
fn a_run_start_reads_back_as_its_typed_payload() {
    let records = log();
    let (start, _) = records
        .iter()
        .find(|(r, _)| r.kind == kind::RUN_START)
        .expect("a run start");
    let start = schema::RunStart::deserialize(&start.data).expect("typed");
    assert_eq!(start.identity.user, "root");
    assert_eq!(start.identity.configured.as_deref(), Some("golden@fixture"));
    assert_eq!(start.identity.host, "airlock-golden");
}
