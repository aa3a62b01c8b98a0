//! `airlock:skill/inference`: a skill asks a model; the host decides which
//! engine answers, holds the skill to its profile's `[inference]` budget, and
//! records every call in the run's journal.
//!
//! The skill names a model only by the name its profile grants. It never sees
//! a path, an endpoint or the engine, and no call can reach anything but the
//! one engine the host was configured with.
//!
//! Every call of a run carries the run's [`SessionKey`]: a fresh one per run
//! (ended, so the engine frees what it kept, when the run's state is
//! dropped), or the chat session's, which its owner ends. An engine may
//! reuse the prompt tokens it read for an earlier call with the same key;
//! calls of different runs never share a key.

use crate::bindings::inference_api::{
    self as api, ChatRequest as WitRequest, Completion, InferenceError, Message as WitMessage,
    ModelInfo, OutputFormat as WitFormat, Role as WitRole, TokenCount as WitTokenCount,
};
use crate::inference::{
    ChatRequest, EngineError, FinishReason, Message, ModelSpec, OutputFormat, Role, Sampling,
    SessionKey, SharedBackend, StopScanner, StreamEvent, TokenStream, Usage,
};
use crate::journal::{Event, Journal};
use crate::profile::InferencePolicy;
use std::time::{Duration, Instant};
use wasmtime::component::{HasData, Resource, ResourceTable};

/// The largest request (all message text together) one call may pass.
pub const MAX_PROMPT_BYTES: usize = 4 * 1024 * 1024;
/// The largest JSON schema or grammar one call may pass.
pub const MAX_FORMAT_BYTES: usize = 256 * 1024;
/// The most stop sequences one call may pass.
pub const MAX_STOP_SEQUENCES: usize = 16;
/// The most streams a skill may hold open at once.
pub const MAX_OPEN_STREAMS: usize = 4;

pub use airlock_inference::resolve::RunModels;

mod records;

/// Per-run state of the inference interface.
pub struct InferenceState {
    models: Option<RunModels>,
    policy: InferencePolicy,
    used: InferenceUsage,
    run_deadline: airlock_core::clock::RunClock,
    open_streams: usize,
    /// The key every call of this run carries.
    session: SessionKey,
    /// Whether the run made the key (and ends the session when it ends);
    /// false for a key the caller passed and ends itself.
    owns_session: bool,
}

impl Drop for InferenceState {
    fn drop(&mut self) {
        if self.owns_session
            && let Some(models) = &self.models
        {
            models.backend.end_session(&self.session);
        }
    }
}

/// What the run has used of its inference budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InferenceUsage {
    /// Calls started.
    pub calls: u64,
    /// Prompt tokens, all calls.
    pub prompt_tokens: u64,
    /// Generated tokens, all calls.
    pub completion_tokens: u64,
    /// Of `prompt_tokens`, those the engine held from an earlier call and
    /// did not read again (the tokens it evaluated are the difference).
    pub prompt_tokens_reused: u64,
}

impl InferenceState {
    /// State for one run: `models` is `None` when no engine is configured.
    pub fn new(
        models: Option<RunModels>,
        policy: InferencePolicy,
        run_deadline: airlock_core::clock::RunClock,
    ) -> Self {
        Self {
            models,
            policy,
            used: InferenceUsage::default(),
            run_deadline,
            open_streams: 0,
            session: SessionKey::new(),
            owns_session: true,
        }
    }

    /// Make every call part of `session` (kept across runs, e.g. the turns
    /// of one chat), which the caller ends; `None` keeps the run's own.
    #[must_use]
    pub fn in_session(mut self, session: Option<SessionKey>) -> Self {
        if let Some(key) = session {
            self.session = key;
            self.owns_session = false;
        }
        self
    }

    /// What was used.
    pub fn usage(&self) -> InferenceUsage {
        self.used
    }
}

/// A generation in progress, as the skill holds it.
pub struct CompletionStream {
    call: Call,
    stream: Option<TokenStream>,
    scanner: StopScanner,
    text: String,
    finish: Option<FinishReason>,
    usage: Usage,
    /// Whether the prompt's tokens were charged to the budget (HTTP engines
    /// report them only when the answer is done).
    prompt_charged: bool,
    failed: Option<InferenceError>,
}

