//! From configuration and profile to the models a run may use: the engine the
//! configuration chooses, and each model the profile grants, checked against
//! the lock (and, for a server engine, against what the server serves) before
//! the skill starts. Any doubt refuses the run.

use super::embedded::EmbeddedBackend;
use super::ollama::OllamaBackend;
use super::openai::OpenAiBackend;
use super::{EngineError, SharedBackend};
use crate::config::{BackendKind, Config};
use crate::host::inference::RunModels;
use crate::models::{ModelError, ModelStore};
use crate::profile::Profile;
use std::sync::Arc;

/// Why the models a profile grants cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// A granted model is missing from the store, or its file drifted.
    #[error("the profile `{profile}` grants model `{model}`, which cannot be used: {source}")]
    Model {
        /// The profile.
        profile: String,
        /// The model.
        model: String,
        /// Why.
        source: ModelError,
    },
    /// The engine cannot be set up or does not serve the pinned model.
    #[error(
        "the profile `{profile}` grants model `{model}`, which the {engine} cannot serve as pinned: {source}"
    )]
    Engine {
        /// The profile.
        profile: String,
        /// The model.
        model: String,
        /// The engine, as a phrase.
        engine: String,
        /// Why.
        source: EngineError,
    },
}

impl GrantError {
    /// Whether this is a pinning failure (drift): the run is refused by
    /// policy, rather than unable to start.
    pub fn is_drift(&self) -> bool {
        matches!(
            self,
            Self::Model {
                source: ModelError::Drift { .. } | ModelError::NotRegular { .. },
                ..
            } | Self::Engine {
                source: EngineError::ModelDrift { .. },
                ..
            }
        )
    }
}

/// The engine `config` chooses. Nothing is loaded or contacted yet.
pub fn backend_for(config: &Config) -> Result<SharedBackend, EngineError> {
    let engine = &config.engine;
    let endpoint = || {
        engine.endpoint.clone().ok_or_else(|| {
            EngineError::Unavailable(format!(
                "the configured engine `{}` needs engine.endpoint in {}",
                engine.backend,
                config.describe_source()
            ))
        })
    };
    Ok(match engine.backend {
        BackendKind::Embedded => Arc::new(EmbeddedBackend::new(engine.threads)),
        BackendKind::Ollama => Arc::new(OllamaBackend::new(endpoint()?, engine.timeouts)?),
        BackendKind::OpenAiCompatible => {
            Arc::new(OpenAiBackend::new(endpoint()?, engine.timeouts)?)
        }
    })
}

/// The models `profile` grants, resolved for `backend`: `None` when it grants
/// none. Every granted model must be pinned in `store`, match its digest
/// (cheap check, full re-hash when the file changed), and be served as pinned.
pub async fn granted_models(
    profile: &Profile,
    config: &Config,
    store: &ModelStore,
    backend: SharedBackend,
) -> Result<Option<RunModels>, GrantError> {
    if profile.inference.models.is_empty() {
        return Ok(None);
    }
    let mut models = Vec::new();
    for name in &profile.inference.models {
        let spec = store
            .spec(name, config)
            .map_err(|source| GrantError::Model {
                profile: profile.name.clone(),
                model: name.clone(),
                source,
            })?;
        backend
            .verify(&spec)
            .await
            .map_err(|source| GrantError::Engine {
                profile: profile.name.clone(),
                model: name.clone(),
                engine: backend.describe(),
                source,
            })?;
        models.push(spec);
    }
    Ok(Some(RunModels { backend, models }))
}
