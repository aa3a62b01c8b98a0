//! Helpers: writing logs, reading their files, assertions, and an attacker's tools.

pub(crate) use airlock_audit::files::{Head, Layout, OpenRun, segment_name};
pub(crate) use airlock_audit::record::{self, Draft, Record, kind};
pub(crate) use airlock_audit::seal::{self, SealKeys};
pub(crate) use airlock_audit::verify::{self, Anchor, Problem, Report};
pub(crate) use airlock_audit::{
    AuditError, AuditLog, AuditOptions, ModelRef, RunStart, SkillRef, audit_dir, export,
};
pub(crate) use ed25519_dalek::SigningKey;
pub(crate) use serde_json::{Map, Value, json};
pub(crate) use sha2::{Digest, Sha256};
pub(crate) use std::fs;
pub(crate) use std::io::Write;
pub(crate) use std::ops::Range;
pub(crate) use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
pub(crate) use std::path::{Path, PathBuf};
pub(crate) use std::sync::Arc;

// ------------------------------------------------------------ writing logs

/// Records each run of [`record_run`] adds: its start, five events, an
/// inference record, its end and the checkpoint the end seals.
pub(crate) const PER_RUN: u64 = 9;

/// The only log file of an unrotated log, as reports name it.
pub(crate) const FILE1: &str = "log/00000001.jsonl";

pub(crate) fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

pub(crate) fn open(home: &Path) -> Arc<AuditLog> {
    AuditLog::open(home, AuditOptions::default()).expect("open the audit log")
}

pub(crate) fn rotating(bytes: u64) -> AuditOptions {
    AuditOptions {
        rotate_bytes: bytes,
        ..AuditOptions::default()
    }
}

pub(crate) fn run_start(n: usize) -> RunStart {
    RunStart {
        skill: SkillRef {
            name: format!("summarize-{n}"),
            version: Some("1.2.0".into()),
            digest: format!("{:064x}", n + 1),
            path: PathBuf::from(format!("/home/user/.airlock/plugins/summarize-{n}.wasm")),
            signer: json!({"name": "Example Skills", "key": "5f1c0e2a9b7d4c36"}),
        },
        profile: "default".into(),
        profile_digest: "9".repeat(64),
        limits: json!({"memory-mb": 256, "fuel": 1_000_000_000u64, "wall-seconds": 30}),
        inference: json!({"models": ["tiny"], "max-tokens": 512}),
        backend: Some("llama-cpp".into()),
        models: vec![ModelRef {
            name: "tiny".into(),
            digest: "7".repeat(64),
        }],
        workspace: PathBuf::from("/home/user/project"),
        input: Some(format!("summarize the notes of run {n}")),
        args: vec![("style".into(), "brief".into())],
    }
}

/// One realistic run: reads, a denied read, a write, log messages, an
/// inference call, and its end (which seals a checkpoint). Returns its id.
pub(crate) fn record_run(log: &Arc<AuditLog>, n: usize) -> String {
    let run = log.begin_run(&run_start(n)).expect("begin a run");
    let events = [
        (
            kind::ACCESS,
            json!({"op": "read", "path": format!("notes/run-{n}/a.txt"), "allowed": true, "bytes": 120}),
        ),
        (
            kind::LOG,
            json!({"level": "info", "message": format!("run {n}: read the notes")}),
        ),
        (
            kind::ACCESS,
            json!({"op": "read", "path": "../../etc/passwd", "allowed": false, "reason": "outside the workspace"}),
        ),
        (
            kind::ACCESS,
            json!({"op": "write", "path": format!("out/run-{n}.md"), "allowed": true, "bytes": 64}),
        ),
        (
            kind::LOG,
            json!({"level": "info", "message": format!("run {n}: wrote the summary")}),
        ),
    ];
    for (k, data) in events {
        run.event(k, data).expect("record an event");
    }
    run.durable(
        kind::INFERENCE,
        json!({
            "model": "tiny",
            "messages": [{"role": "user", "content": format!("Summarize the notes of run {n}")}],
            "output": format!("Summary {n}: all good"),
            "tokens": {"prompt": 12, "completion": 7},
            "latency-ms": 42,
        }),
    )
    .expect("record an inference call durably");
    run.end(json!({"outcome": "ok", "exit-code": 0, "output": format!("wrote out/run-{n}.md")}))
        .expect("end the run");
    run.id().to_string()
}

pub(crate) fn add_runs(log: &Arc<AuditLog>, runs: Range<usize>) -> Vec<String> {
    runs.map(|n| record_run(log, n)).collect()
}

