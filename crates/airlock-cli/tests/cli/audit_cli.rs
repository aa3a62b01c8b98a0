//! The audit trail through the `airlock` binary, as an officer uses it: real
//! runs recorded, `airlock audit show|verify|export|checkpoint` read back,
//! tampering and rewinding detected, killed runs and full disks survived,
//! inference calls recorded with their model digest, prompt and answer, and
//! runs refused when the log cannot be written.

use crate::support::{
    AIRLOCK, airlock, airlock_command, describe, expect_code, ok, scrub, sha256_hex, text, utf8,
};
use airlock_tests::{TEST_MODEL_SHA256, guests, test_model, workspace};
use serde_json::Value;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `airlock run --allow-unsigned SKILL --workspace WS EXTRA...`.
fn run(home: &Path, skill: &str, ws: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", "--allow-unsigned", skill, "--workspace", utf8(ws)];
    args.extend(extra);
    airlock(home, &args)
}

fn log_file(home: &Path) -> PathBuf {
    home.join("audit/log/00000001.jsonl")
}

/// Every record in the log, parsed, in order (complete lines only).
fn log_records(home: &Path) -> Vec<Value> {
    let bytes = std::fs::read(log_file(home)).expect("read the audit log");
    let mut records = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        if let Ok(value) = serde_json::from_slice::<Value>(line) {
            records.push(value);
        }
    }
    records
}

/// The ids of recorded runs, in the order they started.
fn run_ids(home: &Path) -> Vec<String> {
    log_records(home)
        .iter()
        .filter(|r| r["kind"] == "run-start")
        .map(|r| {
            r["run"]
                .as_str()
                .expect("a run-start has a run id")
                .to_string()
        })
        .collect()
}

fn last_run_id(home: &Path) -> String {
    run_ids(home).pop().expect("a run was recorded")
}

/// `airlock audit verify --json EXTRA...`: (exit code, report).
fn verify_json(home: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["audit", "verify", "--json"];
    args.extend(extra);
    let out = airlock(home, &args);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("verify --json printed no JSON ({e}): {}", describe(&out)));
    (out.status.code(), report)
}

