//! The model store and its lock: the only models a skill's inference calls
//! can reach, each pinned by sha256.
//!
//! GGUF files are copied into `$AIRLOCK_HOME/models/` (owner-only), named by
//! digest and made read-only; [`lock`] records each under a name. Before a
//! run uses a file, [`ModelStore::spec`] checks it: when the file's
//! [`Fingerprint`] is unchanged it is trusted, otherwise it is hashed again
//! and a different digest is refused as [`ModelError::Drift`]. Models served
//! by Ollama are pinned by Ollama's digest, which the Ollama engine checks
//! before each run. Nothing here ever downloads anything.

// Ambient std::fs allowed: the model store, and adding a model from a user-named file.
#![allow(clippy::disallowed_methods)]

mod error;
pub mod gguf;
mod inspect;
pub mod lock;
mod spec;
use airlock_core::statefs;

pub use lock::{Fingerprint, Lock, LockError, LockedModel, LockedSource};
pub use spec::DEFAULT_SERVER_CONTEXT;

use inspect::check_loadable;
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};

pub use airlock_core::names::NAME_RULE;
use airlock_core::names::{self, NameError, NameKind};

/// Check a model name: `[a-z0-9][a-z0-9._-]*`, at most 128 characters.
pub fn check_name(name: &str) -> Result<(), NameError> {
    names::check(NameKind::Model, name)
}

/// The name a file gets when none is given: its stem, lower-cased
/// (`SmolLM2-135M-Instruct.Q4_1.gguf` → `smollm2-135m-instruct.q4_1`).
pub fn default_name(file: &Path) -> Option<String> {
    let stem = file.file_stem()?.to_str()?;
    Some(stem.to_lowercase())
}

pub use error::ModelError;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ModelError {
    let path = path.to_path_buf();
    move |source| ModelError::Io {
        action,
        path,
        source,
    }
}

/// The result of [`ModelStore::add`] or [`ModelStore::pin_ollama`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Added {
    /// The entry now in the lock.
    pub model: LockedModel,
    /// What happened.
    pub outcome: AddOutcome,
}

/// What an add did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum AddOutcome {
    /// A new entry.
    Added,
    /// The same model was already pinned under this name (nothing changed
    /// but, for a file, a fresh stored copy).
    AlreadyPresent,
    /// `replace` swapped out a different model pinned under this name.
    Replaced {
        /// The digest it had.
        previous: String,
    },
}

/// The result of [`ModelStore::remove`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    /// The entry taken out of the lock.
    pub model: LockedModel,
    /// The stored file deleted with it (`None`: no file, or another entry
    /// still uses it).
    pub deleted_file: Option<PathBuf>,
}

/// One model's result from [`ModelStore::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyResult {
    /// The model.
    pub name: String,
    /// What was found.
    #[serde(flatten)]
    pub status: VerifyStatus,
}

/// What verifying one model found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum VerifyStatus {
    /// The stored file has the pinned digest.
    Ok {
        /// The digest.
        digest: String,
    },
    /// The stored file's digest differs from the lock's.
    Drifted {
        /// What the lock pins.
        pinned: String,
        /// What the file has now.
        found: String,
        /// The file.
        path: PathBuf,
    },
    /// The stored file is gone, or is not a regular file.
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The stored file could not be read.
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// Quick check only: the stored file looks exactly as when it was last
    /// hashed (size, times, inode), so a run trusts it without hashing.
    Unchanged {
        /// The pinned digest.
        digest: String,
    },
    /// Quick check only: the stored file's size is not the pinned one, so
    /// its content cannot be the pinned content.
    SizeDiffers {
        /// The size the lock pins.
        pinned: u64,
        /// The file's size now.
        found: u64,
        /// The file.
        path: PathBuf,
    },
    /// Quick check only: the stored file has the pinned size but changed
    /// since it was last hashed (touched, copied back, restored); the next
    /// run hashes it in full, and refuses it if its digest differs.
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// Nothing to hash here: an Ollama model is checked against Ollama's
    /// digest before each run.
    NotChecked {
        /// Why.
        reason: String,
    },
}

