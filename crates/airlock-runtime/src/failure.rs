//! Why a run did not finish, and how a trap becomes the most specific
//! failure the host can name (a limit, the audit, a cancel, a crash).

use crate::engine;
use crate::journal::{Abort, Event};
use crate::profile::Limits;
use crate::state::RunState;
use wasmtime::{Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// Why a run did not finish. The variants map to the CLI's exit codes.
#[derive(Debug, thiserror::Error)]
pub enum RunFailure {
    /// The run could not start (workspace missing, store setup).
    #[error("{0}")]
    Setup(String),
    /// The host could not run the skill (e.g. every instance slot is in use).
    #[error("{0}")]
    Host(String),
    /// Refused by policy before running (e.g. an incompatible skill).
    #[error("{0}")]
    Refused(String),
    /// A limit stopped the run.
    #[error("{message}")]
    Limit {
        /// The profile key, or the host constant, that was exceeded.
        key: String,
        /// A sentence for the user.
        message: String,
        /// What happened before the stop.
        events: Vec<Event>,
    },
    /// The audit log could not be written, so the host stopped the run
    /// (fail closed).
    #[error("{message}; the run was stopped, because Airlock does not act without a record")]
    Audit {
        /// What failed.
        message: String,
        /// What happened before the stop.
        events: Vec<Event>,
    },
    /// The run was cancelled from outside (Ctrl-C).
    #[error("cancelled: the run was stopped on request")]
    Cancelled {
        /// What happened before the stop.
        events: Vec<Event>,
    },
    /// The skill crashed (trapped).
    #[error("{message}")]
    Crashed {
        /// A sentence for the user.
        message: String,
        /// What happened before the crash.
        events: Vec<Event>,
    },
}

/// Instantiation runs the skill's start code, which can trap like any other
/// code; any other failure is the host's (e.g. every pool slot in use).
pub(crate) fn instantiate_failure(
    store: &mut Store<RunState>,
    err: wasmtime::Error,
    limits: &Limits,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> RunFailure {
    let trapped = err.downcast_ref::<Trap>().is_some()
        || store.data().journal.abort_reason().is_some()
        || store.data().limiter.refused.is_some();
    if trapped {
        classify_trap(store, err, limits, stdout, stderr)
    } else {
        RunFailure::Host(format!("cannot instantiate the skill: {err:#}"))
    }
}

/// Turn a trap into the most specific failure the host can name.
pub(crate) fn classify_trap(
    store: &mut Store<RunState>,
    err: wasmtime::Error,
    limits: &Limits,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> RunFailure {
    let state = store.data_mut();
    let abort = state.journal.abort_reason().cloned();
    let refused_memory = state.limiter.refused;
    let cancelled = state.workspace.cancelled();
    let events = state.journal.take_events();
    if let Some(abort) = abort {
        return match abort {
            Abort::Limit { key, message, .. } => RunFailure::Limit {
                key,
                message,
                events,
            },
            Abort::Abuse(message) => RunFailure::Limit {
                key: "host call size".into(),
                message,
                events,
            },
            Abort::Audit(message) => RunFailure::Audit { message, events },
        };
    }
    if let Some(desired) = refused_memory {
        return RunFailure::Limit {
            key: "limits.memory-mib".into(),
            message: format!(
                "memory limit reached: the skill tried to grow its memory to {} MiB, over the profile's limits.memory-mib = {}",
                desired.div_ceil(1024 * 1024),
                limits.memory_mib
            ),
            events,
        };
    }
    let trap = err.downcast_ref::<Trap>().copied();
    if trap == Some(Trap::Interrupt) && cancelled {
        return RunFailure::Cancelled { events };
    }
    if trap == Some(Trap::Interrupt) {
        return RunFailure::Limit {
            key: "limits.wall-clock-seconds".into(),
            message: format!(
                "deadline reached: the skill ran longer than the profile's limits.wall-clock-seconds = {}",
                limits.wall_clock_seconds
            ),
            events,
        };
    }
    if stdout.contents().len() as u64 >= limits.max_output_bytes {
        return RunFailure::Limit {
            key: "limits.max-output-bytes".into(),
            message: format!(
                "output limit reached: the skill wrote more than the profile's limits.max-output-bytes = {} bytes to stdout",
                limits.max_output_bytes
            ),
            events,
        };
    }
    if trap == Some(Trap::StackOverflow) {
        return RunFailure::Limit {
            key: "wasm stack".into(),
            message: format!(
                "stack overflow: the skill recursed past the {} KiB WebAssembly stack",
                engine::MAX_WASM_STACK_BYTES / 1024
            ),
            events,
        };
    }
    if trap == Some(Trap::MemoryOutOfBounds) {
        return RunFailure::Crashed {
            message: "the skill crashed: out-of-bounds memory access (most often a stack overflow: Rust keeps large stack frames in linear memory, 1 MiB by default; or a bug in the skill)".into(),
            events,
        };
    }
    let panic = String::from_utf8_lossy(&stderr.contents())
        .trim()
        .to_string();
    let detail = match trap {
        Some(t) => t.to_string(),
        None => format!("{err:#}"),
    };
    let message = if panic.is_empty() {
        format!("the skill crashed: {detail}")
    } else {
        let tail: Vec<&str> = panic.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "the skill crashed: {detail}\n  skill stderr: {}",
            tail.join("\n  ")
        )
    };
    RunFailure::Crashed { message, events }
}