/// The block of `audit show` text about run `id` (its header to the blank
/// line after it).
fn show_block(show: &str, id: &str) -> String {
    let header = format!("run {id} ");
    let start = show
        .find(&header)
        .unwrap_or_else(|| panic!("`audit show` does not list run {id}:\n{show}"));
    let rest = &show[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// The run headers `audit show` printed.
fn show_headers(show: &str) -> Vec<&str> {
    show.lines().filter(|l| l.starts_with("run ")).collect()
}

/// A workspace with a planted key in a normal file and a `.env` beside it.
fn planted() -> tempfile::TempDir {
    workspace(&[
        (
            "src/deploy.py",
            "AWS_ACCESS_KEY_ID = \"AKIAIOSFODNN7EXAMPLE\"\n",
        ),
        (".env", "DATABASE_PASSWORD=never-leaves-the-sandbox\n"),
        ("README.md", "# demo\n"),
    ])
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("create a temporary directory")
}

#[test]
fn show_and_verify_list_each_run_with_its_skill_signer_files_denials_and_outcome() {
    let home = tempdir();
    let home = home.path();
    let ws = planted();

    // 1. secret-scan: reads the files, withholds .env.
    ok(&run(home, guests::SECRET_SCAN, ws.path(), &[]));
    let scan = last_run_id(home);
    // 2. secret-scan again, failing on its finding: exit 5.
    expect_code(
        &run(
            home,
            guests::SECRET_SCAN,
            ws.path(),
            &["--fail-on", "medium", "--quiet"],
        ),
        5,
    );
    let scan_fail_on = last_run_id(home);
    // 3. The adversary tries to climb out of the workspace and is denied.
    let out = ok(&run(
        home,
        guests::ADVERSARY,
        ws.path(),
        &["-a", "case=read", "-a", "path=../etc/passwd", "--quiet"],
    ));
    assert!(out.starts_with("err: access-denied|"), "{out}");
    let denied = last_run_id(home);
    // 4. The adversary fails: exit 1.
    expect_code(
        &run(home, guests::ADVERSARY, ws.path(), &["-a", "case=nope"]),
        1,
    );
    let failed = last_run_id(home);
    assert_eq!(
        run_ids(home),
        [&scan, &scan_fail_on, &denied, &failed].map(String::clone)
    );

    let verified = ok(&airlock(home, &["audit", "verify"]));
    assert!(verified.contains(": verified"), "{verified}");
    let (_, report) = verify_json(home, &[]);
    assert!(
        report["checkpoints"].as_u64().is_some_and(|n| n >= 4) && report["unsealed"] == 0,
        "each run ends with a checkpoint: {report:#}"
    );

    let show = ok(&airlock(home, &["audit", "show"]));
    assert_eq!(show_headers(&show).len(), 4, "{show}");

    let block = show_block(&show, &scan);
    let header = block.lines().next().unwrap_or_default();
    assert!(header.contains("secret_scan (sha256:"), "{block}");
    assert!(header.contains("unsigned"), "{block}");
    assert!(header.ends_with("ok, exit 0"), "{block}");
    assert!(block.contains("profile read-only (sha256:"), "{block}");
    assert!(
        block.contains(&format!(
            "workspace {}",
            utf8(&ws.path().canonicalize().expect("ws"))
        )),
        "{block}"
    );
    assert!(block.contains("read-file   src/deploy.py  43 B"), "{block}");
    assert!(block.contains("read-file   README.md  7 B"), "{block}");
    assert!(
        !block.contains("read-file   .env"),
        "the withheld .env was never read: {block}"
    );
    assert!(block.contains("end         ok · "), "{block}");
    assert!(block.contains("1 finding(s)"), "{block}");

    let block = show_block(&show, &scan_fail_on);
    assert!(
        block
            .lines()
            .next()
            .unwrap_or_default()
            .ends_with("ok, exit 5"),
        "{block}"
    );

    let block = show_block(&show, &denied);
    let header = block.lines().next().unwrap_or_default();
    assert!(header.contains("guest_adversary (sha256:"), "{block}");
    assert!(header.contains("unsigned"), "{block}");
    assert!(header.ends_with("ok, exit 0"), "{block}");
    assert!(
        block.contains(
            "workspace-read ../etc/passwd  DENIED: the path climbs above the workspace root with `..`"
        ),
        "the denial and its rule are recorded: {block}"
    );

    let block = show_block(&show, &failed);
    assert!(
        block
            .lines()
            .next()
            .unwrap_or_default()
            .ends_with("skill-error, exit 1"),
        "{block}"
    );
    assert!(
        block.contains("error: invalid input: unknown case `nope`"),
        "{block}"
    );

    // --json: the records themselves.
    let json = ok(&airlock(home, &["audit", "show", "--json"]));
    let records: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line of show --json is JSON"))
        .collect();
    let starts: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "run-start")
        .collect();
    assert_eq!(starts.len(), 4, "{json}");
    let uid = std::fs::metadata("/proc/self").expect("/proc/self").uid();
    let read_only = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sandbox-profiles/read-only.toml"),
    )
    .expect("read the read-only profile");
    let scan_digest = sha256_hex(&std::fs::read(guests::SECRET_SCAN).expect("read secret-scan"));
    let adversary_digest =
        sha256_hex(&std::fs::read(guests::ADVERSARY).expect("read the adversary"));
    for start in &starts {
        let data = &start["data"];
        assert_eq!(data["identity"]["uid"], uid, "{start}");
        assert_eq!(data["profile"], "read-only", "{start}");
        assert_eq!(data["profile-digest"], sha256_hex(&read_only), "{start}");
        assert_eq!(data["skill"]["signer"], "unsigned", "{start}");
        let expected = if data["skill"]["name"] == "secret_scan" {
            &scan_digest
        } else {
            &adversary_digest
        };
        assert_eq!(data["skill"]["digest"], expected.as_str(), "{start}");
    }
    let denial = records
        .iter()
        .find(|r| r["kind"] == "access" && r["data"]["allowed"] == false)
        .expect("the denial is a record");
    assert_eq!(denial["run"], denied.as_str());
    assert_eq!(denial["data"]["path"], "../etc/passwd");

    // --run PREFIX selects one run.
    let prefix = &denied[..8];
    let one = ok(&airlock(home, &["audit", "show", "--run", prefix]));
    assert_eq!(show_headers(&one).len(), 1, "{one}");
    assert!(one.starts_with(&format!("run {denied} ")), "{one}");
    let one_json = ok(&airlock(
        home,
        &["audit", "show", "--run", prefix, "--json"],
    ));
    for line in one_json.lines() {
        let r: Value = serde_json::from_str(line).expect("JSON line");
        assert_eq!(r["run"], denied.as_str(), "{line}");
    }

    // --skill NAME filters.
    let adversary = ok(&airlock(
        home,
        &["audit", "show", "--skill", "guest_adversary"],
    ));
    let headers = show_headers(&adversary);
    assert_eq!(headers.len(), 2, "{adversary}");
    assert!(
        headers.iter().all(|h| h.contains("guest_adversary")),
        "{adversary}"
    );
    assert!(!adversary.contains("secret_scan"), "{adversary}");

    // --since: an age keeps every run, a later date none.
    let recent = ok(&airlock(home, &["audit", "show", "--since", "2h"]));
    assert_eq!(show_headers(&recent).len(), 4, "{recent}");
    let future = ok(&airlock(home, &["audit", "show", "--since", "2999-01-01"]));
    assert!(future.contains("no runs recorded that match"), "{future}");
    let out = airlock(home, &["audit", "show", "--since", "last-tuesdayish"]);
    expect_code(&out, 2);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--since"), "{stderr}");
    assert!(stderr.contains("last-tuesdayish"), "{stderr}");
}

