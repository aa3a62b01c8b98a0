//! Ask a local language model.
//!
//! The host owns everything about the model: which engine runs it (llama.cpp
//! embedded in the host, or a server on the same machine), which exact model
//! (pinned by content digest) and how much the skill may use it. A skill never
//! learns where the model runs, and nothing it sends can leave the machine.
//!
//! Which models a skill may use is set by its sandbox profile
//! (`[inference]`, key `models`); every call counts against that section's
//! budget. [`models`] lists what this run may use; it is empty when the
//! profile grants none, and then every call fails with
//! [`InferenceError::ModelNotAllowed`].
//!
//! ```no_run
//! use airlock_sdk::inference::{self, ChatRequest};
//!
//! # fn demo() -> Result<(), airlock_sdk::Error> {
//! let request = ChatRequest::new()
//!     .system("You answer in one sentence.")
//!     .user("What is a capability-based filesystem?")
//!     .max_tokens(80);
//! let mut stream = inference::chat_stream(&request)?;
//! for piece in stream.by_ref() {
//!     airlock_sdk::log::print(&piece?);
//! }
//! let completion = stream.completion()?;
//! airlock_sdk::log::info(&format!("{} tokens", completion.usage.completion_tokens));
//! # Ok(())
//! # }
//! ```

use std::fmt;

use crate::__private::airlock::skill::inference as host;
use crate::Error;

pub use crate::answer::{PrintedAnswer, print_answer, repeats_itself};

/// The profile key that grants models, named in errors so the user knows
/// what to change.
pub const MODELS_PROFILE_KEY: &str = "inference.models";

/// A model this skill may use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInfo {
    /// The name to pass to [`ChatRequest::model`].
    pub name: String,
    /// The architecture family as the model file states it (e.g. `llama`).
    pub family: String,
    /// The context window the host runs the model with, in tokens: prompt
    /// and answer together must fit in it. 0 when the host does not say
    /// (use [`ModelInfo::usable_context`]).
    pub context_length: u32,
    /// `sha256:<hex>` of the pinned model.
    pub digest: String,
}

/// The context assumed for a model whose host reports none: small enough
/// for any model an engine would run, so a prompt sized for it fits.
pub const ASSUMED_CONTEXT_LENGTH: u32 = 2048;

impl ModelInfo {
    /// The context to size prompts for: [`context_length`](Self::context_length),
    /// or [`ASSUMED_CONTEXT_LENGTH`] when the host reports 0.
    pub fn usable_context(&self) -> u32 {
        if self.context_length == 0 {
            ASSUMED_CONTEXT_LENGTH
        } else {
            self.context_length
        }
    }
}

/// Who wrote a chat message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The user's turn.
    User,
    /// The model's own earlier turns (for few-shot examples).
    Assistant,
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it says.
    pub content: String,
}

/// How the answer must be shaped. The engine enforces it while decoding, so
/// even a small model returns text that parses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Free text.
    #[default]
    Text,
    /// A JSON document matching this JSON Schema (given as JSON text).
    JsonSchema(String),
    /// Text matching this GBNF grammar (llama.cpp's grammar format; only the
    /// embedded engine supports it).
    Grammar(String),
}

/// A request to the model. Build one with [`ChatRequest::new`] and the
/// builder methods; unset sampling settings use the host's defaults (greedy
/// decoding, seed 0, the profile's token limit).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChatRequest {
    /// A name from [`models`]; `None` for the profile's first model.
    pub model: Option<String>,
    /// The conversation, in order.
    pub messages: Vec<Message>,
    /// The most tokens to generate (the profile caps it).
    pub max_tokens: Option<u32>,
    /// 0 is greedy: the same prompt always gives the same answer.
    pub temperature: Option<f32>,
    /// Nucleus sampling threshold; 1.0 turns it off.
    pub top_p: Option<f32>,
    /// With the same seed, settings and model, sampling repeats exactly.
    pub seed: Option<u64>,
    /// Generation stops before any of these strings; they are not returned.
    pub stop: Vec<String>,
    /// The shape of the answer.
    pub format: OutputFormat,
}

impl ChatRequest {
    /// An empty request for the profile's first model with the host's
    /// default sampling; add messages with [`system`](Self::system) and
    /// [`user`](Self::user).
    pub fn new() -> Self {
        Self::default()
    }

