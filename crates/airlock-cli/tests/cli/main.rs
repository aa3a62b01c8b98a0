//! The `airlock` binary driven as its users drive it, plus the property tests
//! of the parsers and the workspace sandbox: one test binary (it links
//! wasmtime and llama.cpp once), one module per subject. Every module runs
//! the binary through [`support`], which wraps `airlock_tests::cli::hermetic`.
//!
//! The tests run in parallel threads of this one process: each uses its own
//! temporary directories, and asks the system for any port it listens on.

// Ambient std::fs allowed: test code builds its fixtures with std::fs.
#![allow(clippy::disallowed_methods)]

mod support;

/// What the approval tests share (`approvals_cli`, `approval_attacks`).
mod approvals {
    pub mod common;
}

mod approval_attacks;
mod approvals_cli;
mod audit_cli;
mod audit_golden;
mod basics;
mod bounds;
mod bundle_cli;
mod chat_cli;
mod coder_cli;
mod commands_adversarial;
mod doctor_cli;
mod exec_cli;
mod inference_cli;
mod mcp_cli;
mod model_roles_cli;
mod models;
mod parse_properties;
mod plugins_cli;
mod policy_cli;
mod profile_lookup;
mod revocation_cli;
mod terminal_escapes;
mod vcs_and_denylist;
mod workspace_identity;
mod workspace_properties;