impl VerifyStatus {
    /// One line saying what was found, and what to do about a failure.
    pub fn describe(&self) -> String {
        match self {
            Self::Ok { digest } => format!("intact ({digest})"),
            Self::Unchanged { digest } => {
                format!("unchanged since it was last hashed ({digest})")
            }
            Self::Drifted {
                pinned,
                found,
                path,
            } => format!(
                "{} has {found}, the lock pins {pinned}; restore it from a trusted copy (`airlock model add COPY --name NAME`)",
                path.display()
            ),
            Self::SizeDiffers {
                pinned,
                found,
                path,
            } => format!(
                "{} is {found} bytes, the lock pins {pinned}; restore it from a trusted copy (`airlock model add COPY --name NAME`)",
                path.display()
            ),
            Self::Changed { path } => format!(
                "{} changed since it was last hashed; the next run hashes it again (`airlock model verify` does it now)",
                path.display()
            ),
            Self::Missing { path } => format!(
                "{} is gone or not a regular file; add the model again or remove its pin (`airlock model remove NAME`)",
                path.display()
            ),
            Self::Unreadable { path, error } => format!("{}: {error}", path.display()),
            Self::NotChecked { reason } => reason.clone(),
        }
    }

    /// Whether this result means the model would be refused at run time.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Drifted { .. }
                | Self::Missing { .. }
                | Self::Unreadable { .. }
                | Self::SizeDiffers { .. }
        )
    }
}

pub use inspect::ModelInfo;

/// One way of checking a stored GGUF file: given the model, the file, its
/// pinned size and its fingerprint when last hashed.
type CheckFile<'a> =
    dyn Fn(&LockedModel, &Path, u64, &Fingerprint) -> Result<VerifyStatus, ModelError> + 'a;

/// The model store under one Airlock home.
#[derive(Debug, Clone)]
pub struct ModelStore {
    dir: PathBuf,
    lock_path: PathBuf,
}

impl ModelStore {
    /// The store of the Airlock home `home`. Touches nothing on disk: the
    /// directory and lock are created by the first add.
    pub fn open(home: &Path) -> Self {
        Self {
            dir: home.join("models"),
            lock_path: home.join("models.lock"),
        }
    }

    /// The directory that holds the stored files: `$AIRLOCK_HOME/models`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The lock file: `$AIRLOCK_HOME/models.lock`.
    pub fn lock_path(&self) -> &Path {
        &self.lock_path
    }

    /// The stored file of a GGUF entry.
    pub fn path_of(&self, model: &LockedModel) -> Option<PathBuf> {
        match &model.source {
            LockedSource::Gguf { file, .. } => Some(self.dir.join(file)),
            LockedSource::Ollama { .. } => None,
        }
    }

    /// The lock as it is now.
    pub fn lock(&self) -> Result<Lock, ModelError> {
        Ok(Lock::read(&self.lock_path)?)
    }

    /// Every pinned model, by name.
    pub fn list(&self) -> Result<Vec<LockedModel>, ModelError> {
        Ok(self.lock()?.models)
    }

    /// The model pinned as `name`.
    pub fn get(&self, name: &str) -> Result<LockedModel, ModelError> {
        let lock = self.lock()?;
        lock.get(name).cloned().ok_or_else(|| ModelError::Unknown {
            name: name.to_string(),
            lock: self.lock_path.clone(),
            known: lock.models.iter().map(|m| m.name.clone()).collect(),
        })
    }

