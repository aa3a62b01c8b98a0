//! `airlock audit`: show, verify, export and checkpoint the audit trail.

use crate::cli::{AuditCommand, AuditExportArgs, AuditFilter, AuditShowArgs};
use crate::exit::{Exit, Failure};
use airlock_runtime::audit::query::{Filter, Selection};
use airlock_runtime::audit::record::{Record, kind};
use airlock_runtime::audit::verify::{self, Anchor, Report};
use airlock_runtime::audit::{AuditLog, audit_dir, export};
use airlock_runtime::terminal;
use airlock_session::config::Config;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

mod show;

use show::{loose_line, show_run};

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
        .map(|p| Anchor::read(p).map_err(|e| Failure::usage(e.to_string())))
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

pub(super) fn short(hash: &str) -> &str {
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
    let doc = export::latest_checkpoint(log.dir())
        .map_err(|e| Failure::new(Exit::Audit, e.to_string()))?;
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

/// The records `filter` selects from `records`; a bad `--since` or a run
/// prefix matching no run or several is a usage error.
fn select(filter: &AuditFilter, records: &[(Record, String)]) -> Result<Selection, Failure> {
    let filter = Filter {
        run: filter.run.clone(),
        since: filter.since.clone(),
        skill: filter.skill.clone(),
    };
    Selection::new(&filter, records).map_err(|e| Failure::usage(e.to_string()))
}

fn load(dir: &Path) -> Result<Vec<(Record, String)>, Failure> {
    if !dir.join("log").is_dir() {
        return Err(no_log(dir));
    }
    verify::read_records(dir).map_err(|e| Failure::usage(e.to_string()))
}

fn export_cmd(dir: &Path, args: &AuditExportArgs) -> Result<Exit, Failure> {
    let records = load(dir)?;
    let selection = select(&args.filter, &records)?;
    let Some(range) = export::sealed_range(&records, &|r| selection.exports(r)) else {
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
    let selection = select(&args.filter, &records)?;
    // Runs in order of their first record, limited to the latest N.
    let mut order: Vec<String> = Vec::new();
    let mut by_run: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    let mut loose: Vec<&Record> = Vec::new();
    for (r, _) in &records {
        if !selection.accepts(r) {
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
            if selection.is_filtered() {
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