/// What the journal needs to know about a call.
struct Call {
    kind: &'static str,
    model: String,
    digest: String,
    started: Instant,
    deadline: Instant,
    timeout_seconds: u32,
    recorded: bool,
    /// The request as the engine got it (messages, sampling, format), for
    /// the audit log (`None` when the run is not audited).
    request: Option<crate::audit::schema::InferenceRequest>,
}

/// The borrowed view the generated `Host` traits are implemented on.
pub struct InferenceView<'a> {
    /// Per-run state.
    pub state: &'a mut InferenceState,
    /// The store's resource table (streams live here).
    pub table: &'a mut ResourceTable,
    /// The run's journal.
    pub journal: &'a mut Journal,
}

/// Marker for `add_to_linker`.
pub struct HasInference;

impl HasData for HasInference {
    type Data<'a> = InferenceView<'a>;
}

/// Add `airlock:skill/inference` to a linker.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> InferenceView<'_>,
) -> wasmtime::Result<()> {
    api::add_to_linker::<T, HasInference>(linker, view)
}

fn budget(limit: &str, max: u64, used: u64) -> InferenceError {
    InferenceError::BudgetExhausted(api::BudgetInfo {
        limit: limit.into(),
        max,
        used,
    })
}

fn from_engine(e: EngineError, call: &Call) -> InferenceError {
    match e {
        EngineError::Unavailable(m) => InferenceError::EngineUnavailable(m),
        EngineError::ContextTooLong {
            prompt,
            max_tokens,
            context,
        } => InferenceError::ContextTooLong(api::LimitInfo {
            max: context,
            requested: prompt.saturating_add(max_tokens),
        }),
        EngineError::InvalidRequest(m) => InferenceError::InvalidRequest(m),
        refused @ (EngineError::ModelDrift { .. } | EngineError::UntrustedServer(_)) => {
            InferenceError::EngineUnavailable(format!("{refused}"))
        }
    }
    .with_model(&call.model)
}

impl InferenceError {
    fn with_model(self, model: &str) -> Self {
        match self {
            Self::EngineUnavailable(m) if !m.contains(model) => {
                Self::EngineUnavailable(format!("model `{model}`: {m}"))
            }
            other => other,
        }
    }
}

/// A sentence for an inference error.
pub fn message(e: &InferenceError) -> String {
    match e {
        InferenceError::ModelNotAllowed(m) => format!("model not allowed: {m}"),
        InferenceError::BudgetExhausted(b) => format!(
            "inference budget exhausted: {} is {} and {} is used",
            b.limit, b.max, b.used
        ),
        InferenceError::EngineUnavailable(m) => format!("inference engine unavailable: {m}"),
        InferenceError::ContextTooLong(l) => format!(
            "context too long: the request needs {} tokens and the model's context is {}",
            l.requested, l.max
        ),
        InferenceError::Timeout(s) => format!("inference call timed out after {s} s"),
        InferenceError::InvalidRequest(m) => format!("invalid inference request: {m}"),
    }
}

