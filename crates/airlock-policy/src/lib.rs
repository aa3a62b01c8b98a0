//! What a skill may do, decided before it runs: sandbox profiles (grants,
//! deny-list, limits, approvals, commands, inference budgets) and the admin
//! policy that no user or project file can loosen.
//!
//! - [`profile`]: a TOML sandbox profile parsed into a [`Profile`], and the
//!   built-in and admin-installed profiles;
//! - [`admin`]: the root-owned admin policy (`/etc/airlock/policy.toml`);
//! - [`denylist`]: the secrets withheld inside every grant;
//! - [`roles`]: model roles (`chat`, `code`), which plugins ask for and
//!   profiles and the admin policy map to models;
//! - [`runs_later`]: the files whose changes always ask a person, because
//!   they run code outside the sandbox later.
//!
//! Nothing here touches a workspace or runs anything: the host enforces
//! what this crate decides.

// Ambient std::fs allowed: only in unit tests, which build their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods))]
#![deny(missing_docs)]

pub mod admin;
pub mod denylist;
pub mod profile;
pub mod roles;
pub mod runs_later;

pub use profile::Profile;
