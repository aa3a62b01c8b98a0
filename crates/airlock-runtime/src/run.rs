//! Running a loaded skill under a profile, in a fresh store per run.

// Ambient std::fs allowed: resolves the user-named workspace root before opening it.
#![allow(clippy::disallowed_methods)]

use crate::audit::RunAudit;
use crate::bindings::types::{self as wit, RunRequest};
pub use crate::failure::RunFailure;
use crate::failure::{classify_trap, instantiate_failure};
use crate::host::inference::{InferenceState, InferenceUsage, RunModels};
use crate::host::workspace::{Usage, WorkspaceState};
use crate::journal::{Abort, Event, EventSink, Journal};
use crate::profile::{Limits, Profile};
use crate::sandbox::resolve::Sandbox;
use crate::skill::LoadedSkill;
use crate::state::MemoryLimiter;
pub use crate::state::RunState;
use airlock_core::paths::RelPath;
use airlock_core::wit_version::{WIT_VERSION, wit_compatible};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// How often a running skill is checked for cancellation.
const CANCEL_CHECK: Duration = Duration::from_millis(100);

/// Captured guest stderr kept for diagnosing a trap (a Rust panic message).
const STDERR_CAPTURE_BYTES: usize = 64 * 1024;

/// How serious a finding is, ordered: `Note < Low < Medium < High <
/// Critical`. The threshold of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// `note`.
    Note,
    /// `low`.
    Low,
    /// `medium`.
    Medium,
    /// `high`.
    High,
    /// `critical`.
    Critical,
}

impl Severity {
    /// A finding's severity as the host reports it (`note` … `critical`,
    /// any case); `None` for anything else.
    pub fn parse(severity: &str) -> Option<Self> {
        [
            Severity::Note,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(severity))
    }

    /// The name the host and the WIT use.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Request {
    /// `--input`.
    pub input: Option<String>,
    /// `--arg KEY=VALUE`, in order.
    pub args: Vec<(String, String)>,
}

/// What the skill says about itself (its `describe` export).
#[derive(Debug, Clone, Serialize)]
pub struct SkillDescription {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// One-line summary.
    pub summary: String,
    /// Requested capabilities, as `workspace-read:PATH` / `workspace-write:PATH`.
    pub capabilities: Vec<String>,
    /// The `airlock:skill` version it was built for.
    pub wit_version: String,
}

/// One structured finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Rule id.
    pub rule_id: String,
    /// `note`, `low`, `medium`, `high` or `critical`.
    pub severity: Severity,
    /// Message.
    pub message: String,
    /// Path, when about a file.
    pub path: Option<String>,
    /// 1-based line.
    pub line: Option<u32>,
    /// 1-based column.
    pub column: Option<u32>,
}

/// A finished run: the skill returned, with success or its own error.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The skill's description.
    pub skill: SkillDescription,
    /// sha256 of the component.
    pub skill_digest: String,
    /// Profile name.
    pub profile: String,
    /// sha256 of the profile text.
    pub profile_digest: String,
    /// The limits in force.
    pub limits: Limits,
    /// The workspace root.
    pub workspace: PathBuf,
    /// The skill's output, when it succeeded: the text it printed while
    /// running, followed by the text it returned.
    pub output: Option<String>,
    /// How many bytes at the start of `output` were printed while the skill
    /// ran (a live view has shown them already).
    pub printed_bytes: usize,
    /// Findings, when it succeeded.
    pub findings: Vec<Finding>,
    /// The skill's error, when it failed.
    pub error: Option<String>,
    /// Everything that happened, in order.
    pub events: Vec<Event>,
    /// Files the deny-list withheld from listings (path → rule). Never read.
    pub withheld: BTreeMap<String, String>,
    /// What was used.
    pub usage: Usage,
    /// What was used of the inference budget.
    pub inference: InferenceUsage,
    /// Output bytes used.
    pub output_bytes: u64,
    /// Calls the skill made to the `airlock:skill` interfaces
    /// (`limits.max-host-calls`).
    pub host_calls: u64,
    /// Wall-clock time of the run.
    pub elapsed_ms: u64,
}

impl RunReport {
    /// Denials recorded during the run.
    pub fn denials(&self) -> impl Iterator<Item = &Event> {
        self.events
            .iter()
            .filter(|e| matches!(e, Event::Denied { .. }))
    }
}

