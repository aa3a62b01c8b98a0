//! `airlock run`.

use super::{compile, runtime, start, to_json};
use crate::cli::{RunArgs, SeverityArg};
use crate::exit::{Exit, Failure};
use airlock_runtime::config::Config;
use airlock_runtime::inference::resolve;
use airlock_runtime::journal::Level;
use airlock_runtime::models::ModelStore;
use airlock_runtime::{Event, EventSink, Profile, Request, RunFailure, RunModels, RunReport};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub fn run(args: RunArgs, home: Option<PathBuf>, config: Option<&Path>) -> Result<Exit, Failure> {
    let target = match super::plugin::resolve(&args.skill, args.allow_unsigned, home.as_deref()) {
        Ok(target) => target,
        Err(refusal) if args.json => {
            print_json_failure(status_of(refusal.code()), &refusal.to_string(), &[])?;
            return Ok(refusal.code());
        }
        Err(refusal) => return Err(refusal),
    };
    let profile = Profile::load(
        args.profile
            .as_deref()
            .or(target.profile.as_deref())
            .unwrap_or(airlock_runtime::profile::DEFAULT_PROFILE),
    )?;
    // The admin policy bounds every run: a profile over its ceiling or
    // granting a model it does not allow is refused before anything loads.
    let policy = super::policy::load()?;
    policy
        .check_profile(&profile)
        .and_then(|()| policy.check_models(&profile))
        .map_err(|message| Failure::new(Exit::Refused, message))?;
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
    target.check_loaded(&compiled.digest)?;
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
    let rt = runtime()?;
    let models = if profile.inference.models.is_empty() {
        None
    } else {
        rt.block_on(granted_models(&profile, config, home.as_deref()))?
    };
    let live = !args.json && !args.quiet;
    let view = Arc::new(LiveView::new());
    let sink: Option<EventSink> = live.then(|| {
        let view = view.clone();
        Arc::new(move |event: &Event| view.show(event)) as EventSink
    });
    let outcome = rt.block_on(airlock.run(&skill, &profile, &workspace, &request, models, sink));
    view.finish();
    match outcome {
        Ok(mut report) => {
            report.signed = target.signer.is_some();
            report.signer = target.signer;
            finish(&args, &report, view.mid_line())
        }
        Err(failure) => {
            let (code, events) = match &failure {
                RunFailure::Setup(_) => (Exit::Usage, &[][..]),
                RunFailure::Host(_) => (Exit::Internal, &[][..]),
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

/// The models the profile grants, checked against the model store and the
/// configured engine before the skill starts: drift refuses the run (exit 3),
/// a missing model or engine is a setup error (exit 2).
async fn granted_models(
    profile: &Profile,
    config: Option<&Path>,
    home: Option<&Path>,
) -> Result<Option<RunModels>, Failure> {
    let config = Config::load(config).map_err(|e| Failure::usage(e.to_string()))?;
    let home = home.ok_or_else(|| {
        Failure::usage(
            "no Airlock home ($AIRLOCK_HOME or $HOME), so no model store: set AIRLOCK_HOME or pass --home DIR",
        )
    })?;
    let store = ModelStore::open(home);
    let backend = resolve::backend_for(&config).map_err(|e| Failure::usage(e.to_string()))?;
    resolve::granted_models(profile, &config, &store, backend)
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
        Exit::Internal => "internal-error",
    }
}

fn print_json_failure(status: &str, message: &str, events: &[Event]) -> Result<(), Failure> {
    let value = serde_json::json!({ "status": status, "error": message, "events": events });
    println!("{}", to_json(&value)?);
    Ok(())
}

/// `mid_line`: the live view left stdout in the middle of a line.
fn finish(args: &RunArgs, report: &RunReport, mid_line: bool) -> Result<Exit, Failure> {
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
        }
    );
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
