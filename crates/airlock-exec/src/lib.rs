//! Running one approved command in isolation (the `exec` interface's
//! engine). A command never touches the real workspace: it works on a
//! private copy of what the profile grants ([`snapshot`]), and its changes
//! are reviewed afterwards like a skill's edits. Bubblewrap (`bwrap`) builds
//! its view from nothing: the toolchain read-only, a private `/tmp`, the
//! copy, and no network (a fresh network namespace with only loopback), in
//! its own PID, IPC, UTS and cgroup namespaces, with no capabilities, under
//! a seccomp filter and resource limits. The environment is rebuilt from an
//! allowlist. When the isolation cannot be set up, nothing runs.
//!
//! - [`isolate`]: the view, the bwrap invocation, timeouts and capped output;
//! - [`snapshot`]: the private copy and what the command changed in it;
//! - [`limits`]: processes, memory, CPU time, file size, open files;
//! - [`seccomp`]: the system calls a command may not make;
//! - [`env`]: the allowlisted environment;
//! - [`risk`]: why a command is risky (deletes, history rewrites, network);
//! - [`posture`]: what this machine offers the sandbox (`airlock doctor`).

// Ambient std::fs allowed: only in unit tests, which build their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods))]
#![deny(missing_docs)]

pub mod env;
pub mod isolate;
pub mod limits;
pub mod posture;
pub mod risk;
pub mod seccomp;
pub mod snapshot;

pub use isolate::{CommandOutcome, CommandRequest, ExecError, Mount, run};
