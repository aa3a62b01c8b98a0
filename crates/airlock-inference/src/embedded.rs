//! The embedded engine: llama.cpp in this process, through `llama-cpp-2`.
//!
//! Each model (by digest) is loaded once per process and shared by every skill
//! instance. Each model has one worker thread that takes requests in the
//! order they arrive (first come, first served). A request without a session
//! key runs in a fresh context of its own; a request of a session (one run,
//! or one chat session) continues that session's context when the worker
//! still keeps it, and reads only the prompt's tokens after what the context
//! already holds ([`session`]). No session ever sees another's context.
//! Generation runs on that thread, never on the async runtime; pieces of
//! text reach the caller through the request's [`TokenStream`], and a
//! dropped stream stops the generation at the next token.
//!
//! Decoding: greedy when the temperature is 0 (the default), else top-p,
//! temperature and a seeded distribution sampler, so a fixed seed repeats.
//! Structured output compiles the JSON schema to a llama.cpp grammar that
//! constrains every sampled token. Chat prompts are built with the chat
//! template the GGUF file carries.

// Ambient std::fs allowed: checks the model file llama.cpp is about to load.
#![allow(clippy::disallowed_methods)]

use super::{
    Backend, ChatRequest, EngineError, FinishReason, ModelSource, ModelSpec, OutputFormat,
    SessionKey, StreamEvent, StreamSender, TokenCount, TokenStream, Usage,
};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use session::{Kept, Slot};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

pub mod session;

/// How many sessions' contexts each model's worker keeps when the
/// configuration does not say (`engine.kept-contexts`): the run in progress
/// and one more (a chat session between turns, or a second run at the same
/// time). Each costs the KV cache of a whole context window (about 115 MB
/// for Qwen2.5-Coder-1.5B at 4096 tokens).
pub const DEFAULT_KEPT_CONTEXTS: u32 = 2;

/// The context window used when neither the configuration nor the profile
/// sets one: the model's trained context, capped here to bound memory.
pub const DEFAULT_CONTEXT_CAP: u32 = 4096;

/// llama.cpp's process-wide backend, initialised once, with its own logging
/// silenced (Airlock reports load failures itself).
pub fn llama_backend() -> Result<&'static LlamaBackend, EngineError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|e| e.to_string())?;
            backend.void_logs();
            Ok(backend)
        })
        .as_ref()
        .map_err(|e| EngineError::Unavailable(format!("cannot start llama.cpp: {e}")))
}

/// The threads llama.cpp uses when the configuration says 0: half the
/// processors this process may use (about one per physical core), at least
/// one. llama.cpp's threads spin while they wait for each other, so more
/// threads than free cores makes generation several times slower (measured:
/// 5.9 s instead of 1.1 s for 40 tokens with 2 threads on 2 busy cores).
pub fn default_threads() -> u32 {
    std::thread::available_parallelism()
        .map(|n| u32::try_from(n.get() / 2).unwrap_or(1).max(1))
        .unwrap_or(1)
}

/// Load a GGUF file with llama.cpp (memory-mapped), reporting a failure with
/// the file and the likely reasons (llama.cpp itself gives none).
pub fn load_model(path: &Path, vocab_only: bool) -> Result<LlamaModel, EngineError> {
    let backend = llama_backend()?;
    let params = LlamaModelParams::default().with_vocab_only(vocab_only);
    if !path.is_file() {
        return Err(EngineError::Unavailable(format!(
            "model file {} is missing; check `airlock model verify`",
            path.display()
        )));
    }
    LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
        EngineError::Unavailable(format!(
            "llama.cpp cannot load {} ({e}): the file is not a GGUF model this llama.cpp supports, is truncated or corrupt, or there is not enough memory to map it",
            path.display()
        ))
    })
}

/// The embedded llama.cpp engine. Dropping it stops its worker threads and
/// waits for them (at most one decode step), so the process never exits
/// while llama.cpp is still computing.
pub struct EmbeddedBackend {
    threads: u32,
    kept_contexts: u32,
    models: Mutex<HashMap<String, Worker>>,
}

