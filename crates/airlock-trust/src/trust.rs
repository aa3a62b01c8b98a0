//! The trust store: the publisher keys this machine trusts, each under a
//! name, in `$AIRLOCK_HOME/trust/NAME.pub` (directory mode 0700). Nothing is
//! fetched: an officer adds a key file carried across the air gap, after
//! checking its fingerprint with the publisher.

// Ambient std::fs allowed: the trust store is this module's state-directory format.
#![allow(clippy::disallowed_methods)]

use super::keys::PublicKey;
use std::path::{Path, PathBuf};

/// The trust store.
pub struct TrustStore {
    dir: PathBuf,
}

/// A trust-store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A file operation failed.
    #[error("trust store {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A usage error, with the message.
    #[error("{0}")]
    Usage(String),
}

impl TrustStore {
    /// The trust store of the Airlock home `home`.
    pub fn open(home: &Path) -> Self {
        Self {
            dir: home.join("trust"),
        }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every trusted key, by name. Files that are not valid keys are skipped
    /// with a warning: they cannot vouch for anything.
    pub fn list(&self) -> Vec<(String, PublicKey)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut keys: Vec<_> = entries
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                let name = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".pub")?
                    .to_string();
                match PublicKey::read(&path) {
                    Ok(key) => Some((name, key)),
                    Err(e) => {
                        tracing::warn!("ignoring {}: {e}", path.display());
                        None
                    }
                }
            })
            .collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        keys
    }

    /// The key with this fingerprint, and its name.
    pub fn find(&self, fingerprint: &str) -> Option<(String, PublicKey)> {
        self.list()
            .into_iter()
            .find(|(_, key)| key.fingerprint() == fingerprint)
    }

    /// Trust `key` under `name`.
    pub fn add(&self, name: &str, key: &PublicKey) -> Result<(), TrustError> {
        super::check_name(super::NameKind::Key, name)
            .map_err(|e| TrustError::Usage(e.to_string()))?;
        if let Some((existing, _)) = self.find(&key.fingerprint()) {
            return Err(TrustError::Usage(format!(
                "key {} is already trusted as `{existing}`",
                key.fingerprint()
            )));
        }
        let path = self.dir.join(format!("{name}.pub"));
        if path.exists() {
            return Err(TrustError::Usage(format!(
                "a key named `{name}` is already trusted; remove it first with `airlock trust remove {name}`"
            )));
        }
        let io = |source| TrustError::Io {
            path: path.clone(),
            source,
        };
        airlock_core::statefs::ensure_private_dir(&self.dir).map_err(io)?;
        airlock_core::statefs::write_atomic(&path, key.to_text().as_bytes()).map_err(io)
    }

    /// Stop trusting the key `name`; returns it.
    pub fn remove(&self, name: &str) -> Result<PublicKey, TrustError> {
        super::check_name(super::NameKind::Key, name)
            .map_err(|e| TrustError::Usage(e.to_string()))?;
        let path = self.dir.join(format!("{name}.pub"));
        let key = PublicKey::read(&path).map_err(|_| {
            TrustError::Usage(format!(
                "no trusted key is named `{name}` (see `airlock trust list`)"
            ))
        })?;
        std::fs::remove_file(&path).map_err(|source| TrustError::Io { path, source })?;
        Ok(key)
    }
}
