//! Airlock's host: runs agent skills as WebAssembly components (WASI preview
//! 2, component model) that see only what a sandbox profile grants and never
//! the network.
//!
//! The pieces, in the order a run uses them:
//! - [`profile`]: a TOML sandbox profile parsed into grants, deny-list and limits;
//! - [`skill`]: a component compiled (or loaded from the authenticated
//!   [`cache`]) and checked — network imports are refused here, before any code runs;
//! - [`run`]: a fresh store per run with memory, deadline and output limits,
//!   linked with [`host`] implementations of each WIT interface over a
//!   cap-std [`sandbox`];
//! - [`journal`]: the events of a run (logs, denials, withheld files).

// Ambient std::fs allowed: only in unit tests, which build their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods))]
#![deny(missing_docs)]

pub mod approval;
pub use airlock_audit as audit;
mod bindings;
pub mod cache;
pub use airlock_core::clock;
pub use airlock_exec as command;
pub mod engine;
pub mod failure;
pub mod host;
pub use airlock_inference as inference;
pub mod journal;
pub use airlock_inference::models;
pub use airlock_policy::admin as policy;
pub use airlock_policy::profile;
pub mod run;
pub mod sandbox;
pub mod skill;
pub mod state;
pub use airlock_core::terminal;
pub mod undo;

use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Linker;

pub use host::inference::RunModels;
pub use journal::{Event, EventSink};
pub use profile::Profile;
pub use run::{Request, RunFailure, RunOptions, RunReport, Severity};
pub use skill::{LoadError, LoadedSkill};

pub use airlock_core::home::{HOME_ENV, default_home};

/// One process's Airlock host: the engine, the linker and the compile cache.
/// Create it once and run many skills with it.
pub struct Airlock {
    engine: Engine,
    linker: Linker<state::RunState>,
    cache: Option<cache::ComponentCache>,
    home: Option<PathBuf>,
    _ticker: engine::EpochTicker,
}

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The engine could not be configured (e.g. address space for the pool).
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    /// The compile cache could not be opened.
    #[error("cannot open the compile cache in {}: {source}", dir.display())]
    Cache {
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The deadline ticker could not start; without it no deadline holds.
    #[error("cannot start the deadline ticker thread: {0}")]
    Ticker(std::io::Error),
}

impl Airlock {
    /// A host whose state (the compile cache) lives in `home`; `None` runs
    /// without a cache, compiling every component on load.
    pub fn new(home: Option<&Path>) -> Result<Self, StartError> {
        let engine = engine::new_engine().map_err(|e| StartError::Engine(format!("{e:#}")))?;
        let linker = build_linker(&engine).map_err(|e| StartError::Engine(format!("{e:#}")))?;
        // The cache only saves compile time; without it every load compiles,
        // which is slower but exactly as safe, so a broken cache is a warning.
        let cache = home.and_then(|home| {
            let dir = home.join("cache");
            cache::ComponentCache::open(&dir, &engine)
                .map_err(|source| {
                    let err = StartError::Cache { dir, source };
                    tracing::warn!("{err}; continuing without the compile cache");
                })
                .ok()
        });
        let ticker = engine::EpochTicker::start(&engine).map_err(StartError::Ticker)?;
        Ok(Self {
            engine,
            linker,
            cache,
            home: home.map(Path::to_path_buf),
            _ticker: ticker,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compile a component (or take it from the cache) without policy checks.
    pub fn compile(
        &self,
        path: &Path,
        on_compile: &dyn Fn(&str),
        on_warning: &dyn Fn(&str),
    ) -> Result<skill::Compiled, LoadError> {
        skill::compile(
            &self.engine,
            self.cache.as_ref(),
            path,
            on_compile,
            on_warning,
        )
    }

    /// Compile and check a skill; nothing of it runs.
    pub fn load(&self, path: &Path) -> Result<LoadedSkill, LoadError> {
        self.compile(path, &|_| {}, &|w| tracing::warn!("{w}"))?
            .prepare(&self.engine, &self.linker)
    }

    /// Check an already compiled component and pre-link it.
    pub fn prepare(&self, compiled: skill::Compiled) -> Result<LoadedSkill, LoadError> {
        compiled.prepare(&self.engine, &self.linker)
    }

    /// Run a loaded skill over `workspace` under `profile`, unaudited and
    /// with nobody to approve changes (a profile's `ask` denies).
    pub async fn run(
        &self,
        skill: &LoadedSkill,
        profile: &Profile,
        workspace: &Path,
        request: &Request,
        models: Option<RunModels>,
        sink: Option<EventSink>,
    ) -> Result<RunReport, RunFailure> {
        let options = RunOptions {
            models,
            sink,
            ..RunOptions::default()
        };
        self.run_with(skill, profile, workspace, request, options)
            .await
    }

    /// Run a loaded skill like [`Airlock::run`], recording it in the audit
    /// log through `audit` (from [`audit::AuditLog::begin_run`]). The caller
    /// records the run's end with [`audit::RunAudit::end`].
    // One independent input per argument, as in `run`, plus the audit handle.
    #[allow(clippy::too_many_arguments)]
    pub async fn run_audited(
        &self,
        skill: &LoadedSkill,
        profile: &Profile,
        workspace: &Path,
        request: &Request,
        models: Option<RunModels>,
        sink: Option<EventSink>,
        audit: audit::RunAudit,
    ) -> Result<RunReport, RunFailure> {
        let options = RunOptions {
            models,
            sink,
            audit: Some(audit),
            ..RunOptions::default()
        };
        self.run_with(skill, profile, workspace, request, options)
            .await
    }

    /// Run a loaded skill with every option: models, live events, the audit
    /// record, the approver for changes and the undo record.
    pub async fn run_with(
        &self,
        skill: &LoadedSkill,
        profile: &Profile,
        workspace: &Path,
        request: &Request,
        options: RunOptions,
    ) -> Result<RunReport, RunFailure> {
        run::run_skill(
            &self.engine,
            skill,
            profile,
            workspace,
            self.home.as_deref(),
            request,
            options,
        )
        .await
    }

    /// Call only the skill's `describe` export, with no grants at all.
    pub async fn describe(&self, skill: &LoadedSkill) -> Result<run::SkillDescription, RunFailure> {
        run::describe_only(&self.engine, skill).await
    }
}

fn build_linker(engine: &Engine) -> wasmtime::Result<Linker<state::RunState>> {
    let mut linker = Linker::new(engine);
    host::wasi::add_to_linker(&mut linker)?;
    host::workspace::add_to_linker(&mut linker, state::RunState::workspace_view)?;
    host::log::add_to_linker(&mut linker, state::RunState::log_view)?;
    host::inference::add_to_linker(&mut linker, state::RunState::inference_view)?;
    host::exec::add_to_linker(&mut linker, state::RunState::exec_view)?;
    Ok(linker)
}
