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

pub mod gguf;
pub mod lock;
use airlock_core::statefs;

pub use lock::{Fingerprint, Lock, LockError, LockedModel, LockedSource};

use crate::config::{BackendKind, Config};
use crate::inference::embedded::llama_backend;
use crate::inference::{EngineError, ModelSource, ModelSpec};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
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

/// The context assumed for a server engine when the configuration sets none:
/// what Ollama is asked for (`num_ctx`), and llama-cpp-python's default
/// `n_ctx`. Set `context-length` to the server's real setting.
pub const DEFAULT_SERVER_CONTEXT: u32 = 2048;

/// Why a model operation failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing a file failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done (`cannot read`).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The lock is unreadable or invalid.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The file to add is not a GGUF file.
    #[error("{} is not a GGUF file ({start}); Airlock's embedded engine runs GGUF models (llama.cpp's format): convert it with llama.cpp's convert_hf_to_gguf.py, or get the model's .gguf release", file.display())]
    NotGguf {
        /// The file.
        file: PathBuf,
        /// How it starts instead.
        start: String,
    },
    /// llama.cpp could not read the file.
    #[error("{} could not be loaded by llama.cpp: {reason}", file.display())]
    Unloadable {
        /// The file.
        file: PathBuf,
        /// Why, as far as known.
        reason: String,
    },
    /// A name that does not follow the rule.
    #[error("{reason}; choose one with --name")]
    InvalidName {
        /// Why.
        reason: String,
    },
    /// The name is taken by a different model.
    #[error(
        "a different model is already pinned as `{name}` ({existing}, not {new}); remove it first (`airlock model remove {name}`), pass --replace, or choose another --name"
    )]
    NameTaken {
        /// The name.
        name: String,
        /// What the lock pins under it.
        existing: String,
        /// What was to be added.
        new: String,
    },
    /// No model by this name in the lock.
    #[error("no model named `{name}` in {}; {}", lock.display(), known_models(known))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The lock file.
        lock: PathBuf,
        /// The names it has.
        known: Vec<String>,
    },
    /// The model's kind does not fit the configured engine.
    #[error(
        "model `{name}` is {pinned}, but the configured engine ({config}) is `{backend}`; {fix}"
    )]
    KindMismatch {
        /// The model.
        name: String,
        /// What it is, as a phrase (`a GGUF file`, `the Ollama model llama3.2:1b`).
        pinned: String,
        /// The configured engine.
        backend: BackendKind,
        /// Where the configuration came from.
        config: String,
        /// What to do.
        fix: String,
    },
    /// The stored file's content is not what the lock pins.
    #[error("model `{name}` has drifted: the lock pins {pinned}, but the stored file {} now has {found}; Airlock refuses to run it. Restore it from a trusted copy of the original (`airlock model add COPY --name {name}` puts a fresh copy in the store), pin a new file on purpose (`airlock model add FILE --name {name} --replace`), or remove it (`airlock model remove {name}`)", path.display())]
    Drift {
        /// The model.
        name: String,
        /// The pinned digest.
        pinned: String,
        /// The digest found.
        found: String,
        /// The stored file.
        path: PathBuf,
    },
    /// The stored file is gone.
    #[error("model `{name}`: its file {} is missing from the store; restore it from a trusted copy (`airlock model add COPY --name {name}`) or remove the entry (`airlock model remove {name}`)", path.display())]
    Missing {
        /// The model.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// The stored file was replaced by something other than a regular file.
    #[error("model `{name}`: {} is no longer a regular file (replaced by a link?); Airlock refuses to run it; add the model again with --replace", path.display())]
    NotRegular {
        /// The model.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// A file operation was asked of a model that has no file here.
    #[error(
        "model `{name}` is served by Ollama as {ollama_model}: Airlock keeps no file for it (`ollama show {ollama_model}` describes it)"
    )]
    NoFile {
        /// The model.
        name: String,
        /// Ollama's name for it.
        ollama_model: String,
    },
    /// The lock holds a digest that is not `sha256:<hex>` (from Ollama).
    #[error("`{digest}` is not a sha256 digest (expected `sha256:` and 64 hex digits)")]
    BadDigest {
        /// What was given.
        digest: String,
    },
    /// llama.cpp itself could not start.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

