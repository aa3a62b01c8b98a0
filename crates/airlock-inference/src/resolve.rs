//! From configuration and profile to the models a run may use: the engine the
//! configuration chooses, and each model the profile grants, checked against
//! the lock (and, for a server engine, against what the server serves) before
//! the skill starts, and against the admin policy's pins. Any doubt refuses
//! the run.

use super::embedded::EmbeddedBackend;
use super::listener::ServerOwner;
use super::ollama::OllamaBackend;
use super::openai::OpenAiBackend;
use super::{EngineError, ModelSpec, SharedBackend};
use crate::models::{ModelError, ModelStore};
use crate::settings::{BackendKind, EngineConfig};
use airlock_policy::admin::{Policy, PolicyViolation};
use airlock_policy::profile::Profile;
use std::sync::Arc;

/// The models a run may use and the engine that runs them.
#[derive(Clone)]
pub struct RunModels {
    /// The engine.
    pub backend: SharedBackend,
    /// The profile's models, resolved and checked against the lock, in the
    /// profile's order (the first is the default).
    pub models: Vec<ModelSpec>,
}

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
    /// The model runs with a smaller context than the plugin asks for
    /// (`capabilities.min-context`).
    #[error(
        "the plugin needs a context of at least {min} tokens (capabilities.min-context in its manifest), but model `{model}` granted by the profile `{profile}` runs with {context}: map the plugin's role to a model with a larger context in the profile's [inference.roles], or raise the context it runs with (models.{model}.context-length in {config})"
    )]
    Context {
        /// The profile.
        profile: String,
        /// The model.
        model: String,
        /// The context it runs with, in tokens.
        context: u32,
        /// The plugin's `min-context`.
        min: u32,
        /// The configuration file, for the fix.
        config: String,
    },
    /// The model store pins the name to another digest than the admin
    /// policy does (or the policy files disagree).
    #[error("the profile `{profile}` grants a model the admin policy did not approve: {message}")]
    Pin {
        /// The profile.
        profile: String,
        /// What differs, naming both digests, and the fix.
        message: PolicyViolation,
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
                source: EngineError::ModelDrift { .. } | EngineError::UntrustedServer(_),
                ..
            } | Self::Pin { .. }
        )
    }
}

/// Who must own a loopback server's listening socket: the admin policy's
/// `[models] server-uid` when set (the configuration may repeat it, not
/// change it), else the configuration's `engine.server-uid`, else the user
/// running Airlock. The error refuses the run.
pub fn server_owner(
    config: &dyn EngineConfig,
    policy: &Policy,
) -> Result<ServerOwner, EngineError> {
    let admin = policy
        .server_uid()
        .map_err(|e| EngineError::UntrustedServer(e.0))?;
    let configured = config.engine().server_uid;
    Ok(match (admin, configured) {
        (Some(admin), Some(mine)) if admin != mine => {
            return Err(EngineError::UntrustedServer(format!(
                "engine.server-uid = {mine} in {} differs from the admin policy's {} = {admin}; the administrator decides which user may serve models here: remove engine.server-uid from the configuration, or ask the administrator",
                config.describe_source(),
                policy.server_uid_origin()
            )));
        }
        (Some(uid), _) => ServerOwner {
            uid,
            setting: policy.server_uid_origin(),
        },
        (None, Some(uid)) => ServerOwner {
            uid,
            setting: format!("engine.server-uid in {}", config.describe_source()),
        },
        (None, None) => ServerOwner::current_user(),
    })
}

/// The engine `config` chooses, held to `policy`'s server owner. Nothing is
/// loaded or contacted yet.
pub fn backend_for(
    config: &dyn EngineConfig,
    policy: &Policy,
) -> Result<SharedBackend, EngineError> {
    let engine = config.engine();
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
        BackendKind::Embedded => {
            Arc::new(EmbeddedBackend::new(engine.threads).with_kept_contexts(engine.kept_contexts))
        }
        BackendKind::Ollama => Arc::new(
            OllamaBackend::new(endpoint()?, engine.timeouts)?
                .with_server_owner(server_owner(config, policy)?),
        ),
        BackendKind::OpenAiCompatible => Arc::new(
            OpenAiBackend::new(endpoint()?, engine.timeouts)?
                .with_server_owner(server_owner(config, policy)?),
        ),
    })
}

/// The models `profile` grants, resolved for `backend`: `None` when it grants
/// none. Every granted model must be pinned in `store` to the digest
/// `policy` pins (when it pins one), match its digest (cheap check, full
/// re-hash when the file changed), and be served as pinned.
pub async fn granted_models(
    profile: &Profile,
    config: &dyn EngineConfig,
    store: &ModelStore,
    backend: SharedBackend,
    policy: &Policy,
) -> Result<Option<RunModels>, GrantError> {
    if profile.inference.models.is_empty() {
        return Ok(None);
    }
    let mut models = Vec::new();
    for name in &profile.inference.models {
        // The admin's pin first: the lock's digest is what the file and the
        // server are then held to, so this one comparison covers both.
        let locked = store.get(name).map_err(|source| GrantError::Model {
            profile: profile.name.clone(),
            model: name.clone(),
            source,
        })?;
        policy
            .check_pin(
                name,
                &locked.digest,
                &store.lock_path().display().to_string(),
            )
            .map_err(|message| GrantError::Pin {
                profile: profile.name.clone(),
                message,
            })?;
        let spec = store
            .spec(name, config)
            .map_err(|source| GrantError::Model {
                profile: profile.name.clone(),
                model: name.clone(),
                source,
            })?;
        // A plugin's `min-context`, against the context the model will run
        // with (the same number `models()` tells the skill).
        if let Some(min) = profile.inference.min_context
            && spec.context_length < min
        {
            return Err(GrantError::Context {
                profile: profile.name.clone(),
                model: name.clone(),
                context: spec.context_length,
                min,
                config: config.describe_source(),
            });
        }
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
