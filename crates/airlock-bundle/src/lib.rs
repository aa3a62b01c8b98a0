//! The offline bundle: one signed archive that carries an Airlock release
//! across the air gap, and its installation on the other side.
//!
//! - [`manifest`]: what the release signs: every file with its size and
//!   sha256, the serial that orders bundles;
//! - [`archive`]: creating a bundle from a prepared tree, and verifying one
//!   (the signature against a trusted release key, never one the bundle
//!   carries; then every file as it streams; nothing missing or extra);
//! - [`install`]: putting a verified bundle's files in place all or
//!   nothing, refusing one older than what is installed.
//!
//! Release keys are Ed25519 keys in the same files as plugin publishers'
//! (`airlock plugin keygen`); a release signature uses its own context
//! ([`airlock_trust::keys::RELEASE_CONTEXT`]), so it never stands for a
//! plugin's. Which keys are trusted is the caller's business (the CLI:
//! `--key` files, or root-owned files in `/etc/airlock/release-keys/`).

#![deny(missing_docs)]

pub mod archive;
pub mod install;
pub mod manifest;

pub use archive::{Release, Verified, create, open, open_head};
pub use install::{Change, ChangeKind, Destinations, Report, install};

use std::path::PathBuf;

/// Why a bundle was refused or could not be made or installed. Every
/// message names the bundle (and the file inside it) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file could not be written (nothing was installed).
    #[error("cannot write {}: {source}; nothing was installed", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a bundle, or a damaged one.
    #[error("refused: {} is not a valid Airlock bundle: {reason}", path.display())]
    Format {
        /// The bundle (or record) file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Signed by a key that is not a trusted release key.
    #[error(
        "refused: {} is signed by release key {fingerprint}, which is not trusted here; give the release key with `--key FILE.pub` or install it root-owned in /etc/airlock/release-keys/, after checking its fingerprint with the release team by a second channel",
        path.display()
    )]
    UnknownKey {
        /// The bundle.
        path: PathBuf,
        /// The key it names.
        fingerprint: String,
    },
    /// The signature does not match the manifest.
    #[error(
        "refused: {}'s signature does not match its manifest (key {fingerprint}): the manifest was changed after signing, or the bundle is damaged",
        path.display()
    )]
    BadSignature {
        /// The bundle.
        path: PathBuf,
        /// The key it names.
        fingerprint: String,
    },
    /// A file differs from the manifest.
    #[error(
        "refused: `{file}` in {} is not what the release signed ({reason}): the bundle was changed or damaged after signing",
        path.display()
    )]
    Modified {
        /// The bundle.
        path: PathBuf,
        /// The file inside it.
        file: String,
        /// What differs.
        reason: String,
    },
    /// A listed file is not in the archive.
    #[error(
        "refused: `{file}` is listed in {}'s manifest but not in the bundle ({count} file(s) missing): the bundle is incomplete",
        path.display()
    )]
    Missing {
        /// The bundle.
        path: PathBuf,
        /// The first missing file.
        file: String,
        /// How many are missing.
        count: usize,
    },
    /// A file the manifest does not list.
    #[error(
        "refused: {} holds `{file}`, which its signed manifest does not list: something was added after signing",
        path.display()
    )]
    Extra {
        /// The bundle.
        path: PathBuf,
        /// The file inside it.
        file: String,
    },
    /// Older than what is installed.
    #[error(
        "refused: {} is bundle serial {serial}, older than the installed serial {installed} ({}); install the newer bundle, or remove that record only to go back on purpose",
        path.display(),
        record.display()
    )]
    Older {
        /// The bundle.
        path: PathBuf,
        /// Its serial.
        serial: u64,
        /// The installed serial.
        installed: u64,
        /// The record that says so.
        record: PathBuf,
    },
}
