//! `airlock audit`: show, verify, export and checkpoint the audit trail.

use crate::cli::{AuditCommand, AuditExportArgs, AuditFilter, AuditShowArgs};
use crate::exit::{Exit, Failure};
use airlock_runtime::audit::record::{Record, kind};
use airlock_runtime::audit::verify::{self, Anchor, Report};
use airlock_runtime::audit::{AuditLog, audit_dir, export};
use airlock_runtime::config::Config;
use airlock_runtime::terminal;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub fn audit(
    cmd: AuditCommand,
    home: Option<PathBuf>,
    config: Option<PathBuf>,
) -> Result<Exit, Failure> {
    if let AuditCommand::Verify {
        checkpoint,
        export: Some(export),
        json,
    } = &cmd
    {
        // An export is checked on its own: no Airlock home needed.
        return verify_cmd(Path::new(""), checkpoint, Some(export), *json);
    }
    let home = home.ok_or_else(|| {
        Failure::usage(
            "no Airlock home ($AIRLOCK_HOME or $HOME), so no audit log: set AIRLOCK_HOME or pass --home DIR",
        )
    })?;
    let dir = audit_dir(&home);
    match cmd {
        AuditCommand::Verify {
            checkpoint,
            export,
            json,
        } => verify_cmd(&dir, &checkpoint, export.as_deref(), json),
        AuditCommand::Show(args) => show(&dir, &args),
        AuditCommand::Export(args) => export_cmd(&dir, &args),
        AuditCommand::Checkpoint { export, json } => {
            checkpoint(&home, config.as_deref(), export.as_deref(), json)
        }
    }
}

fn no_log(dir: &Path) -> Failure {
    Failure::usage(format!(
        "there is no audit log in {} yet: it is created by the first `airlock run`",
        dir.display()
    ))
}

fn verify_cmd(
    dir: &Path,
    anchors: &[PathBuf],
    export: Option<&Path>,
    json: bool,
) -> Result<Exit, Failure> {
    let anchors = anchors
        .iter()
        .map(|p| Anchor::read(p).map_err(Failure::usage))
        .collect::<Result<Vec<_>, _>>()?;
    let (what, report) = match export {
        Some(path) => {
            if !path.is_file() {
                return Err(Failure::usage(format!(
                    "export file {} does not exist",
                    path.display()
                )));
            }
            (
                format!("audit export {}", path.display()),
                verify::verify_export(path, &anchors),
            )
        }
        None => {
            if !dir.join("log").is_dir() {
                return Err(no_log(dir));
            }
            (
                format!("audit log {}", dir.display()),
                verify::verify_log(dir, &anchors),
            )
        }
    };
    if json {
        println!("{}", super::to_json(&report)?);
    } else {
        print_report(&what, &report, anchors.len());
    }
    Ok(if report.ok {
        Exit::Success
    } else {
        Exit::Audit
    })
}

fn short(hash: &str) -> &str {
    hash.get(..16).unwrap_or(hash)
}

fn print_report(what: &str, report: &Report, anchors: usize) {
    let mut out = std::io::stdout().lock();
    match &report.failure {
        None => {
            let _ = writeln!(out, "{what}: verified");
            let _ = writeln!(
                out,
                "  {} records in {} file(s); chain head {}…",
                report.records,
                report.files,
                report.head.as_deref().map(short).unwrap_or("-")
            );
            match &report.last_checkpoint {
                Some(cp) => {
                    let _ = writeln!(
                        out,
                        "  {} checkpoint(s), each signed with the key of its time; the last #{} at {}; {} record(s) after it not yet sealed",
                        report.checkpoints, cp.seq, cp.time, report.unsealed
                    );
                }
                None => {
                    let _ = writeln!(
                        out,
                        "  no checkpoint yet ({} unsealed record(s))",
                        report.unsealed
                    );
                }
            }
            if anchors > 0 {
                let _ = writeln!(
                    out,
                    "  contains the {anchors} exported checkpoint(s) given, byte for byte"
                );
            }
            if !report.open_runs.is_empty() {
                let _ = writeln!(
                    out,
                    "  runs without an end record: {} (still running, or killed: the next run records them as incomplete)",
                    report.open_runs.join(", ")
                );
            }
        }
        Some(problem) => {
            let at = match problem.seq {
                Some(seq) => format!("record #{seq}"),
                None => "the log".to_string(),
            };
            let place = if problem.line > 0 {
                format!(" ({} line {})", problem.file, problem.line)
            } else {
                format!(" ({})", problem.file)
            };
            let _ = writeln!(out, "{what}: FAILED verification at {at}{place}");
            // The reason may quote what a tampered record holds.
            let _ = writeln!(out, "  {}", terminal::text(&problem.reason));
            let _ = writeln!(
                out,
                "  {} record(s) before it verified. Keep this log as evidence; do not run new skills until it is explained.",
                report.records
            );
        }
    }
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {}", terminal::text(warning));
    }
}

