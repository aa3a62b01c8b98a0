//! Signed plugin packages, publisher keys, the offline trust store and the
//! plugin store (see `docs/plugins.md`).
//!
//! A publisher signs a package's manifest, which carries the component's
//! sha256 and the version, with an Ed25519 key ([`keys`]). An officer trusts
//! publisher keys by fingerprint ([`trust`]), installs packages after
//! reviewing what they request against a profile ([`caps`]) into the plugin
//! store ([`store`]), and every run of an installed plugin checks the
//! installed files and the signature again, against the trust store as it is
//! at that moment. [`admit`] decides, before every run, whether a plugin
//! (or a bare component) may run at all.

// Ambient std::fs allowed: only in unit tests, which build their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods))]
#![deny(missing_docs)]

pub mod admit;
pub mod caps;
pub mod keys;
pub mod manifest;
pub mod package;
pub mod store;
pub mod trust;

use serde::Serialize;

/// Who signed a package, as a run reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    /// The publisher named in the signed manifest.
    pub publisher: String,
    /// The name the key has in this machine's trust store.
    pub trusted_as: String,
    /// The key's fingerprint, `SHA256:<hex>`.
    pub fingerprint: String,
}

pub use airlock_core::names::{NameError, NameKind, check as check_name};
