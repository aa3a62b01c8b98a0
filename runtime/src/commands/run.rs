//! `airlock run`.

use super::{compile, runtime, start, to_json};
use crate::cli::{RunArgs, SeverityArg};
use crate::exit::{Exit, Failure};
use airlock_runtime::audit::{AuditError, AuditLog, ModelRef, RunAudit, RunStart, SkillRef};
use airlock_runtime::config::Config;
use airlock_runtime::inference::resolve;
use airlock_runtime::journal::Level;
use airlock_runtime::models::ModelStore;
use airlock_runtime::undo::UndoLog;
use airlock_runtime::{
    Event, EventSink, Profile, Request, RunFailure, RunModels, RunOptions, RunReport,
};
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn run(args: RunArgs, home: Option<PathBuf>, config: Option<&Path>) -> Result<Exit, Failure> {
    // Nothing runs unrecorded: without an audit log there is no run.
    let settings = Config::load(config).map_err(|e| Failure::usage(e.to_string()))?;
    let audit_home = home.as_deref().ok_or_else(|| {
        Failure::usage(
            "no Airlock home ($AIRLOCK_HOME or $HOME), so no audit log: set AIRLOCK_HOME or pass --home DIR",
        )
    })?;
    let audit = AuditLog::open(audit_home, settings.audit.clone()).map_err(audit_failure)?;
    let skill_name = args.skill.display().to_string();
    let refused = |failure: Failure| -> Failure {
        if failure.code() != Exit::Refused {
            return failure;
        }
        match audit.refused(&skill_name, Exit::Refused as u8, &failure.to_string()) {
            Ok(()) => failure,
            Err(e) => audit_failure(e),
        }
    };
    let json_refusal = |failure: Failure| -> Result<Exit, Failure> {
        let failure = refused(failure);
        if args.json {
            print_json_failure(status_of(failure.code()), &failure.to_string(), &[], None)?;
            Ok(failure.code())
        } else {
            Err(failure)
        }
    };
    let target = match super::plugin::resolve(&args.skill, args.allow_unsigned, home.as_deref()) {
        Ok(target) => target,
        Err(refusal) => return json_refusal(refusal),
    };
    let profile = Profile::load(
        args.profile
            .as_deref()
            .or(target.profile.as_deref())
            .unwrap_or(airlock_runtime::profile::DEFAULT_PROFILE),
    )?;
    // The admin policy bounds every run: a profile over its ceiling or
    // granting a model it does not allow is refused before anything loads.
    let policy = super::policy::load().map_err(refused)?;
    if let Err(message) = policy
        .check_profile(&profile)
        .and_then(|()| policy.check_models(&profile))
    {
        return Err(refused(Failure::new(Exit::Refused, message)));
    }
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
    // An installed plugin gets the overlap of its request and the profile.
    let profile = target.narrow(profile);
    let airlock = start(home.as_ref())?;
    let compiled = compile(&airlock, &target.path)?;
    target.check_loaded(&compiled.digest).map_err(refused)?;
    let digest = compiled.digest.clone();
    let skill = match airlock.prepare(compiled) {
        Ok(skill) => skill,
        Err(e) => {
            let code = Exit::from(&e);
            return json_refusal(Failure::new(code, e.to_string()));
        }
    };
    let request = Request {
        input: args.input.clone(),
        args: args.args.clone(),
    };
    let rt = runtime()?;
    let models = if profile.inference.models.is_empty() {
        None
    } else {
        rt.block_on(granted_models(&profile, &settings, home.as_deref()))
            .map_err(refused)?
    };
    let start_record = run_start(
        &args,
        &target,
        &digest,
        &profile,
        &workspace,
        models.as_ref(),
    );
    let run_audit = audit.begin_run(&start_record).map_err(audit_failure)?;
    let live = !args.json && !args.quiet;
    let view = Arc::new(LiveView::new());
    let sink: Option<EventSink> = live.then(|| {
        let view = view.clone();
        Arc::new(move |event: &Event| view.show(event)) as EventSink
    });
    // A person is asked only at a terminal; the skill never sees the prompt.
    let interactive = !args.non_interactive && std::io::stdin().is_terminal();
    let approver = interactive
        .then(airlock_runtime::approval::TerminalApprover::open)
        .flatten()
        .map(|a| Arc::new(a) as Arc<dyn airlock_runtime::approval::Approver>);
    let options = RunOptions {
        models,
        sink,
        audit: Some(run_audit.clone()),
        approver,
        undo: Some(UndoLog::new(audit_home, run_audit.id(), &workspace)),
        skill_label: Some(start_record.skill.name.clone()),
    };
    let started = std::time::Instant::now();
    let outcome = rt.block_on(airlock.run_with(&skill, &profile, &workspace, &request, options));
    view.finish();
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Ok(mut report) => {
            report.signed = target.signer.is_some();
            report.signer = target.signer;
            report.run_id = Some(run_audit.id().to_string());
            let code = exit_of(&args, &report);
            // The run's end is durable before its result is shown.
            run_audit
                .end(run_end(&run_audit, Ok(&report), code, elapsed_ms))
                .map_err(audit_failure)?;
            finish(&args, &report, code, view.mid_line())
        }
        Err(failure) => {
            let (code, events) = match &failure {
                RunFailure::Setup(_) => (Exit::Usage, &[][..]),
                RunFailure::Host(_) => (Exit::Internal, &[][..]),
                RunFailure::Refused(_) => (Exit::Refused, &[][..]),
                RunFailure::Limit { events, .. } => (Exit::Limit, &events[..]),
                RunFailure::Audit { events, .. } => (Exit::Audit, &events[..]),
                RunFailure::Crashed { events, .. } => (Exit::SkillFailed, &events[..]),
            };
            // Try to record the end even after an audit failure: the log
            // refuses if it is still unwritable, and the run fails either way.
            let ended = run_audit.end(run_end(&run_audit, Err(&failure), code, elapsed_ms));
            if code != Exit::Audit {
                ended.map_err(audit_failure)?;
            }
            if args.json {
                print_json_failure(
                    status_of(code),
                    &failure.to_string(),
                    events,
                    Some(run_audit.id()),
                )?;
                Ok(code)
            } else {
                // The id `airlock undo` and `airlock audit show` need, even
                // (especially) when the run failed after changing files.
                eprintln!(
                    "audit: run {} (`airlock audit show --run {}`)",
                    run_audit.id(),
                    run_audit.id()
                );
                Err(Failure::new(code, failure.to_string()))
            }
        }
    }
}