fn checkpoint(
    home: &Path,
    config: Option<&Path>,
    export: Option<&Path>,
    json: bool,
) -> Result<Exit, Failure> {
    let settings = Config::load(config).map_err(|e| Failure::usage(e.to_string()))?;
    if let Some(path) = export
        && path.exists()
    {
        return Err(Failure::usage(format!(
            "{} already exists; choose a new file name (checkpoints are never overwritten)",
            path.display()
        )));
    }
    let log = AuditLog::open(home, settings.audit)
        .map_err(|e| Failure::new(Exit::Audit, e.to_string()))?;
    log.checkpoint()
        .map_err(|e| Failure::new(Exit::Audit, e.to_string()))?;
    let doc = export::latest_checkpoint(log.dir()).map_err(|e| Failure::new(Exit::Audit, e))?;
    if let Some(path) = export {
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| Failure::new(Exit::Internal, e.to_string()))?;
        write_new_file(path, &format!("{text}\n"))?;
    }
    if json {
        println!("{}", super::to_json(&doc)?);
    } else {
        println!(
            "sealed: checkpoint #{} at {} (log {})",
            doc["seq"],
            doc["time"].as_str().unwrap_or_default(),
            doc["log-id"].as_str().unwrap_or_default()
        );
        if let Some(path) = export {
            println!(
                "exported to {}: keep it where this workstation cannot write, and check the log against it with\n  airlock audit verify --checkpoint {}",
                path.display(),
                path.display()
            );
        }
    }
    Ok(Exit::Success)
}

/// Write `text` to a new file (never over an existing one), synced; a
/// failed write leaves no partial file behind.
fn write_new_file(path: &Path, text: &str) -> Result<(), Failure> {
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            let _ = std::fs::remove_file(path);
        }
        return Err(Failure::usage(format!(
            "cannot write {}: {e}",
            path.display()
        )));
    }
    Ok(())
}

/// Parse `--since`: an RFC 3339 time, a date, or an age like `2h`.
pub fn parse_since(text: &str) -> Result<SystemTime, Failure> {
    if let Ok(t) = humantime::parse_rfc3339_weak(text) {
        return Ok(t);
    }
    if let Ok(t) = humantime::parse_rfc3339_weak(&format!("{text}T00:00:00")) {
        return Ok(t);
    }
    if let Ok(age) = humantime::parse_duration(text) {
        return Ok(SystemTime::now()
            .checked_sub(age)
            .unwrap_or(SystemTime::UNIX_EPOCH));
    }
    Err(Failure::usage(format!(
        "--since {text:?} is not a time: write an RFC 3339 time or date (2026-11-26T09:00:00Z, 2026-11-26) or an age (30m, 2h, 7days)"
    )))
}

fn time_of(record: &Record) -> Option<SystemTime> {
    humantime::parse_rfc3339(&record.time).ok()
}

/// The runs (and run-less records) the filter selects, as a predicate.
struct Selection {
    runs: Option<std::collections::BTreeSet<String>>,
    since: Option<SystemTime>,
    any_filter: bool,
}

