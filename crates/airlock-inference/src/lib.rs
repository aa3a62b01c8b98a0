//! Host-owned inference: the engines that run a model for a skill.
//!
//! A skill asks through the `airlock:skill/inference` interface
//! (`airlock-runtime`'s `host::inference`); the host decides which engine answers. Every
//! engine implements [`Backend`]: it takes a [`ChatRequest`] for a pinned
//! [`ModelSpec`] and returns a [`TokenStream`] of text pieces that ends with a
//! [`StreamEvent::Done`]. Dropping the stream cancels the generation.
//!
//! - [`embedded`]: llama.cpp in this process (the default);
//! - [`ollama`]: Ollama's native `/api/chat` on loopback;
//! - [`openai`]: an OpenAI-compatible `/v1/chat/completions` on loopback;
//! - [`endpoint`]: the loopback-only rule and the HTTP client both servers use;
//! - [`listener`]: the user that must own a loopback server's listening socket;
//! - [`resolve`]: from configuration and profile to the checked models of a run;
//! - [`models`]: the model store and its lock, the only models a run may use;
//! - [`settings`]: the engine and per-model settings a configuration chooses.
//!
//! There is no fallback: when the configured engine fails, the call fails.

// Ambient std::fs allowed: only in unit tests, which build their fixtures.
#![cfg_attr(test, allow(clippy::disallowed_methods))]
#![deny(missing_docs)]

pub mod embedded;
pub mod endpoint;
pub mod listener;
pub mod models;
pub mod ollama;
pub mod openai;
pub mod resolve;
pub mod settings;
mod stop;

pub use stop::StopScanner;

use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Who wrote a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The user's turn.
    User,
    /// The model's earlier turns.
    Assistant,
}

impl Role {
    /// The name chat templates and HTTP APIs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: String,
}

/// The shape the answer must have, enforced while decoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "value")]
pub enum OutputFormat {
    /// Free text.
    Text,
    /// JSON matching this JSON Schema (JSON text, already checked to parse).
    JsonSchema(String),
    /// Text matching this GBNF grammar (embedded engine only).
    Grammar(String),
}

/// Sampling settings, with the host's defaults already applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sampling {
    /// Most tokens to generate.
    pub max_tokens: u32,
    /// 0 is greedy.
    pub temperature: f32,
    /// Nucleus sampling; 1.0 is off.
    pub top_p: f32,
    /// Sampling seed.
    pub seed: u64,
    /// Stop sequences (handled by the host for every engine, see [`StopScanner`]).
    pub stop: Vec<String>,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
            stop: Vec::new(),
        }
    }
}

/// A checked chat request for one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    /// The conversation, oldest first; never empty.
    pub messages: Vec<Message>,
    /// Sampling settings.
    pub sampling: Sampling,
    /// The answer's shape.
    pub format: OutputFormat,
    /// Whether the caller reads the answer piece by piece. When false, an
    /// HTTP engine asks its server for one whole response (still delivered as
    /// a stream of one piece).
    pub stream: bool,
    /// The conversation this request continues: requests with the same key
    /// may reuse the tokens an engine already read for an earlier one (the
    /// embedded engine keeps that session's llama.cpp context). `None`: a
    /// cold request in a fresh context. Not part of what is recorded.
    #[serde(skip)]
    pub session: Option<SessionKey>,
}

/// Names one run's (or one chat session's) conversation with an engine, so
/// the engine may keep what it read for it. Every key made is new (a
/// process-wide counter, never a name a skill could choose): only the holder
/// of a key reaches what is kept under it, so different runs never share.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SessionKey(u64);

impl SessionKey {
    /// A key no other session in this process has.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Self(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

impl std::fmt::Display for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session {}", self.0)
    }
}

/// Where a pinned model lives, as the engine needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ModelSource {
    /// A GGUF file in Airlock's model store.
    Gguf {
        /// The file.
        path: PathBuf,
    },
    /// A model served by Ollama, by its Ollama name (e.g. `llama3.2:1b`).
    Ollama {
        /// Ollama's name for it.
        model: String,
    },
    /// A model served by an OpenAI-compatible server under this name.
    Served {
        /// The `model` field the server expects.
        model: String,
    },
}

/// A model as pinned in the lock, ready for an engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelSpec {
    /// Airlock's name for it (what skills and profiles use).
    pub name: String,
    /// `sha256:<hex>`: of the GGUF file, or as Ollama reports it.
    pub digest: String,
    /// The architecture family (`llama`, `qwen2`, ...), as the model states it.
    pub family: String,
    /// Where it is.
    pub source: ModelSource,
    /// Context window to run it with, in tokens (0: the model's own).
    pub context_length: u32,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FinishReason {
    /// The model ended its answer.
    Stop,
    /// A stop sequence was produced.
    StopSequence,
    /// `max_tokens` was reached.
    Length,
}

/// Tokens used by one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    /// Tokens in the prompt, after the chat template.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Of `prompt_tokens`, how many the engine did not read again because it
    /// held them from an earlier request of the same session (0 when the
    /// engine does not say).
    pub prompt_tokens_reused: u32,
}