impl InferenceView<'_> {
    /// The model a request names (or the default), if the profile grants it.
    fn model(&self, name: Option<&str>) -> Result<(SharedBackend, ModelSpec), InferenceError> {
        let granted = &self.state.policy.models;
        let Some(run) = &self.state.models else {
            if granted.is_empty() {
                return Err(InferenceError::ModelNotAllowed(
                    "the profile grants no model ([inference] models = [...] in the sandbox profile)".into(),
                ));
            }
            return Err(InferenceError::EngineUnavailable(
                "the profile grants models, but this run was started without an inference engine"
                    .into(),
            ));
        };
        let wanted = match name {
            Some(n) => n,
            None => granted.first().map(String::as_str).ok_or_else(|| {
                InferenceError::ModelNotAllowed(
                    "the profile grants no model; a security officer can grant one with [inference] models = [\"NAME\"] in the sandbox profile".into(),
                )
            })?,
        };
        if !granted.iter().any(|g| g == wanted) {
            return Err(InferenceError::ModelNotAllowed(format!(
                "the profile does not grant model `{wanted}` (it grants: {}); see [inference] models in the sandbox profile",
                if granted.is_empty() {
                    "none".to_string()
                } else {
                    granted.join(", ")
                }
            )));
        }
        let spec = run
            .models
            .iter()
            .find(|m| m.name == wanted)
            .cloned()
            .ok_or_else(|| {
                InferenceError::EngineUnavailable(format!(
                    "model `{wanted}` is granted but not in the model store; add it with `airlock model add FILE.gguf --name {wanted}`"
                ))
            })?;
        Ok((run.backend.clone(), spec))
    }

    /// Check the request and the budget, count the call, and start it.
    fn start(
        &mut self,
        request: WitRequest,
        kind: &'static str,
    ) -> Result<CompletionStream, InferenceError> {
        let (backend, spec) = self.model(request.model.as_deref())?;
        let policy = &self.state.policy;
        let used = self.state.used;
        if used.calls >= policy.max_calls {
            return Err(budget("inference.max-calls", policy.max_calls, used.calls));
        }
        if used.prompt_tokens >= policy.max_prompt_tokens {
            return Err(budget(
                "inference.max-prompt-tokens",
                policy.max_prompt_tokens,
                used.prompt_tokens,
            ));
        }
        let remaining = policy
            .max_completion_tokens
            .saturating_sub(used.completion_tokens);
        if remaining == 0 {
            return Err(budget(
                "inference.max-completion-tokens",
                policy.max_completion_tokens,
                used.completion_tokens,
            ));
        }
        let mut chat = check_request(
            request,
            policy.default_max_tokens,
            remaining,
            kind == "chat-stream",
        )?;
        chat.session = Some(self.state.session.clone());
        let audited_request = self
            .journal
            .audited()
            .then(|| records::request_record(&chat));
        let now = Instant::now();
        let per_call = Duration::from_secs(policy.max_call_seconds);
        let deadline = (now + per_call).min(self.state.run_deadline.at());
        let call = Call {
            kind,
            model: spec.name.clone(),
            digest: spec.digest.clone(),
            started: now,
            deadline,
            timeout_seconds: u32::try_from(deadline.saturating_duration_since(now).as_secs())
                .unwrap_or(u32::MAX)
                .max(1),
            recorded: false,
            request: audited_request,
        };
        self.state.used.calls += 1;
        let scanner = StopScanner::new(&chat.sampling.stop);
        let stream = match backend.start(&spec, chat) {
            Ok(s) => s,
            Err(e) => {
                let err = from_engine(e, &call);
                let mut failed = CompletionStream::new(call, None, scanner);
                failed.fail(err.clone(), self.journal);
                return Err(err);
            }
        };
        Ok(CompletionStream::new(call, Some(stream), scanner))
    }

    /// Pull the next piece of text from `s`, charging the budget as tokens arrive.
    async fn pull(&mut self, s: &mut CompletionStream) -> Result<Option<String>, InferenceError> {
        if let Some(err) = &s.failed {
            return Err(err.clone());
        }
        loop {
            let Some(stream) = s.stream.as_mut() else {
                return Ok(None);
            };
            let cancel = self.state.run_deadline.cancel().clone();
            let next = tokio::select! {
                biased;
                () = cancel.cancelled() => {
                    // Dropping the engine's stream stops the generation.
                    s.stream = None;
                    let err = InferenceError::EngineUnavailable("the run was cancelled".into());
                    s.fail(err.clone(), self.journal);
                    return Err(err);
                }
                next = tokio::time::timeout_at(s.call.deadline.into(), stream.next()) => next,
            };
            let event = match next {
                Err(_) => {
                    let err = InferenceError::Timeout(s.call.timeout_seconds);
                    s.fail(err.clone(), self.journal);
                    return Err(err);
                }
                Ok(None) => {
                    let err = InferenceError::EngineUnavailable(format!(
                        "the engine stopped before the answer from model `{}` was complete",
                        s.call.model
                    ));
                    s.fail(err.clone(), self.journal);
                    return Err(err);
                }
                Ok(Some(Err(e))) => {
                    let err = from_engine(e, &s.call);
                    s.fail(err.clone(), self.journal);
                    return Err(err);
                }
                Ok(Some(Ok(event))) => event,
            };
            match event {
                StreamEvent::Prompt { tokens, reused } => {
                    s.usage.prompt_tokens = tokens;
                    s.usage.prompt_tokens_reused = reused;
                    self.state.used.prompt_tokens_reused += u64::from(reused);
                    s.prompt_charged = true;
                    let policy = &self.state.policy;
                    let total = self.state.used.prompt_tokens + u64::from(tokens);
                    self.state.used.prompt_tokens = total;
                    if total > policy.max_prompt_tokens {
                        let err = budget(
                            "inference.max-prompt-tokens",
                            policy.max_prompt_tokens,
                            total,
                        );
                        s.fail(err.clone(), self.journal);
                        return Err(err);
                    }
                }
                StreamEvent::Text { text, tokens } => {
                    s.usage.completion_tokens += tokens;
                    self.state.used.completion_tokens += u64::from(tokens);
                    let released = s.scanner.push(&text);
                    s.text.push_str(&released);
                    if s.scanner.stopped() {
                        s.end(FinishReason::StopSequence, None, self.journal);
                    }
                    if !released.is_empty() {
                        return Ok(Some(released));
                    }
                }
                StreamEvent::Done { finish, usage } => {
                    if !s.prompt_charged {
                        // Charged after the fact: the next call sees the total.
                        s.prompt_charged = true;
                        self.state.used.prompt_tokens += u64::from(usage.prompt_tokens);
                        self.state.used.prompt_tokens_reused +=
                            u64::from(usage.prompt_tokens_reused);
                    }
                    let rest = s.scanner.finish();
                    s.text.push_str(&rest);
                    s.end(finish, Some(usage), self.journal);
                    if !rest.is_empty() {
                        return Ok(Some(rest));
                    }
                    return Ok(None);
                }
            }
        }
    }
}

