//! An OpenAI-compatible server on loopback (llama.cpp's `llama-server`,
//! llama-cpp-python, vLLM, LM Studio, ...): `POST /v1/chat/completions`,
//! streamed as server-sent events (`data: {json}` lines ending with
//! `data: [DONE]`) or answered whole, and `GET /v1/models`.
//!
//! Structured output is sent as `response_format: {"type": "json_object",
//! "schema": S}`, the shape llama-cpp-python enforces (it turns the schema
//! into a grammar). Checked against llama-cpp-python 0.3.36: it refuses
//! OpenAI's `{"type": "json_schema", "json_schema": {...}}` with HTTP 500 (a
//! validation error: `type` must be `text` or `json_object`).
//!
//! Streamed answers carry no usage on that server (`stream_options` is
//! ignored), so the pieces are counted and the prompt estimated. It also ends
//! a running stream early, with `[DONE]` but no finish reason, when any other
//! request arrives, even `GET /v1/models` (its `interrupt_requests` setting,
//! on by default); that is reported as the server breaking off, never as a
//! complete answer. Run it with `--interrupt_requests false` when several
//! skills share it.
//!
//! Prefix reuse: every request carries `"cache_prompt": true`, llama.cpp's
//! `llama-server` field for keeping the slot's prompt so the next request
//! reads only the tokens after the common prefix (other servers ignore
//! unknown fields: llama-cpp-python 0.3.36 accepts it, and reuses the prefix
//! of its one loaded prompt on its own). The tokens a server reused are read
//! from `usage.prompt_tokens_details.cached_tokens` when it reports them,
//! else reported as 0.
//!
//! Such servers report no digest: [`OpenAiBackend::verify`] only checks
//! that the served name is listed. The digest the lock records for a served
//! model is that of the GGUF file in Airlock's model store which the operator
//! states the server serves; Airlock cannot check it over this API. What it
//! does check, before every request, is that the server's listening socket
//! belongs to the configured user ([`super::listener`]). The
//! context window is the server's own (set where the server is started).

use super::endpoint::{self, Endpoint, Halt, LineReader, Timeouts, emit, spawn_stream};
use super::listener::{self, ServerOwner};
use super::ollama::{schema_value, source_kind};
use super::{
    Backend, ChatRequest, EngineError, FinishReason, ModelSource, ModelSpec, OutputFormat,
    StreamEvent, StreamSender, TokenCount, TokenStream, Usage, estimate_tokens,
};
use serde::Deserialize;
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

/// An OpenAI-compatible server on this machine.
#[derive(Debug, Clone)]
pub struct OpenAiBackend {
    endpoint: Endpoint,
    timeouts: Timeouts,
    client: reqwest::Client,
    /// Who must own the listening socket.
    owner: ServerOwner,
}

/// A whole answer.
#[derive(Debug, Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<UsageJson>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ChoiceMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ChoiceMessage {
    #[serde(default)]
    content: Option<String>,
}

/// One server-sent event of a streamed answer.
#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    #[serde(default)]
    usage: Option<UsageJson>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct UsageJson {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
}

/// `usage.prompt_tokens_details`: what OpenAI's API (and servers that copy
/// it) say about the prompt.
#[derive(Debug, Clone, Copy, Deserialize)]
struct PromptDetails {
    /// Prompt tokens the server held from an earlier request.
    #[serde(default)]
    cached_tokens: Option<u32>,
}

impl UsageJson {
    fn usage(self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens,
            completion_tokens: self.completion_tokens,
            prompt_tokens_reused: self
                .prompt_tokens_details
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0)
                .min(self.prompt_tokens),
        }
    }
}

/// `/v1/models`.
#[derive(Debug, Deserialize)]
struct Models {
    #[serde(default)]
    data: Vec<ModelEntry>,
}

#[derive(Debug, Deserialize)]
struct ModelEntry {
    id: String,
}

impl OpenAiBackend {
    /// An engine that talks to the server at `endpoint`.
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

