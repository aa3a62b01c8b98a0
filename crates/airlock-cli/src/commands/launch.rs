//! Everything between "run this skill" and its audited result, shared by
//! `airlock run`, `airlock chat` and `airlock mcp`: resolve the skill (an
//! installed plugin's signature is checked), load the profile and hold it
//! to the admin policy, narrow it to what a plugin requests, check the
//! granted models, then run with the run's start and end in the audit log.
//! Refusals before a run are recorded too.

use super::plugin::Target;
use super::{compile, start};
use crate::exit::{Exit, Failure};
use airlock_runtime::approval::Approver;
use airlock_runtime::audit::{AuditError, AuditLog, ModelRef, RunAudit, RunStart, SkillRef};
use airlock_runtime::clock::Cancel;
use airlock_runtime::config::Config;
use airlock_runtime::inference::resolve;
use airlock_runtime::models::ModelStore;
use airlock_runtime::skill::LoadedSkill;
use airlock_runtime::undo::UndoLog;
use airlock_runtime::{
    Airlock, EventSink, Profile, Request, RunFailure, RunModels, RunOptions, RunReport,
};
use airlock_trust::Signer;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to run, as the user named it.
#[derive(Debug, Clone)]
pub struct SkillSpec {
    /// An installed plugin's name, or a component's path.
    pub skill: PathBuf,
    /// Run a component from a path (unsigned).
    pub allow_unsigned: bool,
    /// A profile name or file; none for the plugin's reviewed profile, or
    /// the default.
    pub profile: Option<String>,
    /// The workspace.
    pub workspace: PathBuf,
}

/// The host, the settings and the audit log, opened once per command.
pub struct Launcher {
    pub airlock: Airlock,
    pub settings: Config,
    pub audit: Arc<AuditLog>,
    pub home: PathBuf,
}

/// A skill ready to run any number of times.
pub struct Prepared {
    pub spec: SkillSpec,
    pub target: Target,
    pub skill: LoadedSkill,
    pub digest: String,
    pub profile: Profile,
    pub workspace: PathBuf,
    pub models: Option<RunModels>,
    /// The name runs are recorded under.
    pub name: String,
}

/// How one run is watched and steered.
#[derive(Default)]
pub struct Hooks {
    pub sink: Option<EventSink>,
    pub approver: Option<Arc<dyn Approver>>,
    pub cancel: Option<Cancel>,
    /// Findings at or above this severity make the run's exit code 5 (in
    /// the audit record too).
    pub fail_on: Option<crate::cli::SeverityArg>,
}

/// A finished run (or one that failed inside the sandbox), with its end
/// already in the audit log.
pub struct Finished {
    pub outcome: Result<RunReport, RunFailure>,
    pub run_id: String,
    pub elapsed_ms: u64,
    /// Who signed the plugin that ran; `None` for a bare component.
    pub signer: Option<Signer>,
}

impl Launcher {
    /// Open the settings and the audit log: without an audit log there is
    /// no run.
    pub fn open(home: Option<&Path>, config: Option<&Path>) -> Result<Self, Failure> {
        let settings = Config::load(config).map_err(|e| Failure::usage(e.to_string()))?;
        let home = home.ok_or_else(|| {
            Failure::usage(
                "no Airlock home ($AIRLOCK_HOME or $HOME), so no audit log: set AIRLOCK_HOME or pass --home DIR",
            )
        })?;
        let audit = AuditLog::open(home, settings.audit.clone()).map_err(audit_failure)?;
        let airlock = start(Some(&home.to_path_buf()))?;
        Ok(Self {
            airlock,
            settings,
            audit,
            home: home.to_path_buf(),
        })
    }

    /// Record a refusal (exit 3) in the audit log; other failures pass.
    pub fn refused(&self, skill: &str, failure: Failure) -> Failure {
        if failure.code() != Exit::Refused {
            return failure;
        }
        match self
            .audit
            .refused(skill, Exit::Refused as u8, &failure.to_string())
        {
            Ok(()) => failure,
            Err(e) => audit_failure(e),
        }
    }