#[test]
fn verify_names_the_record_and_line_of_an_edited_or_deleted_record() {
    let home = tempdir();
    let home = home.path();
    let ws = planted();
    ok(&run(home, guests::SECRET_SCAN, ws.path(), &["--quiet"]));
    let log = log_file(home);
    let original = std::fs::read_to_string(&log).expect("read the log");
    let lines: Vec<&str> = original.lines().collect();

    // One byte of a recorded file path: src/deploy.py -> src/deplpy.py.
    let index = lines
        .iter()
        .position(|l| l.contains("\"path\":\"src/deploy.py\""))
        .expect("the read of src/deploy.py is recorded");
    let seq = serde_json::from_str::<Value>(lines[index]).expect("JSON")["seq"]
        .as_u64()
        .expect("seq");
    let edited = original.replacen(
        "\"path\":\"src/deploy.py\"",
        "\"path\":\"src/deplpy.py\"",
        1,
    );
    assert_eq!(edited.len(), original.len());
    std::fs::write(&log, &edited).expect("tamper");
    let out = airlock(home, &["audit", "verify"]);
    let stdout = expect_code(&out, 6);
    assert!(
        stdout.contains(&format!(
            "FAILED verification at record #{seq} (log/00000001.jsonl line {})",
            index + 1
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("the record's hash does not match its contents"),
        "{stdout}"
    );
    let (code, report) = verify_json(home, &[]);
    assert_eq!(code, Some(6));
    assert_eq!(report["ok"], false);
    assert_eq!(report["failure"]["seq"], seq);
    assert_eq!(report["failure"]["line"], index + 1);

    // Put it back: it verifies again.
    std::fs::write(&log, &original).expect("restore");
    ok(&airlock(home, &["audit", "verify"]));

    // Delete the line of the record before it.
    let mut kept: Vec<&str> = lines.clone();
    kept.remove(index - 1);
    let mut shortened = kept.join("\n");
    shortened.push('\n');
    std::fs::write(&log, &shortened).expect("delete a line");
    let out = airlock(home, &["audit", "verify"]);
    let stdout = expect_code(&out, 6);
    assert!(
        stdout.contains(&format!(
            "FAILED verification at record #{seq} (log/00000001.jsonl line {index})"
        )),
        "the record after the gap is named, on the line it now has: {stdout}"
    );
    assert!(
        stdout.contains(&format!("the sequence jumps from #{} to #{seq}", seq - 2)),
        "{stdout}"
    );

    // `audit show` still shows what is recorded, with a warning.
    let out = airlock(home, &["audit", "show"]);
    ok(&out);
    assert!(
        text(&out.stderr).contains("FAILED verification"),
        "{}",
        describe(&out)
    );
}

#[test]
fn an_exported_checkpoint_detects_a_log_rewound_with_its_head_file_and_key() {
    let home = tempdir();
    let home = home.path();
    let files = tempdir();
    let ws = planted();

    ok(&run(home, guests::SECRET_SCAN, ws.path(), &["--quiet"]));
    let audit = home.join("audit");
    let length_after_first = std::fs::metadata(log_file(home)).expect("log").len();
    let old_key = std::fs::read(audit.join("seal.key")).expect("read seal.key");
    ok(&run(
        home,
        guests::ADVERSARY,
        ws.path(),
        &["-a", "case=read", "-a", "path=../etc/passwd", "--quiet"],
    ));
    let second = last_run_id(home);

    let anchor = files.path().join("checkpoint.json");
    let out = ok(&airlock(
        home,
        &["audit", "checkpoint", "--export", utf8(&anchor)],
    ));
    assert!(out.starts_with("sealed: checkpoint #"), "{out}");
    let exported = std::fs::read_to_string(&anchor).expect("read the exported checkpoint");
    let doc: Value = serde_json::from_str(&exported).expect("the export is JSON");
    let last = log_records(home).pop().expect("records");
    assert_eq!(last["kind"], "checkpoint");
    assert_eq!(doc["seq"], last["seq"], "the latest checkpoint is exported");
    assert_eq!(doc["hash"], last["hash"]);

    // Checkpoints are never overwritten.
    let out = airlock(home, &["audit", "checkpoint", "--export", utf8(&anchor)]);
    expect_code(&out, 2);
    assert!(
        text(&out.stderr).contains("already exists"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        std::fs::read_to_string(&anchor).expect("reread"),
        exported,
        "the refused export left the file alone"
    );

    ok(&airlock(
        home,
        &["audit", "verify", "--checkpoint", utf8(&anchor)],
    ));

    // Rewind everything the workstation holds: cut the last run off the
    // log, delete the head file, and put back the key of that earlier time.
    let log = std::fs::OpenOptions::new()
        .write(true)
        .open(log_file(home))
        .expect("open the log");
    log.set_len(length_after_first).expect("truncate");
    drop(log);
    std::fs::remove_file(audit.join("head.json")).expect("delete head.json");
    std::fs::write(audit.join("seal.key"), &old_key).expect("restore the old key");
    assert!(
        !run_ids(home).contains(&second),
        "the second run is gone from the log"
    );

    let out = airlock(home, &["audit", "verify", "--checkpoint", utf8(&anchor)]);
    let stdout = expect_code(&out, 6);
    assert!(stdout.contains("FAILED verification"), "{stdout}");
    assert!(stdout.contains("its tail was cut off"), "{stdout}");
    assert!(stdout.contains(utf8(&anchor)), "{stdout}");
    let (code, report) = verify_json(home, &["--checkpoint", utf8(&anchor)]);
    assert_eq!(code, Some(6));
    assert!(
        report["failure"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("sealed it up to #{}", doc["seq"]))),
        "{report}"
    );
}

#[test]
fn an_export_verifies_offline_and_a_changed_byte_in_it_does_not() {
    let home = tempdir();
    let home = home.path();
    let files = tempdir();
    let ws = planted();
    ok(&run(home, guests::SECRET_SCAN, ws.path(), &["--quiet"]));
    ok(&run(
        home,
        guests::ADVERSARY,
        ws.path(),
        &["-a", "case=read", "-a", "path=../etc/passwd", "--quiet"],
    ));
    let middle = last_run_id(home);
    ok(&run(home, guests::HELLO, ws.path(), &["--quiet"]));

    let all = files.path().join("all.jsonl");
    let out = airlock(home, &["audit", "export", "-o", utf8(&all)]);
    ok(&out);
    assert!(
        text(&out.stderr).contains("audit verify --export"),
        "{}",
        describe(&out)
    );
    let exported = std::fs::read_to_string(&all).expect("read the export");
    let log = std::fs::read_to_string(log_file(home)).expect("read the log");
    let (header, body) = exported.split_once('\n').expect("a header line");
    let header: Value = serde_json::from_str(header).expect("the header is JSON");
    assert_eq!(header["airlock-audit-export"], 1, "{header}");
    assert_eq!(
        body, log,
        "an export of everything holds the log's exact lines"
    );

    let out = ok(&airlock(home, &["audit", "verify", "--export", utf8(&all)]));
    assert!(out.contains(": verified"), "{out}");

    // The export never overwrites.
    expect_code(&airlock(home, &["audit", "export", "-o", utf8(&all)]), 2);

    // One changed byte in the export: a recorded path.
    let changed = files.path().join("changed.jsonl");
    let target = "\"path\":\"../etc/passwd\"";
    let line = exported
        .lines()
        .position(|l| l.contains(target))
        .expect("the denial is exported")
        + 1;
    std::fs::write(
        &changed,
        exported.replacen(target, "\"path\":\"../etc/passwe\"", 1),
    )
    .expect("write");
    let out = airlock(home, &["audit", "verify", "--export", utf8(&changed)]);
    let stdout = expect_code(&out, 6);
    assert!(stdout.contains("FAILED verification"), "{stdout}");
    assert!(stdout.contains(&format!("line {line})")), "{stdout}");

    // One run: the sealed range around its records.
    let one = files.path().join("one.jsonl");
    ok(&airlock(
        home,
        &["audit", "export", "--run", &middle[..8], "-o", utf8(&one)],
    ));
    let one_text = std::fs::read_to_string(&one).expect("read");
    let records: Vec<Value> = one_text
        .lines()
        .skip(1)
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let first = records.first().expect("records");
    let last = records.last().expect("records");
    assert_eq!(first["kind"], "checkpoint", "starts at a checkpoint");
    assert_eq!(last["kind"], "checkpoint", "ends at a checkpoint");
    for r in &records {
        if let Some(run) = r["run"].as_str() {
            assert_eq!(run, middle, "only the selected run: {r}");
        }
    }
    let in_log: Vec<u64> = log_records(home)
        .iter()
        .filter(|r| r["run"] == middle.as_str())
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect();
    let in_export: Vec<u64> = records
        .iter()
        .filter(|r| r["run"] == middle.as_str())
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(in_export, in_log, "every record of the run is exported");
    assert!(
        records.iter().any(|r| r["kind"] == "run-start")
            && records.iter().any(|r| r["kind"] == "run-end"),
        "{one_text}"
    );
    let out = ok(&airlock(home, &["audit", "verify", "--export", utf8(&one)]));
    assert!(out.contains(": verified"), "{out}");
}

/// Delays for the kill test: `n` spread over 5..=404 ms, one in each 40 ms
/// band, at a seeded pseudo-random point in it (the same every time).
fn kill_delays(n: u64) -> Vec<u64> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            5 + i * 40 + state % 40
        })
        .collect()
}