    /// The model names the server serves (`/v1/models`).
    pub async fn models(&self) -> Result<Vec<String>, EngineError> {
        self.check_server()?;
        let models: Models =
            endpoint::get_json(&self.client, &self.endpoint, "/v1/models", self.timeouts)
                .await
                .map_err(|what| EngineError::Unavailable(format!("{} {what}", self.describe())))?;
        Ok(models.data.into_iter().map(|m| m.id).collect())
    }

    /// The `model` field for `model`, or why this engine cannot run it.
    fn served_name<'m>(&self, model: &'m ModelSpec) -> Result<&'m str, EngineError> {
        match &model.source {
            ModelSource::Served { model: name } => Ok(name),
            ModelSource::Gguf { .. } => Ok(&model.name),
            other => Err(EngineError::InvalidRequest(format!(
                "model `{}` is pinned as {}, so {} cannot run it",
                model.name,
                source_kind(other),
                self.describe()
            ))),
        }
    }

    async fn verify_model(&self, model: &ModelSpec) -> Result<(), EngineError> {
        let name = self.served_name(model)?;
        let served = self.models().await?;
        if served.iter().any(|m| m == name) {
            return Ok(());
        }
        let listed = if served.is_empty() {
            "nothing".to_string()
        } else {
            served
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(EngineError::Unavailable(format!(
            "{} does not serve `{name}` (it serves {listed}); start it with that model, or pin the name it serves",
            self.describe()
        )))
    }

    /// Ask `/v1/chat/completions` and forward the answer to `tx`.
    async fn answer(
        &self,
        body: Value,
        stream: bool,
        prompt_estimate: u32,
        tx: &StreamSender,
    ) -> Result<(), Halt> {
        let who = self.describe();
        let fail = |what: String| Halt::Failed(EngineError::Unavailable(format!("{who} {what}")));
        self.check_server()?;
        let response = self
            .client
            .post(self.endpoint.join("/v1/chat/completions"))
            .json(&body)
            .send()
            .await
            .map_err(|e| fail(endpoint::request_failed(&e, self.timeouts)))?;
        if !response.status().is_success() {
            return Err(fail(endpoint::status_failed(response, self.timeouts).await));
        }
        if !stream {
            let body = endpoint::read_body(response, endpoint::MAX_BODY, self.timeouts)
                .await
                .map_err(|what| fail(format!("broke off the answer: it {what}")))?;
            let completion: Completion = serde_json::from_slice(&body)
                .map_err(|e| fail(format!("sent an answer that does not parse: {e}")))?;
            let Some(choice) = completion.choices.into_iter().next() else {
                return Err(fail("sent an answer with no choices".into()));
            };
            let text = choice.message.content.unwrap_or_default();
            let usage = completion.usage.map_or_else(
                || Usage {
                    prompt_tokens: prompt_estimate,
                    completion_tokens: estimate_tokens(&text).tokens,
                    prompt_tokens_reused: 0,
                },
                UsageJson::usage,
            );
            if !text.is_empty() {
                let tokens = usage.completion_tokens.max(1);
                emit(tx, StreamEvent::Text { text, tokens }).await?;
            }
            let finish = finish_reason(choice.finish_reason.as_deref());
            return emit(tx, StreamEvent::Done { finish, usage }).await;
        }

        let mut lines = LineReader::new(response, self.timeouts);
        let mut pieces: u32 = 0;
        let mut finish: Option<FinishReason> = None;
        let mut usage: Option<UsageJson> = None;
        loop {
            let line = match lines.next_line().await {
                Ok(Some(line)) => line,
                // Complete once a finish reason came, even without `[DONE]`.
                Ok(None) if finish.is_some() => break,
                Ok(None) => {
                    return Err(fail(format!(
                        "broke off the answer after {pieces} pieces (the stream ended before a finish reason)"
                    )));
                }
                Err(what) => {
                    return Err(fail(format!(
                        "broke off the answer after {pieces} pieces: it {what}"
                    )));
                }
            };
            // Only `data:` fields matter; comments (`: ping`), `event:`,
            // `id:` and the blank lines between events are skipped.
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let data = data.trim();
            if data == "[DONE]" {
                if finish.is_none() {
                    // llama-cpp-python ends a stream this way when another
                    // request interrupts it (`interrupt_requests`).
                    return Err(fail(format!(
                        "ended the answer after {pieces} pieces without a finish reason (interrupted by another request?)"
                    )));
                }
                break;
            }
            let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
                fail(format!(
                    "sent an event that is not a chat chunk after {pieces} pieces: {e}"
                ))
            })?;
            if let Some(error) = chunk.error {
                let error = error
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| error.to_string(), str::to_string);
                return Err(fail(format!("reported an error mid-answer: {error}")));
            }
            if chunk.usage.is_some() {
                usage = chunk.usage;
            }
            let Some(choice) = chunk.choices.into_iter().next() else {
                continue;
            };
            if let Some(text) = choice.delta.and_then(|d| d.content)
                && !text.is_empty()
            {
                pieces = pieces.saturating_add(1);
                emit(tx, StreamEvent::Text { text, tokens: 1 }).await?;
            }
            if let Some(reason) = choice.finish_reason {
                finish = Some(finish_reason(Some(&reason)));
            }
        }
        let usage = usage.map_or(
            Usage {
                prompt_tokens: prompt_estimate,
                completion_tokens: pieces,
                prompt_tokens_reused: 0,
            },
            UsageJson::usage,
        );
        let finish = finish.unwrap_or(FinishReason::Stop);
        emit(tx, StreamEvent::Done { finish, usage }).await
    }
}

