//! Everything between "run this skill" and its audited result, shared by
//! `airlock run`, `airlock chat` and `airlock mcp`: resolve the skill (an
//! installed plugin's signature is checked), load the profile and hold it
//! to the admin policy, narrow it to what a plugin requests, check the
//! granted models, then run with the run's start and end in the audit log.
//! Refusals before a run are recorded too.

// Ambient std::fs allowed: checks the user-named workspace root before the run opens it.
#![allow(clippy::disallowed_methods)]

mod error;

pub use error::LaunchError;

use crate::admin;
use crate::config::Config;
use crate::status::Status;
use airlock_audit::{AuditError, AuditLog, ModelRef, RunAudit, RunStart, SkillRef};
use airlock_core::clock::Cancel;
use airlock_inference::models::ModelStore;
use airlock_inference::resolve;
use airlock_policy::admin::Policy;
use airlock_policy::profile::{self, Profile};
use airlock_runtime::Severity;
use airlock_runtime::approval::Approver;
use airlock_runtime::skill::{Compiled, LoadedSkill};
use airlock_runtime::undo::UndoLog;
use airlock_runtime::{
    Airlock, Event, EventSink, LoadError, Request, RunFailure, RunModels, RunOptions, RunReport,
};
use airlock_trust::Signer;
use airlock_trust::admit::{self, Target};
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

/// What the caller shows while the host compiles a component it has not
/// compiled before (a spinner, say). Every method does nothing by default.
pub trait CompileProgress {
    /// The component at `path`, with this sha256, is being compiled (not
    /// called when the compile cache has it).
    fn compiling(&self, _path: &Path, _digest: &str) {}
    /// The host warns about the component (a cache it could not use…).
    fn warning(&self, _warning: &str) {}
    /// Compiling is over, whether it succeeded or not.
    fn done(&self) {}
}

/// Shows nothing.
pub struct Quietly;

impl CompileProgress for Quietly {}

/// Compile `path` on `airlock`, telling `progress`.
pub fn compile(
    airlock: &Airlock,
    path: &Path,
    progress: &dyn CompileProgress,
) -> Result<Compiled, LoadError> {
    let on_compile = |digest: &str| progress.compiling(path, digest);
    let on_warning = |warning: &str| progress.warning(warning);
    let compiled = airlock.compile(path, &on_compile, &on_warning);
    progress.done();
    compiled
}

/// The host, the settings and the audit log, opened once per command.
pub struct Launcher {
    /// The WebAssembly host, with its compile cache in `home`.
    pub airlock: Airlock,
    /// The configuration file's settings.
    pub settings: Config,
    /// The audit log every run and refusal is recorded in.
    pub audit: Arc<AuditLog>,
    /// Airlock's home: audit log, stores, cache, undo records.
    pub home: PathBuf,
}

/// A skill ready to run any number of times.
pub struct Prepared {
    /// What was asked for.
    pub spec: SkillSpec,
    /// What was admitted.
    pub target: Target,
    /// The loaded component.
    pub skill: LoadedSkill,
    /// The component's sha256.
    pub digest: String,
    /// The profile it runs under: narrowed to a plugin's request, with the
    /// admin policy's always-ask files.
    pub profile: Profile,
    /// The workspace, canonical.
    pub workspace: PathBuf,
    /// The models the profile grants, checked.
    pub models: Option<RunModels>,
    /// The name runs are recorded under.
    pub name: String,
}

/// How one run is watched and steered.
#[derive(Default)]
pub struct Hooks {
    /// Sees each event as it happens.
    pub sink: Option<EventSink>,
    /// Asked about the changes the profile says to ask about.
    pub approver: Option<Arc<dyn Approver>>,
    /// Stops the run when cancelled.
    pub cancel: Option<Cancel>,
    /// Findings at or above this severity make the run's status
    /// [`Status::Findings`] (in the audit record too).
    pub fail_on: Option<Severity>,
}