    /// Take the writers' lock, re-read the lock file, let `change` edit it,
    /// and write it back atomically.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Lock) -> Result<T, ModelError>,
    ) -> Result<T, ModelError> {
        statefs::ensure_private_dir(&self.dir).map_err(io("cannot create", &self.dir))?;
        let _guard = statefs::WriterLock::acquire(&self.dir)
            .map_err(io("cannot lock the model store in", &self.dir))?;
        let mut lock = self.lock()?;
        let value = change(&mut lock)?;
        let text = lock.to_toml().map_err(|e| ModelError::Io {
            action: "cannot encode",
            path: self.lock_path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        statefs::write_atomic(&self.lock_path, text.as_bytes())
            .map_err(io("cannot write", &self.lock_path))?;
        Ok(value)
    }

    /// Add the GGUF file `file` under `name` (default: its stem, lower-cased):
    /// check it is GGUF and that llama.cpp can read it, copy it into the store
    /// while hashing it, make the copy read-only and pin it in the lock.
    /// Adding the same file under the same name again only refreshes the
    /// stored copy; a different model under a taken name is an error unless
    /// `replace`. `progress` gets (bytes copied, total).
    pub fn add(
        &self,
        file: &Path,
        name: Option<&str>,
        replace: bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Added, ModelError> {
        let name = match name {
            Some(name) => name.to_string(),
            None => default_name(file).ok_or_else(|| ModelError::InvalidName {
                reason: format!("cannot make a model name from {}", file.display()),
            })?,
        };
        check_name(&name).map_err(|reason| ModelError::InvalidName {
            reason: reason.to_string(),
        })?;

        let meta = std::fs::metadata(file).map_err(io("cannot read", file))?;
        if !meta.is_file() {
            return Err(ModelError::Io {
                action: "cannot add",
                path: file.to_path_buf(),
                source: std::io::Error::other("it is not a regular file"),
            });
        }
        if let Some(start) = gguf::not_gguf(file).map_err(io("cannot read", file))? {
            return Err(ModelError::NotGguf {
                file: file.to_path_buf(),
                start: gguf::describe_start(&start),
            });
        }
        check_loadable(file)?;

        // Copy while hashing: the digest is of exactly the bytes stored.
        statefs::ensure_private_dir(&self.dir).map_err(io("cannot create", &self.dir))?;
        let mut src = File::open(file).map_err(io("cannot read", file))?;
        let (tmp, mut dst) =
            statefs::temp_file(&self.dir, "incoming").map_err(io("cannot write in", &self.dir))?;
        let copied = statefs::hash_copy(&mut src, Some(&mut dst), meta.len(), progress)
            .map_err(|e| ModelError::Io {
                action: "cannot copy into the store",
                path: file.to_path_buf(),
                source: e,
            })
            .and_then(|copied| {
                dst.sync_all()
                    .and_then(|()| statefs::make_read_only(&dst))
                    .map_err(io("cannot write", &tmp))?;
                Ok(copied)
            });
        drop(dst);
        let result =
            copied.and_then(|(hex, size)| self.store_copy(&tmp, &hex, size, &name, replace));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    /// Move the hashed copy `tmp` into place and pin it as `name`.
    fn store_copy(
        &self,
        tmp: &Path,
        hex: &str,
        size: u64,
        name: &str,
        replace: bool,
    ) -> Result<Added, ModelError> {
        let digest = format!("sha256:{hex}");
        let file_name = lock::store_file_name(&digest);
        let stored = self.dir.join(&file_name);
        self.update(|lock| {
            let previous = lock.get(name).cloned();
            let outcome = match &previous {
                Some(p) if p.digest == digest && p.kind() == "gguf" => AddOutcome::AlreadyPresent,
                Some(p) if !replace => {
                    return Err(ModelError::NameTaken {
                        name: name.to_string(),
                        existing: describe_entry(p),
                        new: format!("a GGUF file with {digest}"),
                    });
                }
                Some(p) => AddOutcome::Replaced {
                    previous: p.digest.clone(),
                },
                None => AddOutcome::Added,
            };
            // Renaming over an existing copy also heals one that was tampered with.
            std::fs::rename(tmp, &stored).map_err(io("cannot store", &stored))?;
            statefs::sync_dir(&self.dir);
            let fingerprint = fingerprint_of(&stored)?;
            // Other names pinning the same file see the fresh copy too.
            for m in &mut lock.models {
                if let LockedSource::Gguf {
                    file,
                    fingerprint: fp,
                    ..
                } = &mut m.source
                    && *file == file_name
                {
                    *fp = fingerprint;
                }
            }
            let model = LockedModel {
                name: name.to_string(),
                digest: digest.clone(),
                added: match (&outcome, &previous) {
                    (AddOutcome::AlreadyPresent, Some(p)) => p.added,
                    _ => now(),
                },
                source: LockedSource::Gguf {
                    file: file_name.clone(),
                    size,
                    fingerprint,
                },
            };
            lock.upsert(model.clone());
            if let (AddOutcome::Replaced { .. }, Some(p)) = (&outcome, &previous) {
                self.delete_if_unused(lock, p);
            }
            Ok(Added { model, outcome })
        })
    }

    /// Pin the Ollama model `ollama_model` under `name` with the digest
    /// Ollama reports for it (`sha256:<hex>`).
    pub fn pin_ollama(
        &self,
        name: &str,
        ollama_model: &str,
        digest: &str,
        replace: bool,
    ) -> Result<Added, ModelError> {
        check_name(name).map_err(|reason| ModelError::InvalidName {
            reason: reason.to_string(),
        })?;
        if !lock::valid_digest(digest) {
            return Err(ModelError::BadDigest {
                digest: digest.to_string(),
            });
        }
        self.update(|lock| {
            let previous = lock.get(name).cloned();
            let same = |p: &LockedModel| {
                p.digest == digest
                    && matches!(&p.source, LockedSource::Ollama { ollama_model: m } if m == ollama_model)
            };
            let outcome = match &previous {
                Some(p) if same(p) => return Ok(Added {
                    model: p.clone(),
                    outcome: AddOutcome::AlreadyPresent,
                }),
                Some(p) if !replace => {
                    return Err(ModelError::NameTaken {
                        name: name.to_string(),
                        existing: describe_entry(p),
                        new: format!("the Ollama model {ollama_model} with {digest}"),
                    });
                }
                Some(p) => AddOutcome::Replaced {
                    previous: p.digest.clone(),
                },
                None => AddOutcome::Added,
            };
            let model = LockedModel {
                name: name.to_string(),
                digest: digest.to_string(),
                added: now(),
                source: LockedSource::Ollama {
                    ollama_model: ollama_model.to_string(),
                },
            };
            lock.upsert(model.clone());
            if let Some(p) = &previous {
                self.delete_if_unused(lock, p);
            }
            Ok(Added { model, outcome })
        })
    }

    /// Take `name` out of the lock, and delete its stored file unless
    /// another entry uses it. The lock is written first: a crash in between
    /// leaves an unused file, never an entry without its file.
    pub fn remove(&self, name: &str) -> Result<Removed, ModelError> {
        let (model, unused) = self.update(|lock| {
            let model = lock.get(name).cloned().ok_or_else(|| ModelError::Unknown {
                name: name.to_string(),
                lock: self.lock_path.clone(),
                known: lock.models.iter().map(|m| m.name.clone()).collect(),
            })?;
            lock.models.retain(|m| m.name != name);
            let unused = self
                .path_of(&model)
                .filter(|_| !self.file_in_use(lock, &model));
            Ok((model, unused))
        })?;
        let deleted_file = match unused {
            Some(path) => match std::fs::remove_file(&path) {
                Ok(()) => Some(path),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io("cannot delete", &path)(e)),
            },
            None => None,
        };
        Ok(Removed {
            model,
            deleted_file,
        })
    }

    fn file_in_use(&self, lock: &Lock, model: &LockedModel) -> bool {
        let Some(path) = self.path_of(model) else {
            return false;
        };
        lock.models
            .iter()
            .any(|m| m.name != model.name && self.path_of(m).as_ref() == Some(&path))
    }

    /// After `previous` left the lock, delete its file if nothing else uses it.
    fn delete_if_unused(&self, lock: &Lock, previous: &LockedModel) {
        let Some(path) = self.path_of(previous) else {
            return;
        };
        if lock
            .models
            .iter()
            .any(|m| self.path_of(m).as_ref() == Some(&path))
        {
            return;
        }
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!("cannot delete the unused {}: {e}", path.display());
        }
    }

    /// Hash every stored GGUF file again (or only `name`'s) and compare it
    /// with the lock. `progress` gets (model name, bytes hashed, total).
    /// A file found intact gets its fingerprint refreshed, so the next run's
    /// cheap check trusts it again.
    pub fn verify(
        &self,
        name: Option<&str>,
        progress: &dyn Fn(&str, u64, u64),
    ) -> Result<Vec<VerifyResult>, ModelError> {
        let models = match name {
            Some(name) => vec![self.get(name)?],
            None => self.list()?,
        };
        Ok(self.statuses(models, &|model, path, _, _| {
            self.rehash(model, path, &|done, total| {
                progress(&model.name, done, total)
            })
            .map(|()| VerifyStatus::Ok {
                digest: model.digest.clone(),
            })
        }))
    }

    /// The quick check of every pinned model, hashing nothing: each stored
    /// GGUF file is there, regular, of the pinned size, and unchanged since
    /// it was last hashed ([`VerifyStatus::Unchanged`]) or not
    /// ([`VerifyStatus::Changed`]). [`Self::verify`] is the full check.
    pub fn survey(&self) -> Result<Vec<VerifyResult>, ModelError> {
        Ok(
            self.statuses(self.list()?, &|model, path, size, fingerprint| {
                let meta = open_regular(model, path)?
                    .metadata()
                    .map_err(io("cannot read", path))?;
                Ok(if meta.len() != size {
                    VerifyStatus::SizeDiffers {
                        pinned: size,
                        found: meta.len(),
                        path: path.to_path_buf(),
                    }
                } else if Fingerprint::of(&meta) == *fingerprint {
                    VerifyStatus::Unchanged {
                        digest: model.digest.clone(),
                    }
                } else {
                    VerifyStatus::Changed {
                        path: path.to_path_buf(),
                    }
                })
            }),
        )
    }

    /// Each model's status: a GGUF model's by `check` (given its stored
    /// file, pinned size and last fingerprint), whose errors become the
    /// statuses they mean; an Ollama model is not checked here.
    fn statuses(&self, models: Vec<LockedModel>, check: &CheckFile<'_>) -> Vec<VerifyResult> {
        models
            .into_iter()
            .map(|model| {
                let status = match &model.source {
                    LockedSource::Ollama { ollama_model } => VerifyStatus::NotChecked {
                        reason: format!(
                            "served by Ollama as {ollama_model}; its digest is checked against Ollama before each run"
                        ),
                    },
                    LockedSource::Gguf {
                        size, fingerprint, ..
                    } => {
                        let path = self.dir.join(lock::store_file_name(&model.digest));
                        match check(&model, &path, *size, fingerprint) {
                            Ok(status) => status,
                            Err(ModelError::Drift {
                                pinned,
                                found,
                                path,
                                ..
                            }) => VerifyStatus::Drifted {
                                pinned,
                                found,
                                path,
                            },
                            Err(
                                ModelError::Missing { path, .. }
                                | ModelError::NotRegular { path, .. },
                            ) => VerifyStatus::Missing { path },
                            Err(e) => VerifyStatus::Unreadable {
                                path,
                                error: e.to_string(),
                            },
                        }
                    }
                };
                VerifyResult {
                    name: model.name,
                    status,
                }
            })
            .collect()
    }

    /// Hash `path` in full; `Ok` when it has `model`'s digest (and then
    /// record its current fingerprint).
    fn rehash(
        &self,
        model: &LockedModel,
        path: &Path,
        progress: &dyn Fn(u64, u64),
    ) -> Result<(), ModelError> {
        let mut file = open_regular(model, path)?;
        let meta = file.metadata().map_err(io("cannot read", path))?;
        let (hex, _) = statefs::hash_copy(&mut file, None, meta.len(), progress)
            .map_err(io("cannot read", path))?;
        let found = format!("sha256:{hex}");
        if found != model.digest {
            return Err(ModelError::Drift {
                name: model.name.clone(),
                pinned: model.digest.clone(),
                found,
                path: path.to_path_buf(),
            });
        }
        // Intact: remember how it looks now, so the next check is cheap.
        // Only an optimisation, so failing to write is not an error here.
        let fingerprint = Fingerprint::of(&meta);
        let refreshed = self.update(|lock| {
            if let Some(m) = lock.models.iter_mut().find(|m| m.name == model.name)
                && m.digest == model.digest
                && let LockedSource::Gguf {
                    fingerprint: fp, ..
                } = &mut m.source
            {
                *fp = fingerprint;
            }
            Ok(())
        });
        if let Err(e) = refreshed {
            tracing::debug!(
                "cannot record the new fingerprint of {}: {e}",
                path.display()
            );
        }
        Ok(())
    }

    /// The cheap check before a run: the stored file of a GGUF entry is
    /// trusted while its fingerprint is unchanged; otherwise it is hashed in
    /// full and refused if the digest differs.
    pub fn check(&self, model: &LockedModel) -> Result<PathBuf, ModelError> {
        let fingerprint = match &model.source {
            LockedSource::Gguf { fingerprint, .. } => fingerprint,
            LockedSource::Ollama { ollama_model } => {
                return Err(ModelError::NoFile {
                    name: model.name.clone(),
                    ollama_model: ollama_model.clone(),
                });
            }
        };
        let path = self.dir.join(lock::store_file_name(&model.digest));
        let file = open_regular(model, &path)?;
        let meta = file.metadata().map_err(io("cannot read", &path))?;
        if Fingerprint::of(&meta) != *fingerprint {
            tracing::info!(
                "{} changed since it was last hashed; hashing it again",
                path.display()
            );
            self.rehash(model, &path, &|_, _| {})?;
        }
        Ok(path)
    }
}

/// Open the stored file of `model`, refusing anything but a regular file.
fn open_regular(model: &LockedModel, path: &Path) -> Result<File, ModelError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Err(ModelError::NotRegular {
                name: model.name.clone(),
                path: path.to_path_buf(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ModelError::Missing {
                name: model.name.clone(),
                path: path.to_path_buf(),
            });
        }
        Err(e) => return Err(io("cannot read", path)(e)),
    }
    File::open(path).map_err(io("cannot read", path))
}