/// A log of `runs` runs in `home`; returns the runs' ids.
pub(crate) fn build_log(home: &Path, runs: usize) -> Vec<String> {
    add_runs(&open(home), 0..runs)
}

// ------------------------------------------------------------ reading files

pub(crate) fn layout(home: &Path) -> Layout {
    Layout::new(&audit_dir(home))
}

pub(crate) fn segments(home: &Path) -> Vec<u32> {
    layout(home).segments().expect("list the log files")
}

pub(crate) fn last_segment(home: &Path) -> PathBuf {
    let last = *segments(home).last().expect("a log file");
    layout(home).segment(last)
}

pub(crate) fn first_segment(home: &Path) -> PathBuf {
    layout(home).segment(1)
}

/// The lines of a log file, without their newlines.
pub(crate) fn read_lines(path: &Path) -> Vec<String> {
    let text = fs::read_to_string(path).expect("read a log file");
    assert!(
        text.ends_with('\n'),
        "{} ends with a torn line",
        path.display()
    );
    text.split_terminator('\n').map(str::to_string).collect()
}

pub(crate) fn write_lines(path: &Path, lines: &[String]) {
    let mut text = String::new();
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    fs::write(path, text).expect("rewrite a log file");
}

pub(crate) fn parse(line: &str) -> Record {
    Record::parse(line).expect("a valid record")
}

/// The index of the first line whose record `pred` accepts.
pub(crate) fn position(lines: &[String], what: &str, pred: impl Fn(&Record) -> bool) -> usize {
    lines
        .iter()
        .position(|l| Record::parse(l).is_ok_and(|r| pred(&r)))
        .expect(what)
}

pub(crate) fn records(home: &Path) -> Vec<Record> {
    verify::read_records(&audit_dir(home))
        .expect("read the records")
        .into_iter()
        .map(|(r, _)| r)
        .collect()
}

pub(crate) fn verify_home(home: &Path) -> Report {
    verify::verify_log(&audit_dir(home), &[])
}

pub(crate) fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create a directory");
    fs::set_permissions(to, fs::Permissions::from_mode(0o700)).expect("chmod 700");
    for entry in fs::read_dir(from).expect("list a directory") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// A new home holding a copy of `home`'s audit directory.
pub(crate) fn copy_home(home: &Path) -> tempfile::TempDir {
    let copy = tempdir();
    copy_dir(&audit_dir(home), &audit_dir(copy.path()));
    copy
}

/// Export the latest checkpoint to `file` (somewhere else) and read it back.
pub(crate) fn export_anchor(home: &Path, file: &Path) -> Anchor {
    let doc = export::latest_checkpoint(&audit_dir(home)).expect("a checkpoint to export");
    fs::write(file, doc.to_string()).expect("write the exported checkpoint");
    Anchor::read(file).expect("read the exported checkpoint back")
}

// ------------------------------------------------------------ assertions

#[track_caller]
pub(crate) fn assert_verifies(report: &Report) {
    assert!(report.ok, "the log should verify: {report:#?}");
    assert!(report.failure.is_none(), "{report:#?}");
}

/// The report fails, at record `seq`, in `file` at 1-based `line` (0: not
/// about one line), for a reason that says each of `words`.
#[track_caller]
pub(crate) fn assert_caught<'a>(
    report: &'a Report,
    seq: Option<u64>,
    file: &str,
    line: usize,
    words: &[&str],
) -> &'a Problem {
    assert!(!report.ok, "the change went unnoticed: {report:#?}");
    let problem = report
        .failure
        .as_ref()
        .expect("a failed verification names its problem");
    assert_eq!(
        (problem.seq, problem.file.as_str(), problem.line),
        (seq, file, line),
        "the problem is reported at the wrong place: {problem:#?}"
    );
    for word in words {
        assert!(
            problem.reason.contains(word),
            "the reason should say {word:?}: {problem:#?}"
        );
    }
    problem
}

// ------------------------------------------------------------ an attacker's tools

pub(crate) type Obj = Map<String, Value>;

pub(crate) fn objects(lines: &[String]) -> Vec<Obj> {
    lines
        .iter()
        .map(
            |line| match serde_json::from_str(line).expect("a record is JSON") {
                Value::Object(obj) => obj,
                other => panic!("a record that is not an object: {other}"),
            },
        )
        .collect()
}

pub(crate) fn render(objs: &[Obj]) -> Vec<String> {
    objs.iter()
        .map(|o| Value::Object(o.clone()).to_string())
        .collect()
}

