//! The package file: one file per plugin version.
//!
//! A small length-prefixed container (`docs/plugins.md`): the 16-byte magic
//! `AIRLOCK-PLUGIN\0\x01`, then exactly three entries in this order, each a
//! big-endian u16 name length, the name, a big-endian u64 data length and the
//! data: `manifest.toml` (canonical, at most 64 KiB), `signature` (empty in an
//! unsigned package, else 64 bytes of Ed25519 signature) and `component.wasm`.
//! Nothing may follow. The manifest comes first so the signature can be
//! checked without reading the component.

// Ambient std::fs allowed: reads the plugin package file the user names.
#![allow(clippy::disallowed_methods)]

use super::Signer;
use super::manifest::Manifest;
use super::trust::TrustStore;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 16] = b"AIRLOCK-PLUGIN\0\x01";
const ENTRIES: [&str; 3] = ["manifest.toml", "signature", "component.wasm"];
/// Larger manifests are refused: a manifest is a few hundred bytes.
const MAX_MANIFEST: u64 = 64 * 1024;
/// An Ed25519 signature.
const SIGNATURE_BYTES: u64 = 64;
/// Larger components are refused before they are read (real skills are
/// about 1 MB).
const MAX_COMPONENT: u64 = 256 * 1024 * 1024;

/// A package, read and parsed (not yet verified).
#[derive(Debug, Clone)]
pub struct Package {
    /// The manifest, parsed from `manifest_text`.
    pub manifest: Manifest,
    /// The manifest exactly as stored: what the signature covers.
    pub manifest_text: String,
    /// The signature (empty when unsigned).
    pub signature: Vec<u8>,
    /// The component (empty when only the head was read).
    pub component: Vec<u8>,
}

/// Why a package cannot be used. Messages name the file.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Unreadable.
    #[error("cannot read plugin package {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a package, or a damaged one.
    #[error("{} is not a valid Airlock plugin package: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Not signed.
    #[error(
        "refused: {} is not signed; the publisher signs it with `airlock plugin sign {} --key KEY.key`",
        path.display(), path.display()
    )]
    Unsigned {
        /// The file.
        path: PathBuf,
    },
    /// Signed by a key the trust store does not hold.
    #[error(
        "refused: {} is signed by key {fingerprint} (publisher `{publisher}`), which is not in the trust store; if you trust this publisher, add their public key with `airlock trust add NAME KEY.pub` and check that it shows this fingerprint",
        path.display()
    )]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// The manifest's publisher.
        publisher: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signature does not verify.
    #[error(
        "refused: the signature of {} does not verify with the key of `{trusted_as}` ({fingerprint}): the package was modified after it was signed",
        path.display()
    )]
    BadSignature {
        /// The file.
        path: PathBuf,
        /// The trust store's name for the key.
        trusted_as: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The component is not the one the signed manifest names.
    #[error(
        "refused: the component in {} has sha256 {found}, but its signed manifest says {expected}: the component was modified after it was signed",
        path.display()
    )]
    ComponentDigest {
        /// The file.
        path: PathBuf,
        /// The manifest's digest.
        expected: String,
        /// The component's.
        found: String,
    },
}

impl Package {
    /// Read and parse a whole package.
    pub fn read(path: &Path) -> Result<Self, PackageError> {
        Self::read_from(path, true)
    }

    /// Read only the manifest and the signature (cheap: the component is
    /// not read).
    pub fn read_head(path: &Path) -> Result<Self, PackageError> {
        Self::read_from(path, false)
    }