impl Selection {
    fn new(filter: &AuditFilter, records: &[(Record, String)]) -> Result<Self, Failure> {
        let since = filter.since.as_deref().map(parse_since).transpose()?;
        let mut starts: BTreeMap<String, &Record> = BTreeMap::new();
        for (r, _) in records {
            if r.kind == kind::RUN_START
                && let Some(run) = &r.run
            {
                starts.insert(run.clone(), r);
            }
        }
        let mut runs: Option<std::collections::BTreeSet<String>> = None;
        if let Some(prefix) = &filter.run {
            let matching: Vec<&String> = starts
                .keys()
                .filter(|id| id.starts_with(prefix.as_str()))
                .collect();
            match matching.len() {
                0 => {
                    return Err(Failure::usage(format!(
                        "no recorded run has an id starting with `{prefix}` (see `airlock audit show`)"
                    )));
                }
                1 => {}
                _ => {
                    return Err(Failure::usage(format!(
                        "`{prefix}` matches {} runs ({}); give more of the id",
                        matching.len(),
                        matching
                            .iter()
                            .take(5)
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
            }
            runs = Some(matching.into_iter().cloned().collect());
        }
        if let Some(skill) = &filter.skill {
            let by_skill: std::collections::BTreeSet<String> = starts
                .iter()
                .filter(|(_, r)| {
                    r.data.pointer("/skill/name").and_then(Value::as_str) == Some(skill.as_str())
                })
                .map(|(id, _)| id.clone())
                .collect();
            runs = Some(match runs {
                Some(r) => r.intersection(&by_skill).cloned().collect(),
                None => by_skill,
            });
        }
        Ok(Self {
            runs,
            since,
            any_filter: filter.run.is_some() || filter.since.is_some() || filter.skill.is_some(),
        })
    }

    fn accepts(&self, record: &Record, run_started: Option<SystemTime>) -> bool {
        if let Some(runs) = &self.runs {
            return record.run.as_ref().is_some_and(|r| runs.contains(r))
                && self
                    .since
                    .is_none_or(|s| run_started.is_some_and(|t| t >= s));
        }
        if let Some(since) = self.since {
            let t = run_started.or_else(|| time_of(record));
            return t.is_some_and(|t| t >= since);
        }
        true
    }
}

/// When each run started.
fn run_starts(records: &[(Record, String)]) -> BTreeMap<String, SystemTime> {
    records
        .iter()
        .filter(|(r, _)| r.kind == kind::RUN_START)
        .filter_map(|(r, _)| Some((r.run.clone()?, time_of(r)?)))
        .collect()
}

fn load(dir: &Path) -> Result<Vec<(Record, String)>, Failure> {
    if !dir.join("log").is_dir() {
        return Err(no_log(dir));
    }
    verify::read_records(dir).map_err(Failure::usage)
}

fn export_cmd(dir: &Path, args: &AuditExportArgs) -> Result<Exit, Failure> {
    let records = load(dir)?;
    let selection = Selection::new(&args.filter, &records)?;
    let starts = run_starts(&records);
    let selected = |r: &Record| {
        if selection.any_filter
            && matches!(
                r.kind.as_str(),
                kind::CHECKPOINT | kind::SEGMENT_START | kind::LOG_START
            )
        {
            return false;
        }
        selection.accepts(r, r.run.as_ref().and_then(|id| starts.get(id).copied()))
    };
    let Some(range) = export::sealed_range(&records, &selected) else {
        return Err(Failure::usage(
            "no records match; see `airlock audit show` for what is recorded",
        ));
    };
    let log_id = records
        .first()
        .and_then(|(r, _)| r.str("log-id"))
        .map(str::to_string);
    let lines = export::export_lines(&records, range, log_id.as_deref());
    let mut text = lines.join("\n");
    text.push('\n');
    match &args.output {
        Some(path) => {
            write_new_file(path, &text)?;
            eprintln!(
                "exported records #{}..#{} ({} lines) to {}; check them with `airlock audit verify --export {}`",
                records[range.0].0.seq,
                records[range.1].0.seq,
                lines.len() - 1,
                path.display(),
                path.display()
            );
        }
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(Exit::Success)
}

pub(super) fn show(dir: &Path, args: &AuditShowArgs) -> Result<Exit, Failure> {
    let records = load(dir)?;
    let report = verify::verify_log(dir, &[]);
    if !report.ok {
        eprintln!(
            "warning: the audit log FAILED verification; run `airlock audit verify` for details. Showing what is recorded."
        );
    }
    let selection = Selection::new(&args.filter, &records)?;
    let starts = run_starts(&records);
    // Runs in order of their first record, limited to the latest N.
    let mut order: Vec<String> = Vec::new();
    let mut by_run: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    let mut loose: Vec<&Record> = Vec::new();
    for (r, _) in &records {
        let started = r.run.as_ref().and_then(|id| starts.get(id).copied());
        if !selection.accepts(r, started) {
            continue;
        }
        match &r.run {
            Some(id) => {
                if !by_run.contains_key(id) {
                    order.push(id.clone());
                }
                by_run.entry(id.clone()).or_default().push(r);
            }
            None if matches!(
                r.kind.as_str(),
                kind::RUN_REFUSED | kind::ADMIN | kind::RECOVERED
            ) =>
            {
                loose.push(r)
            }
            None => {}
        }
    }
    if args.limit > 0 && order.len() > args.limit {
        order.drain(..order.len() - args.limit);
    }
    if args.json {
        let keep: std::collections::BTreeSet<&String> = order.iter().collect();
        let mut out = std::io::stdout().lock();
        for (r, line) in &records {
            let in_run = r.run.as_ref().is_some_and(|id| keep.contains(id));
            let loose_hit = loose.iter().any(|l| l.seq == r.seq);
            if in_run || loose_hit {
                let _ = writeln!(out, "{line}");
            }
        }
        return Ok(Exit::Success);
    }
    if order.is_empty() && loose.is_empty() {
        println!(
            "no runs recorded{}",
            if selection.any_filter {
                " that match"
            } else {
                ""
            }
        );
        return Ok(Exit::Success);
    }
    let mut out = std::io::stdout().lock();
    for r in &loose {
        let _ = writeln!(out, "{}", loose_line(r));
    }
    if !loose.is_empty() {
        let _ = writeln!(out);
    }
    for id in &order {
        if let Some(recs) = by_run.get(id) {
            show_run(&mut out, id, recs, args.full);
            let _ = writeln!(out);
        }
    }
    Ok(Exit::Success)
}

fn hhmmss(time: &str) -> std::borrow::Cow<'_, str> {
    line(time.get(11..23).unwrap_or(time))
}

/// One approval record: what was asked, and what was decided by whom.
fn approval_line(r: &Record) -> String {
    let at = |p: &str| r.data.pointer(p).and_then(Value::as_str).unwrap_or("?");
    let subject = match at("/request/subject/type") {
        "command" => {
            let args: Vec<String> = r
                .data
                .pointer("/request/subject/args")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().unwrap_or("?").to_string())
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "run `{}` in {}",
                line(&airlock_runtime::approval::shell_words(
                    at("/request/subject/program"),
                    &args
                )),
                line(at("/request/subject/cwd"))
            )
        }
        _ => format!(
            "{} {}",
            line(at("/request/subject/change")),
            line(at("/request/subject/path"))
        ),
    };
    let allowed = r
        .data
        .pointer("/decision/allowed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut text = format!(
        "{subject}: {} ({}, {})",
        if allowed { "allowed" } else { "DENIED" },
        line(at("/decision/how")),
        line(at("/decision/who"))
    );
    if let Some(risks) = r
        .data
        .pointer("/request/risks")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        let risks: Vec<String> = risks
            .iter()
            .map(|v| line(v.as_str().unwrap_or("?")).into_owned())
            .collect();
        text.push_str(&format!(" · risk: {}", risks.join("; ")));
    }
    text
}

fn loose_line(r: &Record) -> String {
    match r.kind.as_str() {
        kind::RUN_REFUSED => format!(
            "{}  refused  {} (exit {}): {}",
            line(&r.time),
            line(r.str("skill").unwrap_or("?")),
            r.u64("exit-code").unwrap_or(0),
            line(r.str("reason").unwrap_or_default())
        ),
        kind::ADMIN => format!(
            "{}  admin    {} by {} {}",
            line(&r.time),
            line(r.str("action").unwrap_or("?")),
            line(
                r.data
                    .pointer("/identity/user")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
            ),
            line(
                &r.data
                    .get("details")
                    .map(Value::to_string)
                    .unwrap_or_default()
            )
        ),
        _ => format!(
            "{}  {}  {}",
            line(&r.time),
            line(&r.kind),
            line(r.str("reason").unwrap_or_default())
        ),
    }
}

/// A recorded value on one line of the terminal: what a skill, a model or
/// a file produced is shown, never obeyed (`--json` stays exact).
fn line(text: &str) -> std::borrow::Cow<'_, str> {
    terminal::line(text)
}