fn finish_reason(reason: Option<&str>) -> FinishReason {
    match reason {
        Some("length") => FinishReason::Length,
        _ => FinishReason::Stop,
    }
}

impl Backend for OpenAiBackend {
    fn describe(&self) -> String {
        format!("the OpenAI-compatible server at {}", self.endpoint)
    }

    fn start(&self, model: &ModelSpec, request: ChatRequest) -> Result<TokenStream, EngineError> {
        let name = self.served_name(model)?;
        let sampling = &request.sampling;
        let mut body = json!({
            "model": name,
            "messages": request.messages,
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "seed": sampling.seed,
            "stream": request.stream,
            // llama.cpp's server: keep this prompt for the next request's
            // common prefix (others ignore the field).
            "cache_prompt": true,
        });
        if request.stream {
            // Usage in a last chunk; servers that do not know it ignore it,
            // and the pieces are counted instead.
            body["stream_options"] = json!({ "include_usage": true });
        }
        match &request.format {
            OutputFormat::Text => {}
            OutputFormat::JsonSchema(schema) => {
                body["response_format"] = json!({
                    "type": "json_object",
                    "schema": schema_value(schema)?,
                });
            }
            OutputFormat::Grammar(_) => {
                return Err(EngineError::InvalidRequest(format!(
                    "grammars need the embedded engine; {} supports free text and JSON Schema output",
                    self.describe()
                )));
            }
        }
        let prompt_estimate = request
            .messages
            .iter()
            .map(|m| estimate_tokens(&m.content).tokens)
            .fold(0u32, u32::saturating_add);
        let (tx, stream) = TokenStream::channel();
        let this = self.clone();
        let streamed = request.stream;
        spawn_stream(&self.describe(), tx.clone(), async move {
            this.answer(body, streamed, prompt_estimate, &tx).await
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

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(json: &str) -> Usage {
        serde_json::from_str::<UsageJson>(json)
            .map(UsageJson::usage)
            .unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    #[test]
    fn cached_tokens_are_read_when_the_server_reports_them() {
        let reported = usage(
            r#"{"prompt_tokens":900,"completion_tokens":12,"prompt_tokens_details":{"cached_tokens":800}}"#,
        );
        assert_eq!(reported.prompt_tokens_reused, 800);
        let silent = usage(r#"{"prompt_tokens":900,"completion_tokens":12}"#);
        assert_eq!(silent.prompt_tokens_reused, 0);
        let empty = usage(r#"{"prompt_tokens":9,"prompt_tokens_details":{}}"#);
        assert_eq!(empty.prompt_tokens_reused, 0);
        // Never more reused than the prompt has.
        let odd = usage(r#"{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":50}}"#);
        assert_eq!(odd.prompt_tokens_reused, 9);
    }
}
