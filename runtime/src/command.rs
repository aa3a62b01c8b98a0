//! Running one approved command in isolation (the `exec` interface's
//! engine): bubblewrap (`bwrap`) gives it a fresh network namespace (only a
//! loopback interface, no route), its own PID, IPC and UTS namespaces, a
//! read-only view of the system with the caller's home hidden, a private
//! `/tmp`, and the workspace as the one writable place (`.git` and
//! deny-listed files inside it masked). The environment is rebuilt from an
//! allowlist. When the isolation cannot be set up, nothing runs.
//!
//! - [`isolate`]: the bwrap invocation, timeouts and capped output;
//! - [`env`]: the allowlisted environment;
//! - [`risk`]: why a command is risky (deletes, history rewrites, network).

pub mod env;
pub mod isolate;
pub mod risk;

pub use isolate::{CommandOutcome, CommandRequest, ExecError, run};
