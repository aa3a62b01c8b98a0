//! Ollama's native API on loopback: `POST /api/chat` for answers (NDJSON,
//! one object per line, the last with `done: true` and the token counts) and
//! `GET /api/tags` for the models it has, with their digests.
//!
//! Ollama identifies a model by the sha256 of its manifest and reports it as
//! bare hex; the lock stores it as `sha256:<hex>`. [`OllamaBackend::verify`]
//! refuses a model whose digest changed since it was pinned (an `ollama pull`
//! can silently replace a tag). Before every request the server's listening
//! socket must belong to the configured user ([`super::listener`]).
//!
//! Prefix reuse is Ollama's own (its runner keeps the last prompt of each
//! slot): requests ask it to keep the model loaded for [`KEEP_ALIVE`], since
//! an unloaded model loses that prompt. The tokens it reused are read from
//! `prompt_eval_cached_count` when the server reports it, else reported as 0.

use super::endpoint::{self, Endpoint, Halt, LineReader, Timeouts, emit, spawn_stream};
use super::listener::{self, ServerOwner};
use super::{
    Backend, ChatRequest, EngineError, FinishReason, ModelSource, ModelSpec, OutputFormat,
    StreamEvent, StreamSender, TokenCount, TokenStream, Usage, estimate_tokens,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

/// How long Ollama keeps the model (and the prompt its runner holds) loaded
/// after a request: longer than its default of 5 minutes, because a person
/// in `airlock chat` often reads an answer or reviews a diff for longer than
/// that, and a reload costs the whole prompt again plus seconds of loading.
/// Not longer, because the memory stays taken on a machine others use.
pub const KEEP_ALIVE: &str = "30m";

/// An Ollama server on this machine.
#[derive(Debug, Clone)]
pub struct OllamaBackend {
    endpoint: Endpoint,
    timeouts: Timeouts,
    client: reqwest::Client,
    /// Who must own the listening socket.
    owner: ServerOwner,
}

/// One line of `/api/chat`'s answer (or the whole answer when not streamed).
#[derive(Debug, Deserialize)]
struct ChatLine {
    #[serde(default)]
    message: Option<LineMessage>,
    #[serde(default)]
    done: bool,
    #[serde(default)]
    done_reason: Option<String>,
    #[serde(default)]
    prompt_eval_count: Option<u32>,
    #[serde(default)]
    eval_count: Option<u32>,
    /// Prompt tokens read from the runner's cache (newer servers only).
    #[serde(default)]
    prompt_eval_cached_count: Option<u32>,
    /// Ollama reports a failure after the headers as a line of its own.
    #[serde(default)]
    error: Option<String>,
}

impl ChatLine {
    /// The usage the last line reports.
    fn usage(&self, completion_tokens: u32) -> Usage {
        let prompt_tokens = self.prompt_eval_count.unwrap_or(0);
        Usage {
            prompt_tokens,
            completion_tokens,
            prompt_tokens_reused: self
                .prompt_eval_cached_count
                .unwrap_or(0)
                .min(prompt_tokens),
        }
    }
}

#[derive(Debug, Deserialize)]
struct LineMessage {
    #[serde(default)]
    content: String,
}

/// `/api/tags`.
#[derive(Debug, Deserialize)]
struct Tags {
    #[serde(default)]
    models: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    model: Option<String>,
    digest: String,
}

impl OllamaBackend {
    /// An engine that talks to Ollama at `endpoint`.
    pub fn new(endpoint: Endpoint, timeouts: Timeouts) -> Result<Self, EngineError> {
        let client = endpoint
            .client(timeouts)
            .map_err(|e| EngineError::Unavailable(e.to_string()))?;
        Ok(Self {
            endpoint,
            timeouts,
            client,
            owner: ServerOwner::current_user(),
        })
    }

    /// Require the server's listening socket to be owned by `owner`
    /// (default: the user running Airlock), checked before every request.
    #[must_use]
    pub fn with_server_owner(mut self, owner: ServerOwner) -> Self {
        self.owner = owner;
        self
    }

    /// Refuse a server run by someone other than the configured user.
    fn check_server(&self) -> Result<(), EngineError> {
        listener::check_server(&self.describe(), &self.endpoint, &self.owner)
    }

    /// The endpoint it talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The models Ollama has: each one's name and digest as `sha256:<hex>`
    /// (what `airlock model pin NAME --ollama MODEL` records).
    pub async fn tags(&self) -> Result<Vec<(String, String)>, EngineError> {
        self.raw_tags()
            .await?
            .into_iter()
            .map(|tag| {
                let digest = normalize_digest(&tag.digest).ok_or_else(|| {
                    EngineError::Unavailable(format!(
                        "{} reports model `{}` with digest `{}`, which is not sha256 hex",
                        self.describe(),
                        tag.name,
                        tag.digest
                    ))
                })?;
                Ok((tag.name, digest))
            })
            .collect()
    }

    /// Ollama's name for `model`, or why this engine cannot run it.
    fn ollama_name<'m>(&self, model: &'m ModelSpec) -> Result<&'m str, EngineError> {
        match &model.source {
            ModelSource::Ollama { model: name } => Ok(name),
            other => Err(EngineError::InvalidRequest(format!(
                "model `{}` is pinned as {}, not as an Ollama model, so {} cannot run it",
                model.name,
                source_kind(other),
                self.describe()
            ))),
        }
    }

    async fn verify_model(&self, model: &ModelSpec) -> Result<(), EngineError> {
        let name = self.ollama_name(model)?;
        let tags = self.raw_tags().await?;
        let Some(tag) = tags.into_iter().find(|t| same_name(t, name)) else {
            return Err(EngineError::Unavailable(format!(
                "{} does not have {name}; run `ollama pull {name}`",
                self.describe()
            )));
        };
        let found = normalize_digest(&tag.digest);
        let pinned = model.digest.to_ascii_lowercase();
        if found.as_deref() != Some(pinned.as_str()) {
            return Err(EngineError::ModelDrift {
                model: model.name.clone(),
                pinned: model.digest.clone(),
                found: format!(
                    "{} reports {} for {name}",
                    self.describe(),
                    found.unwrap_or(tag.digest)
                ),
            });
        }
        Ok(())
    }

    /// `/api/tags` with the digests as Ollama wrote them.
    async fn raw_tags(&self) -> Result<Vec<Tag>, EngineError> {
        self.check_server()?;
        let tags: Tags =
            endpoint::get_json(&self.client, &self.endpoint, "/api/tags", self.timeouts)
                .await
                .map_err(|what| EngineError::Unavailable(format!("{} {what}", self.describe())))?;
        Ok(tags.models)
    }
}