    /// Use this model (a name from [`models`]).
    #[must_use]
    pub fn model(mut self, name: impl Into<String>) -> Self {
        self.model = Some(name.into());
        self
    }

    /// Append a message.
    #[must_use]
    pub fn message(mut self, role: Role, content: impl Into<String>) -> Self {
        self.messages.push(Message {
            role,
            content: content.into(),
        });
        self
    }

    /// Append a system message (instructions for the model).
    #[must_use]
    pub fn system(self, content: impl Into<String>) -> Self {
        self.message(Role::System, content)
    }

    /// Append a user message.
    #[must_use]
    pub fn user(self, content: impl Into<String>) -> Self {
        self.message(Role::User, content)
    }

    /// Append an assistant message (an example answer).
    #[must_use]
    pub fn assistant(self, content: impl Into<String>) -> Self {
        self.message(Role::Assistant, content)
    }

    /// Generate at most `n` tokens (the profile may cap it lower).
    #[must_use]
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Sampling temperature; 0 is greedy.
    #[must_use]
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Nucleus sampling threshold.
    #[must_use]
    pub fn top_p(mut self, p: f32) -> Self {
        self.top_p = Some(p);
        self
    }

    /// Sampling seed, for answers that repeat exactly.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Stop before this string (may be given several times).
    #[must_use]
    pub fn stop(mut self, s: impl Into<String>) -> Self {
        self.stop.push(s.into());
        self
    }

    /// Answer with JSON matching this JSON Schema (JSON text). The engine
    /// enforces it while decoding; parse the answer with your JSON library.
    #[must_use]
    pub fn json_schema(mut self, schema: &str) -> Self {
        self.format = OutputFormat::JsonSchema(schema.to_string());
        self
    }

    /// Answer with text matching this GBNF grammar (embedded engine only).
    #[must_use]
    pub fn grammar(mut self, grammar: &str) -> Self {
        self.format = OutputFormat::Grammar(grammar.to_string());
        self
    }
}

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// The model ended its answer.
    Stop,
    /// One of the request's stop strings was produced.
    StopSequence,
    /// `max_tokens` was reached: the answer may be cut off.
    Length,
}

/// Tokens a call used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Tokens of the prompt (the messages, formatted by the chat template).
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
}

/// A finished answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The whole answer.
    pub text: String,
    /// Why generation ended.
    pub finish: FinishReason,
    /// Tokens used.
    pub usage: Usage,
    /// The name of the model that answered.
    pub model: String,
    /// `sha256:<hex>` of the model that answered.
    pub digest: String,
}

/// How many tokens a text is for a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenCount {
    /// The number of tokens.
    pub tokens: u32,
    /// True when the engine's own tokenizer counted them; false for an
    /// estimate (server engines that do not expose a tokenizer).
    pub exact: bool,
}

/// Why an inference call failed. Every failure is final: the host has no
/// fallback engine and does not retry behind the skill's back.
///
/// Converts into [`Error`] so that `?` works in [`Skill::run`](crate::Skill::run);
/// the user then sees this error's message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InferenceError {
    /// The profile does not let this skill use that model (or any model);
    /// the host's explanation.
    ModelNotAllowed(String),
    /// A budget in the profile's `[inference]` section is spent.
    BudgetExhausted {
        /// The profile key, e.g. `inference.max-calls`.
        limit: String,
        /// Its value.
        max: u64,
        /// How much had been used.
        used: u64,
    },
    /// The engine could not run the request (not loaded, server down, the
    /// server broke off); the host's explanation.
    EngineUnavailable(String),
    /// The prompt plus `max_tokens` does not fit the model's context.
    ContextTooLong {
        /// The model's context length in tokens.
        max: u32,
        /// Prompt tokens plus `max_tokens`.
        requested: u32,
    },
    /// The call ran longer than the profile allows; the limit in seconds.
    Timeout(u32),
    /// The request is malformed (no messages, a schema that does not parse, …).
    InvalidRequest(String),
}

