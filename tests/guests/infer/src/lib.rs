//! A test skill that drives the inference interface directly, so tests can
//! compare what a skill gets with what the engine gives, and push on the
//! budget. Every case answers with one JSON object as its output.
//!
//! `--arg case=`: `chat` (default), `stream`, `loop`, `models`, `count`,
//! `drop-stream`, `abandon`. The prompt is `--input`; `--arg` keys `system`,
//! `max-tokens`, `temperature`, `top-p`, `seed`, `stop`, `schema`, `grammar`, `model`,
//! `print=true` (stream: print each piece as it arrives).

use airlock_sdk::inference::{self, ChatRequest, Completion, InferenceError};
use airlock_sdk::{Error, Output, Request, Skill, SkillInfo, log};
use serde_json::{Value, json};

struct Infer;

impl Skill for Infer {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "infer".into(),
            version: "0.1.0".into(),
            summary: "Test skill: calls the model as told and reports exactly what came back."
                .into(),
            capabilities: vec![],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let chat = chat_request(&request)?;
        let result = match request.arg("case").unwrap_or("chat") {
            "chat" => match inference::chat(&chat) {
                Ok(c) => completion(&c),
                Err(e) => error(&e),
            },
            "stream" => stream(&chat, request.arg("print") == Some("true")),
            "loop" => {
                let mut ok = 0u32;
                let err = loop {
                    match inference::chat(&chat) {
                        Ok(_) => ok += 1,
                        Err(e) => break e,
                    }
                    if ok > 1000 {
                        return Err(Error::Failed("the host never stopped the loop".into()));
                    }
                };
                json!({ "calls-ok": ok, "error": err.to_string(), "kind": kind(&err) })
            }
            "models" => Value::Array(
                inference::models()
                    .into_iter()
                    .map(|m| {
                        json!({ "name": m.name, "family": m.family,
                                "context-length": m.context_length, "digest": m.digest })
                    })
                    .collect(),
            ),
            "count" => {
                let text = request.input.clone().unwrap_or_default();
                match inference::count_tokens(&text, request.arg("model")) {
                    Ok(c) => json!({ "tokens": c.tokens, "exact": c.exact }),
                    Err(e) => error(&e),
                }
            }
            "drop-stream" => {
                let mut s = inference::chat_stream(&chat)?;
                let first = s.next().transpose()?.unwrap_or_default();
                drop(s);
                match inference::chat(&chat) {
                    Ok(c) => json!({ "first": first, "after": completion(&c) }),
                    Err(e) => error(&e),
                }
            }
            "abandon" => {
                // Read one piece and return at once, leaving the engine mid-answer.
                let mut s = inference::chat_stream(&chat)?;
                let first = s.next().transpose()?.unwrap_or_default();
                json!({ "first": first })
            }
            other => return Err(Error::InvalidInput(format!("unknown case `{other}`"))),
        };
        Ok(Output::text(result.to_string()))
    }
}

fn chat_request(request: &Request) -> Result<ChatRequest, Error> {
    let number = |key: &str| -> Result<Option<f64>, Error> {
        request
            .arg(key)
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| Error::InvalidInput(format!("--arg {key}={v} is not a number")))
            })
            .transpose()
    };
    let mut chat = ChatRequest::new();
    if let Some(system) = request.arg("system") {
        chat = chat.system(system);
    }
    chat = chat.user(request.input.clone().unwrap_or_else(|| "Say hello.".into()));
    if let Some(n) = number("max-tokens")? {
        chat = chat.max_tokens(n as u32);
    }
    if let Some(t) = number("temperature")? {
        chat = chat.temperature(t as f32);
    }
    if let Some(p) = number("top-p")? {
        chat = chat.top_p(p as f32);
    }
    if let Some(s) = number("seed")? {
        chat = chat.seed(s as u64);
    }
    if let Some(stop) = request.arg("stop") {
        chat = chat.stop(stop);
    }
    if let Some(schema) = request.arg("schema") {
        chat = chat.json_schema(schema);
    }
    if let Some(grammar) = request.arg("grammar") {
        chat = chat.grammar(grammar);
    }
    if let Some(model) = request.arg("model") {
        chat = chat.model(model);
    }
    Ok(chat)
}

fn stream(chat: &ChatRequest, print: bool) -> Value {
    // Timed from inside the skill (WASI's monotonic clock), so benchmarks can
    // compare what a skill sees with what the engine gives directly.
    let started = std::time::Instant::now();
    let mut first_piece_us = None;
    let mut s = match inference::chat_stream(chat) {
        Ok(s) => s,
        Err(e) => return error(&e),
    };
    let mut pieces = Vec::new();
    for piece in s.by_ref() {
        match piece {
            Ok(p) => {
                first_piece_us.get_or_insert(started.elapsed().as_micros() as u64);
                if print {
                    log::print(&p);
                }
                pieces.push(p);
            }
            Err(e) => return json!({ "pieces": pieces, "error": e.to_string(), "kind": kind(&e) }),
        }
    }
    match s.completion() {
        Ok(c) => json!({
            "pieces": pieces,
            "completion": completion(&c),
            "first-piece-us": first_piece_us,
            "total-us": started.elapsed().as_micros() as u64,
        }),
        Err(e) => error(&e),
    }
}

fn completion(c: &Completion) -> Value {
    json!({
        "text": c.text,
        "finish": format!("{:?}", c.finish),
        "prompt-tokens": c.usage.prompt_tokens,
        "completion-tokens": c.usage.completion_tokens,
        "model": c.model,
        "digest": c.digest,
    })
}

fn kind(e: &InferenceError) -> &'static str {
    match e {
        InferenceError::ModelNotAllowed(_) => "model-not-allowed",
        InferenceError::BudgetExhausted { .. } => "budget-exhausted",
        InferenceError::EngineUnavailable(_) => "engine-unavailable",
        InferenceError::ContextTooLong { .. } => "context-too-long",
        InferenceError::Timeout(_) => "timeout",
        InferenceError::InvalidRequest(_) => "invalid-request",
    }
}

fn error(e: &InferenceError) -> Value {
    json!({ "error": e.to_string(), "kind": kind(e) })
}

airlock_sdk::export_skill!(Infer);