/// A model's worker thread and the queue that feeds it.
struct Worker {
    loaded: Arc<LoadedModel>,
    queue: mpsc::Sender<Work>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for EmbeddedBackend {
    fn drop(&mut self) {
        let workers: Vec<Worker> = match self.models.get_mut() {
            Ok(models) => models.drain().map(|(_, w)| w).collect(),
            Err(poisoned) => poisoned.into_inner().drain().map(|(_, w)| w).collect(),
        };
        for mut worker in workers {
            worker
                .loaded
                .stopping
                .store(true, std::sync::atomic::Ordering::Relaxed);
            drop(worker.queue);
            if let Some(thread) = worker.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

impl EmbeddedBackend {
    /// An engine that runs llama.cpp with `threads` threads per request
    /// (0: [`default_threads`]) and keeps [`DEFAULT_KEPT_CONTEXTS`]
    /// sessions' contexts per model. Nothing is loaded until first use.
    pub fn new(threads: u32) -> Self {
        Self {
            threads: if threads == 0 {
                default_threads()
            } else {
                threads
            },
            kept_contexts: DEFAULT_KEPT_CONTEXTS,
            models: Mutex::new(HashMap::new()),
        }
    }

    /// Keep the contexts of up to `n` sessions per model for prefix reuse
    /// (0: none; every request starts cold).
    #[must_use]
    pub fn with_kept_contexts(mut self, n: u32) -> Self {
        self.kept_contexts = n;
        self
    }

    /// The threads each request uses.
    pub fn threads(&self) -> u32 {
        self.threads
    }

    /// How many sessions' contexts each model keeps.
    pub fn kept_contexts(&self) -> u32 {
        self.kept_contexts
    }

    /// The shared, lazily loaded model for `spec`, with its worker thread.
    fn model(
        &self,
        spec: &ModelSpec,
    ) -> Result<(Arc<LoadedModel>, mpsc::Sender<Work>), EngineError> {
        let ModelSource::Gguf { path } = &spec.source else {
            return Err(EngineError::InvalidRequest(format!(
                "model `{}` is not a GGUF file in the model store; the embedded engine runs only those (see `airlock model add`)",
                spec.name
            )));
        };
        let mut models = self.models.lock().map_err(|_| {
            EngineError::Unavailable(
                "the embedded engine's model table is poisoned by an earlier crash".into(),
            )
        })?;
        if let Some(worker) = models.get(&spec.digest) {
            return Ok((worker.loaded.clone(), worker.queue.clone()));
        }
        let (tx, rx) = mpsc::channel::<Work>();
        let loaded = Arc::new(LoadedModel {
            name: spec.name.clone(),
            path: path.clone(),
            model: OnceLock::new(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        });
        let serving = loaded.clone();
        let (threads, kept) = (self.threads, self.kept_contexts);
        let thread = std::thread::Builder::new()
            .name(format!("airlock-llama-{}", spec.name))
            .spawn(move || serving.serve(rx, threads, kept))
            .map_err(|e| {
                EngineError::Unavailable(format!("cannot start the engine thread: {e}"))
            })?;
        models.insert(
            spec.digest.clone(),
            Worker {
                loaded: loaded.clone(),
                queue: tx.clone(),
                thread: Some(thread),
            },
        );
        Ok((loaded, tx))
    }

    /// Load `spec` now (instead of on the first request) and return how long
    /// it took; for benchmarks and for reporting load errors early.
    pub fn preload(&self, spec: &ModelSpec) -> Result<std::time::Duration, EngineError> {
        let started = std::time::Instant::now();
        self.model(spec)?.0.get()?;
        Ok(started.elapsed())
    }
}

impl Backend for EmbeddedBackend {
    fn describe(&self) -> String {
        format!("embedded llama.cpp ({} threads)", self.threads)
    }

    fn start(&self, model: &ModelSpec, request: ChatRequest) -> Result<TokenStream, EngineError> {
        if request.messages.is_empty() {
            return Err(EngineError::InvalidRequest(
                "a chat request needs at least one message".into(),
            ));
        }
        let (_, queue) = self.model(model)?;
        let (tx, stream) = TokenStream::channel();
        queue
            .send(Work::Generate(Job {
                request,
                context_length: model.context_length,
                tx,
            }))
            .map_err(|_| {
                EngineError::Unavailable(format!(
                    "the engine thread for model `{}` has stopped",
                    model.name
                ))
            })?;
        Ok(stream)
    }

    fn end_session(&self, key: &SessionKey) {
        let Ok(models) = self.models.lock() else {
            return;
        };
        for worker in models.values() {
            // A worker that stopped keeps nothing.
            let _ = worker.queue.send(Work::End(key.clone()));
        }
    }

    fn count_tokens(&self, model: &ModelSpec, text: &str) -> Result<TokenCount, EngineError> {
        let (loaded, _) = self.model(model)?;
        let llama = loaded.get()?;
        let tokens = llama.vocab().tokenize(text.as_bytes(), false, false);
        Ok(TokenCount {
            tokens: u32::try_from(tokens.len()).unwrap_or(u32::MAX),
            exact: true,
        })
    }

    fn verify(
        &self,
        _model: &ModelSpec,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), EngineError>> + Send + '_>>
    {
        // The model store checks GGUF files against the lock before a run.
        Box::pin(std::future::ready(Ok(())))
    }
}

/// What a model's worker is asked to do, in order.
enum Work {
    /// Answer a request.
    Generate(Job),
    /// Free what is kept for a session that ended.
    End(SessionKey),
}

/// One generation request waiting for the model's worker.
struct Job {
    request: ChatRequest,
    context_length: u32,
    tx: StreamSender,
}

/// A model shared by every skill instance in the process.
struct LoadedModel {
    name: String,
    path: PathBuf,
    model: OnceLock<Result<LlamaModel, EngineError>>,
    /// Set when the engine is dropped: generation stops at the next token.
    stopping: std::sync::atomic::AtomicBool,
}

impl LoadedModel {
    fn get(&self) -> Result<&LlamaModel, EngineError> {
        self.model
            .get_or_init(|| load_model(&self.path, false))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The worker: one request at a time, in arrival order, keeping up to
    /// `kept` sessions' contexts between requests.
    fn serve(&self, work: mpsc::Receiver<Work>, threads: u32, kept: u32) {
        let mut kept = Kept::new(kept);
        for item in work {
            let job = match item {
                Work::Generate(job) => job,
                Work::End(key) => {
                    kept.end(&key);
                    continue;
                }
            };
            if job.tx.is_closed() {
                continue;
            }
            let outcome = self.get().and_then(|model| {
                let generator = Generator {
                    model,
                    name: &self.name,
                    threads,
                    stopping: &self.stopping,
                };
                generator.run(&job, &mut kept)
            });
            if let Err(e) = outcome {
                let _ = job.tx.blocking_send(Err(e));
            }
        }
    }
}

/// The prompt text for `request`, built with the model's own chat template.
pub fn render_prompt(model: &LlamaModel, request: &ChatRequest) -> Result<String, EngineError> {
    let template = model.chat_template(None).map_err(|e| {
        EngineError::Unavailable(format!(
            "the model has no usable chat template in its GGUF metadata ({e})"
        ))
    })?;
    let messages = request
        .messages
        .iter()
        .map(|m| LlamaChatMessage::new(m.role.as_str().to_string(), m.content.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            EngineError::InvalidRequest(format!("a message cannot be passed to llama.cpp: {e}"))
        })?;
    model
        .apply_chat_template(&template, &messages, true)
        .map_err(|e| EngineError::InvalidRequest(format!("the chat template failed: {e}")))
}

/// The prompt's tokens, as llama.cpp's server tokenizes a templated chat.
pub fn tokenize_prompt(model: &LlamaModel, prompt: &str) -> Vec<LlamaToken> {
    model.vocab().tokenize(prompt.as_bytes(), true, true)
}

/// Picks each next token for a request.
///
/// With a grammar (structured output), applying it to the whole vocabulary at
/// every step is the slow part of decoding. As llama.cpp's own server does,
/// the token is first picked without the grammar and only that token is
/// checked against it; the whole vocabulary is constrained only when the
/// grammar rejects the pick. For greedy decoding this picks exactly the token
/// the fully constrained search would.
pub struct Decoder {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
}

impl Decoder {
    /// The decoder for the request's settings and output format.
    pub fn new(model: &LlamaModel, request: &ChatRequest) -> Result<Self, EngineError> {
        let grammar = match &request.format {
            OutputFormat::Text => None,
            OutputFormat::JsonSchema(schema) => {
                let grammar = llama_cpp_2::json_schema_to_grammar(schema).map_err(|e| {
                    EngineError::InvalidRequest(format!(
                        "the JSON schema cannot be turned into a grammar ({e}); check it is a valid JSON Schema object"
                    ))
                })?;
                Some(grammar_sampler(model, &grammar)?)
            }
            OutputFormat::Grammar(grammar) => Some(grammar_sampler(model, grammar)?),
        };
        let s = &request.sampling;
        let mut chain = Vec::new();
        if s.temperature <= 0.0 {
            chain.push(LlamaSampler::greedy());
        } else {
            if s.top_p < 1.0 {
                chain.push(LlamaSampler::top_p(s.top_p, 1));
            }
            chain.push(LlamaSampler::temp(s.temperature));
            // llama.cpp seeds are 32-bit; fold the 64-bit seed so all bits count.
            let seed = (s.seed ^ (s.seed >> 32)) as u32;
            chain.push(LlamaSampler::dist(seed));
        }
        Ok(Self {
            chain: LlamaSampler::chain_simple(chain),
            grammar,
        })
    }

    /// The next token from the logits at `index` of the last decode.
    pub fn next(&mut self, ctx: &LlamaContext<'_>, index: i32) -> Option<LlamaToken> {
        let Some(grammar) = self.grammar.as_mut() else {
            return Some(self.chain.sample(ctx, index));
        };
        let mut all = ctx.token_data_array_ith(index);
        all.apply_sampler(&mut self.chain);
        if let Some(pick) = all.selected_token() {
            let mut one =
                LlamaTokenDataArray::new(vec![LlamaTokenData::new(pick, 1.0, 0.0)], false);
            one.apply_sampler(grammar);
            if one.data.first().is_some_and(|d| d.logit().is_finite()) {
                grammar.accept(pick);
                self.chain.accept(pick);
                return Some(pick);
            }
        }
        let mut all = ctx.token_data_array_ith(index);
        all.apply_sampler(grammar);
        all.apply_sampler(&mut self.chain);
        let pick = all.selected_token()?;
        grammar.accept(pick);
        self.chain.accept(pick);
        Some(pick)
    }
}

fn grammar_sampler(model: &LlamaModel, grammar: &str) -> Result<LlamaSampler, EngineError> {
    LlamaSampler::grammar(model, grammar, "root").map_err(|e| {
        EngineError::InvalidRequest(format!(
            "llama.cpp rejected the grammar ({e}); it must be GBNF with a `root` rule"
        ))
    })
}

/// The context window for a request: the configured one, else the model's
/// trained context capped at [`DEFAULT_CONTEXT_CAP`].
pub fn context_window(model: &LlamaModel, configured: u32) -> u32 {
    let trained = model.n_ctx_train().max(1);
    if configured == 0 {
        trained.min(DEFAULT_CONTEXT_CAP)
    } else {
        configured.min(trained)
    }
}

/// What a worker generates with: the model and its settings.
struct Generator<'m> {
    model: &'m LlamaModel,
    name: &'m str,
    threads: u32,
    /// Set when the engine is dropped.
    stopping: &'m std::sync::atomic::AtomicBool,
}

impl<'m> Generator<'m> {
    /// Run one request to completion (or until its stream is dropped): in
    /// its session's kept context when there is one, else in a fresh one,
    /// which is then kept for the session (if it has one).
    fn run(&self, job: &Job, kept: &mut Kept<'m>) -> Result<(), EngineError> {
        let request = &job.request;
        let prompt = render_prompt(self.model, request)?;
        let tokens = tokenize_prompt(self.model, &prompt);
        let prompt_tokens = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        let n_ctx = context_window(self.model, job.context_length);
        let max_tokens = request.sampling.max_tokens;
        if tokens.is_empty() || prompt_tokens.saturating_add(max_tokens) > n_ctx {
            return Err(EngineError::ContextTooLong {
                prompt: prompt_tokens,
                max_tokens,
                context: n_ctx,
            });
        }
        let session = request.session.as_ref().filter(|_| kept.enabled());
        let held = session.and_then(|key| kept.take(key, n_ctx));
        let mut slot = match held {
            Some(slot) => slot,
            None => Slot::new(self.model, self.name, n_ctx, self.threads)?,
        };
        let outcome = self.generate(job, &tokens, &mut slot);
        if let Some(key) = session {
            kept.put(key.clone(), slot);
        }
        outcome
    }

    /// Read the prompt's tokens after what `slot` holds, then generate.
    fn generate(
        &self,
        job: &Job,
        tokens: &[LlamaToken],
        slot: &mut Slot<'m>,
    ) -> Result<(), EngineError> {
        let request = &job.request;
        let name = self.name;
        let decode_failed = |e: String| {
            EngineError::Unavailable(format!("llama.cpp failed to decode for `{name}`: {e}"))
        };
        let prompt_tokens = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        let reused = slot.keep_prefix(tokens);
        let rest = tokens.get(reused..).unwrap_or_default();
        let mut batch = LlamaBatch::new(rest.len().max(1), 1);
        slot.decode(&mut batch, rest).map_err(decode_failed)?;
        let reused = u32::try_from(reused).unwrap_or(u32::MAX);
        if job
            .tx
            .blocking_send(Ok(StreamEvent::Prompt {
                tokens: prompt_tokens,
                reused,
            }))
            .is_err()
        {
            return Ok(());
        }

        let mut decoder = Decoder::new(self.model, request)?;
        let vocab = self.model.vocab();
        let mut utf8 = Utf8Buffer::default();
        let max_tokens = request.sampling.max_tokens;
        let mut generated = 0u32;
        let mut finish = FinishReason::Length;
        let mut logits_index = batch.n_tokens() - 1;
        while generated < max_tokens {
            if self.stopping.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(EngineError::Unavailable(
                    "the embedded engine is shutting down".into(),
                ));
            }
            let Some(token) = decoder.next(slot.ctx(), logits_index) else {
                // Nothing the grammar allows: the answer cannot go on.
                finish = FinishReason::Stop;
                break;
            };
            if vocab.is_eog(token) {
                finish = FinishReason::Stop;
                break;
            }
            generated += 1;
            let piece = vocab.token_to_piece(token, false, None);
            let text = utf8.push(&piece);
            if !text.is_empty()
                && job
                    .tx
                    .blocking_send(Ok(StreamEvent::Text { text, tokens: 1 }))
                    .is_err()
            {
                return Ok(());
            }
            if generated == max_tokens {
                break;
            }
            slot.decode(&mut batch, &[token]).map_err(decode_failed)?;
            logits_index = 0;
        }
        let rest = utf8.finish();
        if !rest.is_empty() {
            let _ = job.tx.blocking_send(Ok(StreamEvent::Text {
                text: rest,
                tokens: 0,
            }));
        }
        let _ = job.tx.blocking_send(Ok(StreamEvent::Done {
            finish,
            usage: Usage {
                prompt_tokens,
                completion_tokens: generated,
                prompt_tokens_reused: reused,
            },
        }));
        Ok(())
    }
}

/// Turns token bytes into whole UTF-8 characters: a character split across
/// tokens is held until its last byte arrives.
#[derive(Default)]
pub struct Utf8Buffer {
    pending: Vec<u8>,
}

impl Utf8Buffer {
    /// Add bytes; returns the text that is complete so far.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            // Invalid bytes (not a split character): replace them.
            Err(_) => {
                let text = String::from_utf8_lossy(&self.pending).into_owned();
                self.pending.clear();
                return text;
            }
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
        self.pending.drain(..valid);
        text
    }

    /// The end: whatever is left, with invalid bytes replaced.
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::Utf8Buffer;

    #[test]
    fn a_character_split_across_tokens_is_held_until_complete() {
        let mut b = Utf8Buffer::default();
        let e_acute = "é".as_bytes();
        assert_eq!(b.push(b"caf"), "caf");
        assert_eq!(b.push(&e_acute[..1]), "");
        assert_eq!(b.push(&e_acute[1..]), "é");
        assert_eq!(b.finish(), "");
    }

    #[test]
    fn invalid_bytes_are_replaced_not_dropped() {
        let mut b = Utf8Buffer::default();
        assert_eq!(b.push(&[b'a', 0xff, b'b']), "a\u{fffd}b");
        assert_eq!(b.push(&[0xe2, 0x82]), "");
        assert_eq!(b.finish(), "\u{fffd}");
    }
}