/// `sha256:<lowercase hex>` from Ollama's bare hex (or an already prefixed
/// digest); `None` if it is not 64 hex digits.
fn normalize_digest(digest: &str) -> Option<String> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// Ollama treats `llama3.2` as `llama3.2:latest`.
fn same_name(tag: &Tag, wanted: &str) -> bool {
    let matches = |have: &str| {
        have == wanted || (!wanted.contains(':') && have.strip_suffix(":latest") == Some(wanted))
    };
    matches(&tag.name) || tag.model.as_deref().is_some_and(matches)
}

/// How a model is pinned, for messages.
pub(crate) fn source_kind(source: &ModelSource) -> &'static str {
    match source {
        ModelSource::Gguf { .. } => "a GGUF file",
        ModelSource::Ollama { .. } => "an Ollama model",
        ModelSource::Served { .. } => "a model served by an OpenAI-compatible server",
    }
}

/// The JSON Schema of a `JsonSchema` format as a JSON value.
pub(crate) fn schema_value(schema: &str) -> Result<Value, EngineError> {
    serde_json::from_str(schema)
        .map_err(|e| EngineError::InvalidRequest(format!("the JSON Schema does not parse: {e}")))
}

impl Backend for OllamaBackend {
    fn describe(&self) -> String {
        format!("Ollama at {}", self.endpoint)
    }

    fn start(&self, model: &ModelSpec, request: ChatRequest) -> Result<TokenStream, EngineError> {
        let name = self.ollama_name(model)?;
        let sampling = &request.sampling;
        let mut options = json!({
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            // Ollama reads the seed as a signed 64-bit integer.
            "seed": i64::try_from(sampling.seed).unwrap_or(i64::MAX),
            "num_predict": sampling.max_tokens,
        });
        if model.context_length > 0 {
            options["num_ctx"] = json!(model.context_length);
        }
        let mut body = json!({
            "model": name,
            "messages": request.messages,
            "stream": request.stream,
            "options": options,
            "keep_alive": KEEP_ALIVE,
        });
        match &request.format {
            OutputFormat::Text => {}
            OutputFormat::JsonSchema(schema) => body["format"] = schema_value(schema)?,
            OutputFormat::Grammar(_) => {
                return Err(EngineError::InvalidRequest(format!(
                    "grammars need the embedded engine; {} supports free text and JSON Schema output",
                    self.describe()
                )));
            }
        }
        let (tx, stream) = TokenStream::channel();
        let this = self.clone();
        spawn_stream(&self.describe(), tx.clone(), async move {
            this.answer(body, &tx).await
        })?;
        Ok(stream)
    }