/// A finished run (or one that failed inside the sandbox), with its end
/// already in the audit log.
pub struct Finished {
    /// What the host reported.
    pub outcome: Result<RunReport, RunFailure>,
    /// How it ended, as recorded.
    pub status: Status,
    /// The run's id in the audit log.
    pub run_id: String,
    /// Wall-clock time of the run.
    pub elapsed_ms: u64,
    /// Who signed the plugin that ran; `None` for a bare component.
    pub signer: Option<Signer>,
}

impl Launcher {
    /// Open the settings and the audit log, then start the host with its
    /// compile cache in `home`: without an audit log there is no run.
    pub fn open(home: Option<&Path>, config: Option<&Path>) -> Result<Self, LaunchError> {
        let settings = Config::load(config)?;
        let home = home.ok_or(LaunchError::NoHome)?;
        let audit = AuditLog::open(home, settings.audit.clone())?;
        let airlock = Airlock::new(Some(home))?;
        Ok(Self {
            airlock,
            settings,
            audit,
            home: home.to_path_buf(),
        })
    }

    /// Record a refusal of `skill` with `reason` in the audit log.
    pub fn record_refusal(&self, skill: &str, reason: &str) -> Result<(), AuditError> {
        self.audit.refused(skill, Status::Refused.code(), reason)
    }

    /// Record `error` in the audit log when it is a refusal; other errors
    /// pass. A refusal that cannot be recorded is an audit failure.
    pub fn refused(&self, skill: &str, error: LaunchError) -> LaunchError {
        if !error.is_refusal() {
            return error;
        }
        match self.record_refusal(skill, &error.to_string()) {
            Ok(()) => error,
            Err(e) => LaunchError::Audit(e),
        }
    }

