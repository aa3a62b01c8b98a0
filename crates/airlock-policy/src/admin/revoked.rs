//! Revocations: publisher keys, plugin packages and release keys this
//! machine must refuse whatever else trusts them.
//!
//! Read from every `*.toml` in `/etc/airlock/revoked.d/` (a bundle installs
//! its release team's list there as `bundle.toml`; an officer adds files of
//! their own beside it) and from the file `$AIRLOCK_REVOKED_FILE` names,
//! which can only add revocations. Each file must be changeable by root
//! alone, as the policy file, and is parsed strictly; a file that cannot be
//! trusted or read refuses every run (fail closed). Format (every key in
//! `docs/policy.md`):
//!
//! ```toml
//! format = "airlock-revocations-v1"
//!
//! [[publisher-key]]
//! fingerprint = "SHA256:…"       # as `airlock trust list` prints it
//! reason = "key lost on 2026-11-30"
//!
//! [[plugin]]
//! sha256 = "…"                   # of the package file
//! reason = "CVE-…"
//!
//! [[release-key]]
//! fingerprint = "SHA256:…"
//! reason = "superseded"
//! ```

use super::{Origin, PolicyError, trust};
use airlock_core::toml_errors::{location, toml_message};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where revocation lists live.
pub const REVOKED_DIR: &str = "/etc/airlock/revoked.d";

/// The environment variable naming one more revocation list.
pub const REVOKED_FILE_ENV: &str = "AIRLOCK_REVOKED_FILE";

/// The one format read.
pub const REVOKED_FORMAT: &str = "airlock-revocations-v1";

/// What is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevokedKind {
    /// A plugin publisher's key: nothing it signed installs or runs.
    PublisherKey,
    /// One plugin package, by the sha256 of its file.
    Plugin,
    /// A release key: no bundle it signed verifies.
    ReleaseKey,
}

/// One revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Revoked {
    /// What kind of thing.
    pub kind: RevokedKind,
    /// Its fingerprint (`SHA256:…`) or sha256.
    pub id: String,
    /// Why, as the list says.
    pub reason: String,
    /// The list that says so.
    pub file: PathBuf,
}

impl std::fmt::Display for Revoked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "revoked by {}: {}", self.file.display(), self.reason)
    }
}

