//! Everything between "run this skill" and its audited result, for every
//! front end that runs skills (`airlock run`, `chat` and `mcp` today):
//!
//! - [`config`]: the configuration file, composing the engine, model and
//!   audit sections of the crates below;
//! - [`launch`]: the launch pipeline — admit the skill ([`airlock_trust::admit`]),
//!   load its profile and hold it to the admin policy, narrow it to what a
//!   plugin requests, check the granted models, then run it with the run's
//!   start and end in the audit log; refusals before a run are recorded too;
//! - [`admin`]: the admin policy in force, and the audit records of the
//!   changes to what this machine trusts and runs;
//! - [`doctor`]: the posture of this installation (`airlock doctor`);
//! - [`status`]: how a run or a refusal ends — the code and word the audit
//!   log records, which `airlock` also exits with.
//!
//! This crate parses no arguments and prints nothing: every outcome is a
//! value ([`launch::LaunchError`], [`admin::NotRecorded`], [`status::Status`])
//! that the caller shows.

// Ambient std::fs allowed: only in unit tests, which build their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods))]
#![deny(missing_docs)]

pub mod admin;
pub mod config;
pub mod doctor;
pub mod launch;
pub mod status;

pub use airlock_runtime::Severity;
pub use launch::{Finished, Hooks, LaunchError, Launcher, Prepared, SkillSpec};
pub use status::Status;
