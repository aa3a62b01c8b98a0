//! `airlock run`.

use super::live::LiveView;
use super::{Spinner, runtime, to_json};
use crate::cli::{RunArgs, SeverityArg};
use crate::exit::{Exit, Failure};
use airlock_runtime::terminal;
use airlock_runtime::{Event, EventSink, Request, RunReport};
use airlock_session::launch::failure_events;
use airlock_session::{Hooks, Launcher, Severity, SkillSpec, Status};
use airlock_trust::Signer;
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn run(args: RunArgs, home: Option<PathBuf>, config: Option<&Path>) -> Result<Exit, Failure> {
    // Nothing runs unrecorded: without an audit log there is no run.
    let launcher = Launcher::open(home.as_deref(), config)?;
    let spec = SkillSpec {
        skill: args.skill.clone(),
        allow_unsigned: args.allow_unsigned,
        profile: args.profile.clone(),
        workspace: args.workspace.clone(),
    };
    let rt = runtime()?;
    let prepared = match rt.block_on(launcher.prepare(&spec, &Spinner::new())) {
        Ok(prepared) => prepared,
        Err(refusal) if args.json && refusal.is_refusal() => {
            print_json_failure(Status::Refused.as_str(), &refusal.to_string(), &[], None)?;
            return Ok(Exit::Refused);
        }
        Err(e) => return Err(e.into()),
    };
    let request = Request {
        input: args.input.clone(),
        args: args.args.clone(),
    };
    let live = !args.json && !args.quiet;
    let view = Arc::new(LiveView::new());
    let sink: Option<EventSink> = live.then(|| {
        let view = view.clone();
        Arc::new(move |event: &Event| view.show(event)) as EventSink
    });
    // A person is asked only at a terminal; the skill never sees the prompt.
    let interactive = !args.non_interactive && std::io::stdin().is_terminal();
    let approver = interactive
        .then(crate::tty_approver::TerminalApprover::open)
        .flatten()
        .map(|a| Arc::new(a) as Arc<dyn airlock_runtime::approval::Approver>);
    let hooks = Hooks {
        sink,
        approver,
        cancel: None,
        fail_on: args.fail_on.map(severity),
    };
    let finished = rt.block_on(launcher.execute(&prepared, &request, hooks))?;
    view.finish();
    let status = finished.status;
    let code = Exit::from(status);
    match finished.outcome {
        Ok(report) => finish(
            &args,
            &report,
            Vouched {
                signer: finished.signer.as_ref(),
                run_id: &finished.run_id,
            },
            status,
            view.mid_line(),
        ),
        Err(failure) => {
            if args.json {
                print_json_failure(
                    status.as_str(),
                    &failure.to_string(),
                    failure_events(&failure),
                    Some(&finished.run_id),
                )?;
                Ok(code)
            } else {
                // The id `airlock undo` and `airlock audit show` need, even
                // (especially) when the run failed after changing files.
                eprintln!(
                    "audit: run {} (`airlock audit show --run {}`)",
                    finished.run_id, finished.run_id
                );
                Err(Failure::new(
                    code,
                    terminal::text(&failure.to_string()).into_owned(),
                ))
            }
        }
    }
}

/// `--fail-on`'s threshold.
fn severity(arg: SeverityArg) -> Severity {
    match arg {
        SeverityArg::Note => Severity::Note,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

fn print_json_failure(
    status: &str,
    message: &str,
    events: &[Event],
    run_id: Option<&str>,
) -> Result<(), Failure> {
    let value = serde_json::json!({ "status": status, "error": message, "events": events, "run-id": run_id });
    println!("{}", to_json(&value)?);
    Ok(())
}

/// What the session knows about a run beyond the host's report: who
/// signed the plugin, and the run's id in the audit log.
struct Vouched<'a> {
    signer: Option<&'a Signer>,
    run_id: &'a str,
}

/// `mid_line`: the live view left stdout in the middle of a line.
fn finish(
    args: &RunArgs,
    report: &RunReport,
    vouched: Vouched<'_>,
    status: Status,
    mid_line: bool,
) -> Result<Exit, Failure> {
    let code = Exit::from(status);
    if args.json {
        let encode =
            |e: serde_json::Error| Failure::new(Exit::Internal, format!("cannot encode JSON: {e}"));
        let mut value = serde_json::to_value(report).map_err(encode)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("status".into(), status.as_str().into());
            obj.insert("signed".into(), vouched.signer.is_some().into());
            obj.insert(
                "signer".into(),
                serde_json::to_value(vouched.signer).map_err(encode)?,
            );
            obj.insert("run_id".into(), vouched.run_id.into());
        }
        println!("{}", to_json(&value)?);
        return Ok(code);
    }
    if let Some(full) = &report.output {
        // The live view has already shown what the skill printed as it ran.
        let live = !args.quiet;
        let text = if live {
            full.get(report.printed_bytes..).unwrap_or_default()
        } else {
            full.as_str()
        };
        // Exact bytes into a pipe; escapes shown on a terminal.
        let text = if std::io::stdout().is_terminal() {
            terminal::text(text)
        } else {
            std::borrow::Cow::Borrowed(text)
        };
        let mut out = std::io::stdout().lock();
        if live && mid_line {
            let _ = out.write_all(b"\n");
        }
        let _ = out.write_all(text.as_bytes());
        if !text.ends_with('\n') && !text.is_empty() {
            let _ = out.write_all(b"\n");
        }
    }
    if !args.quiet {
        summary(report, &vouched);
    }
    if let Some(error) = &report.error {
        return Err(Failure::new(
            Exit::SkillFailed,
            format!(
                "skill `{}` failed: {}",
                terminal::line(&report.skill.name),
                terminal::text(error)
            ),
        ));
    }
    Ok(code)
}

fn summary(report: &RunReport, vouched: &Vouched<'_>) {
    let mut err = std::io::stderr().lock();
    if !report.withheld.is_empty() {
        let _ = writeln!(err, "Withheld by the deny-list (never read):");
        for (path, rule) in &report.withheld {
            let _ = writeln!(
                err,
                "  {}  (rule `{}`)",
                terminal::line(path),
                terminal::line(rule)
            );
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
        "{} {} (sha256 {digest}…) · profile {} · {} ms · read {} B · wrote {} B · {} finding(s) · {}",
        terminal::line(&report.skill.name),
        terminal::line(&report.skill.version),
        terminal::line(&report.profile),
        report.elapsed_ms,
        report.usage.bytes_read,
        report.usage.bytes_written,
        report.findings.len(),
        match vouched.signer {
            Some(s) => format!("signed by {}", s.trusted_as),
            None => "unsigned".into(),
        },
    );
    let id = vouched.run_id;
    let _ = writeln!(err, "audit: run {id} (`airlock audit show --run {id}`)");
}