#[test]
fn runs_killed_at_any_moment_leave_a_log_that_verifies_and_are_later_marked_incomplete() {
    let home = tempdir();
    let home = home.path();
    // Each run reads a 32 KiB file again and again: every read is an audit
    // record (written in synced batches, with a checkpoint every 1000), and
    // 8000 reads take far longer than the latest kill.
    let data = "x".repeat(32 * 1024);
    let ws = workspace(&[("data.txt", data.as_str())]);
    let reads = |n: u32| {
        vec![
            "-a".to_string(),
            "case=read-loop".into(),
            "-a".into(),
            "path=data.txt".into(),
            "-a".into(),
            format!("n={n}"),
            "--quiet".into(),
        ]
    };
    // A first run creates the log (and compiles the skill into the cache).
    let args = reads(10);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&run(home, guests::ADVERSARY, ws.path(), &args));
    let first = last_run_id(home);

    let long = reads(8000);
    let delays = kill_delays(10);
    let mut torn_warnings = 0;
    for delay in &delays {
        let mut child = airlock_command(home)
            .args([
                "run",
                "--allow-unsigned",
                guests::ADVERSARY,
                "--workspace",
                utf8(ws.path()),
            ])
            .args(&long)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn airlock run");
        std::thread::sleep(Duration::from_millis(*delay));
        child.kill().expect("SIGKILL");
        let status = child.wait().expect("wait for the killed run");
        let (code, report) = verify_json(home, &[]);
        assert_eq!(
            code,
            Some(0),
            "after a kill at {delay} ms (run exit {status:?}) the log must verify: {}",
            report["failure"]
        );
        assert_eq!(report["ok"], true, "{report:#}");
        torn_warnings += report["warnings"].as_array().map_or(0, |w| {
            w.iter()
                .filter(|w| w.to_string().contains("unfinished"))
                .count()
        });
    }

    // A normal run after the kills: it succeeds and records the dead runs.
    let out = run(home, guests::HELLO, ws.path(), &["--quiet"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "after runs killed at {delays:?} ms, a normal run must succeed: {}",
        describe(&out)
    );
    assert_eq!(text(&out.stdout).trim_end(), "hello, world");
    let (code, report) = verify_json(home, &[]);
    assert_eq!(code, Some(0), "{report:#}");
    assert!(
        report["warnings"].as_array().is_some_and(Vec::is_empty),
        "a torn tail was discarded by the next run: {report:#}"
    );

    let records = log_records(home);
    let ended = |id: &str, kind: &str| records.iter().any(|r| r["run"] == id && r["kind"] == kind);
    let killed: Vec<String> = run_ids(home)
        .into_iter()
        .filter(|id| *id != first)
        .filter(|id| {
            records
                .iter()
                .any(|r| r["run"] == id.as_str() && r["data"]["skill"]["name"] == "guest_adversary")
        })
        .collect();
    assert!(
        !killed.is_empty(),
        "some killed run got far enough to be recorded (delays {delays:?})"
    );
    let show = ok(&airlock(home, &["audit", "show", "--limit", "0"]));
    let mut incomplete = 0;
    let mut finished = 0;
    for id in &killed {
        let block = show_block(&show, id);
        if let Some(end) = records
            .iter()
            .find(|r| r["run"] == id.as_str() && r["kind"] == "run-end")
        {
            // It finished before the kill came: it must have finished well.
            assert_eq!(end["data"]["outcome"], "ok", "run {id} ended badly: {end}");
            finished += 1;
            continue;
        }
        let kinds: Vec<&str> = records
            .iter()
            .filter(|r| r["run"] == id.as_str())
            .filter_map(|r| r["kind"].as_str())
            .collect();
        assert!(
            ended(id, "run-incomplete"),
            "killed run {id} (records: {kinds:?}) was never marked incomplete by the next start (no open-run marker was left for it?):\n{block}"
        );
        assert!(
            block.contains("INCOMPLETE (the process was killed or crashed)"),
            "{block}"
        );
        assert!(
            block.contains("incomplete  the Airlock process ended"),
            "{block}"
        );
        incomplete += 1;
    }
    assert!(incomplete > 0, "{show}");
    assert!(
        report["open-runs"].as_array().is_some_and(Vec::is_empty),
        "every killed run was closed by the next start: {report:#}"
    );
    let recovered = records.iter().filter(|r| r["kind"] == "recovered").count();
    if recovered > 0 {
        assert!(show.contains("  recovered  "), "{show}");
    }
    eprintln!(
        "kill delays {delays:?} ms: {} runs recorded, {incomplete} marked incomplete, {finished} finished before the kill, {recovered} torn record(s) recovered, {torn_warnings} torn-tail warning(s)",
        killed.len()
    );
}

