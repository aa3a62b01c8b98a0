//! The model lock, `$AIRLOCK_HOME/models.lock`: every model Airlock may run,
//! pinned by digest.
//!
//! TOML, written only by `airlock model` (atomically: temp file, fsync,
//! rename) and parsed strictly: an unknown key, a malformed digest or a file
//! name that does not match its digest is an error with `file:line:column`.
//! The format is documented in `docs/models.md`.

use airlock_core::toml_errors::{location, toml_message};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The lock format this Airlock reads and writes.
pub const LOCK_VERSION: u32 = 1;

const DOCS: &str = "docs/models.md";

const HEADER: &str = "\
# Airlock's model lock: the models skills may use, pinned by sha256.
# Written by `airlock model add|pin|remove`; see docs/models.md. Do not edit
# by hand: a changed digest does not make a changed file trusted.
";

/// A model pinned in the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct LockedModel {
    /// Airlock's name for it (what skills, profiles and the config use).
    pub name: String,
    /// `sha256:<64 hex>`: of the GGUF file, or Ollama's digest.
    pub digest: String,
    /// When it was added, in seconds since the Unix epoch.
    pub added: u64,
    /// Where the model lives.
    #[serde(flatten)]
    pub source: LockedSource,
}

/// What kind of model an entry pins, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum LockedSource {
    /// A GGUF file in the store.
    #[serde(rename_all = "kebab-case")]
    Gguf {
        /// The file name in the store directory: `sha256-<hex>.gguf`.
        file: String,
        /// Its size in bytes.
        size: u64,
        /// The stored file's metadata when it was last hashed: while it is
        /// unchanged, the file is trusted without hashing it again.
        fingerprint: Fingerprint,
    },
    /// A model served by Ollama.
    #[serde(rename_all = "kebab-case")]
    Ollama {
        /// Ollama's name for it (`llama3.2:1b`).
        ollama_model: String,
    },
}

impl LockedModel {
    /// `gguf` or `ollama`.
    pub fn kind(&self) -> &'static str {
        match self.source {
            LockedSource::Gguf { .. } => "gguf",
            LockedSource::Ollama { .. } => "ollama",
        }
    }

    /// The hex part of the digest.
    pub fn hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }
}

pub use airlock_core::statefs::Fingerprint;

/// The lock's entries, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lock {
    /// The models.
    pub models: Vec<LockedModel>,
}

/// Why the lock cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// The file exists but could not be read.
    #[error("cannot read the model lock {}: {source}", path.display())]
    Read {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The lock is not valid.
    #[error(
        "{location}: {message}; the lock is written by `airlock model`: restore it from a backup or fix this entry ({DOCS} describes the format)"
    )]
    Invalid {
        /// `file:line:column`.
        location: String,
        /// What is wrong.
        message: String,
    },
}