fn fingerprint_of(path: &Path) -> Result<Fingerprint, ModelError> {
    let meta = std::fs::symlink_metadata(path).map_err(io("cannot read", path))?;
    Ok(Fingerprint::of(&meta))
}

/// An entry as a phrase, for messages.
fn describe_entry(model: &LockedModel) -> String {
    match &model.source {
        LockedSource::Gguf { .. } => format!("a GGUF file with {}", model.digest),
        LockedSource::Ollama { ollama_model } => {
            format!("the Ollama model {ollama_model} with {}", model.digest)
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ModelSource;
    use crate::settings::{BackendKind, EngineConfig, EngineSettings, ModelSettings};

    /// A configuration with every default but the engine.
    #[derive(Default)]
    struct TestConfig {
        engine: EngineSettings,
    }

    impl EngineConfig for TestConfig {
        fn engine(&self) -> &EngineSettings {
            &self.engine
        }
        fn model(&self, _: &str) -> ModelSettings {
            ModelSettings::default()
        }
        fn describe_source(&self) -> String {
            "defaults".into()
        }
    }

    #[test]
    fn names() {
        for ok in [
            "smollm2",
            "smollm2-135m-instruct.q4_1",
            "0",
            "a_b",
            "llama3.2",
        ] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Smol",
            "-x",
            ".x",
            "a b",
            "a/b",
            "../x",
            "é",
            &"a".repeat(129),
        ] {
            let e = check_name(bad).unwrap_err().to_string();
            assert!(e.contains("lowercase letters"), "{bad}: {e}");
        }
        assert_eq!(
            default_name(Path::new("/m/SmolLM2-135M-Instruct.Q4_1.gguf")).as_deref(),
            Some("smollm2-135m-instruct.q4_1")
        );
    }

    #[test]
    fn unknown_model_lists_the_known_ones() {
        let home = tempfile::tempdir().unwrap();
        let store = ModelStore::open(home.path());
        let e = store.get("nope").unwrap_err().to_string();
        assert!(e.contains("no model named `nope`"), "{e}");
        assert!(e.contains("the store is empty"), "{e}");
        assert!(
            !home.path().join("models").exists(),
            "reading creates nothing"
        );
    }

    #[test]
    fn pin_ollama_is_idempotent_and_guards_names() {
        let home = tempfile::tempdir().unwrap();
        let store = ModelStore::open(home.path());
        let d1 = format!("sha256:{}", "1".repeat(64));
        let d2 = format!("sha256:{}", "2".repeat(64));
        let a = store
            .pin_ollama("llama", "llama3.2:1b", &d1, false)
            .unwrap();
        assert_eq!(a.outcome, AddOutcome::Added);
        let again = store
            .pin_ollama("llama", "llama3.2:1b", &d1, false)
            .unwrap();
        assert_eq!(again.outcome, AddOutcome::AlreadyPresent);
        let e = store
            .pin_ollama("llama", "llama3.2:1b", &d2, false)
            .unwrap_err();
        assert!(matches!(e, ModelError::NameTaken { .. }), "{e}");
        let r = store.pin_ollama("llama", "llama3.2:1b", &d2, true).unwrap();
        assert_eq!(r.outcome, AddOutcome::Replaced { previous: d1 });
        assert!(matches!(
            store.pin_ollama("llama", "x", "abc", false),
            Err(ModelError::BadDigest { .. })
        ));

        let mut config = TestConfig::default();
        let e = store.spec("llama", &config).unwrap_err().to_string();
        assert!(e.contains("engine.backend = \"ollama\""), "{e}");
        config.engine.backend = BackendKind::Ollama;
        let spec = store.spec("llama", &config).unwrap();
        assert_eq!(
            spec.source,
            ModelSource::Ollama {
                model: "llama3.2:1b".into()
            }
        );
        assert_eq!(spec.digest, d2);
        assert_eq!(spec.context_length, DEFAULT_SERVER_CONTEXT);

        let verified = store.verify(None, &|_, _, _| {}).unwrap();
        assert!(matches!(
            verified[0].status,
            VerifyStatus::NotChecked { .. }
        ));

        let removed = store.remove("llama").unwrap();
        assert_eq!(removed.deleted_file, None);
        assert!(store.list().unwrap().is_empty());
        assert!(matches!(
            store.remove("llama"),
            Err(ModelError::Unknown { .. })
        ));
    }

    #[test]
    fn not_gguf_is_refused_before_anything_is_stored() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join("notes.gguf");
        std::fs::write(&file, "hello world").unwrap();
        let store = ModelStore::open(home.path());
        let e = store.add(&file, None, false, &|_, _| {}).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, ModelError::NotGguf { .. }), "{msg}");
        assert!(msg.contains("notes.gguf is not a GGUF file"), "{msg}");
        assert!(msg.contains("it starts with \"hello wo\""), "{msg}");
        assert!(!store.lock_path().exists());
    }
}