/// The shell script run inside `unshare -rm`: a tiny tmpfs on the audit
/// directory, a first small run that fits, a large run that does not, then
/// verify; each command's exit code printed as `NAME=CODE`.
const DISK_FULL_SCRIPT: &str = r#"
mount -t tmpfs -o size=128k,mode=0700 tmpfs "$AUDIT_DIR" || { echo "mount=failed"; exit 97; }
echo "mount=0"
"$AIRLOCK" --home "$AIRLOCK_HOME_DIR" run --allow-unsigned "$SMALL_SKILL" --workspace "$SMALL_WS" >"$OUT_DIR/small.out" 2>"$OUT_DIR/small.err"
echo "small=$?"
"$AIRLOCK" --home "$AIRLOCK_HOME_DIR" run --allow-unsigned "$BIG_SKILL" --workspace "$BIG_WS" >"$OUT_DIR/big.out" 2>"$OUT_DIR/big.err"
echo "big=$?"
"$AIRLOCK" --home "$AIRLOCK_HOME_DIR" audit verify --json >"$OUT_DIR/verify.json" 2>"$OUT_DIR/verify.err"
echo "verify=$?"
mkdir -p "$OUT_DIR/copy" && cp -a "$AUDIT_DIR" "$OUT_DIR/copy/"
echo "copy=$?"
"#;