impl CompletionStream {
    fn new(call: Call, stream: Option<TokenStream>, scanner: StopScanner) -> Self {
        Self {
            call,
            stream,
            scanner,
            text: String::new(),
            finish: None,
            usage: Usage::default(),
            prompt_charged: false,
            failed: None,
        }
    }

    /// Generation ended normally (or at a stop sequence); the engine's own
    /// counts replace the running ones where it gave them.
    fn end(&mut self, finish: FinishReason, usage: Option<Usage>, journal: &mut Journal) {
        self.stream = None;
        self.finish = Some(finish);
        if let Some(u) = usage {
            if u.prompt_tokens > 0 {
                self.usage.prompt_tokens = u.prompt_tokens;
                self.usage.prompt_tokens_reused = u.prompt_tokens_reused;
            }
            self.usage.completion_tokens = self.usage.completion_tokens.max(u.completion_tokens);
        }
        self.record(None, journal);
    }

    fn fail(&mut self, err: InferenceError, journal: &mut Journal) {
        self.stream = None;
        self.record(Some(message(&err)), journal);
        self.failed = Some(err);
    }

    fn record(&mut self, error: Option<String>, journal: &mut Journal) {
        if self.call.recorded {
            return;
        }
        self.call.recorded = true;
        self.audit(error.as_deref(), journal);
        journal.record(Event::Inference {
            model: self.call.model.clone(),
            digest: self.call.digest.clone(),
            call: self.call.kind.into(),
            prompt_tokens: self.usage.prompt_tokens,
            completion_tokens: self.usage.completion_tokens,
            prompt_tokens_reused: self.usage.prompt_tokens_reused,
            finish: self.finish.map(|f| finish_name(f).into()),
            error,
            elapsed_ms: u64::try_from(self.call.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
    }

    fn completion(&self) -> Result<Completion, InferenceError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let Some(finish) = self.finish else {
            return Err(InferenceError::InvalidRequest(
                "the answer is not complete yet: call `next` until it returns none".into(),
            ));
        };
        Ok(Completion {
            text: self.text.clone(),
            finish: match finish {
                FinishReason::Stop => api::FinishReason::Stop,
                FinishReason::StopSequence => api::FinishReason::StopSequence,
                FinishReason::Length => api::FinishReason::Length,
            },
            usage: api::Usage {
                prompt_tokens: self.usage.prompt_tokens,
                completion_tokens: self.usage.completion_tokens,
            },
            model: self.call.model.clone(),
            digest: self.call.digest.clone(),
        })
    }
}

fn finish_name(f: FinishReason) -> &'static str {
    match f {
        FinishReason::Stop => "stop",
        FinishReason::StopSequence => "stop-sequence",
        FinishReason::Length => "length",
    }
}

/// Turn the skill's request into a checked engine request, with the host's
/// defaults and the budget's cap on generated tokens.
fn check_request(
    request: WitRequest,
    default_max_tokens: u64,
    remaining: u64,
    stream: bool,
) -> Result<ChatRequest, InferenceError> {
    let invalid = |m: String| InferenceError::InvalidRequest(m);
    if request.messages.is_empty() {
        return Err(invalid("a chat request needs at least one message".into()));
    }
    let bytes: usize = request.messages.iter().map(|m| m.content.len()).sum();
    if bytes > MAX_PROMPT_BYTES {
        return Err(invalid(format!(
            "the messages are {bytes} bytes; one call may pass at most {MAX_PROMPT_BYTES}"
        )));
    }
    let s = request.sampling;
    if let Some(t) = s.temperature
        && !(0.0..=2.0).contains(&t)
    {
        return Err(invalid(format!(
            "temperature {t} is out of range: use 0 (greedy) to 2"
        )));
    }
    if let Some(p) = s.top_p
        && !(p > 0.0 && p <= 1.0)
    {
        return Err(invalid(format!("top-p {p} is out of range: use (0, 1]")));
    }
    if s.stop.len() > MAX_STOP_SEQUENCES || s.stop.iter().any(|x| x.len() > 256) {
        return Err(invalid(format!(
            "at most {MAX_STOP_SEQUENCES} stop sequences of up to 256 bytes each"
        )));
    }
    if s.max_tokens == Some(0) {
        return Err(invalid("max-tokens must be at least 1".into()));
    }
    let max_tokens = s
        .max_tokens
        .map_or(default_max_tokens, u64::from)
        .min(remaining);
    let format = match request.format {
        WitFormat::Text => OutputFormat::Text,
        WitFormat::JsonSchema(schema) => {
            if schema.len() > MAX_FORMAT_BYTES {
                return Err(invalid(format!(
                    "the JSON schema is {} bytes; at most {MAX_FORMAT_BYTES}",
                    schema.len()
                )));
            }
            match serde_json::from_str::<serde_json::Value>(&schema) {
                Ok(serde_json::Value::Object(_)) => OutputFormat::JsonSchema(schema),
                Ok(_) => return Err(invalid("the JSON schema must be a JSON object".into())),
                Err(e) => return Err(invalid(format!("the JSON schema is not JSON: {e}"))),
            }
        }
        WitFormat::Grammar(g) => {
            if g.len() > MAX_FORMAT_BYTES {
                return Err(invalid(format!(
                    "the grammar is {} bytes; at most {MAX_FORMAT_BYTES}",
                    g.len()
                )));
            }
            OutputFormat::Grammar(g)
        }
    };
    Ok(ChatRequest {
        messages: request.messages.into_iter().map(message_of).collect(),
        sampling: Sampling {
            max_tokens: u32::try_from(max_tokens).unwrap_or(u32::MAX),
            temperature: s.temperature.unwrap_or(0.0),
            top_p: s.top_p.unwrap_or(1.0),
            seed: s.seed.unwrap_or(0),
            stop: s.stop,
        },
        format,
        stream,
        session: None,
    })
}

fn message_of(m: WitMessage) -> Message {
    Message {
        role: match m.role {
            WitRole::System => Role::System,
            WitRole::User => Role::User,
            WitRole::Assistant => Role::Assistant,
        },
        content: m.content,
    }
}

fn table_error(e: wasmtime::component::ResourceTableError) -> wasmtime::Error {
    wasmtime::Error::msg(format!("inference stream table: {e}"))
}

impl api::Host for InferenceView<'_> {
    async fn models(&mut self) -> wasmtime::Result<Vec<ModelInfo>> {
        self.journal.host_call("inference::models")?;
        let Some(run) = &self.state.models else {
            return Ok(Vec::new());
        };
        Ok(self
            .state
            .policy
            .models
            .iter()
            .filter_map(|name| run.models.iter().find(|m| &m.name == name))
            .map(|m| ModelInfo {
                name: m.name.clone(),
                family: m.family.clone(),
                context_length: m.context_length,
                digest: m.digest.clone(),
            })
            .collect())
    }