/// What an engine sends while it generates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// The prompt was read: how many tokens it is.
    Prompt {
        /// Prompt tokens.
        tokens: u32,
        /// Of those, how many were held from an earlier request of the same
        /// session and not read again.
        reused: u32,
    },
    /// More text. `tokens` is how many generated tokens it covers.
    Text {
        /// The text (whole UTF-8 characters).
        text: String,
        /// Tokens it covers.
        tokens: u32,
    },
    /// The answer is complete. Always the last event of a stream.
    Done {
        /// Why it ended.
        finish: FinishReason,
        /// What was used, as the engine counted it.
        usage: Usage,
    },
}

/// Why an engine could not answer. Mirrors the WIT `inference-error` cases
/// that an engine (rather than the profile) can cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The engine is not there or broke off; the message says what happened.
    #[error("{0}")]
    Unavailable(String),
    /// Prompt plus `max_tokens` exceed the context window.
    #[error(
        "the prompt is {prompt} tokens and asks for up to {max_tokens} more, over the model's context of {context} tokens"
    )]
    ContextTooLong {
        /// Prompt tokens.
        prompt: u32,
        /// Requested completion tokens.
        max_tokens: u32,
        /// The context window.
        context: u32,
    },
    /// The request cannot be run (a grammar that does not parse, ...).
    #[error("{0}")]
    InvalidRequest(String),
    /// The engine serves a different model than the lock pins: refused.
    #[error(
        "model `{model}` has drifted: the lock pins {pinned}, but {found}; if the change is intended, pin it again (`airlock model pin` / `airlock model add`)"
    )]
    ModelDrift {
        /// Airlock's name for the model.
        model: String,
        /// The pinned digest.
        pinned: String,
        /// What was found instead, as a phrase (`Ollama reports sha256:...`).
        found: String,
    },
    /// The loopback server is not run by the configured user (or who runs
    /// it cannot be found out): refused, nothing is sent to it.
    #[error("{0}")]
    UntrustedServer(String),
}

/// The receiving end of a generation. Dropping it cancels the generation.
pub struct TokenStream {
    rx: mpsc::Receiver<Result<StreamEvent, EngineError>>,
}

/// The sending end, held by the engine.
pub type StreamSender = mpsc::Sender<Result<StreamEvent, EngineError>>;

/// How many events an engine may run ahead of the skill reading them.
const STREAM_BUFFER: usize = 64;

impl TokenStream {
    /// A new stream and the sender an engine writes to.
    pub fn channel() -> (StreamSender, Self) {
        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        (tx, Self { rx })
    }

    /// The next event; `None` if the engine stopped without a `Done` (which
    /// the caller reports as the engine breaking off).
    pub async fn next(&mut self) -> Option<Result<StreamEvent, EngineError>> {
        self.rx.recv().await
    }

    /// Read the whole answer.
    pub async fn collect(mut self) -> Result<(String, FinishReason, Usage), EngineError> {
        let mut text = String::new();
        loop {
            match self.next().await {
                Some(Ok(StreamEvent::Text { text: piece, .. })) => text.push_str(&piece),
                Some(Ok(StreamEvent::Prompt { .. })) => {}
                Some(Ok(StreamEvent::Done { finish, usage })) => return Ok((text, finish, usage)),
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(EngineError::Unavailable(
                        "the engine stopped before the answer was complete".into(),
                    ));
                }
            }
        }
    }
}

/// A token count, exact or estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TokenCount {
    /// Tokens.
    pub tokens: u32,
    /// Whether the engine's own tokenizer counted them.
    pub exact: bool,
}

/// Estimate tokens for engines without a tokenizer endpoint: about four bytes
/// of English or code per token, rounded up.
pub fn estimate_tokens(text: &str) -> TokenCount {
    TokenCount {
        tokens: u32::try_from(text.len().div_ceil(4)).unwrap_or(u32::MAX),
        exact: false,
    }
}

/// An inference engine. Implementations must not block the caller: long work
/// runs on the engine's own threads or tasks and reaches the caller through
/// the returned stream.
pub trait Backend: Send + Sync {
    /// A short name for messages (`embedded llama.cpp`, `Ollama at ...`).
    fn describe(&self) -> String;

    /// Start answering `request` with `model`. Errors found before any work
    /// (a model this engine cannot run) are returned here; everything else
    /// arrives on the stream.
    fn start(&self, model: &ModelSpec, request: ChatRequest) -> Result<TokenStream, EngineError>;

    /// The session `key` is over (its run or chat ended): free whatever the
    /// engine keeps for it. Engines that keep nothing ignore it.
    fn end_session(&self, key: &SessionKey) {
        let _ = key;
    }

    /// Count the tokens of `text` for `model`.
    fn count_tokens(&self, model: &ModelSpec, text: &str) -> Result<TokenCount, EngineError>;

    /// Check, before a run uses `model`, that the engine serves exactly the
    /// pinned model (e.g. Ollama's digest). Embedded files are checked by the
    /// model store instead.
    fn verify(
        &self,
        model: &ModelSpec,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), EngineError>> + Send + '_>>;
}

/// A shared engine.
pub type SharedBackend = Arc<dyn Backend>;