#[test]
fn a_full_disk_stops_the_run_with_exit_6_and_leaves_no_half_written_record() {
    let home = tempdir();
    let out_dir = tempdir();
    let audit = home.path().join("audit");
    std::fs::create_dir(&audit).expect("mkdir audit");
    std::fs::set_permissions(&audit, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let small = workspace(&[("README.md", "# demo\n")]);
    let big = tempdir();
    for i in 0..3000 {
        std::fs::write(
            big.path().join(format!("file-{i:04}.txt")),
            format!("line {i}\n"),
        )
        .expect("write a workspace file");
    }
    let mut cmd = Command::new("unshare");
    cmd.args(["-rm", "sh", "-c", DISK_FULL_SCRIPT])
        .env("AIRLOCK", AIRLOCK)
        .env("AIRLOCK_HOME_DIR", home.path())
        .env("AUDIT_DIR", &audit)
        .env("OUT_DIR", out_dir.path())
        .env("SMALL_SKILL", guests::HELLO)
        .env("SMALL_WS", small.path())
        .env("BIG_SKILL", guests::SECRET_SCAN)
        .env("BIG_WS", big.path());
    let out = scrub(&mut cmd, &home.path().join("no-config"))
        .output()
        .expect(
            "cannot run `unshare` (util-linux): this test needs unprivileged user and mount namespaces (`unshare -rm`) to put the audit log on a tiny tmpfs",
        );
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("mount=0"),
        "`unshare -rm` with a tmpfs mount must work here (unprivileged user + mount namespaces); it failed:\n{}",
        describe(&out)
    );
    let code = |name: &str| -> i32 {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .and_then(|c| c.trim().parse().ok())
            .unwrap_or_else(|| panic!("no exit code for `{name}`:\n{}", describe(&out)))
    };
    let read = |name: &str| std::fs::read_to_string(out_dir.path().join(name)).unwrap_or_default();

    assert_eq!(
        code("small"),
        0,
        "the first run fits on the tmpfs:\n{}\n{}",
        read("small.out"),
        read("small.err")
    );
    assert_eq!(read("small.out").trim_end(), "hello, world");

    let big_err = read("big.err");
    let big_out = read("big.out");
    assert_eq!(code("big"), 6, "stdout:\n{big_out}\nstderr:\n{big_err}");
    assert!(
        big_err.contains("the audit log cannot be written"),
        "{big_err}"
    );
    assert!(
        big_err.contains(&format!("{}/log/00000001.jsonl", audit.display())),
        "the message names the file: {big_err}"
    );
    assert!(big_err.contains("No space left on device"), "{big_err}");
    assert!(
        !big_out.contains("Scanned") && !big_out.contains("file-"),
        "the stopped run printed no result: {big_out}"
    );

    // Verified inside the namespace, before the tmpfs went away.
    assert_eq!(
        code("verify"),
        0,
        "{}{}",
        read("verify.json"),
        read("verify.err")
    );
    let report: Value = serde_json::from_str(&read("verify.json")).expect("verify --json");
    assert_eq!(report["ok"], true, "{report:#}");
    assert!(
        report["warnings"].as_array().is_some_and(Vec::is_empty),
        "no torn record was left behind: {report:#}"
    );
    assert_eq!(
        report["open-runs"].as_array().map(Vec::len),
        Some(1),
        "{report:#}"
    );

    // The copy taken before the namespace ended: whole records only, and
    // the stopped run's records up to the last batch that fit.
    assert_eq!(code("copy"), 0);
    let copy = out_dir.path().join("copy");
    let bytes = std::fs::read(log_file(&copy)).expect("read the copied log");
    assert_eq!(
        bytes.last(),
        Some(&b'\n'),
        "the log ends with a whole record"
    );
    ok(&airlock(&copy, &["audit", "verify"]));
    let ids = run_ids(&copy);
    assert_eq!(ids.len(), 2, "both runs began");
    let stopped = &ids[1];
    let records = log_records(&copy);
    assert!(
        !records
            .iter()
            .any(|r| r["run"] == stopped.as_str() && r["kind"] == "run-end"),
        "the stopped run's end could not be recorded"
    );
    let show = ok(&airlock(&copy, &["audit", "show"]));
    let block = show_block(&show, stopped);
    assert!(block.contains("secret_scan"), "{block}");
    assert!(block.contains("read-file   file-"), "{block}");
}