    async fn chat(
        &mut self,
        request: WitRequest,
    ) -> wasmtime::Result<Result<Completion, InferenceError>> {
        self.journal.host_call("inference::chat")?;
        let mut stream = match self.start(request, "chat") {
            Ok(s) => s,
            Err(e) => {
                self.journal.audit_check()?;
                return Ok(Err(e));
            }
        };
        loop {
            let pulled = self.pull(&mut stream).await;
            self.journal.audit_check()?;
            match pulled {
                Ok(Some(_)) => {}
                Ok(None) => return Ok(stream.completion()),
                Err(e) => return Ok(Err(e)),
            }
        }
    }

    async fn chat_stream(
        &mut self,
        request: WitRequest,
    ) -> wasmtime::Result<Result<Resource<CompletionStream>, InferenceError>> {
        self.journal.host_call("inference::chat-stream")?;
        if self.state.open_streams >= MAX_OPEN_STREAMS {
            return Ok(Err(InferenceError::InvalidRequest(format!(
                "at most {MAX_OPEN_STREAMS} streams may be open at once; drop finished ones"
            ))));
        }
        let stream = match self.start(request, "chat-stream") {
            Ok(s) => s,
            Err(e) => {
                self.journal.audit_check()?;
                return Ok(Err(e));
            }
        };
        let handle = self.table.push(stream).map_err(table_error)?;
        self.state.open_streams += 1;
        Ok(Ok(handle))
    }