    fn read_from(path: &Path, whole: bool) -> Result<Self, PackageError> {
        let file = std::fs::File::open(path).map_err(|source| PackageError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        // Every length in the header is checked against what the file still
        // holds before anything is allocated for it: a 40-byte file cannot
        // make the host reserve 256 MiB.
        let file_len = file
            .metadata()
            .map_err(|source| PackageError::Read {
                path: path.to_path_buf(),
                source,
            })?
            .len();
        let mut offset: u64 = 0;
        let mut reader = std::io::BufReader::new(file);
        let format = |reason: String| PackageError::Format {
            path: path.to_path_buf(),
            reason,
        };
        let mut magic = [0u8; 16];
        reader
            .read_exact(&mut magic)
            .map_err(|_| format("it is too short to be a package".into()))?;
        offset += MAGIC.len() as u64;
        if &magic != MAGIC {
            return Err(format(
                "it does not start with the package magic `AIRLOCK-PLUGIN` version 1 (build packages with `airlock plugin pack`)".into(),
            ));
        }
        let mut entries = Vec::new();
        let limits = [MAX_MANIFEST, SIGNATURE_BYTES, MAX_COMPONENT];
        for (index, expected) in ENTRIES.iter().enumerate() {
            if !whole && index == 2 {
                break;
            }
            let mut len = [0u8; 2];
            reader
                .read_exact(&mut len)
                .map_err(|_| format(format!("it ends before entry `{expected}`")))?;
            // The name must be the expected one, so its length must be too:
            // check that before reading (or allocating for) the name.
            let name_len = u16::from_be_bytes(len) as usize;
            if name_len != expected.len() {
                return Err(format(format!(
                    "entry {} has a {name_len}-byte name, expected `{expected}`",
                    index + 1
                )));
            }
            let mut name = vec![0u8; name_len];
            reader
                .read_exact(&mut name)
                .map_err(|_| format(format!("it ends inside entry `{expected}`'s name")))?;
            if name != expected.as_bytes() {
                return Err(format(format!(
                    "entry {} is `{}`, expected `{expected}`",
                    index + 1,
                    String::from_utf8_lossy(&name)
                )));
            }
            offset += 2 + name_len as u64;
            let mut size = [0u8; 8];
            reader
                .read_exact(&mut size)
                .map_err(|_| format(format!("it ends inside entry `{expected}`'s size")))?;
            let size = u64::from_be_bytes(size);
            offset += 8;
            if size > limits[index] {
                return Err(format(format!(
                    "entry `{expected}` says it has {size} bytes; at most {} are accepted",
                    limits[index]
                )));
            }
            let left = file_len.saturating_sub(offset);
            if size > left {
                return Err(format(format!(
                    "entry `{expected}` says it has {size} bytes, but the file has only {left} bytes after its header (the package is truncated or damaged)"
                )));
            }
            offset += size;
            // Bounded by the checks above; `read_to_end` grows it further
            // only if the file grew while being read (then `take` stops it).
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            (&mut reader)
                .take(size)
                .read_to_end(&mut data)
                .map_err(|source| PackageError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
            if data.len() as u64 != size {
                return Err(format(format!(
                    "entry `{expected}` is truncated ({} of {size} bytes)",
                    data.len()
                )));
            }
            entries.push(data);
        }
        if whole {
            let mut rest = [0u8; 1];
            if reader.read(&mut rest).unwrap_or(0) != 0 {
                return Err(format("it has bytes after its last entry".into()));
            }
        }
        let component = if whole {
            entries.pop().unwrap_or_default()
        } else {
            Vec::new()
        };
        let signature = entries.pop().unwrap_or_default();
        let manifest_bytes = entries.pop().unwrap_or_default();
        if !(signature.is_empty() || signature.len() as u64 == SIGNATURE_BYTES) {
            return Err(format(format!(
                "entry `signature` has {} bytes; an Ed25519 signature has 64",
                signature.len()
            )));
        }
        let manifest_text = String::from_utf8(manifest_bytes)
            .map_err(|_| format("its manifest is not UTF-8 text".into()))?;
        let origin = format!("{}:manifest.toml", path.display());
        let manifest =
            Manifest::parse(&manifest_text, &origin).map_err(|e| format(e.to_string()))?;
        if manifest.component.is_none() {
            return Err(format("its manifest has no [component] section".into()));
        }
        Ok(Self {
            manifest,
            manifest_text,
            signature,
            component,
        })
    }

    /// The package file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let data: [&[u8]; 3] = [
            self.manifest_text.as_bytes(),
            &self.signature,
            &self.component,
        ];
        for (name, data) in ENTRIES.iter().zip(data) {
            out.extend_from_slice(&(name.len() as u16).to_be_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(data.len() as u64).to_be_bytes());
            out.extend_from_slice(data);
        }
        out
    }

    /// Write the package atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        airlock_core::statefs::write_atomic(path, &self.to_bytes())
    }

    /// Check the signature against the trust store, and (when the component
    /// was read) the component against the signed manifest.
    pub fn verify(&self, path: &Path, trust: &TrustStore) -> Result<Signer, PackageError> {
        let Some(fingerprint) = self
            .manifest
            .publisher
            .key
            .clone()
            .filter(|_| !self.signature.is_empty())
        else {
            return Err(PackageError::Unsigned {
                path: path.to_path_buf(),
            });
        };
        let Some((trusted_as, key)) = trust.find(&fingerprint) else {
            return Err(PackageError::UnknownKey {
                path: path.to_path_buf(),
                publisher: self.manifest.publisher.name.clone(),
                fingerprint,
            });
        };
        if !key.verifies(self.manifest_text.as_bytes(), &self.signature) {
            return Err(PackageError::BadSignature {
                path: path.to_path_buf(),
                trusted_as,
                fingerprint,
            });
        }
        if !self.component.is_empty() {
            let found = hex::encode(Sha256::digest(&self.component));
            let expected = self.manifest.component_sha256().to_string();
            if found != expected {
                return Err(PackageError::ComponentDigest {
                    path: path.to_path_buf(),
                    expected,
                    found,
                });
            }
        }
        Ok(Signer {
            publisher: self.manifest.publisher.name.clone(),
            trusted_as,
            fingerprint,
        })
    }

    /// Sign (or sign again) with `key`: sets `publisher.key` and the signature.
    pub fn sign(&mut self, key: &super::keys::SecretKey) {
        self.manifest.publisher.key = Some(key.public().fingerprint());
        self.manifest_text = self.manifest.to_canonical();
        self.signature = key.sign(self.manifest_text.as_bytes()).to_vec();
    }

    /// The signing key's fingerprint, if signed.
    pub fn signed_with(&self) -> Option<&str> {
        self.manifest.publisher.key.as_deref()
    }
}
