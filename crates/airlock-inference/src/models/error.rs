//! Why a model operation failed.

use super::LockError;
use crate::EngineError;
use crate::settings::BackendKind;
use std::path::PathBuf;

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