    async fn count_tokens(
        &mut self,
        model: Option<String>,
        text: String,
    ) -> wasmtime::Result<Result<WitTokenCount, InferenceError>> {
        self.journal.host_call("inference::count-tokens")?;
        let (backend, spec) = match self.model(model.as_deref()) {
            Ok(m) => m,
            Err(e) => return Ok(Err(e)),
        };
        if text.len() > MAX_PROMPT_BYTES {
            return Ok(Err(InferenceError::InvalidRequest(format!(
                "the text is {} bytes; one call may pass at most {MAX_PROMPT_BYTES}",
                text.len()
            ))));
        }
        // Tokenizing may first load the model: do it off the async runtime.
        let counted = tokio::task::spawn_blocking(move || backend.count_tokens(&spec, &text))
            .await
            .map_err(|e| wasmtime::Error::msg(format!("token counting thread failed: {e}")))?;
        Ok(counted
            .map(|c| WitTokenCount {
                tokens: c.tokens,
                exact: c.exact,
            })
            .map_err(|e| match e {
                EngineError::Unavailable(m) => InferenceError::EngineUnavailable(m),
                other => InferenceError::InvalidRequest(other.to_string()),
            }))
    }
}

impl api::HostCompletionStream for InferenceView<'_> {
    async fn next(
        &mut self,
        this: Resource<CompletionStream>,
    ) -> wasmtime::Result<Result<Option<String>, InferenceError>> {
        self.journal.host_call("inference::next")?;
        // Take the stream out of the table while waiting, so the view stays free.
        let mut stream = std::mem::replace(
            self.table.get_mut(&this).map_err(table_error)?,
            CompletionStream::placeholder(),
        );
        let result = self.pull(&mut stream).await;
        *self.table.get_mut(&this).map_err(table_error)? = stream;
        self.journal.audit_check()?;
        Ok(result)
    }

    async fn completion(
        &mut self,
        this: Resource<CompletionStream>,
    ) -> wasmtime::Result<Result<Completion, InferenceError>> {
        self.journal.host_call("inference::completion")?;
        Ok(self.table.get(&this).map_err(table_error)?.completion())
    }

    async fn drop(&mut self, this: Resource<CompletionStream>) -> wasmtime::Result<()> {
        let mut stream = self.table.delete(this).map_err(table_error)?;
        self.state.open_streams = self.state.open_streams.saturating_sub(1);
        if stream.finish.is_none() && stream.failed.is_none() {
            // Dropped mid-answer: the engine stops; the call is recorded as cut short.
            stream.stream = None;
            stream.record(
                Some("the skill stopped reading the answer".into()),
                self.journal,
            );
        }
        self.journal.audit_check()
    }
}

impl CompletionStream {
    fn placeholder() -> Self {
        Self::new(
            Call {
                kind: "chat-stream",
                model: String::new(),
                digest: String::new(),
                started: Instant::now(),
                deadline: Instant::now(),
                timeout_seconds: 0,
                recorded: true,
                request: None,
            },
            None,
            StopScanner::default(),
        )
    }
}