impl fmt::Display for InferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The host's message usually says where models are granted; add
            // it only when it does not, so the user always learns the key.
            InferenceError::ModelNotAllowed(msg)
                if msg.contains("[inference]") || msg.contains(MODELS_PROFILE_KEY) =>
            {
                write!(f, "model not allowed: {msg}")
            }
            InferenceError::ModelNotAllowed(msg) => write!(
                f,
                "model not allowed: {msg} (a sandbox profile grants models with \
                 `models = [\"NAME\"]` in its `[inference]` section, key `{MODELS_PROFILE_KEY}`)"
            ),
            InferenceError::BudgetExhausted { limit, max, used } => write!(
                f,
                "inference budget exhausted: `{limit}` is {max} and {used} is used \
                 (raise it in the sandbox profile)"
            ),
            InferenceError::EngineUnavailable(msg) => {
                write!(f, "inference engine unavailable: {msg}")
            }
            InferenceError::ContextTooLong { max, requested } => write!(
                f,
                "prompt too long for the model: it needs {requested} tokens (prompt plus \
                 max-tokens) but the model's context holds {max}"
            ),
            InferenceError::Timeout(seconds) => write!(
                f,
                "inference timed out after {seconds} s (`inference.max-call-seconds` in the \
                 sandbox profile)"
            ),
            InferenceError::InvalidRequest(msg) => write!(f, "invalid inference request: {msg}"),
        }
    }
}

impl std::error::Error for InferenceError {}

impl From<InferenceError> for Error {
    /// Every inference failure becomes [`Error::Failed`] with the message
    /// above: the host shows `Failed` messages as they are, so the user reads
    /// e.g. "model not allowed: … key `inference.models`" unchanged.
    fn from(e: InferenceError) -> Self {
        Error::Failed(e.to_string())
    }
}

/// The models this skill may use; empty when its profile grants none.
pub fn models() -> Vec<ModelInfo> {
    host::models().into_iter().map(wire::model_info).collect()
}

/// The model a request naming `name` would use: that model, or for `None`
/// the profile's first one (as the host picks it), with its context length.
///
/// When the run may not use it, the error is the host's own refusal, which
/// says which profile key grants models: call this first to fail early with
/// a clear message, before reading files for a prompt.
pub fn model(name: Option<&str>) -> Result<ModelInfo, InferenceError> {
    let all = models();
    let found = match name {
        None => all.into_iter().next(),
        Some(name) => all.into_iter().find(|m| m.name == name),
    };
    if let Some(model) = found {
        return Ok(model);
    }
    // Counting tokens costs no budget and runs the host's model check, whose
    // error explains the refusal best.
    count_tokens("", name)?;
    Err(InferenceError::ModelNotAllowed(match name {
        Some(name) => format!("model `{name}` is not among the models this run may use"),
        None => "this run may use no model".to_string(),
    }))
}

/// Generates an answer and returns it whole.
pub fn chat(request: &ChatRequest) -> Result<Completion, InferenceError> {
    host::chat(&wire::request(request))
        .map(wire::completion)
        .map_err(wire::error)
}

/// Starts generating an answer; read it piece by piece from the returned
/// stream, which is an iterator of text pieces.
pub fn chat_stream(request: &ChatRequest) -> Result<CompletionStream, InferenceError> {
    host::chat_stream(&wire::request(request))
        .map(|inner| CompletionStream { inner, done: false })
        .map_err(wire::error)
}

/// How many tokens `text` is for `model` (`None`: the profile's first model).
/// Exact for the embedded engine, an estimate for server engines (see
/// [`TokenCount::exact`]).
pub fn count_tokens(text: &str, model: Option<&str>) -> Result<TokenCount, InferenceError> {
    host::count_tokens(model, text)
        .map(|c| TokenCount {
            tokens: c.tokens,
            exact: c.exact,
        })
        .map_err(wire::error)
}

/// An answer being generated, as an iterator of text pieces.
///
/// Iterate it (with [`Iterator::by_ref`] to keep the stream) until it ends,
/// then call [`completion`](Self::completion) for the finish reason and token
/// usage. After an error the iterator ends. Dropping the stream early cancels
/// the generation.
#[derive(Debug)]
pub struct CompletionStream {
    inner: host::CompletionStream,
    done: bool,
}

impl Iterator for CompletionStream {
    type Item = Result<String, InferenceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.inner.next() {
            Ok(Some(piece)) => Some(Ok(piece)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(wire::error(e)))
            }
        }
    }
}

