//! From a lock entry and the configured engine to what a run needs to use
//! the model: its source for that engine, its family and its context.

use super::{LockedSource, ModelError, ModelStore, describe_entry, gguf};
use crate::settings::{BackendKind, EngineConfig};
use crate::{ModelSource, ModelSpec};

/// The context assumed for a server engine when the configuration sets none:
/// what Ollama is asked for (`num_ctx`), and llama-cpp-python's default
/// `n_ctx`. Set `context-length` to the server's real setting.
pub const DEFAULT_SERVER_CONTEXT: u32 = 2048;

impl ModelStore {
    /// What a run needs to use model `name` under `config`'s engine:
    /// - `embedded`: a GGUF entry; its file passes [`ModelStore::check`];
    /// - `ollama`: an Ollama entry (the engine compares Ollama's digest);
    /// - `openai-compatible`: a GGUF entry, whose digest stands for the file
    ///   the operator states the server serves (its name there is
    ///   `served-as`, default the Airlock name); the local copy is not read.
    pub fn spec(&self, name: &str, config: &dyn EngineConfig) -> Result<ModelSpec, ModelError> {
        let model = self.get(name)?;
        let settings = config.model(name);
        let backend = config.engine().backend;
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
                .unwrap_or(crate::embedded::DEFAULT_CONTEXT_CAP)
                .min(crate::embedded::DEFAULT_CONTEXT_CAP),
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
}