pub(crate) fn text(obj: &Obj, key: &str) -> String {
    obj.get(key)
        .and_then(Value::as_str)
        .expect("a string field")
        .to_string()
}

pub(crate) fn data_mut(obj: &mut Obj) -> &mut Obj {
    obj.get_mut("data")
        .and_then(Value::as_object_mut)
        .expect("`data` is an object")
}

pub(crate) fn is_kind(obj: &Obj, k: &str) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some(k)
}

pub(crate) fn rehash(obj: &mut Obj) {
    let hash = record::hash_of(obj);
    obj.insert("hash".into(), hash.into());
}

/// Number the records of a one-file log by their position.
pub(crate) fn renumber(objs: &mut [Obj]) {
    for (i, obj) in objs.iter_mut().enumerate() {
        obj.insert("seq".into(), (i as u64).into());
    }
}

/// What an attacker without any key can do: re-chain `objs[from..]` (each
/// `prev` the hash before it; each checkpoint's `head` too when `fix_heads`)
/// and recompute every hash. Signatures stay as they were.
pub(crate) fn rechain(objs: &mut [Obj], from: usize, fix_heads: bool) {
    for i in from..objs.len() {
        if i > 0 {
            let prev = objs[i - 1]["hash"].clone();
            objs[i].insert("prev".into(), prev.clone());
            if fix_heads && is_kind(&objs[i], kind::CHECKPOINT) {
                data_mut(&mut objs[i]).insert("head".into(), prev);
            }
        }
        rehash(&mut objs[i]);
    }
}

/// What an attacker holding keys of their own can do: re-chain `objs[from..]`
/// and re-sign every checkpoint there, the first with `signer` (which also
/// goes into a rewritten `log-start`), each announcing the key `fresh` gives,
/// which then signs the next. Returns the key the last checkpoint announced.
pub(crate) fn reseal(
    objs: &mut [Obj],
    from: usize,
    signer: SigningKey,
    mut fresh: impl FnMut() -> SigningKey,
) -> SigningKey {
    let mut signer = signer;
    for i in from..objs.len() {
        if i > 0 {
            let prev = objs[i - 1]["hash"].clone();
            objs[i].insert("prev".into(), prev);
        }
        if is_kind(&objs[i], kind::LOG_START) {
            data_mut(&mut objs[i]).insert("key".into(), seal::public_hex(&signer).into());
        } else if is_kind(&objs[i], kind::CHECKPOINT) {
            let next = fresh();
            let obj = &mut objs[i];
            let seq = obj["seq"].as_u64().expect("a seq");
            let (time, head) = (text(obj, "time"), text(obj, "prev"));
            let log_id = obj["data"]["log-id"]
                .as_str()
                .expect("a log id")
                .to_string();
            let (key, next_key) = (seal::public_hex(&signer), seal::public_hex(&next));
            let message = seal::message(&log_id, seq, &time, &head, &key, &next_key);
            let data = data_mut(obj);
            data.insert("head".into(), head.into());
            data.insert("key".into(), key.into());
            data.insert("next-key".into(), next_key.into());
            data.insert("signature".into(), seal::sign(&signer, &message).into());
            signer = next;
        }
        rehash(&mut objs[i]);
    }
    signer
}

/// The secret in `seal.key`, read as anyone who can read the file can.
pub(crate) fn steal_current_key(home: &Path) -> SigningKey {
    let text = fs::read_to_string(layout(home).key()).expect("read seal.key");
    let file: Value = serde_json::from_str(&text).expect("seal.key is JSON");
    let bytes = hex::decode(file["current"].as_str().expect("a current key")).expect("hex");
    SigningKey::from_bytes(&<[u8; 32]>::try_from(bytes).expect("32 bytes"))
}

/// Rewrite head.json to match the rewritten records and announced key.
pub(crate) fn rewrite_head(home: &Path, objs: &[Obj], next_key: &SigningKey) {
    let path = layout(home).head();
    let mut head = Head::read(&path)
        .expect("read head.json")
        .expect("a head file");
    let sealed = objs
        .iter()
        .find(|o| o["seq"].as_u64() == Some(head.seq))
        .expect("the head's checkpoint");
    head.hash = text(sealed, "hash");
    head.next_key = seal::public_hex(next_key);
    fs::write(
        &path,
        serde_json::to_string(&head).expect("encode head.json"),
    )
    .expect("write head.json");
}

pub(crate) fn generate() -> SigningKey {
    seal::generate().expect("a fresh key")
}