impl CompletionStream {
    /// The whole completion. Pieces not read yet are read (and dropped) first,
    /// so this also works on a stream that was not iterated.
    pub fn completion(mut self) -> Result<Completion, InferenceError> {
        for piece in self.by_ref() {
            piece?;
        }
        self.inner
            .completion()
            .map(wire::completion)
            .map_err(wire::error)
    }
}

/// Conversions between these types and the generated bindings of the
/// `inference` interface.
mod wire {
    use super::*;

    pub(super) fn model_info(m: host::ModelInfo) -> ModelInfo {
        ModelInfo {
            name: m.name,
            family: m.family,
            context_length: m.context_length,
            digest: m.digest,
        }
    }

    fn role(r: Role) -> host::Role {
        match r {
            Role::System => host::Role::System,
            Role::User => host::Role::User,
            Role::Assistant => host::Role::Assistant,
        }
    }

    pub(super) fn request(r: &ChatRequest) -> host::ChatRequest {
        host::ChatRequest {
            model: r.model.clone(),
            messages: r
                .messages
                .iter()
                .map(|m| host::Message {
                    role: role(m.role),
                    content: m.content.clone(),
                })
                .collect(),
            sampling: host::Sampling {
                max_tokens: r.max_tokens,
                temperature: r.temperature,
                top_p: r.top_p,
                seed: r.seed,
                stop: r.stop.clone(),
            },
            format: match &r.format {
                OutputFormat::Text => host::OutputFormat::Text,
                OutputFormat::JsonSchema(s) => host::OutputFormat::JsonSchema(s.clone()),
                OutputFormat::Grammar(g) => host::OutputFormat::Grammar(g.clone()),
            },
        }
    }

    pub(super) fn completion(c: host::Completion) -> Completion {
        Completion {
            text: c.text,
            finish: match c.finish {
                host::FinishReason::Stop => FinishReason::Stop,
                host::FinishReason::StopSequence => FinishReason::StopSequence,
                host::FinishReason::Length => FinishReason::Length,
            },
            usage: Usage {
                prompt_tokens: c.usage.prompt_tokens,
                completion_tokens: c.usage.completion_tokens,
            },
            model: c.model,
            digest: c.digest,
        }
    }

