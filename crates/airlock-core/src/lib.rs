//! The floor every Airlock crate stands on. It knows nothing of WebAssembly,
//! models, profiles or the audit log; it holds the small pieces they share:
//!
//! - [`names`]: the one rule for model, plugin, publisher, key and profile names;
//! - [`paths`]: [`paths::RelPath`], a workspace-relative path checked on its face;
//! - [`clock`]: a run's deadline, which stands still while a person decides;
//! - [`toml_errors`]: `FILE:LINE:COLUMN: message` for every strict TOML file;
//! - [`wit_version`]: which skills this host can run;
//! - [`home`]: where the state directory is;
//! - [`imports`]: what a component imports from the `airlock:skill` interfaces;
//! - [`terminal`]: the one renderer for text a skill, a model or a file
//!   produced that reaches a terminal (escapes shown, never obeyed);
//! - [`statefs`]: the one module that writes the state directory (private
//!   directories, atomic writes, temporary files, hashing copies, file
//!   fingerprints).

// Ambient std::fs allowed: only in unit tests, which build their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods))]
#![deny(missing_docs)]

pub mod clock;
pub mod home;
pub mod imports;
pub mod names;
pub mod paths;
pub mod statefs;
pub mod terminal;
pub mod toml_errors;
pub mod wit_version;