/// A fresh home with the test model pinned as `smollm2` (the name the
/// shipped `assistant` profile grants) and a config file with `extra`.
fn home_with_model(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let home = tempdir();
    ok(&airlock(
        home.path(),
        &["model", "add", utf8(&test_model()), "--name", "smollm2"],
    ));
    let config = home.path().join("config.toml");
    std::fs::write(&config, format!("[engine]\nthreads = 1\n{extra}")).expect("write config");
    (home, config)
}

/// `guest_infer` under the `assistant` profile with `prompt` as its input.
fn infer(home: &Path, config: &Path, prompt: &str) -> Output {
    let ws = workspace(&[]);
    airlock(
        home,
        &[
            "--config",
            utf8(config),
            "run",
            "--allow-unsigned",
            guests::INFER,
            "--profile",
            "assistant",
            "--workspace",
            utf8(ws.path()),
            "--input",
            prompt,
            "--arg",
            "max-tokens=8",
            "--quiet",
        ],
    )
}

#[test]
fn an_inference_call_is_recorded_with_the_pinned_digest_the_exact_prompt_and_the_answer() {
    let (home, config) = home_with_model("");
    let home = home.path();
    let prompt = "Reply with one word: what colour is the sky?";
    let out = infer(home, &config, prompt);
    let stdout = ok(&out);
    let printed: Value = serde_json::from_str(stdout.trim_end()).expect("guest_infer prints JSON");
    let answer = printed["text"].as_str().expect("the answer's text");

    let models = ok(&airlock(home, &["model", "list", "--json"]));
    let models: Value = serde_json::from_str(&models).expect("model list --json");
    let pinned = models[0]["digest"].as_str().expect("a pinned digest");
    assert_eq!(pinned, format!("sha256:{TEST_MODEL_SHA256}"));

    let records = log_records(home);
    let calls: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "inference")
        .collect();
    assert_eq!(calls.len(), 1, "{records:#?}");
    let call = &calls[0]["data"];
    assert_eq!(call["model"], "smollm2");
    assert_eq!(call["digest"], pinned, "{call:#}");
    let messages = call["request"]["messages"].as_array().expect("messages");
    assert!(
        messages
            .iter()
            .any(|m| m["role"] == "user" && m["content"] == prompt),
        "the exact prompt is recorded: {call:#}"
    );
    assert_eq!(
        call["output"], answer,
        "the recorded answer is the one returned"
    );
    assert_eq!(call["completion-tokens"], printed["completion-tokens"]);
    assert_eq!(call["prompt-tokens"], printed["prompt-tokens"]);

    let start = records
        .iter()
        .find(|r| r["kind"] == "run-start")
        .expect("run-start");
    assert_eq!(start["data"]["models"][0]["name"], "smollm2");
    assert_eq!(start["data"]["models"][0]["digest"], pinned);
    let end = records
        .iter()
        .find(|r| r["kind"] == "run-end")
        .expect("run-end");
    assert_eq!(
        end["data"]["output"],
        stdout.trim_end_matches('\n'),
        "the run's recorded output is what it printed"
    );
    assert!(calls[0]["run"] == start["run"] && end["run"] == start["run"]);

    let show = ok(&airlock(home, &["audit", "show"]));
    assert!(show.contains(&format!("[user]    {prompt}")), "{show}");
    assert!(
        show.contains("model       smollm2 (sha256:b179c9523d0e…)"),
        "{show}"
    );
    ok(&airlock(home, &["audit", "verify"]));
}