    pub(super) fn error(e: host::InferenceError) -> InferenceError {
        match e {
            host::InferenceError::ModelNotAllowed(m) => InferenceError::ModelNotAllowed(m),
            host::InferenceError::BudgetExhausted(b) => InferenceError::BudgetExhausted {
                limit: b.limit,
                max: b.max,
                used: b.used,
            },
            host::InferenceError::EngineUnavailable(m) => InferenceError::EngineUnavailable(m),
            host::InferenceError::ContextTooLong(l) => InferenceError::ContextTooLong {
                max: l.max,
                requested: l.requested,
            },
            host::InferenceError::Timeout(s) => InferenceError::Timeout(s),
            host::InferenceError::InvalidRequest(m) => InferenceError::InvalidRequest(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_collects_messages_and_settings() {
        let r = ChatRequest::new()
            .model("smollm2")
            .system("be brief")
            .user("hi")
            .assistant("hello")
            .max_tokens(64)
            .temperature(0.5)
            .top_p(0.9)
            .seed(7)
            .stop("\n\n")
            .stop("END")
            .json_schema("{\"type\":\"object\"}");
        assert_eq!(r.model.as_deref(), Some("smollm2"));
        let roles: Vec<Role> = r.messages.iter().map(|m| m.role).collect();
        assert_eq!(roles, [Role::System, Role::User, Role::Assistant]);
        assert_eq!(r.messages[1].content, "hi");
        assert_eq!(
            (r.max_tokens, r.temperature, r.top_p, r.seed),
            (Some(64), Some(0.5), Some(0.9), Some(7))
        );
        assert_eq!(r.stop, ["\n\n", "END"]);
        assert_eq!(
            r.format,
            OutputFormat::JsonSchema("{\"type\":\"object\"}".into())
        );
    }

    #[test]
    fn an_unknown_context_is_assumed_small() {
        let mut m = ModelInfo {
            name: "m".into(),
            family: "llama".into(),
            context_length: 0,
            digest: "sha256:00".into(),
        };
        assert_eq!(m.usable_context(), ASSUMED_CONTEXT_LENGTH);
        m.context_length = 8192;
        assert_eq!(m.usable_context(), 8192);
    }

    #[test]
    fn a_new_request_uses_the_host_defaults() {
        let r = ChatRequest::new();
        assert_eq!(r.model, None);
        assert!(r.messages.is_empty() && r.stop.is_empty());
        assert_eq!((r.max_tokens, r.temperature, r.seed), (None, None, None));
        assert_eq!(r.format, OutputFormat::Text);
        assert_eq!(
            ChatRequest::new().grammar("root ::= \"x\"").format,
            OutputFormat::Grammar("root ::= \"x\"".into())
        );
    }

    #[test]
    fn the_request_reaches_the_wire_unchanged() {
        let r = ChatRequest::new()
            .user("q")
            .max_tokens(3)
            .seed(1)
            .stop("x")
            .json_schema("{}");
        let w = wire::request(&r);
        assert_eq!(w.model, None);
        assert_eq!(w.messages.len(), 1);
        assert!(matches!(w.messages[0].role, host::Role::User));
        assert_eq!(w.sampling.max_tokens, Some(3));
        assert_eq!(w.sampling.seed, Some(1));
        assert_eq!(w.sampling.stop, ["x"]);
        assert!(matches!(w.format, host::OutputFormat::JsonSchema(ref s) if s == "{}"));
    }

    #[test]
    fn every_error_reads_well() {
        let cases = [
            (
                InferenceError::ModelNotAllowed("`big` is not in the profile's models".into()),
                "model not allowed: `big` is not in the profile's models (a sandbox profile \
                 grants models with `models = [\"NAME\"]` in its `[inference]` section, key \
                 `inference.models`)",
            ),
            (
                InferenceError::ModelNotAllowed(
                    "the profile grants no model ([inference] models = [...])".into(),
                ),
                "model not allowed: the profile grants no model ([inference] models = [...])",
            ),
            (
                InferenceError::BudgetExhausted {
                    limit: "inference.max-calls".into(),
                    max: 4,
                    used: 4,
                },
                "inference budget exhausted: `inference.max-calls` is 4 and 4 is used \
                 (raise it in the sandbox profile)",
            ),
            (
                InferenceError::EngineUnavailable("server at 127.0.0.1:8080 is down".into()),
                "inference engine unavailable: server at 127.0.0.1:8080 is down",
            ),
            (
                InferenceError::ContextTooLong {
                    max: 2048,
                    requested: 3000,
                },
                "prompt too long for the model: it needs 3000 tokens (prompt plus max-tokens) \
                 but the model's context holds 2048",
            ),
            (
                InferenceError::Timeout(60),
                "inference timed out after 60 s (`inference.max-call-seconds` in the sandbox \
                 profile)",
            ),
            (
                InferenceError::InvalidRequest("no messages".into()),
                "invalid inference request: no messages",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
            assert_eq!(Error::from(err), Error::Failed(text.to_string()));
        }
    }

    #[test]
    fn wire_errors_map_one_to_one() {
        let e = wire::error(host::InferenceError::BudgetExhausted(host::BudgetInfo {
            limit: "inference.max-tokens".into(),
            max: 10,
            used: 11,
        }));
        assert_eq!(
            e,
            InferenceError::BudgetExhausted {
                limit: "inference.max-tokens".into(),
                max: 10,
                used: 11
            }
        );
        let e = wire::error(host::InferenceError::ContextTooLong(host::LimitInfo {
            max: 1,
            requested: 2,
        }));
        assert_eq!(
            e,
            InferenceError::ContextTooLong {
                max: 1,
                requested: 2
            }
        );
        assert_eq!(
            wire::error(host::InferenceError::Timeout(5)),
            InferenceError::Timeout(5)
        );
    }

    #[test]
    fn completions_keep_every_field() {
        let c = wire::completion(host::Completion {
            text: "t".into(),
            finish: host::FinishReason::Length,
            usage: host::Usage {
                prompt_tokens: 5,
                completion_tokens: 6,
            },
            model: "m".into(),
            digest: "sha256:ab".into(),
        });
        assert_eq!(c.finish, FinishReason::Length);
        assert_eq!(
            c.usage,
            Usage {
                prompt_tokens: 5,
                completion_tokens: 6
            }
        );
        assert_eq!((c.model.as_str(), c.digest.as_str()), ("m", "sha256:ab"));
    }
}