/// What a run may use beyond the skill, profile and workspace.
#[derive(Default)]
pub struct RunOptions {
    /// The models the profile grants, resolved.
    pub models: Option<RunModels>,
    /// Receives events as they happen (a live view).
    pub sink: Option<EventSink>,
    /// The run's audit record.
    pub audit: Option<RunAudit>,
    /// Who approves changes when the profile says `ask`; without one,
    /// anything that would ask is denied.
    pub approver: Option<std::sync::Arc<dyn crate::approval::Approver>>,
    /// Where prior contents of changed files are kept for `airlock undo`.
    pub undo: Option<crate::undo::UndoLog>,
    /// The skill's name as approval prompts show it.
    pub skill_label: Option<String>,
    /// Stops the run from outside (Ctrl-C in `airlock chat`).
    pub cancel: Option<airlock_core::clock::Cancel>,
    /// The inference session the run's model calls continue (the turns of
    /// one `airlock chat`), which the caller ends with
    /// [`crate::inference::Backend::end_session`]. `None`: the run has a
    /// session of its own, ended with the run, so no other run ever shares
    /// what the engine kept for it.
    pub session: Option<crate::inference::SessionKey>,
}

/// Run `skill` over `workspace` under `profile`.
pub async fn run_skill(
    engine: &Engine,
    skill: &LoadedSkill,
    profile: &Profile,
    workspace: &Path,
    protected: Option<&Path>,
    request: &Request,
    options: RunOptions,
) -> Result<RunReport, RunFailure> {
    let started = Instant::now();
    let limits = profile.limits.clone();
    let label = options.skill_label.clone().unwrap_or_else(|| {
        skill
            .compiled
            .path
            .file_stem()
            .map_or_else(|| "skill".into(), |s| s.to_string_lossy().into_owned())
    });
    let clock = airlock_core::clock::RunClock::new(
        started + Duration::from_secs(limits.wall_clock_seconds),
    )
    .with_cancel(options.cancel.clone().unwrap_or_default());
    let edits = crate::host::workspace::EditGate {
        mode: profile.edits.mode,
        gate: crate::approval::Gate::new(options.approver).with_clock(clock.clone()),
        undo: options.undo,
        skill: label,
        runs_later: profile.edits.runs_later().clone(),
    };
    let (mut store, stdout, stderr) = new_store(
        engine,
        profile,
        workspace,
        protected,
        options.models,
        options.sink,
        edits,
        clock,
        options.session,
    )?;
    store.data_mut().journal.set_audit(options.audit);

    let fail =
        |store: &mut Store<RunState>,
         err: wasmtime::Error,
         stdout: &MemoryOutputPipe,
         stderr: &MemoryOutputPipe| { classify_trap(store, err, &limits, stdout, stderr) };

    let instance = match skill.pre.instantiate_async(&mut store).await {
        Ok(i) => i,
        Err(e) => {
            return Err(instantiate_failure(
                &mut store, e, &limits, &stdout, &stderr,
            ));
        }
    };
    let info = match instance.call_describe(&mut store).await {
        Ok(info) => info,
        Err(e) => return Err(fail(&mut store, e, &stdout, &stderr)),
    };
    let skill_desc = describe(&info);
    if !wit_compatible(&info.wit_version) {
        return Err(RunFailure::Refused(format!(
            "refused to run {}: its describe() says it was built for airlock:skill@{}, and this host speaks airlock:skill@{WIT_VERSION}",
            skill.compiled.path.display(),
            info.wit_version
        )));
    }
    let wit_request = RunRequest {
        input: request.input.clone(),
        args: request.args.clone(),
    };
    let result = match instance.call_run(&mut store, &wit_request).await {
        Ok(r) => r,
        Err(e) => return Err(fail(&mut store, e, &stdout, &stderr)),
    };

    // A skill that handled the cancellation itself (a failed model call,
    // say) and returned is still a cancelled run.
    if store.data().workspace.cancelled() {
        let events = store.data_mut().journal.take_events();
        return Err(RunFailure::Cancelled { events });
    }
    // A limit the host reached ends the run as a limit failure, even when
    // the skill got an error value back and returned.
    if let Some(Abort::Limit { key, message, .. }) = store.data().journal.abort_reason().cloned() {
        let events = store.data_mut().journal.take_events();
        return Err(RunFailure::Limit {
            key,
            message,
            events,
        });
    }
    let (output, findings, error) = match result {
        Ok(out) => {
            let size = out.text.len() as u64
                + out
                    .findings
                    .iter()
                    .map(|f| f.message.len() as u64 + 64)
                    .sum::<u64>();
            if let Err(Abort::Limit { key, message, .. }) = store
                .data_mut()
                .journal
                .charge_output(size, "the skill's final output")
            {
                let events = store.data_mut().journal.take_events();
                return Err(RunFailure::Limit {
                    key,
                    message,
                    events,
                });
            }
            (
                Some(out.text),
                out.findings.iter().map(finding).collect(),
                None,
            )
        }
        Err(e) => (None, Vec::new(), Some(crate::host::types::message(&e))),
    };
    let state = store.into_data();
    let usage = state.workspace.usage();
    let inference = state.inference.usage();
    let output_bytes = state.journal.output_used();
    let (host_calls, _) = state.journal.counts();
    let (events, withheld, printed) = state.journal.into_parts();
    let printed_bytes = printed.len();
    let output = output.map(|text| printed + &text);
    Ok(RunReport {
        skill: skill_desc,
        skill_digest: skill.compiled.digest.clone(),
        profile: profile.name.clone(),
        profile_digest: profile.digest.clone(),
        limits,
        workspace: workspace.to_path_buf(),
        output,
        printed_bytes,
        findings,
        error,
        events,
        withheld,
        usage,
        inference,
        output_bytes,
        host_calls,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Call only `describe`, in a sandbox with no grants and a short deadline.
pub async fn describe_only(
    engine: &Engine,
    skill: &LoadedSkill,
) -> Result<SkillDescription, RunFailure> {
    // Parsed once: building the deny-list's glob set is the costly part.
    static DESCRIBE_ONLY: std::sync::OnceLock<Result<Profile, String>> = std::sync::OnceLock::new();
    let profile = DESCRIBE_ONLY
        .get_or_init(|| {
            Profile::parse(
                "name = \"describe-only\"\n[limits]\nwall-clock-seconds = 5\nmemory-mib = 64\nmax-bytes-read = 0\nmax-bytes-written = 0\nmax-files-listed = 1\n",
                crate::profile::ProfileSource::Builtin("describe-only".into()),
            )
            .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| RunFailure::Setup(e.clone()))?;
    // The profile grants nothing, so the root is unreachable whatever it is.
    let root = std::env::temp_dir();
    let limits = profile.limits.clone();
    let edits = crate::host::workspace::EditGate {
        mode: crate::profile::ApprovalMode::Deny,
        gate: crate::approval::Gate::new(None),
        undo: None,
        skill: String::new(),
        runs_later: crate::sandbox::runs_later::RunsLater::builtin(),
    };
    let (mut store, stdout, stderr) = new_store(
        engine,
        profile,
        &root,
        None,
        None,
        None,
        edits,
        airlock_core::clock::RunClock::new(
            Instant::now() + Duration::from_secs(limits.wall_clock_seconds),
        ),
        None,
    )?;
    let instance = match skill.pre.instantiate_async(&mut store).await {
        Ok(i) => i,
        Err(e) => {
            return Err(instantiate_failure(
                &mut store, e, &limits, &stdout, &stderr,
            ));
        }
    };
    match instance.call_describe(&mut store).await {
        Ok(info) => Ok(describe(&info)),
        Err(e) => Err(classify_trap(&mut store, e, &limits, &stdout, &stderr)),
    }
}

// Each argument is one part of a fresh store.
#[allow(clippy::too_many_arguments)]
fn new_store(
    engine: &Engine,
    profile: &Profile,
    workspace: &Path,
    protected: Option<&Path>,
    models: Option<RunModels>,
    sink: Option<EventSink>,
    edits: crate::host::workspace::EditGate,
    clock: airlock_core::clock::RunClock,
    session: Option<crate::inference::SessionKey>,
) -> Result<(Store<RunState>, MemoryOutputPipe, MemoryOutputPipe), RunFailure> {
    let limits = &profile.limits;
    let root = cap_std::fs::Dir::open_ambient_dir(workspace, cap_std::ambient_authority())
        .map_err(|e| {
            RunFailure::Setup(format!(
                "cannot open workspace {}: {e}; pass an existing directory with --workspace",
                workspace.display()
            ))
        })?;
    let protected_paths = protected
        .and_then(|state| protected_inside(workspace, state))
        .into_iter()
        .collect();
    let sandbox = Sandbox::new(
        root,
        profile.grants.clone(),
        profile.deny_list().clone(),
        protected_paths,
    )
    .with_hard_links(profile.hard_links);
    let capture = usize::try_from(limits.max_output_bytes).unwrap_or(usize::MAX);
    let stdout = MemoryOutputPipe::new(capture);
    let stderr = MemoryOutputPipe::new(STDERR_CAPTURE_BYTES);
    // Deny by default: no preopens, no environment, no arguments, no network,
    // stdin empty; stdout and stderr go to bounded in-memory pipes.
    let wasi = WasiCtxBuilder::new()
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .build();
    let exec = crate::host::exec::ExecState::new(
        profile.commands.clone(),
        workspace
            .canonicalize()
            .unwrap_or_else(|_| workspace.to_path_buf()),
        clock.clone(),
        edits.skill.clone(),
        profile.deny_list().clone(),
        protected.map(Path::to_path_buf).into_iter().collect(),
    );
    let state = RunState {
        wasi,
        table: ResourceTable::new(),
        workspace: WorkspaceState::new(sandbox, limits.clone(), clock.clone(), edits),
        journal: Journal::new(limits.max_output_bytes, sink).with_caps(limits),
        inference: InferenceState::new(models, profile.inference.clone(), clock.clone())
            .in_session(session),
        exec,
        limiter: MemoryLimiter {
            max_bytes: usize::try_from(limits.memory_mib * 1024 * 1024).unwrap_or(usize::MAX),
            refused: None,
        },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store.set_epoch_deadline(crate::engine::deadline_ticks_ms(
        Duration::from_secs(limits.wall_clock_seconds)
            .min(CANCEL_CHECK)
            .as_millis(),
    ));
    // At the deadline, extend it by the time a person spent at approval
    // prompts (the skill was waiting, not running); otherwise stop the run.
    // The callback also runs every CANCEL_CHECK, so a cancelled run stops
    // within that time even while the skill computes.
    store.epoch_deadline_callback(move |_| {
        let left = clock.at().saturating_duration_since(Instant::now());
        if left.is_zero() || clock.cancel().is_cancelled() {
            Ok(wasmtime::UpdateDeadline::Interrupt)
        } else {
            Ok(wasmtime::UpdateDeadline::Continue(
                crate::engine::deadline_ticks_ms(left.min(CANCEL_CHECK).as_millis()),
            ))
        }
    });
    Ok((store, stdout, stderr))
}

/// Airlock's state directory as a workspace-relative path, if it lies inside.
fn protected_inside(workspace: &Path, state: &Path) -> Option<RelPath> {
    let ws = workspace.canonicalize().ok()?;
    let st = state.canonicalize().ok()?;
    let rel = st.strip_prefix(&ws).ok()?;
    RelPath::parse(rel.to_str()?).ok()
}

fn describe(info: &wit::SkillInfo) -> SkillDescription {
    SkillDescription {
        name: info.name.clone(),
        version: info.version.clone(),
        summary: info.summary.clone(),
        capabilities: info
            .capabilities
            .iter()
            .map(|c| match c {
                wit::Capability::WorkspaceRead(p) => format!("workspace-read:{p}"),
                wit::Capability::WorkspaceWrite(p) => format!("workspace-write:{p}"),
            })
            .collect(),
        wit_version: info.wit_version.clone(),
    }
}

fn finding(f: &wit::Finding) -> Finding {
    Finding {
        rule_id: f.rule_id.clone(),
        severity: match f.severity {
            wit::Severity::Note => Severity::Note,
            wit::Severity::Low => Severity::Low,
            wit::Severity::Medium => Severity::Medium,
            wit::Severity::High => Severity::High,
            wit::Severity::Critical => Severity::Critical,
        },
        message: f.message.clone(),
        path: f.path.clone(),
        line: f.line,
        column: f.column,
    }
}