#[test]
fn redact_secrets_keeps_a_key_in_the_prompt_out_of_the_audit_log() {
    let (home, config) = home_with_model("[audit]\nredact-secrets = true\n");
    let home = home.path();
    let secret = "AKIAABCDEFGHIJKLMNOP";
    let prompt = format!("My key is {secret}; reply with ok.");
    ok(&infer(home, &config, &prompt));

    let records = log_records(home);
    let call = &records
        .iter()
        .find(|r| r["kind"] == "inference")
        .expect("an inference record")["data"];
    let messages = call["request"]["messages"].as_array().expect("messages");
    assert!(
        messages.iter().any(|m| m["role"] == "user"
            && m["content"] == "My key is [redacted:aws-access-key-id]; reply with ok."),
        "the stored prompt is redacted: {call:#}"
    );
    assert!(
        call["redacted"]["aws-access-key-id"]
            .as_u64()
            .is_some_and(|n| n >= 1),
        "the redaction is counted: {call:#}"
    );
    ok(&airlock(home, &["audit", "verify"]));
    // Nowhere in the log: not in the prompt, nor in the run's recorded input.
    let log = std::fs::read_to_string(log_file(home)).expect("read the log");
    let leaks: Vec<String> = log
        .lines()
        .filter(|l| l.contains(secret))
        .map(|l| {
            let r: Value = serde_json::from_str(l).expect("JSON");
            format!("record #{} ({})", r["seq"], r["kind"])
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "with redact-secrets = true the key must not be stored anywhere in the audit log, but it is in {leaks:?}"
    );
}

#[test]
fn an_audit_directory_open_to_other_users_refuses_every_run() {
    let home = tempdir();
    let audit = home.path().join("audit");
    std::fs::create_dir(&audit).expect("mkdir");
    std::fs::set_permissions(&audit, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let ws = workspace(&[("README.md", "# demo\n")]);
    let out = run(home.path(), guests::HELLO, ws.path(), &[]);
    let stdout = expect_code(&out, 6);
    let stderr = text(&out.stderr);
    assert!(stdout.is_empty(), "the skill never ran: {stdout}");
    assert!(
        stderr.contains("the audit log cannot be written"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("run `chmod 700 {}`", audit.display())),
        "{stderr}"
    );
    assert!(!audit.join("log").exists(), "nothing was written");

    // --json: the same refusal, and still no skill output.
    let out = run(home.path(), guests::HELLO, ws.path(), &["--json"]);
    expect_code(&out, 6);
    assert!(
        !text(&out.stdout).contains("hello, world"),
        "{}",
        describe(&out)
    );

    // Fixed as told, the run goes ahead.
    std::fs::set_permissions(&audit, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let out = ok(&run(home.path(), guests::HELLO, ws.path(), &["--quiet"]));
    assert_eq!(out.trim_end(), "hello, world");
}

/// The key file as `seal.rs` stores it.
fn key_of(bytes: &[u8]) -> String {
    let file: Value = serde_json::from_slice(bytes).expect("seal.key is JSON");
    file["current"].as_str().expect("a current key").to_string()
}

#[test]
fn a_crash_while_sealing_a_checkpoint_leaves_a_log_later_runs_extend_and_verify() {
    // A checkpoint is sealed in steps: the key file gains the next key, the
    // checkpoint record is appended, the key file drops the used key, and
    // head.json is replaced. A process killed between two steps leaves the
    // state each case below recreates exactly (head.json is written last
    // and atomically, so a kill before its rename leaves the previous one).
    let ws = workspace(&[("README.md", "# demo\n")]);
    let mut problems = Vec::new();
    for killed_before_key_rotation in [false, true] {
        let home = tempdir();
        let home = home.path();
        let audit = home.join("audit");
        ok(&run(home, guests::HELLO, ws.path(), &["--quiet"]));
        let old_head = std::fs::read(audit.join("head.json")).expect("head.json");
        let old_key = std::fs::read(audit.join("seal.key")).expect("seal.key");
        ok(&run(home, guests::HELLO, ws.path(), &["--quiet"]));
        let new_key = std::fs::read(audit.join("seal.key")).expect("seal.key");
        std::fs::write(audit.join("head.json"), &old_head).expect("restore head.json");
        let case = if killed_before_key_rotation {
            // Killed after the checkpoint record, before the key file
            // dropped the key that signed it.
            let both = serde_json::json!({ "current": key_of(&old_key), "next": key_of(&new_key) });
            std::fs::write(audit.join("seal.key"), both.to_string()).expect("write seal.key");
            "killed after appending the checkpoint, before rotating the key file"
        } else {
            "killed after rotating the key file, before replacing head.json"
        };
        let (code, report) = verify_json(home, &[]);
        assert_eq!(
            code,
            Some(0),
            "{case}: the crash left a consistent log: {report:#}"
        );

        let out = run(home, guests::HELLO, ws.path(), &["--quiet"]);
        if out.status.code() != Some(0) {
            problems.push(format!(
                "{case}: the next run must be able to extend the log, but: {}",
                describe(&out)
            ));
            continue;
        }
        let (code, report) = verify_json(home, &[]);
        if code != Some(0) {
            problems.push(format!(
                "{case}: the log the next run extended must verify, but: {}",
                report["failure"]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
