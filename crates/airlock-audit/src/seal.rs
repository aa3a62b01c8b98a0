//! Checkpoint sealing with forward-evolving Ed25519 keys.
//!
//! Each checkpoint is signed by the key its predecessor announced (the first
//! by the key in the `log-start` record) and announces a fresh key for the
//! next one; the secret that signed it is then destroyed. Someone who steals
//! the key file later holds only the key for the *next* checkpoint, so they
//! cannot re-sign older ones: every checkpoint is verified against the key of
//! its own time. The audit keys are separate from plugin signing keys.
//!
//! The key file, `seal.key` (0600), holds the current secret and, only for
//! the moment between announcing a new key and making it current, the next
//! one, so a crash at any point leaves a key that matches the log.

use crate::error::{AuditError, FileError, SealKeyError};
use airlock_core::statefs::{self, Durability};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Domain separation for checkpoint signatures.
const CONTEXT: &str = "airlock-audit-checkpoint-v1";

/// The key file as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    current: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next: Option<String>,
}

/// The sealing keys held on disk.
pub struct SealKeys {
    /// The key that signs the next checkpoint.
    pub current: SigningKey,
    /// A key announced but not yet made current (crash window only).
    pub next: Option<SigningKey>,
}

/// A fresh random key.
pub fn generate() -> Result<SigningKey, AuditError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|error| AuditError::Randomness {
        what: "no randomness for an audit key",
        error,
    })?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Hex of a public key.
pub fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().as_bytes())
}

impl SealKeys {
    /// Read `path`; it must be a private file.
    pub fn read(path: &Path) -> Result<Self, SealKeyError> {
        use std::os::unix::fs::MetadataExt;
        let unreadable = |source| SealKeyError::Unreadable {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if meta.mode() & 0o077 != 0 {
            return Err(SealKeyError::OpenToOthers {
                path: path.to_path_buf(),
                mode: meta.mode() & 0o777,
            });
        }
        let text = std::fs::read_to_string(path).map_err(unreadable)?;
        let file: KeyFile =
            serde_json::from_str(&text).map_err(|source| SealKeyError::Corrupt {
                path: path.to_path_buf(),
                source,
            })?;
        let parse = |hex_text: &str| -> Result<SigningKey, SealKeyError> {
            let bytes = hex::decode(hex_text)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| SealKeyError::BadKey {
                    path: path.to_path_buf(),
                })?;
            Ok(SigningKey::from_bytes(&bytes))
        };
        Ok(Self {
            current: parse(&file.current)?,
            next: file.next.as_deref().map(parse).transpose()?,
        })
    }

    /// Write atomically (temporary file, fsync, rename, directory fsync), 0600.
    pub fn write(&self, path: &Path) -> Result<(), AuditError> {
        let file = KeyFile {
            current: hex::encode(self.current.to_bytes()),
            next: self.next.as_ref().map(|k| hex::encode(k.to_bytes())),
        };
        let text = serde_json::to_string(&file)?;
        write_private_atomically(path, text.as_bytes())
    }
}

/// Write `bytes` to `path` atomically with mode 0600, without waiting for
/// the disk: for hints that a crash may lose (the open-run markers).
pub fn write_private_quick(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    statefs::write_private(path, bytes, Durability::Quick)
        .map_err(|e| FileError::new("write", path, e).into())
}

/// Write `bytes` to `path` atomically with mode 0600, synced (the file and
/// its directory) before this returns.
pub fn write_private_atomically(path: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    statefs::write_private(path, bytes, Durability::Synced)
        .map_err(|e| FileError::new("write", path, e).into())
}

/// The message a checkpoint signature covers.
pub fn message(
    log_id: &str,
    seq: u64,
    time: &str,
    head: &str,
    key: &str,
    next_key: &str,
) -> Vec<u8> {
    format!("{CONTEXT}\n{log_id}\n{seq}\n{time}\n{head}\n{key}\n{next_key}\n").into_bytes()
}

/// Sign a checkpoint message.
pub fn sign(key: &SigningKey, message: &[u8]) -> String {
    hex::encode(key.sign(message).to_bytes())
}

/// Verify a checkpoint signature by the hex public key `key`.
pub fn verify(key: &str, message: &[u8], signature: &str) -> bool {
    let Some(public) = hex::decode(key)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
    else {
        return false;
    };
    let Some(sig) = hex::decode(signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
    else {
        return false;
    };
    let sig = Signature::from_bytes(&sig);
    public.verify_strict(message, &sig).is_ok() && public.verify(message, &sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_key_and_message() {
        let key = generate().expect("key");
        let other = generate().expect("key");
        let msg = message(
            "log",
            3,
            "t",
            "head",
            &public_hex(&key),
            &public_hex(&other),
        );
        let sig = sign(&key, &msg);
        assert!(verify(&public_hex(&key), &msg, &sig));
        assert!(!verify(&public_hex(&other), &msg, &sig));
        let changed = message(
            "log",
            4,
            "t",
            "head",
            &public_hex(&key),
            &public_hex(&other),
        );
        assert!(!verify(&public_hex(&key), &changed, &sig));
    }

    #[test]
    fn the_key_file_round_trips_and_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("seal.key");
        let keys = SealKeys {
            current: generate().expect("key"),
            next: Some(generate().expect("key")),
        };
        keys.write(&path).expect("write");
        let back = SealKeys::read(&path).expect("read");
        assert_eq!(public_hex(&back.current), public_hex(&keys.current));
        assert!(back.next.is_some());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let err = SealKeys::read(&path).err().expect("refused");
        assert!(
            matches!(err, SealKeyError::OpenToOthers { mode: 0o644, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("chmod 600"), "{err}");
    }
}