    /// Resolve, check and load `spec`, showing a compile on `progress`.
    /// Refusals are recorded.
    pub async fn prepare(
        &self,
        spec: &SkillSpec,
        progress: &dyn CompileProgress,
    ) -> Result<Prepared, LaunchError> {
        let shown = spec.skill.display().to_string();
        let refused = |e: LaunchError| self.refused(&shown, e);
        // The admin policy bounds every run: it decides what may run at all,
        // and a profile over its ceiling or granting a model it does not
        // allow is refused before anything loads.
        let policy = admin::policy().map_err(|e| refused(e.into()))?;
        let target = admit::resolve(&spec.skill, spec.allow_unsigned, Some(&self.home), &policy)
            .map_err(|e| refused(e.into()))?;
        // `--profile` if given; else an installed plugin's reviewed profile,
        // refused when its text changed since the review; else the default.
        let profile = match (spec.profile.as_deref(), &target.reviewed) {
            (Some(name_or_path), _) => Profile::load(name_or_path)?,
            (None, Some(reviewed)) => reviewed.load().map_err(|e| refused(e.into()))?,
            (None, None) => Profile::load(profile::DEFAULT_PROFILE)?,
        };
        policy
            .check_profile(&profile)
            .and_then(|()| policy.check_models(&profile))
            .map_err(|e| refused(e.into()))?;
        if !spec.workspace.is_dir() {
            return Err(LaunchError::NotADirectory(spec.workspace.clone()));
        }
        let workspace = spec
            .workspace
            .canonicalize()
            .map_err(|source| LaunchError::Workspace {
                path: spec.workspace.clone(),
                source,
            })?;
        // An installed plugin gets the overlap of its request and the
        // profile; each model role it asks for, the model the admin policy
        // or the profile maps it to (a role nothing maps refuses the run).
        let mut profile = target
            .narrow(profile, &policy)
            .map_err(|e| refused(e.into()))?;
        // The admin's files that always ask join the profile's (never fewer).
        profile
            .edits
            .add_admin_always_ask(&policy.edits.always_ask)?;
        let compiled = compile(&self.airlock, &target.path, progress)?;
        target
            .check_loaded(&compiled.digest)
            .map_err(|e| refused(e.into()))?;
        let digest = compiled.digest.clone();
        let skill = self
            .airlock
            .prepare(compiled)
            .map_err(|e| refused(e.into()))?;
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

    /// Check an installed plugin again (files, signature, trust, admin
    /// policy) before another run of a long session (`chat`, `mcp`): a
    /// plugin removed, replaced or no longer trusted since it was prepared
    /// is refused.
    pub fn recheck(&self, prepared: &Prepared) -> Result<(), LaunchError> {
        let shown = prepared.spec.skill.display().to_string();
        let refused = |e: LaunchError| self.refused(&shown, e);
        let policy = admin::policy().map_err(|e| refused(e.into()))?;
        let target = admit::resolve(
            &prepared.spec.skill,
            prepared.spec.allow_unsigned,
            Some(&self.home),
            &policy,
        )
        .map_err(|e| refused(e.into()))?;
        target
            .check_loaded(&prepared.digest)
            .map_err(|e| refused(e.into()))?;
        if target.path != prepared.target.path {
            return Err(refused(LaunchError::Changed(shown.clone())));
        }
        Ok(())
    }

    /// Run a prepared skill once: the start is recorded before the skill
    /// starts, the end before the result is returned. The run's model calls
    /// form an inference session of their own.
    pub async fn execute(
        &self,
        prepared: &Prepared,
        request: &Request,
        hooks: Hooks,
    ) -> Result<Finished, LaunchError> {
        self.execute_in_session(prepared, request, hooks, None)
            .await
    }

    /// Run a prepared skill once, as [`Launcher::execute`], its model calls
    /// continuing the inference `session` (the turns of one `airlock chat`,
    /// so the engine reads only what is new in each turn's prompt); the
    /// caller ends the session.
    pub async fn execute_in_session(
        &self,
        prepared: &Prepared,
        request: &Request,
        hooks: Hooks,
        session: Option<airlock_inference::SessionKey>,
    ) -> Result<Finished, LaunchError> {
        let start_record = prepared.run_start(request);
        let fail_on = hooks.fail_on;
        let run_audit = self.audit.begin_run(&start_record)?;
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
            session,
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
        let status = Status::of_run(&outcome, fail_on);
        let ended = run_audit.end(run_end(&run_audit, outcome.as_ref(), status, elapsed_ms));
        // After an audit failure the end is tried, but the run fails either way.
        if status != Status::Audit {
            ended?;
        }
        Ok(Finished {
            outcome,
            status,
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

/// What happened in a failed run before it stopped.
pub fn failure_events(failure: &RunFailure) -> &[Event] {
    match failure {
        RunFailure::Limit { events, .. }
        | RunFailure::Audit { events, .. }
        | RunFailure::Crashed { events, .. }
        | RunFailure::Cancelled { events } => events,
        RunFailure::Setup(_) | RunFailure::Host(_) | RunFailure::Refused(_) => &[],
    }
}

/// What the audit log records when the run ends.
fn run_end(
    audit: &RunAudit,
    outcome: Result<&RunReport, &RunFailure>,
    status: Status,
    elapsed_ms: u64,
) -> serde_json::Value {
    match outcome {
        Ok(report) => {
            let (output, redacted) = audit.redact(report.output.as_deref().unwrap_or_default());
            serde_json::json!({
                "outcome": if report.error.is_some() { "skill-error" } else { "ok" },
                "exit-code": status.code(),
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
            "outcome": status.as_str(),
            "exit-code": status.code(),
            "error": failure.to_string(),
            "elapsed-ms": elapsed_ms,
        }),
    }
}

/// The models the profile grants, checked against the model store and the
/// configured engine before the skill starts: drift refuses the run, a
/// missing model or engine is a usage error.
async fn granted_models(
    profile: &Profile,
    config: &Config,
    home: &Path,
    policy: &Policy,
) -> Result<Option<RunModels>, LaunchError> {
    let store = ModelStore::open(home);
    let backend = resolve::backend_for(config, policy)?;
    Ok(resolve::granted_models(profile, config, &store, backend, policy).await?)
}

#[cfg(test)]
mod tests;