/// Every revocation in force.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Revocations {
    /// In the order read.
    pub entries: Vec<Revoked>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RevokedFile {
    format: String,
    #[serde(default)]
    publisher_key: Vec<KeyEntry>,
    #[serde(default)]
    plugin: Vec<PluginEntry>,
    #[serde(default)]
    release_key: Vec<KeyEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    fingerprint: String,
    reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginEntry {
    sha256: String,
    reason: String,
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl Revocations {
    /// The revocations in force on this machine: [`REVOKED_DIR`] and
    /// `$REVOKED_FILE_ENV`.
    pub fn load() -> Result<Self, PolicyError> {
        let extra = std::env::var_os(REVOKED_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        Self::load_from(Path::new(REVOKED_DIR), extra.as_deref())
    }

    /// The revocations of every `*.toml` in `dir` (absent: none) and of
    /// `extra` (which must exist).
    pub fn load_from(dir: &Path, extra: Option<&Path>) -> Result<Self, PolicyError> {
        let mut files = Vec::new();
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                for entry in entries {
                    let path = entry
                        .map_err(|source| PolicyError::Read {
                            origin: Origin::Revocations(dir.to_path_buf()),
                            source,
                        })?
                        .path();
                    if path.extension().is_some_and(|x| x == "toml") {
                        files.push(path);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(PolicyError::Read {
                    origin: Origin::Revocations(dir.to_path_buf()),
                    source,
                });
            }
        }
        files.sort();
        files.extend(extra.map(Path::to_path_buf));
        let mut all = Self::default();
        for file in files {
            let origin = Origin::Revocations(file.clone());
            trust::check(&origin, &file)?;
            let text = std::fs::read_to_string(&file)
                .map_err(|source| PolicyError::Read { origin, source })?;
            all.entries.extend(Self::parse(&text, &file)?.entries);
        }
        Ok(all)
    }

    /// One list's text (`file` names it in messages).
    pub fn parse(text: &str, file: &Path) -> Result<Self, PolicyError> {
        let invalid = |message: String| PolicyError::Invalid {
            location: file.display().to_string(),
            message,
        };
        let parsed: RevokedFile = toml::from_str(text).map_err(|e| PolicyError::Invalid {
            location: location(&file.display().to_string(), text, e.span()),
            message: toml_message(&e, text, "docs/policy.md (\"Revocations\")"),
        })?;
        if parsed.format != REVOKED_FORMAT {
            return Err(invalid(format!(
                "format = \"{}\": write format = \"{REVOKED_FORMAT}\"",
                parsed.format
            )));
        }
        let mut entries = Vec::new();
        let key = |kind: RevokedKind, e: KeyEntry| {
            let hex = e.fingerprint.strip_prefix("SHA256:").unwrap_or("");
            if !is_hex64(hex) {
                return Err(invalid(format!(
                    "fingerprint \"{}\" is not a key fingerprint (SHA256: and 64 lowercase hex digits, as `airlock trust list` prints it)",
                    e.fingerprint
                )));
            }
            Ok(Revoked {
                kind,
                id: e.fingerprint,
                reason: e.reason,
                file: file.to_path_buf(),
            })
        };
        for e in parsed.publisher_key {
            entries.push(key(RevokedKind::PublisherKey, e)?);
        }
        for e in parsed.release_key {
            entries.push(key(RevokedKind::ReleaseKey, e)?);
        }
        for e in parsed.plugin {
            if !is_hex64(&e.sha256) {
                return Err(invalid(format!(
                    "sha256 \"{}\" is not 64 lowercase hex digits (the package file's sha256, as `airlock plugin install` prints it)",
                    e.sha256
                )));
            }
            entries.push(Revoked {
                kind: RevokedKind::Plugin,
                id: e.sha256,
                reason: e.reason,
                file: file.to_path_buf(),
            });
        }
        Ok(Self { entries })
    }

    fn find(&self, kind: RevokedKind, id: &str) -> Option<&Revoked> {
        self.entries.iter().find(|r| r.kind == kind && r.id == id)
    }

    /// The revocation of a publisher key, by fingerprint.
    pub fn publisher_key(&self, fingerprint: &str) -> Option<&Revoked> {
        self.find(RevokedKind::PublisherKey, fingerprint)
    }

    /// The revocation of a plugin package, by the sha256 of its file.
    pub fn plugin(&self, sha256: &str) -> Option<&Revoked> {
        self.find(RevokedKind::Plugin, sha256)
    }

    /// The revocation of a release key, by fingerprint.
    pub fn release_key(&self, fingerprint: &str) -> Option<&Revoked> {
        self.find(RevokedKind::ReleaseKey, fingerprint)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const FP: &str = "SHA256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn a_list_is_read_and_each_kind_found_by_its_id() {
        let text = format!(
            "format = \"{REVOKED_FORMAT}\"\n[[publisher-key]]\nfingerprint = \"{FP}\"\nreason = \"lost\"\n[[plugin]]\nsha256 = \"{}\"\nreason = \"CVE\"\n",
            "a".repeat(64)
        );
        let list = Revocations::parse(&text, Path::new("/etc/airlock/revoked.d/x.toml")).unwrap();
        assert_eq!(list.publisher_key(FP).unwrap().reason, "lost");
        assert!(list.release_key(FP).is_none());
        assert_eq!(list.plugin(&"a".repeat(64)).unwrap().reason, "CVE");
    }

    #[test]
    fn a_malformed_list_names_the_file_and_the_fix() {
        let file = Path::new("/etc/airlock/revoked.d/x.toml");
        let bad_fp = format!(
            "format = \"{REVOKED_FORMAT}\"\n[[release-key]]\nfingerprint = \"abc\"\nreason = \"r\"\n"
        );
        let e = Revocations::parse(&bad_fp, file).unwrap_err().to_string();
        assert!(
            e.contains("x.toml") && e.contains("not a key fingerprint"),
            "{e}"
        );
        let unknown = format!("format = \"{REVOKED_FORMAT}\"\n[[publisher]]\n");
        let e = Revocations::parse(&unknown, file).unwrap_err().to_string();
        assert!(e.contains("x.toml") && e.contains("docs/policy.md"), "{e}");
        let e = Revocations::parse("format = \"v0\"\n", file)
            .unwrap_err()
            .to_string();
        assert!(e.contains(REVOKED_FORMAT), "{e}");
    }
}