/// Fold long text to its first line unless `full`; either way rendered for
/// the terminal (escapes shown; with `full`, each line indented).
fn fold(text: &str, full: bool, indent: &str) -> String {
    if full {
        return terminal::text(text).replace('\n', &format!("\n{indent}"));
    }
    let lines = text.lines().count();
    let first: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect();
    let cut = first.len() < text.trim_end().len();
    let first = line(&first).into_owned();
    if cut {
        format!(
            "{first} … ({lines} line(s), {} chars; --full shows all)",
            text.chars().count()
        )
    } else {
        first
    }
}

fn show_run(out: &mut impl Write, id: &str, recs: &[&Record], full: bool) {
    let start = recs.iter().find(|r| r.kind == kind::RUN_START);
    let end = recs
        .iter()
        .find(|r| matches!(r.kind.as_str(), kind::RUN_END | kind::RUN_INCOMPLETE));
    let d = start.map(|r| &r.data);
    let get = |p: &str| {
        line(
            d.and_then(|d| d.pointer(p))
                .and_then(Value::as_str)
                .unwrap_or("?"),
        )
    };
    let signer = match d.and_then(|d| d.pointer("/skill/signer")) {
        Some(Value::String(s)) => line(s).into_owned(),
        Some(v) => format!(
            "signed by {}",
            line(v.get("trusted_as").and_then(Value::as_str).unwrap_or("?"))
        ),
        None => "?".into(),
    };
    let outcome = match end {
        Some(e) if e.kind == kind::RUN_INCOMPLETE => {
            "INCOMPLETE (the process was killed or crashed)".to_string()
        }
        Some(e) => format!(
            "{}, exit {}",
            line(e.str("outcome").unwrap_or("?")),
            e.u64("exit-code").unwrap_or(0)
        ),
        None => "no end record (still running, or killed)".into(),
    };
    let _ = writeln!(
        out,
        "run {}  {}  {} (sha256:{}…, {signer})  {outcome}",
        line(id),
        line(start.map_or("?", |r| r.time.as_str())),
        get("/skill/name"),
        short(&get("/skill/digest")),
    );
    let configured = d
        .and_then(|d| d.pointer("/identity/configured"))
        .and_then(Value::as_str)
        .map(|c| format!(" as {}", line(c)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  user {} (uid {}){configured} on {} · profile {} (sha256:{}…) · workspace {}",
        get("/identity/user"),
        line(
            &d.and_then(|d| d.pointer("/identity/uid"))
                .map(Value::to_string)
                .unwrap_or_default()
        ),
        get("/identity/host"),
        get("/profile"),
        short(&get("/profile-digest")),
        get("/workspace"),
    );
    if let Some(models) = d
        .and_then(|d| d.get("models"))
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    {
        let names: Vec<String> = models
            .iter()
            .map(|m| {
                format!(
                    "{} ({}…)",
                    line(m.get("name").and_then(Value::as_str).unwrap_or("?")),
                    line(
                        m.get("digest")
                            .and_then(Value::as_str)
                            .map(|s| s.get(..19).unwrap_or(s))
                            .unwrap_or("?")
                    )
                )
            })
            .collect();
        let _ = writeln!(out, "  models {} via {}", names.join(", "), get("/backend"));
    }
    if let Some(input) = d.and_then(|d| d.get("input")).and_then(Value::as_str) {
        let _ = writeln!(out, "  input   {}", fold(input, full, "          "));
    }
    for r in recs {
        let t = hhmmss(&r.time);
        match r.kind.as_str() {
            kind::ACCESS => {
                let allowed = r
                    .data
                    .get("allowed")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let op = line(r.str("op").unwrap_or("?"));
                let path = line(r.str("path").unwrap_or("?"));
                let detail = if !allowed {
                    format!("DENIED: {}", line(r.str("rule").unwrap_or_default()))
                } else if let Some(err) = r.str("error") {
                    format!("failed: {}", line(err))
                } else if let Some(bytes) = r.u64("bytes") {
                    format!("{bytes} B")
                } else if let Some(n) = r.u64("entries") {
                    format!("{n} entries")
                } else if let Some(n) = r.u64("matches") {
                    format!(
                        "{n} matches for {}",
                        line(&format!("{:?}", r.str("pattern").unwrap_or_default()))
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(out, "  {t}  {op:<11} {path}  {detail}");
            }
            kind::LOG => {
                let _ = writeln!(
                    out,
                    "  {t}  log/{:<7} {}",
                    line(r.str("level").unwrap_or("?")),
                    fold(
                        r.str("message").unwrap_or_default(),
                        full,
                        "                        "
                    )
                );
            }
            kind::INFERENCE => {
                let status = match r.str("error") {
                    Some(e) => format!("failed: {}", line(e)),
                    None => line(r.str("finish").unwrap_or("?")).into_owned(),
                };
                let _ = writeln!(
                    out,
                    "  {t}  model       {} ({}…): {} prompt + {} generated tokens, {} ms, {status}",
                    line(r.str("model").unwrap_or("?")),
                    line(
                        r.str("digest")
                            .map(|s| s.get(..19).unwrap_or(s))
                            .unwrap_or("?")
                    ),
                    r.u64("prompt-tokens").unwrap_or(0),
                    r.u64("completion-tokens").unwrap_or(0),
                    r.u64("elapsed-ms").unwrap_or(0),
                );
                let pad = "                          ";
                if let Some(messages) = r
                    .data
                    .pointer("/request/messages")
                    .and_then(Value::as_array)
                {
                    for m in messages {
                        let role = m.get("role").and_then(Value::as_str).unwrap_or("?");
                        let content = m.get("content").and_then(Value::as_str).unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "                 {:<9} {}",
                            format!("[{}]", line(role)),
                            fold(content, full, pad)
                        );
                    }
                }
                let _ = writeln!(
                    out,
                    "                 {:<9} {}",
                    "[answer]",
                    fold(r.str("output").unwrap_or_default(), full, pad)
                );
                if r.data
                    .get("redacted")
                    .and_then(Value::as_object)
                    .is_some_and(|m| !m.is_empty())
                {
                    let _ = writeln!(
                        out,
                        "                 (secrets redacted: {})",
                        line(&r.data["redacted"].to_string())
                    );
                }
            }
            kind::RUN_END => {
                let usage = match r.data.get("usage") {
                    Some(u) => format!(
                        " · read {} B · wrote {} B",
                        u.get("bytes-read").and_then(Value::as_u64).unwrap_or(0),
                        u.get("bytes-written").and_then(Value::as_u64).unwrap_or(0)
                    ),
                    None => String::new(),
                };
                let findings = r
                    .data
                    .get("findings")
                    .and_then(Value::as_array)
                    .map(|f| format!(" · {} finding(s)", f.len()))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {t}  end         {} · exit {} · {} ms{usage}{findings}{}",
                    line(r.str("outcome").unwrap_or("?")),
                    r.u64("exit-code").unwrap_or(0),
                    r.u64("elapsed-ms").unwrap_or(0),
                    r.str("error")
                        .map(|e| format!(" · error: {}", line(e)))
                        .unwrap_or_default(),
                );
                if let Some(output) = r.str("output").filter(|o| !o.is_empty()) {
                    let _ = writeln!(
                        out,
                        "                 output    {}",
                        fold(output, full, "                           ")
                    );
                }
            }
            kind::RUN_INCOMPLETE => {
                let _ = writeln!(
                    out,
                    "  {t}  incomplete  {}",
                    line(r.str("reason").unwrap_or_default())
                );
            }
            kind::APPROVAL => {
                let _ = writeln!(out, "  {t}  approval    {}", approval_line(r));
            }
            _ => {}
        }
    }
}