    /// Resolve, check and load `spec`. Refusals are recorded.
    pub async fn prepare(&self, spec: &SkillSpec) -> Result<Prepared, Failure> {
        let shown = spec.skill.display().to_string();
        let refused = |failure: Failure| self.refused(&shown, failure);
        let target = super::plugin::resolve(&spec.skill, spec.allow_unsigned, Some(&self.home))
            .map_err(refused)?;
        // `--profile` if given; else an installed plugin's reviewed profile,
        // refused when its text changed since the review; else the default.
        let profile = match (spec.profile.as_deref(), &target.reviewed) {
            (Some(name_or_path), _) => Profile::load(name_or_path)?,
            (None, Some(reviewed)) => reviewed.load().map_err(|e| refused(e.into()))?,
            (None, None) => Profile::load(airlock_runtime::profile::DEFAULT_PROFILE)?,
        };
        // The admin policy bounds every run: a profile over its ceiling or
        // granting a model it does not allow is refused before anything loads.
        let policy = super::policy::load().map_err(refused)?;
        if let Err(message) = policy
            .check_profile(&profile)
            .and_then(|()| policy.check_models(&profile))
        {
            return Err(refused(Failure::new(Exit::Refused, message)));
        }
        if !spec.workspace.is_dir() {
            return Err(Failure::usage(format!(
                "workspace {} is not a directory; pass one with --workspace DIR",
                spec.workspace.display()
            )));
        }
        let workspace = spec.workspace.canonicalize().map_err(|e| {
            Failure::usage(format!(
                "cannot resolve workspace {}: {e}",
                spec.workspace.display()
            ))
        })?;
        // An installed plugin gets the overlap of its request and the profile.
        let mut profile = target.narrow(profile);
        // The admin's files that always ask join the profile's (never fewer).
        profile
            .edits
            .add_admin_always_ask(&policy.edits.always_ask)
            .map_err(|e| Failure::new(Exit::Internal, format!("admin policy: {e}")))?;
        let compiled = compile(&self.airlock, &target.path)?;
        target
            .check_loaded(&compiled.digest)
            .map_err(|e| refused(e.into()))?;
        let digest = compiled.digest.clone();
        let skill = match self.airlock.prepare(compiled) {
            Ok(skill) => skill,
            Err(e) => {
                let code = Exit::from(&e);
                return Err(refused(Failure::new(code, e.to_string())));
            }
        };
        let models = if profile.inference.models.is_empty() {
            None
        } else {
            granted_models(&profile, &self.settings, &self.home, &policy)
                .await
                .map_err(refused)?
        };
        // An installed plugin by its name; a bare component by its file's stem.
        let name = if target.signer.is_some() {
            shown
        } else {
            spec.skill.file_stem().map_or_else(
                || spec.skill.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        };
        Ok(Prepared {
            spec: spec.clone(),
            target,
            skill,
            digest,
            profile,
            workspace,
            models,
            name,
        })
    }

    /// Check an installed plugin again (files, signature, trust) before
    /// another run of a long session (`chat`, `mcp`): a plugin removed,
    /// replaced or no longer trusted since it was prepared is refused.
    pub fn recheck(&self, prepared: &Prepared) -> Result<(), Failure> {
        let shown = prepared.spec.skill.display().to_string();
        let target = super::plugin::resolve(
            &prepared.spec.skill,
            prepared.spec.allow_unsigned,
            Some(&self.home),
        )
        .map_err(|f| self.refused(&shown, f))?;
        target
            .check_loaded(&prepared.digest)
            .map_err(|e| self.refused(&shown, e.into()))?;
        if target.path != prepared.target.path {
            return Err(self.refused(
                &shown,
                Failure::new(
                    Exit::Refused,
                    format!("`{shown}` changed since this session started; start it again"),
                ),
            ));
        }
        Ok(())
    }

    /// Run a prepared skill once: the start is recorded before the skill
    /// starts, the end before the result is returned.
    pub async fn execute(
        &self,
        prepared: &Prepared,
        request: &Request,
        hooks: Hooks,
    ) -> Result<Finished, Failure> {
        let start_record = prepared.run_start(request);
        let hooks_fail_on = hooks.fail_on;
        let run_audit = self.audit.begin_run(&start_record).map_err(audit_failure)?;
        let options = RunOptions {
            models: prepared.models.clone(),
            sink: hooks.sink,
            audit: Some(run_audit.clone()),
            approver: hooks.approver,
            undo: Some(UndoLog::new(
                &self.home,
                run_audit.id(),
                &prepared.workspace,
            )),
            skill_label: Some(prepared.name.clone()),
            cancel: hooks.cancel,
        };
        let started = std::time::Instant::now();
        let outcome = self
            .airlock
            .run_with(
                &prepared.skill,
                &prepared.profile,
                &prepared.workspace,
                request,
                options,
            )
            .await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let code = exit_code(&outcome, hooks_fail_on);
        let ended = run_audit.end(run_end(&run_audit, outcome.as_ref(), code, elapsed_ms));
        // After an audit failure the end is tried, but the run fails either way.
        if code != Exit::Audit {
            ended.map_err(audit_failure)?;
        }
        Ok(Finished {
            outcome,
            run_id: run_audit.id().to_string(),
            elapsed_ms,
            signer: prepared.target.signer.clone(),
        })
    }
}

impl Prepared {
    /// What the audit log records before the skill starts.
    fn run_start(&self, request: &Request) -> RunStart {
        let models = self.models.as_ref();
        RunStart {
            skill: SkillRef {
                name: self.name.clone(),
                version: None,
                digest: self.digest.clone(),
                path: self.target.path.clone(),
                signer: match &self.target.signer {
                    Some(signer) => serde_json::to_value(signer).unwrap_or_default(),
                    None => "unsigned".into(),
                },
            },
            profile: self.profile.name.clone(),
            profile_digest: self.profile.digest.clone(),
            limits: serde_json::to_value(&self.profile.limits).unwrap_or_default(),
            inference: serde_json::to_value(&self.profile.inference).unwrap_or_default(),
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
            workspace: self.workspace.clone(),
            input: request.input.clone(),
            args: request.args.clone(),
        }
    }
}

/// The exit code of a run: a skill's error is 1, a finding at or above
/// `fail_on` (a rank) is 5, a failure inside the sandbox has its own code.
pub fn exit_code(
    outcome: &Result<RunReport, RunFailure>,
    fail_on: Option<crate::cli::SeverityArg>,
) -> Exit {
    match outcome {
        Ok(report) => {
            if report.error.is_some() {
                return Exit::SkillFailed;
            }
            if let Some(threshold) = fail_on {
                let hit = report.findings.iter().any(|f| {
                    crate::cli::SeverityArg::rank_of(f.severity).is_some_and(|s| s >= threshold)
                });
                if hit {
                    return Exit::Findings;
                }
            }
            Exit::Success
        }
        Err(failure) => match failure {
            RunFailure::Setup(_) => Exit::Usage,
            RunFailure::Host(_) => Exit::Internal,
            RunFailure::Refused(_) => Exit::Refused,
            RunFailure::Limit { .. } => Exit::Limit,
            RunFailure::Audit { .. } => Exit::Audit,
            RunFailure::Crashed { .. } => Exit::SkillFailed,
            RunFailure::Cancelled { .. } => Exit::Cancelled,
        },
    }
}

/// What happened in a failed run before it stopped.
pub fn failure_events(failure: &RunFailure) -> &[airlock_runtime::Event] {
    match failure {
        RunFailure::Limit { events, .. }
        | RunFailure::Audit { events, .. }
        | RunFailure::Crashed { events, .. }
        | RunFailure::Cancelled { events } => events,
        RunFailure::Setup(_) | RunFailure::Host(_) | RunFailure::Refused(_) => &[],
    }
}

/// An audit log that cannot be written stops the command (exit 6).
pub fn audit_failure(e: AuditError) -> Failure {
    Failure::new(
        Exit::Audit,
        format!(
            "{e}; Airlock does not run skills without a record. Fix the cause (disk space, permissions) and check the log with `airlock audit verify`"
        ),
    )
}

/// The machine-readable status of an exit code.
pub fn status_of(code: Exit) -> &'static str {
    match code {
        Exit::Success => "ok",
        Exit::SkillFailed => "skill-failed",
        Exit::Usage => "usage-error",
        Exit::Refused => "refused",
        Exit::Limit => "limit-exceeded",
        Exit::Findings => "findings",
        Exit::Audit => "audit-failed",
        Exit::Cancelled => "cancelled",
        Exit::Internal => "internal-error",
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
                "host-calls": report.host_calls,
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
    home: &Path,
    policy: &airlock_runtime::policy::Policy,
) -> Result<Option<RunModels>, Failure> {
    let store = ModelStore::open(home);
    let backend = resolve::backend_for(config, policy).map_err(|e| {
        let code = if matches!(
            e,
            airlock_runtime::inference::EngineError::UntrustedServer(_)
        ) {
            Exit::Refused
        } else {
            Exit::Usage
        };
        Failure::new(code, e.to_string())
    })?;
    resolve::granted_models(profile, config, &store, backend, policy)
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