/// The file as written. Integers are i64 in TOML: inode and device numbers
/// are stored as their two's-complement bit pattern, which compares the same.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct LockFile {
    version: Spanned<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    model: Vec<Spanned<EntryFile>>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct EntryFile {
    name: Spanned<String>,
    kind: Spanned<KindFile>,
    digest: Spanned<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<Spanned<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ollama_model: Option<Spanned<String>>,
    added: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    fingerprint: Option<FingerprintFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum KindFile {
    Gguf,
    Ollama,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FingerprintFile {
    len: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    inode: i64,
    device: i64,
}

/// Whether `digest` is `sha256:` and 64 lowercase hex digits.
pub fn valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// The store file name for a digest: `sha256-<hex>.gguf`.
pub fn store_file_name(digest: &str) -> String {
    format!(
        "sha256-{}.gguf",
        digest.strip_prefix("sha256:").unwrap_or(digest)
    )
}

impl Lock {
    /// Read the lock at `path`; a missing file is an empty lock.
    pub fn read(path: &Path) -> Result<Self, LockError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(source) => Err(LockError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parse lock text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, LockError> {
        let at = |span: Option<Range<usize>>, message: String| LockError::Invalid {
            location: location(origin, text, span),
            message,
        };
        let file: LockFile = toml::from_str(text).map_err(|e| {
            let message = toml_message(&e, text, DOCS);
            // toml_message already points to the docs; keep one pointer.
            let message = message
                .split("; see ")
                .next()
                .unwrap_or(&message)
                .to_string();
            at(e.span(), message)
        })?;
        if *file.version.get_ref() != LOCK_VERSION {
            return Err(at(
                Some(file.version.span()),
                format!(
                    "lock version {} is not supported: this Airlock reads version {LOCK_VERSION} (was the lock written by a newer Airlock?)",
                    file.version.get_ref()
                ),
            ));
        }
        let mut models: Vec<LockedModel> = Vec::new();
        for entry in file.model {
            let e = entry.into_inner();
            let name = e.name.get_ref();
            super::check_name(name)
                .map_err(|reason| at(Some(e.name.span()), format!("name = {name:?}: {reason}")))?;
            if models.iter().any(|m| &m.name == name) {
                return Err(at(
                    Some(e.name.span()),
                    format!("model `{name}` is listed twice"),
                ));
            }
            let digest = e.digest.get_ref();
            if !valid_digest(digest) {
                return Err(at(
                    Some(e.digest.span()),
                    format!(
                        "model `{name}`: digest = {digest:?} is not `sha256:` followed by 64 lowercase hex digits"
                    ),
                ));
            }
            let kind_span = Some(e.kind.span());
            let forbid = |present: bool, key: &str, kind: &str| {
                if present {
                    Err(at(
                        kind_span.clone(),
                        format!(
                            "model `{name}`: `{key}` does not belong to a kind = \"{kind}\" entry"
                        ),
                    ))
                } else {
                    Ok(())
                }
            };
            let require = |key: &str, kind: &str| {
                at(
                    kind_span.clone(),
                    format!("model `{name}`: a kind = \"{kind}\" entry needs `{key}`"),
                )
            };
            let source = match e.kind.get_ref() {
                KindFile::Gguf => {
                    forbid(e.ollama_model.is_some(), "ollama-model", "gguf")?;
                    let file = e.file.ok_or_else(|| require("file", "gguf"))?;
                    let size = e.size.ok_or_else(|| require("size", "gguf"))?;
                    let fp = e
                        .fingerprint
                        .ok_or_else(|| require("fingerprint", "gguf"))?;
                    let expected = store_file_name(digest);
                    if *file.get_ref() != expected {
                        return Err(at(
                            Some(file.span()),
                            format!(
                                "model `{name}`: file = {:?} does not match its digest: it must be {expected:?}",
                                file.get_ref()
                            ),
                        ));
                    }
                    if fp.len != size {
                        return Err(at(
                            kind_span,
                            format!(
                                "model `{name}`: fingerprint.len = {} differs from size = {size}",
                                fp.len
                            ),
                        ));
                    }
                    LockedSource::Gguf {
                        file: file.into_inner(),
                        size,
                        fingerprint: Fingerprint {
                            len: fp.len,
                            mtime_ns: fp.mtime_ns,
                            ctime_ns: fp.ctime_ns,
                            inode: fp.inode as u64,
                            device: fp.device as u64,
                        },
                    }
                }
                KindFile::Ollama => {
                    forbid(e.file.is_some(), "file", "ollama")?;
                    forbid(e.size.is_some(), "size", "ollama")?;
                    forbid(e.fingerprint.is_some(), "fingerprint", "ollama")?;
                    let model = e
                        .ollama_model
                        .ok_or_else(|| require("ollama-model", "ollama"))?;
                    if model.get_ref().trim().is_empty() {
                        return Err(at(
                            Some(model.span()),
                            format!("model `{name}`: ollama-model is empty"),
                        ));
                    }
                    LockedSource::Ollama {
                        ollama_model: model.into_inner(),
                    }
                }
            };
            models.push(LockedModel {
                name: name.clone(),
                digest: digest.clone(),
                added: e.added,
                source,
            });
        }
        models.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Self { models })
    }

    /// The lock as TOML text, with its header comment.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        fn span<T>(v: T) -> Spanned<T> {
            Spanned::new(0..0, v)
        }
        let file = LockFile {
            version: span(LOCK_VERSION),
            model: self
                .models
                .iter()
                .map(|m| {
                    let mut e = EntryFile {
                        name: span(m.name.clone()),
                        kind: span(KindFile::Gguf),
                        digest: span(m.digest.clone()),
                        size: None,
                        file: None,
                        ollama_model: None,
                        added: m.added,
                        fingerprint: None,
                    };
                    match &m.source {
                        LockedSource::Gguf {
                            file,
                            size,
                            fingerprint: fp,
                        } => {
                            e.size = Some(*size);
                            e.file = Some(span(file.clone()));
                            e.fingerprint = Some(FingerprintFile {
                                len: fp.len,
                                mtime_ns: fp.mtime_ns,
                                ctime_ns: fp.ctime_ns,
                                inode: fp.inode as i64,
                                device: fp.device as i64,
                            });
                        }
                        LockedSource::Ollama { ollama_model } => {
                            e.kind = span(KindFile::Ollama);
                            e.ollama_model = Some(span(ollama_model.clone()));
                        }
                    }
                    Spanned::new(0..0, e)
                })
                .collect(),
        };
        Ok(format!("{HEADER}{}", toml::to_string(&file)?))
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&LockedModel> {
        self.models.iter().find(|m| m.name == name)
    }

    /// Add or replace the entry with `model.name`, keeping names sorted.
    pub fn upsert(&mut self, model: LockedModel) {
        self.models.retain(|m| m.name != model.name);
        self.models.push(model);
        self.models.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEX: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

    fn sample() -> Lock {
        Lock {
            models: vec![
                LockedModel {
                    name: "smollm2".into(),
                    digest: format!("sha256:{HEX}"),
                    added: 1_700_000_000,
                    source: LockedSource::Gguf {
                        file: format!("sha256-{HEX}.gguf"),
                        size: 98_362_432,
                        fingerprint: Fingerprint {
                            len: 98_362_432,
                            mtime_ns: 1_700_000_000_123_456_789,
                            ctime_ns: -5,
                            inode: u64::MAX - 1,
                            device: 2049,
                        },
                    },
                },
                LockedModel {
                    name: "llama3.2".into(),
                    digest: format!("sha256:{}", "a".repeat(64)),
                    added: 1_700_000_001,
                    source: LockedSource::Ollama {
                        ollama_model: "llama3.2:1b".into(),
                    },
                },
            ],
        }
    }

    fn error(text: &str) -> String {
        Lock::parse(text, "models.lock").unwrap_err().to_string()
    }

    #[test]
    fn round_trips_every_field() {
        let mut lock = sample();
        lock.models.sort_by(|a, b| a.name.cmp(&b.name));
        let text = lock.to_toml().unwrap();
        assert!(text.starts_with("# Airlock's model lock"), "{text}");
        assert!(text.contains("[[model]]"), "{text}");
        assert!(text.contains("[model.fingerprint]"), "{text}");
        assert!(text.contains("ollama-model = \"llama3.2:1b\""), "{text}");
        let back = Lock::parse(&text, "models.lock").unwrap();
        assert_eq!(back, lock);
        assert_eq!(back.models[0].name, "llama3.2", "sorted by name");
    }

    #[test]
    fn empty_lock() {
        let lock = Lock::parse("version = 1\n", "models.lock").unwrap();
        assert!(lock.models.is_empty());
        let text = Lock::default().to_toml().unwrap();
        assert_eq!(Lock::parse(&text, "x").unwrap(), Lock::default());
    }

    #[test]
    fn missing_file_is_an_empty_lock() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Lock::read(&dir.path().join("models.lock")).unwrap(),
            Lock::default()
        );
    }

    fn entry(extra: &str) -> String {
        format!(
            "version = 1\n\n[[model]]\nname = \"m\"\nkind = \"gguf\"\ndigest = \"sha256:{HEX}\"\nsize = 10\nfile = \"sha256-{HEX}.gguf\"\nadded = 1\n{extra}[model.fingerprint]\nlen = 10\nmtime-ns = 1\nctime-ns = 1\ninode = 1\ndevice = 1\n"
        )
    }

    #[test]
    fn unknown_keys_are_named_with_their_location() {
        let e = error(&entry("colour = \"red\"\n"));
        assert!(e.starts_with("models.lock:10:1: "), "{e}");
        assert!(e.contains("unknown field `colour`"), "{e}");
        assert!(e.contains("docs/models.md"), "{e}");
        let e = error("version = 1\nmodels = []\n");
        assert!(e.starts_with("models.lock:2:1: "), "{e}");
        assert!(e.contains("unknown field `models`"), "{e}");
    }

    #[test]
    fn bad_values_are_located() {
        let e = error("version = 2\n");
        assert!(e.starts_with("models.lock:1:11: lock version 2"), "{e}");
        let e = error("");
        assert!(e.contains("missing field `version`"), "{e}");

        let bad_digest =
            entry("").replace(&format!("digest = \"sha256:{HEX}\""), "digest = \"md5:00\"");
        let e = error(&bad_digest);
        assert!(e.starts_with("models.lock:6:10: "), "{e}");
        assert!(e.contains("digest = \"md5:00\""), "{e}");

        let traversal = entry("").replace(
            &format!("file = \"sha256-{HEX}.gguf\""),
            "file = \"../../etc/passwd\"",
        );
        let e = error(&traversal);
        assert!(e.starts_with("models.lock:8:8: "), "{e}");
        assert!(e.contains("does not match its digest"), "{e}");

        let e = error(&entry("ollama-model = \"x\"\n"));
        assert!(e.contains("`ollama-model` does not belong"), "{e}");

        let bad_name = entry("").replace("name = \"m\"", "name = \"M M\"");
        let e = error(&bad_name);
        assert!(e.starts_with("models.lock:4:8: name = \"M M\""), "{e}");

        let twice = format!("{}{}", entry(""), entry("").replace("version = 1\n", ""));
        let e = error(&twice);
        assert!(e.contains("listed twice"), "{e}");

        let e = error("version = 1\n[[model]]\nname = \"o\"\nkind = \"ollama\"\ndigest = \"sha256:{}\"\nadded = 1\n".replace("{}", HEX).as_str());
        assert!(e.contains("needs `ollama-model`"), "{e}");
    }

    #[test]
    fn digests() {
        assert!(valid_digest(&format!("sha256:{HEX}")));
        assert!(!valid_digest(HEX));
        assert!(!valid_digest(&format!("sha256:{}", HEX.to_uppercase())));
        assert!(!valid_digest("sha256:abc"));
        assert_eq!(
            store_file_name(&format!("sha256:{HEX}")),
            format!("sha256-{HEX}.gguf")
        );
    }
}
