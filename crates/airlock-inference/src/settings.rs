//! The inference settings a configuration chooses: which engine, where it
//! is, its threads and timeouts, and per-model settings. The configuration
//! file itself is parsed elsewhere; this crate sees it through
//! [`EngineConfig`].

use crate::endpoint::{Endpoint, Timeouts};
use serde::{Deserialize, Serialize};

/// Which engine answers inference calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// llama.cpp inside the Airlock process, on a GGUF file from the store.
    #[default]
    Embedded,
    /// An Ollama server on this machine (native `/api/chat`).
    Ollama,
    /// An OpenAI-compatible server on this machine (`/v1/chat/completions`).
    #[serde(rename = "openai-compatible")]
    OpenAiCompatible,
}

impl BackendKind {
    /// The name used in the configuration file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Embedded => "embedded",
            Self::Ollama => "ollama",
            Self::OpenAiCompatible => "openai-compatible",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[engine]` table, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineSettings {
    /// Which engine (default: embedded).
    pub backend: BackendKind,
    /// The server, for `ollama` and `openai-compatible` (required there);
    /// already checked to be loopback.
    pub endpoint: Option<Endpoint>,
    /// llama.cpp threads for the embedded engine; 0 means the machine's
    /// default (see [`EngineSettings::effective_threads`]).
    pub threads: u32,
    /// How many sessions' llama.cpp contexts the embedded engine keeps per
    /// model for prefix reuse (least recently used evicted first); 0: none,
    /// every request starts cold. Default
    /// [`crate::embedded::DEFAULT_KEPT_CONTEXTS`].
    pub kept_contexts: u32,
    /// Connect and read timeouts for HTTP engines.
    pub timeouts: Timeouts,
    /// The uid that must own an HTTP engine's listening socket; `None`: the
    /// user running Airlock (unless the admin policy sets one).
    pub server_uid: Option<u32>,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            backend: BackendKind::Embedded,
            endpoint: None,
            threads: 0,
            kept_contexts: crate::embedded::DEFAULT_KEPT_CONTEXTS,
            timeouts: Timeouts::default(),
            server_uid: None,
        }
    }
}

impl EngineSettings {
    /// `threads`, with 0 resolved to the embedded engine's default (half
    /// the available processors, at least one).
    pub fn effective_threads(&self) -> u32 {
        if self.threads > 0 {
            return self.threads;
        }
        crate::embedded::default_threads()
    }
}

/// A `[models.NAME]` table, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelSettings {
    /// Context window in tokens; `None` means min(the model's trained
    /// context, 4096).
    pub context_length: Option<u32>,
    /// For `openai-compatible`: the model name the server knows it by
    /// (default: the Airlock name).
    pub served_as: Option<String>,
}

/// What the engine and model resolution need from a configuration: the
/// `[engine]` table, each model's table, and where they came from (for
/// messages that say which file to fix).
pub trait EngineConfig {
    /// The `[engine]` table.
    fn engine(&self) -> &EngineSettings;
    /// The settings for model `name` (all defaults when it has no table).
    fn model(&self, name: &str) -> ModelSettings;
    /// Where the configuration came from, for messages.
    fn describe_source(&self) -> String;
}