    fn count_tokens(&self, _model: &ModelSpec, text: &str) -> Result<TokenCount, EngineError> {
        Ok(estimate_tokens(text))
    }

    fn verify(
        &self,
        model: &ModelSpec,
    ) -> Pin<Box<dyn Future<Output = Result<(), EngineError>> + Send + '_>> {
        let model = model.clone();
        Box::pin(async move { self.verify_model(&model).await })
    }
}

impl OllamaBackend {
    /// Ask `/api/chat` and forward its lines to `tx` until `done`.
    async fn answer(&self, body: Value, tx: &StreamSender) -> Result<(), Halt> {
        let who = self.describe();
        let fail = |what: String| Halt::Failed(EngineError::Unavailable(format!("{who} {what}")));
        self.check_server()?;
        let response = self
            .client
            .post(self.endpoint.join("/api/chat"))
            .json(&body)
            .send()
            .await
            .map_err(|e| fail(endpoint::request_failed(&e, self.timeouts)))?;
        if !response.status().is_success() {
            return Err(fail(endpoint::status_failed(response, self.timeouts).await));
        }
        let mut lines = LineReader::new(response, self.timeouts);
        let mut pieces: u32 = 0;
        loop {
            let line = match lines.next_line().await {
                Ok(Some(line)) => line,
                Ok(None) => {
                    return Err(fail(format!(
                        "broke off the answer after {pieces} pieces (the response ended before `done`)"
                    )));
                }
                Err(what) => {
                    return Err(fail(format!(
                        "broke off the answer after {pieces} pieces: it {what}"
                    )));
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let mut line: ChatLine = serde_json::from_str(&line).map_err(|e| {
                fail(format!(
                    "sent a line that is not a chat response after {pieces} pieces: {e}"
                ))
            })?;
            if let Some(error) = line.error {
                return Err(fail(format!("reported an error mid-answer: {error}")));
            }
            let text = line.message.take().map(|m| m.content).unwrap_or_default();
            if line.done {
                let completion_tokens = line.eval_count.unwrap_or(pieces);
                if !text.is_empty() {
                    // Not streamed: the one piece holds every generated token.
                    let tokens = completion_tokens.saturating_sub(pieces).max(1);
                    emit(tx, StreamEvent::Text { text, tokens }).await?;
                }
                let finish = match line.done_reason.as_deref() {
                    Some("length") => FinishReason::Length,
                    _ => FinishReason::Stop,
                };
                let usage = line.usage(completion_tokens);
                emit(tx, StreamEvent::Done { finish, usage }).await?;
                return Ok(());
            }
            if !text.is_empty() {
                pieces = pieces.saturating_add(1);
                emit(tx, StreamEvent::Text { text, tokens: 1 }).await?;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn tag(name: &str) -> Tag {
        Tag {
            name: name.into(),
            model: None,
            digest: String::new(),
        }
    }

    #[test]
    fn digests_are_normalized_to_the_lock_form() {
        let hex = "A".repeat(64);
        assert_eq!(
            normalize_digest(&hex),
            Some(format!("sha256:{}", "a".repeat(64)))
        );
        assert_eq!(
            normalize_digest(&format!("sha256:{hex}")),
            Some(format!("sha256:{}", "a".repeat(64)))
        );
        assert_eq!(normalize_digest("abc"), None);
        assert_eq!(normalize_digest(&"g".repeat(64)), None);
    }

    #[test]
    fn cached_prompt_tokens_are_read_when_the_server_reports_them() {
        let line = |json: &str| serde_json::from_str::<ChatLine>(json).unwrap();
        let newer = line(
            r#"{"done":true,"prompt_eval_count":900,"prompt_eval_cached_count":850,"eval_count":7}"#,
        );
        assert_eq!(newer.usage(7).prompt_tokens_reused, 850);
        let older = line(r#"{"done":true,"prompt_eval_count":900,"eval_count":7}"#);
        assert_eq!(older.usage(7).prompt_tokens_reused, 0);
        assert_eq!(older.usage(7).prompt_tokens, 900);
    }

    #[test]
    fn a_name_without_tag_means_latest() {
        assert!(same_name(&tag("llama3.2:latest"), "llama3.2"));
        assert!(same_name(&tag("llama3.2:1b"), "llama3.2:1b"));
        assert!(!same_name(&tag("llama3.2:1b"), "llama3.2"));
        assert!(!same_name(&tag("llama3.2:latest"), "llama3.2:1b"));
    }
}