/// An audit log that cannot be written stops the command (exit 6).
fn audit_failure(e: AuditError) -> Failure {
    Failure::new(
        Exit::Audit,
        format!(
            "{e}; Airlock does not run skills without a record. Fix the cause (disk space, permissions) and check the log with `airlock audit verify`"
        ),
    )
}

/// What the audit log records before the skill starts.
fn run_start(
    args: &RunArgs,
    target: &super::plugin::Target,
    digest: &str,
    profile: &Profile,
    workspace: &Path,
    models: Option<&RunModels>,
) -> RunStart {
    // An installed plugin by its name; a bare component by its file's stem.
    let name = if target.signer.is_some() {
        args.skill.display().to_string()
    } else {
        args.skill.file_stem().map_or_else(
            || args.skill.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        )
    };
    RunStart {
        skill: SkillRef {
            name,
            version: None,
            digest: digest.to_string(),
            path: target.path.clone(),
            signer: match &target.signer {
                Some(signer) => serde_json::to_value(signer).unwrap_or_default(),
                None => "unsigned".into(),
            },
        },
        profile: profile.name.clone(),
        profile_digest: profile.digest.clone(),
        limits: serde_json::to_value(&profile.limits).unwrap_or_default(),
        inference: serde_json::to_value(&profile.inference).unwrap_or_default(),
        backend: models.map(|m| m.backend.describe()),
        models: models
            .map(|m| {
                m.models
                    .iter()
                    .map(|spec| ModelRef {
                        name: spec.name.clone(),
                        digest: spec.digest.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        workspace: workspace.to_path_buf(),
        input: args.input.clone(),
        args: args.args.clone(),
    }
}

/// What the audit log records when the run ends.
fn run_end(
    audit: &RunAudit,
    outcome: Result<&RunReport, &RunFailure>,
    code: Exit,
    elapsed_ms: u64,
) -> serde_json::Value {
    match outcome {
        Ok(report) => {
            let (output, redacted) = audit.redact(report.output.as_deref().unwrap_or_default());
            serde_json::json!({
                "outcome": if report.error.is_some() { "skill-error" } else { "ok" },
                "exit-code": code as u8,
                "described": {
                    "name": report.skill.name,
                    "version": report.skill.version,
                    "wit-version": report.skill.wit_version,
                },
                "output": report.output.as_ref().map(|_| output),
                "error": report.error,
                "findings": report.findings,
                "withheld": report.withheld,
                "usage": report.usage,
                "inference": report.inference,
                "output-bytes": report.output_bytes,
                "elapsed-ms": report.elapsed_ms,
                "redacted": redacted,
            })
        }
        Err(failure) => serde_json::json!({
            "outcome": status_of(code),
            "exit-code": code as u8,
            "error": failure.to_string(),
            "elapsed-ms": elapsed_ms,
        }),
    }
}

/// The models the profile grants, checked against the model store and the
/// configured engine before the skill starts: drift refuses the run (exit 3),
/// a missing model or engine is a setup error (exit 2).
async fn granted_models(
    profile: &Profile,
    config: &Config,
    home: Option<&Path>,
) -> Result<Option<RunModels>, Failure> {
    let home = home.ok_or_else(|| {
        Failure::usage(
            "no Airlock home ($AIRLOCK_HOME or $HOME), so no model store: set AIRLOCK_HOME or pass --home DIR",
        )
    })?;
    let store = ModelStore::open(home);
    let backend = resolve::backend_for(config).map_err(|e| Failure::usage(e.to_string()))?;
    resolve::granted_models(profile, config, &store, backend)
        .await
        .map_err(|e| {
            let code = if e.is_drift() {
                Exit::Refused
            } else {
                Exit::Usage
            };
            Failure::new(code, e.to_string())
        })
}

fn status_of(code: Exit) -> &'static str {
    match code {
        Exit::Success => "ok",
        Exit::SkillFailed => "skill-failed",
        Exit::Usage => "usage-error",
        Exit::Refused => "refused",
        Exit::Limit => "limit-exceeded",
        Exit::Findings => "findings",
        Exit::Audit => "audit-failed",
        Exit::Internal => "internal-error",
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

/// The exit code a finished run gets.
fn exit_of(args: &RunArgs, report: &RunReport) -> Exit {
    if report.error.is_some() {
        return Exit::SkillFailed;
    }
    if let Some(threshold) = args.fail_on {
        let hit = report
            .findings
            .iter()
            .any(|f| SeverityArg::rank_of(f.severity).is_some_and(|s| s >= threshold));
        if hit {
            return Exit::Findings;
        }
    }
    Exit::Success
}

/// `mid_line`: the live view left stdout in the middle of a line.
fn finish(args: &RunArgs, report: &RunReport, code: Exit, mid_line: bool) -> Result<Exit, Failure> {
    if args.json {
        let mut value = serde_json::to_value(report)
            .map_err(|e| Failure::new(Exit::Internal, format!("cannot encode JSON: {e}")))?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("status".into(), status_of(code).into());
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
        "{} {} (sha256 {digest}…) · profile {} · {} ms · read {} B · wrote {} B · {} finding(s) · {}",
        report.skill.name,
        report.skill.version,
        report.profile,
        report.elapsed_ms,
        report.usage.bytes_read,
        report.usage.bytes_written,
        report.findings.len(),
        match &report.signer {
            Some(s) => format!("signed by {}", s.trusted_as),
            None => "unsigned".into(),
        },
    );
    if let Some(id) = &report.run_id {
        let _ = writeln!(err, "audit: run {id} (`airlock audit show --run {id}`)");
    }
}

/// The live view of a run on stderr: log lines and denials as they happen,
/// and the skill's progress as a bar on a terminal (as lines elsewhere).
struct LiveView {
    bar: indicatif::ProgressBar,
    terminal: bool,
    /// Printed text on stdout ended mid-line: start the next stderr line afresh.
    mid_line: std::sync::atomic::AtomicBool,
    /// A stderr line ended a printed line: a newline the skill prints next
    /// would show as a blank line, so it is dropped (from the terminal only).
    line_broken: std::sync::atomic::AtomicBool,
}

impl LiveView {
    fn new() -> Self {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Self {
            bar,
            terminal,
            mid_line: std::sync::atomic::AtomicBool::new(false),
            line_broken: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether stdout was left in the middle of a line.
    fn mid_line(&self) -> bool {
        self.mid_line.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn show(&self, event: &Event) {
        let line = match event {
            Event::Log { level, message } => {
                let tag = match level {
                    Level::Debug => "debug",
                    Level::Info => "info",
                    Level::Warn => "warn",
                    Level::Error => "error",
                };
                format!("[{tag}] {message}")
            }
            Event::Progress {
                done,
                total,
                message,
            } => {
                if self.terminal && *total > 0 {
                    if self.bar.is_hidden() {
                        self.bar
                            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    }
                    self.bar.set_length(*total);
                    self.bar.set_position(*done);
                    self.bar.set_message(message.clone());
                    return;
                }
                if *total > 0 {
                    format!("[{done}/{total}] {message}")
                } else {
                    format!("[{done}] {message}")
                }
            }
            Event::Denied {
                capability,
                path,
                reason,
            } => format!("[denied] {capability} `{path}`: {reason}"),
            Event::Print { text } => {
                let broken = self
                    .line_broken
                    .swap(false, std::sync::atomic::Ordering::Relaxed);
                let text = match text.strip_prefix('\n') {
                    Some(rest) if broken => rest,
                    _ => text.as_str(),
                };
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
                if !text.is_empty() {
                    self.mid_line
                        .store(!text.ends_with('\n'), std::sync::atomic::Ordering::Relaxed);
                }
                return;
            }
            Event::Inference {
                model,
                digest,
                prompt_tokens,
                completion_tokens,
                error,
                elapsed_ms,
                ..
            } => {
                let short = digest.get(..19).unwrap_or(digest);
                match error {
                    Some(e) => {
                        format!("[model] {model} ({short}…) failed after {elapsed_ms} ms: {e}")
                    }
                    None => format!(
                        "[model] {model} ({short}…) {prompt_tokens} prompt + {completion_tokens} generated tokens in {elapsed_ms} ms"
                    ),
                }
            }
        };
        let line = if self
            .mid_line
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            self.line_broken
                .store(true, std::sync::atomic::Ordering::Relaxed);
            format!("\n{line}")
        } else {
            line
        };
        if self.bar.is_hidden() {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            self.bar.println(line);
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