fn known_models(known: &[String]) -> String {
    if known.is_empty() {
        "the store is empty: add a GGUF file with `airlock model add FILE` (nothing is downloaded)"
            .into()
    } else {
        format!(
            "the models are: {} (`airlock model list`)",
            known.join(", ")
        )
    }
}

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
    /// Nothing to hash here: an Ollama model is checked against Ollama's
    /// digest before each run.
    NotChecked {
        /// Why.
        reason: String,
    },
}

impl VerifyStatus {
    /// Whether this result means the model would be refused at run time.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Self::Drifted { .. } | Self::Missing { .. } | Self::Unreadable { .. }
        )
    }
}

/// What `airlock model show` presents: the lock entry plus what the GGUF
/// file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ModelInfo {
    /// The lock entry.
    pub model: LockedModel,
    /// The stored file.
    pub path: PathBuf,
    /// `general.architecture` (`llama`, `qwen2`, ...).
    pub architecture: Option<String>,
    /// Number of parameters (weights).
    pub parameters: u64,
    /// The quantization, from `general.file_type` (`Q4_1`, `Q4_K_M`, ...).
    pub quantization: Option<String>,
    /// The context length it was trained with, in tokens.
    pub context_length: Option<u64>,
    /// `general.license`.
    pub license: Option<String>,
    /// The default chat template (Jinja), if the file has one.
    pub chat_template: Option<String>,
    /// GGUF format version.
    pub gguf_version: u32,
    /// Number of tensors.
    pub tensors: u64,
    /// Every metadata key and value, in file order (arrays longer than 16
    /// by element type and length only).
    pub metadata: Vec<(String, gguf::Value)>,
}

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
        let mut results = Vec::new();
        for model in models {
            let status = match &model.source {
                LockedSource::Ollama { ollama_model } => VerifyStatus::NotChecked {
                    reason: format!(
                        "served by Ollama as {ollama_model}; its digest is checked against Ollama before each run"
                    ),
                },
                LockedSource::Gguf { .. } => {
                    let path = self.dir.join(lock::store_file_name(&model.digest));
                    match self.rehash(&model, &path, &|done, total| {
                        progress(&model.name, done, total)
                    }) {
                        Ok(()) => VerifyStatus::Ok {
                            digest: model.digest.clone(),
                        },
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
                            ModelError::Missing { path, .. } | ModelError::NotRegular { path, .. },
                        ) => VerifyStatus::Missing { path },
                        Err(e) => VerifyStatus::Unreadable {
                            path,
                            error: e.to_string(),
                        },
                    }
                }
            };
            results.push(VerifyResult {
                name: model.name.clone(),
                status,
            });
        }
        Ok(results)
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

    /// What a run needs to use model `name` under `config`'s engine:
    /// - `embedded`: a GGUF entry; its file passes [`ModelStore::check`];
    /// - `ollama`: an Ollama entry (the engine compares Ollama's digest);
    /// - `openai-compatible`: a GGUF entry, whose digest stands for the file
    ///   the operator states the server serves (its name there is
    ///   `served-as`, default the Airlock name); the local copy is not read.
    pub fn spec(&self, name: &str, config: &Config) -> Result<ModelSpec, ModelError> {
        let model = self.get(name)?;
        let settings = config.model(name);
        let backend = config.engine.backend;
        let mismatch = |fix: String| ModelError::KindMismatch {
            name: name.to_string(),
            pinned: describe_entry(&model),
            backend,
            config: config.describe_source(),
            fix,
        };
        let source = match (&model.source, backend) {
            (LockedSource::Gguf { .. }, BackendKind::Embedded) => ModelSource::Gguf {
                path: self.check(&model)?,
            },
            (LockedSource::Gguf { .. }, BackendKind::OpenAiCompatible) => ModelSource::Served {
                model: settings
                    .served_as
                    .clone()
                    .unwrap_or_else(|| name.to_string()),
            },
            (LockedSource::Ollama { ollama_model }, BackendKind::Ollama) => ModelSource::Ollama {
                model: ollama_model.clone(),
            },
            (LockedSource::Gguf { .. }, BackendKind::Ollama) => {
                return Err(mismatch(format!(
                    "pin the Ollama model with `airlock model pin {name}-ollama --ollama MODEL` and use that name, or set engine.backend = \"embedded\""
                )));
            }
            (LockedSource::Ollama { .. }, _) => {
                return Err(mismatch(format!(
                    "set engine.backend = \"ollama\" (with engine.endpoint), or add the model's GGUF file with `airlock model add FILE --name {name}-gguf` and use that name"
                )));
            }
        };
        // The family is informational (skills see it in `models()`): read it
        // from the stored GGUF header when there is one.
        let header = self
            .path_of(&model)
            .and_then(|path| gguf::read_header(&path).ok());
        let family = header
            .as_ref()
            .and_then(|h| h.get("general.architecture").and_then(|v| v.as_str()))
            .unwrap_or("unknown")
            .to_string();
        // The context the engine will run with, so `models()` tells skills
        // the truth: the configured one, else the trained context capped
        // as the embedded engine caps it; for servers, their usual default.
        let trained = header.as_ref().and_then(|h| {
            h.get(&format!("{family}.context_length"))
                .and_then(|v| v.as_u64())
                .and_then(|n| u32::try_from(n).ok())
        });
        let context_length = match (settings.context_length, backend) {
            (Some(n), _) => n,
            (None, BackendKind::Embedded) => trained
                .unwrap_or(crate::inference::embedded::DEFAULT_CONTEXT_CAP)
                .min(crate::inference::embedded::DEFAULT_CONTEXT_CAP),
            (None, BackendKind::Ollama) => DEFAULT_SERVER_CONTEXT,
            (None, BackendKind::OpenAiCompatible) => DEFAULT_SERVER_CONTEXT,
        };
        Ok(ModelSpec {
            name: name.to_string(),
            digest: model.digest.clone(),
            family,
            source,
            context_length,
        })
    }

    /// Read what a stored GGUF file says about itself, after the cheap
    /// check (a drifted file is refused, not parsed).
    pub fn metadata(&self, name: &str) -> Result<ModelInfo, ModelError> {
        let model = self.get(name)?;
        let path = self.check(&model)?;
        let llama = load_vocab_only(&path)?;
        let header = gguf::read_header(&path).map_err(|e| ModelError::Unloadable {
            file: path.clone(),
            reason: format!("its GGUF header cannot be read ({e})"),
        })?;
        let text = |key: &str| {
            header
                .get(key)
                .and_then(gguf::Value::as_str)
                .map(str::to_string)
        };
        let architecture = text("general.architecture");
        let context_length = architecture
            .as_ref()
            .and_then(|a| header.get(&format!("{a}.context_length")))
            .and_then(gguf::Value::as_u64)
            .or_else(|| Some(u64::from(llama.n_ctx_train())).filter(|n| *n > 0));
        let parameters = match llama.n_params() {
            0 => header.parameters,
            n => n,
        };
        let chat_template = llama
            .chat_template(None)
            .ok()
            .and_then(|t| t.to_string().ok())
            .or_else(|| text("tokenizer.chat_template"));
        let quantization = header
            .get("general.file_type")
            .and_then(gguf::Value::as_u64)
            .map(|t| {
                gguf::file_type_name(t).map_or_else(|| format!("file type {t}"), str::to_string)
            });
        Ok(ModelInfo {
            path,
            architecture,
            parameters,
            quantization,
            context_length,
            license: text("general.license"),
            chat_template,
            gguf_version: header.version,
            tensors: header.tensors,
            metadata: header.metadata,
            model,
        })
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

/// Load only the vocabulary and metadata: enough for llama.cpp to parse the
/// whole header, check every tensor lies inside the file and know the
/// architecture, without reading the weights.
fn load_vocab_only(path: &Path) -> Result<LlamaModel, ModelError> {
    if path.to_str().is_none() {
        return Err(ModelError::Unloadable {
            file: path.to_path_buf(),
            reason: "its path is not valid UTF-8, which llama.cpp needs; rename or move it".into(),
        });
    }
    let params = LlamaModelParams::default().with_vocab_only(true);
    LlamaModel::load_from_file(llama_backend()?, path, &params).map_err(|_| {
        ModelError::Unloadable {
            file: path.to_path_buf(),
            // llama.cpp reports nothing more than failure.
            reason: "it is corrupt, truncated, or of an architecture this build of llama.cpp does not support (llama.cpp gives no reason; check the file's sha256 against its source)".into(),
        }
    })
}

fn check_loadable(path: &Path) -> Result<(), ModelError> {
    load_vocab_only(path).map(drop)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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

        let mut config = Config::default();
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
