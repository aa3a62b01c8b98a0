//! `airlock run`.

use super::{compile, runtime, start, to_json};
use crate::cli::{RunArgs, SeverityArg};
use crate::exit::{Exit, Failure};
use airlock_runtime::journal::Level;
use airlock_runtime::{Event, EventSink, Profile, Request, RunFailure, RunReport};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

pub fn run(args: RunArgs, home: Option<PathBuf>) -> Result<Exit, Failure> {
    let profile = Profile::load(&args.profile)?;
    if !args.workspace.is_dir() {
        return Err(Failure::usage(format!(
            "workspace {} is not a directory; pass one with --workspace DIR",
            args.workspace.display()
        )));
    }
    let workspace = args.workspace.canonicalize().map_err(|e| {
        Failure::usage(format!(
            "cannot resolve workspace {}: {e}",
            args.workspace.display()
        ))
    })?;
    let airlock = start(home.as_ref())?;
    let compiled = compile(&airlock, &args.skill)?;
    let skill = match airlock.prepare(compiled) {
        Ok(skill) => skill,
        Err(e) if args.json => {
            let code = Exit::from(&e);
            print_json_failure(status_of(code), &e.to_string(), &[])?;
            return Ok(code);
        }
        Err(e) => return Err(e.into()),
    };
    let request = Request {
        input: args.input.clone(),
        args: args.args.clone(),
    };
    let live = !args.json && !args.quiet;
    let sink: Option<EventSink> = live.then(|| Arc::new(print_event) as EventSink);
    let outcome = runtime()?.block_on(airlock.run(&skill, &profile, &workspace, &request, sink));
    match outcome {
        Ok(report) => finish(&args, &report),
        Err(failure) => {
            let (code, events) = match &failure {
                RunFailure::Setup(_) => (Exit::Usage, &[][..]),
                RunFailure::Refused(_) => (Exit::Refused, &[][..]),
                RunFailure::Limit { events, .. } => (Exit::Limit, &events[..]),
                RunFailure::Crashed { events, .. } => (Exit::SkillFailed, &events[..]),
            };
            if args.json {
                print_json_failure(status_of(code), &failure.to_string(), events)?;
                Ok(code)
            } else {
                Err(Failure::new(code, failure.to_string()))
            }
        }
    }
}

fn status_of(code: Exit) -> &'static str {
    match code {
        Exit::Success => "ok",
        Exit::SkillFailed => "skill-failed",
        Exit::Usage => "usage-error",
        Exit::Refused => "refused",
        Exit::Limit => "limit-exceeded",
        Exit::Findings => "findings",
        Exit::Internal => "internal-error",
    }
}

fn print_json_failure(status: &str, message: &str, events: &[Event]) -> Result<(), Failure> {
    let value = serde_json::json!({ "status": status, "error": message, "events": events });
    println!("{}", to_json(&value)?);
    Ok(())
}

fn finish(args: &RunArgs, report: &RunReport) -> Result<Exit, Failure> {
    let mut code = if report.error.is_some() {
        Exit::SkillFailed
    } else {
        Exit::Success
    };
    if code == Exit::Success
        && let Some(threshold) = args.fail_on
    {
        let hit = report
            .findings
            .iter()
            .any(|f| SeverityArg::rank_of(f.severity).is_some_and(|s| s >= threshold));
        if hit {
            code = Exit::Findings;
        }
    }
    if args.json {
        let mut value = serde_json::to_value(report)
            .map_err(|e| Failure::new(Exit::Internal, format!("cannot encode JSON: {e}")))?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("status".into(), status_of(code).into());
        }
        println!("{}", to_json(&value)?);
        return Ok(code);
    }
    if let Some(text) = &report.output {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') && !text.is_empty() {
            let _ = out.write_all(b"\n");
        }
    }
    if !args.quiet {
        summary(report);
    }
    if let Some(error) = &report.error {
        return Err(Failure::new(
            Exit::SkillFailed,
            format!("skill `{}` failed: {error}", report.skill.name),
        ));
    }
    Ok(code)
}

fn summary(report: &RunReport) {
    let mut err = std::io::stderr().lock();
    if !report.withheld.is_empty() {
        let _ = writeln!(err, "Withheld by the deny-list (never read):");
        for (path, rule) in &report.withheld {
            let _ = writeln!(err, "  {path}  (rule `{rule}`)");
        }
    }
    let denials = report.denials().count();
    if denials > 0 {
        let _ = writeln!(
            err,
            "{denials} request(s) denied by the sandbox (shown above)."
        );
    }
    let digest = &report.skill_digest[..12.min(report.skill_digest.len())];
    let _ = writeln!(
        err,
        "{} {} (sha256 {digest}…) · profile {} · {} ms · read {} B · wrote {} B · {} finding(s)",
        report.skill.name,
        report.skill.version,
        report.profile,
        report.elapsed_ms,
        report.usage.bytes_read,
        report.usage.bytes_written,
        report.findings.len()
    );
}

fn print_event(event: &Event) {
    let mut err = std::io::stderr().lock();
    let _ = match event {
        Event::Log { level, message } => {
            let tag = match level {
                Level::Debug => "debug",
                Level::Info => "info",
                Level::Warn => "warn",
                Level::Error => "error",
            };
            writeln!(err, "[{tag}] {message}")
        }
        Event::Progress {
            done,
            total,
            message,
        } => {
            if *total > 0 {
                writeln!(err, "[{done}/{total}] {message}")
            } else {
                writeln!(err, "[{done}] {message}")
            }
        }
        Event::Denied {
            capability,
            path,
            reason,
        } => writeln!(err, "[denied] {capability} `{path}`: {reason}"),
    };
}
