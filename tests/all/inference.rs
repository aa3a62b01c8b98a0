//! Host-owned inference on the embedded llama.cpp engine, with the real
//! SmolLM2-135M model: what a skill gets through the binding is what
//! llama.cpp gives, sampling repeats, structured output parses, and the
//! profile's grants and budget hold.

use airlock_runtime::Request;
use airlock_runtime::inference::embedded::EmbeddedBackend;
use airlock_runtime::inference::{
    Backend, ChatRequest, Message, OutputFormat, Role, Sampling, SessionKey, Usage,
};
use airlock_tests::{
    TEST_MODEL_NAME, embedded_models, guests, profile, run_request, test_model, workspace,
};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use serde_json::Value;
use std::num::NonZeroU32;

const GRANTED: &str = r#"
name = "infer-test"
[limits]
wall-clock-seconds = 300
[inference]
models = ["smollm2"]
"#;

/// Run the `infer` guest with the test model granted by `profile_toml`.
fn infer(profile_toml: &str, input: &str, args: &[(&str, &str)]) -> Value {
    infer_report(profile_toml, input, args).0
}

/// Greedy generation straight through llama-cpp-2, with the same model file,
/// chat template, context size and threads the host uses: the reference a
/// skill's answer must equal.
fn direct_greedy(user: &str, max_tokens: usize) -> String {
    let backend = airlock_runtime::inference::embedded::llama_backend().unwrap();
    let model =
        LlamaModel::load_from_file(backend, test_model(), &LlamaModelParams::default()).unwrap();
    let template = model.chat_template(None).unwrap();
    let messages = [LlamaChatMessage::new("user".into(), user.into()).unwrap()];
    let prompt = model
        .apply_chat_template(&template, &messages, true)
        .unwrap();
    let tokens = model.vocab().tokenize(prompt.as_bytes(), true, true);
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(2048))
        .with_n_batch(2048)
        .with_n_threads(airlock_tests::TEST_THREADS as i32)
        .with_n_threads_batch(airlock_tests::TEST_THREADS as i32);
    let mut ctx = model.new_context(backend, params).unwrap();
    let mut batch = LlamaBatch::new(2048, 1);
    for (i, t) in tokens.iter().enumerate() {
        batch
            .add(*t, i as i32, &[0], i == tokens.len() - 1)
            .unwrap();
    }
    ctx.decode(&mut batch).unwrap();
    let mut sampler = LlamaSampler::greedy();
    let mut bytes = Vec::new();
    for pos in (tokens.len() as i32..).take(max_tokens) {
        let token = sampler.sample(&ctx, batch.n_tokens() - 1);
        if model.vocab().is_eog(token) {
            break;
        }
        bytes.extend(model.vocab().token_to_piece(token, false, None));
        batch.clear();
        batch.add(token, pos, &[0], true).unwrap();
        ctx.decode(&mut batch).unwrap();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn a_skills_completion_equals_a_direct_llama_cpp_call() {
    let question = "What is the capital of France? Answer in one sentence.";
    let through_skill = infer(GRANTED, question, &[("max-tokens", "40")]);
    let direct = direct_greedy(question, 40);
    assert!(!direct.trim().is_empty(), "the model said nothing");
    assert_eq!(through_skill["text"], Value::String(direct));
    assert_eq!(through_skill["model"], TEST_MODEL_NAME);
    assert_eq!(
        through_skill["digest"],
        format!("sha256:{}", airlock_tests::TEST_MODEL_SHA256)
    );
    assert!(through_skill["prompt-tokens"].as_u64().unwrap() > 5);
}

#[test]
fn the_same_seed_gives_the_same_output_twice() {
    let args = [
        ("temperature", "0.9"),
        ("top-p", "0.95"),
        ("seed", "1234"),
        ("max-tokens", "32"),
    ];
    let prompt = "Write a short poem about the sea.";
    let first = infer(GRANTED, prompt, &args);
    let second = infer(GRANTED, prompt, &args);
    assert!(!first["text"].as_str().unwrap().is_empty());
    assert_eq!(first["text"], second["text"]);
}

#[test]
fn json_schema_output_parses_every_time() {
    let schema = r#"{"type":"object","properties":{"language":{"type":"string","maxLength":30},"severity":{"enum":["low","medium","high"]},"line":{"type":"integer"}},"required":["language","severity","line"]}"#;
    for prompt in [
        "Report one issue in this code: `let x = vec![1]; x[5]`",
        "Which language is `fn main() {}` written in?",
        "Describe a bug on line 3 of a Python file.",
        "Say hello.",
    ] {
        let out = infer(
            GRANTED,
            prompt,
            &[("schema", schema), ("max-tokens", "120")],
        );
        let text = out["text"].as_str().unwrap();
        let parsed: Value = serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("not JSON for {prompt:?} ({e}): {text}"));
        assert!(parsed["language"].is_string(), "{text}");
        assert!(parsed["line"].is_i64(), "{text}");
        assert!(
            ["low", "medium", "high"].contains(&parsed["severity"].as_str().unwrap_or("")),
            "{text}"
        );
    }
}

#[test]
fn a_profile_without_the_model_gets_model_not_allowed() {
    let none = infer("name = \"no-model\"\n", "Say hello.", &[]);
    assert_eq!(none["kind"], "model-not-allowed", "{none}");
    let other = infer(
        "name = \"other\"\n[inference]\nmodels = [\"some-other-model\"]\n",
        "Say hello.",
        &[("model", TEST_MODEL_NAME)],
    );
    assert_eq!(other["kind"], "model-not-allowed", "{other}");
    assert!(
        other["error"].as_str().unwrap().contains("smollm2"),
        "{other}"
    );
    // A granted model is listed; an ungranted one is not.
    let listed = infer(GRANTED, "", &[("case", "models")]);
    assert_eq!(listed[0]["name"], TEST_MODEL_NAME);
    assert_eq!(listed[0]["context-length"], 2048);
    assert_eq!(listed[0]["family"], "llama");
    let unlisted = infer("name = \"no-model\"\n", "", &[("case", "models")]);
    assert_eq!(unlisted, Value::Array(vec![]));
}

#[test]
fn the_call_budget_stops_a_skill_that_keeps_calling() {
    let profile = format!("{GRANTED}max-calls = 3\n");
    let out = infer(
        &profile,
        "Say hi.",
        &[("case", "loop"), ("max-tokens", "4")],
    );
    assert_eq!(out["calls-ok"], 3, "{out}");
    assert_eq!(out["kind"], "budget-exhausted", "{out}");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("inference.max-calls"),
        "{out}"
    );
}

#[test]
fn the_token_budget_caps_and_then_stops_generation() {
    let profile = format!("{GRANTED}max-completion-tokens = 20\n");
    let out = infer(
        &profile,
        "Tell me a long story about a dragon.",
        &[("case", "loop"), ("max-tokens", "8")],
    );
    let ok = out["calls-ok"].as_u64().unwrap();
    assert!((2..=3).contains(&ok), "{out}");
    assert!(
        out["error"]
            .as_str()
            .unwrap()
            .contains("inference.max-completion-tokens"),
        "{out}"
    );
}

#[test]
fn streaming_gives_the_same_text_as_one_shot_in_pieces() {
    let prompt = "Name three colours.";
    let one_shot = infer(GRANTED, prompt, &[("max-tokens", "30")]);
    let streamed = infer(GRANTED, prompt, &[("case", "stream"), ("max-tokens", "30")]);
    let pieces = streamed["pieces"].as_array().unwrap();
    assert!(pieces.len() > 3, "{streamed}");
    let joined: String = pieces.iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(Value::String(joined), one_shot["text"]);
    assert_eq!(streamed["completion"]["text"], one_shot["text"]);
}

#[test]
fn a_stop_sequence_ends_the_answer_before_it() {
    let prompt = "List the days of the week.";
    let full = infer(GRANTED, prompt, &[("max-tokens", "60")]);
    let text = full["text"].as_str().unwrap().to_string();
    // Stop at a word from the middle of the greedy answer.
    let words: Vec<&str> = text.split_whitespace().collect();
    assert!(words.len() >= 4, "answer too short to test: {text}");
    let stop = words[words.len() / 2];
    let cut = infer(GRANTED, prompt, &[("max-tokens", "60"), ("stop", stop)]);
    let expected = &text[..text.find(stop).unwrap()];
    assert_eq!(cut["text"], expected, "stop {stop:?}");
    assert_eq!(cut["finish"], "StopSequence");
}

#[test]
fn a_call_over_its_time_is_stopped_and_the_engine_recovers() {
    let profile = format!("{GRANTED}max-call-seconds = 1\n");
    // The grammar never lets the answer end, so generation runs to 1500
    // tokens: far more than one second on this model.
    let long = infer(
        &profile,
        "Write letters.",
        &[("max-tokens", "1500"), ("grammar", r#"root ::= "a" root"#)],
    );
    assert_eq!(long["kind"], "timeout", "{long}");
    // The cancelled generation does not hold the engine: the next call answers.
    let after = infer(GRANTED, "Say hello.", &[("max-tokens", "8")]);
    assert!(!after["text"].as_str().unwrap().is_empty(), "{after}");
}

/// Run the `infer` guest and return its report (the output as JSON and the
/// run's inference usage).
fn infer_report(
    profile_toml: &str,
    input: &str,
    args: &[(&str, &str)],
) -> (Value, airlock_runtime::RunReport) {
    let ws = workspace(&[]);
    let request = Request {
        input: Some(input.to_string()),
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let report = run_request(
        guests::INFER,
        &profile(profile_toml),
        ws.path(),
        request,
        Some(embedded_models()),
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    assert_eq!(report.error, None, "the skill failed");
    let output = report.output.clone().expect("output");
    let value = serde_json::from_str(&output)
        .unwrap_or_else(|e| panic!("output is not JSON ({e}): {output}"));
    (value, report)
}

#[test]
fn runs_never_share_a_context() {
    let prompts = [
        "What is 2 plus 2?",
        "Name a fruit.",
        "What colour is the sky?",
    ];
    let args = [("max-tokens", "16")];
    // Each prompt twice in a row, then all at once: each run is one call, so
    // any reused token could only come from another run's context.
    let sequential: Vec<(Value, u64)> = prompts
        .iter()
        .chain(prompts.iter())
        .map(|p| {
            let (out, report) = infer_report(GRANTED, p, &args);
            (out["text"].clone(), report.inference.prompt_tokens_reused)
        })
        .collect();
    let concurrent: Vec<(Value, u64)> = std::thread::scope(|s| {
        let handles: Vec<_> = prompts
            .iter()
            .map(|p| {
                s.spawn(move || {
                    let (out, report) = infer_report(GRANTED, p, &args);
                    (out["text"].clone(), report.inference.prompt_tokens_reused)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (text, reused) in sequential.iter().chain(&concurrent) {
        assert_eq!(*reused, 0, "a run reused another run's tokens ({text})");
    }
    assert_eq!(sequential[..3], sequential[3..]);
    assert_eq!(sequential[..3], concurrent[..]);
}

#[test]
fn the_calls_of_one_run_reuse_its_prompt_and_report_it() {
    let profile = format!("{GRANTED}max-calls = 3\n");
    let (out, report) = infer_report(
        &profile,
        "Say hi.",
        &[("case", "loop"), ("max-tokens", "4")],
    );
    let calls: Vec<(u32, u32)> = report
        .events
        .iter()
        .filter_map(|e| match e {
            airlock_runtime::Event::Inference {
                prompt_tokens,
                prompt_tokens_reused,
                ..
            } => Some((*prompt_tokens, *prompt_tokens_reused)),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 3, "{out} {calls:?}");
    // The first call reads everything; the next ones the same prompt again,
    // all but its last token (read again for its logits).
    assert_eq!(calls[0].1, 0, "{calls:?}");
    for &(prompt, reused) in &calls[1..] {
        assert_eq!(reused, prompt - 1, "{calls:?}");
    }
    let total: u64 = calls.iter().map(|c| u64::from(c.1)).sum();
    assert_eq!(report.inference.prompt_tokens_reused, total);
}

#[test]
fn a_prompt_over_the_context_is_refused_with_both_numbers() {
    let long = "word ".repeat(3000);
    let out = infer(GRANTED, &long, &[("max-tokens", "16")]);
    assert_eq!(out["kind"], "context-too-long", "{out}");
    assert!(out["error"].as_str().unwrap().contains("2048"), "{out}");
}

#[test]
fn token_counts_are_exact_on_the_embedded_engine() {
    let text = "The quick brown fox jumps over the lazy dog.";
    let out = infer(GRANTED, text, &[("case", "count")]);
    let backend = airlock_runtime::inference::embedded::llama_backend().unwrap();
    let model = LlamaModel::load_from_file(
        backend,
        test_model(),
        &LlamaModelParams::default().with_vocab_only(true),
    )
    .unwrap();
    let expected = model.vocab().tokenize(text.as_bytes(), false, false).len();
    assert_eq!(out["tokens"], expected as u64, "{out}");
    assert_eq!(out["exact"], true);
}

#[test]
fn dropping_a_stream_midway_leaves_the_engine_usable() {
    let out = infer(
        GRANTED,
        "Tell me about the moon.",
        &[("case", "drop-stream"), ("max-tokens", "12")],
    );
    assert!(!out["first"].as_str().unwrap().is_empty(), "{out}");
    assert!(!out["after"]["text"].as_str().unwrap().is_empty(), "{out}");
}

#[test]
fn every_call_is_recorded_with_model_digest_and_tokens() {
    let ws = workspace(&[]);
    let request = Request {
        input: Some("Say hi.".into()),
        args: vec![("max-tokens".into(), "6".into())],
    };
    let report = run_request(
        guests::INFER,
        &profile(GRANTED),
        ws.path(),
        request,
        Some(embedded_models()),
    )
    .unwrap();
    let calls: Vec<_> = report
        .events
        .iter()
        .filter_map(|e| match e {
            airlock_runtime::Event::Inference {
                model,
                digest,
                completion_tokens,
                ..
            } => Some((model.clone(), digest.clone(), *completion_tokens)),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1, "{:?}", report.events);
    assert_eq!(calls[0].0, TEST_MODEL_NAME);
    assert!(calls[0].1.starts_with("sha256:b179c952"));
    assert!(calls[0].2 >= 1 && calls[0].2 <= 6);
    assert_eq!(report.inference.calls, 1);
}

// Prefix reuse on the embedded engine, through its Rust API: each test has
// engines of its own (not the shared one), so what they keep is theirs.

const AGENT_SYSTEM: &str = "You are a coding agent working in a small Python project. \
Each step you either call a tool or answer. Tools: read_file(path) returns a file, \
edit(path, search, replace) changes it, run_tests() runs the test suite. \
Keep answers short and precise; prefer reading before editing.";

const STEP_FORMAT: &str = r#"{"type":"object","properties":{"tool":{"enum":["read_file","edit","run_tests","answer"]},"argument":{"type":"string","maxLength":60}},"required":["tool","argument"]}"#;

fn ask(
    engine: &EmbeddedBackend,
    session: Option<&SessionKey>,
    messages: &[Message],
    format: OutputFormat,
) -> (String, Usage) {
    let request = ChatRequest {
        messages: messages.to_vec(),
        sampling: Sampling {
            max_tokens: 40,
            ..Sampling::default()
        },
        format,
        stream: false,
        session: session.cloned(),
    };
    let stream = engine
        .start(&airlock_tests::test_model_spec(), request)
        .unwrap();
    let (text, _, usage) = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(stream.collect())
        .unwrap();
    (text, usage)
}

fn message(role: Role, content: &str) -> Message {
    Message {
        role,
        content: content.into(),
    }
}

/// Three steps of an agent's conversation, each extending the last with the
/// answer and a tool result; the second step's answer is JSON by schema.
fn agent_steps(engine: &EmbeddedBackend, session: Option<&SessionKey>) -> Vec<(String, Usage)> {
    let mut conversation = vec![
        message(Role::System, AGENT_SYSTEM),
        message(
            Role::User,
            "The test test_add fails: add(2, 3) returns -1. Which file do you read first?",
        ),
    ];
    let mut steps = Vec::new();
    let tool_results = [
        "read_file(src/calc.py) returned:\ndef add(a, b):\n    return a - b\n\nWhich tool do you call next, with which argument?",
        "edit(src/calc.py) applied. run_tests() returned: 1 passed. Summarize the fix in one sentence.",
    ];
    for step in 0..3 {
        let format = if step == 1 {
            OutputFormat::JsonSchema(STEP_FORMAT.into())
        } else {
            OutputFormat::Text
        };
        let (text, usage) = ask(engine, session, &conversation, format);
        conversation.push(message(Role::Assistant, &text));
        if let Some(result) = tool_results.get(step) {
            conversation.push(message(Role::User, result));
        }
        steps.push((text, usage));
    }
    steps
}

#[test]
fn prefix_reuse_gives_identical_outputs() {
    let texts = |steps: &[(String, Usage)]| steps.iter().map(|s| s.0.clone()).collect::<Vec<_>>();
    let first = agent_steps(
        &EmbeddedBackend::new(airlock_tests::TEST_THREADS),
        Some(&SessionKey::new()),
    );
    let second = agent_steps(
        &EmbeddedBackend::new(airlock_tests::TEST_THREADS),
        Some(&SessionKey::new()),
    );
    assert_eq!(texts(&first), texts(&second));
    let json: Value = serde_json::from_str(&first[1].0)
        .unwrap_or_else(|e| panic!("step 2 is not JSON ({e}): {}", first[1].0));
    assert!(json["tool"].is_string(), "{json}");
    assert_eq!(first[0].1.prompt_tokens_reused, 0, "{:?}", first[0].1);
    for (text, usage) in &first[1..] {
        assert!(
            usage.prompt_tokens_reused > 0 && usage.prompt_tokens_reused < usage.prompt_tokens,
            "a later step reads only what is new: {usage:?} ({text})"
        );
    }

    // Measured, not asserted: how often reuse changes an answer against a
    // cold engine (llama.cpp promises no bit-identical logits across batch
    // splits).
    let cold = agent_steps(
        &EmbeddedBackend::new(airlock_tests::TEST_THREADS).with_kept_contexts(0),
        Some(&SessionKey::new()),
    );
    assert!(
        cold.iter().all(|s| s.1.prompt_tokens_reused == 0),
        "{cold:?}"
    );
    let differ = first.iter().zip(&cold).filter(|(a, b)| a.0 != b.0).count();
    let read = |steps: &[(String, Usage)]| -> u32 {
        steps
            .iter()
            .map(|s| s.1.prompt_tokens - s.1.prompt_tokens_reused)
            .sum()
    };
    println!(
        "prefix reuse vs cold: {differ} of {} answers differ; prompt tokens read {} (reuse) vs {} (cold)",
        first.len(),
        read(&first),
        read(&cold)
    );
}

#[test]
fn kept_contexts_are_bounded_and_end_with_their_session() {
    let engine = EmbeddedBackend::new(airlock_tests::TEST_THREADS).with_kept_contexts(2);
    let question = [message(Role::User, "Name three colours.")];
    let longer = |answer: &str| {
        vec![
            question[0].clone(),
            message(Role::Assistant, answer),
            message(Role::User, "And three more?"),
        ]
    };
    let plain = OutputFormat::Text;
    let [a, b, c] = [SessionKey::new(), SessionKey::new(), SessionKey::new()];
    let (answer, _) = ask(&engine, Some(&a), &question, plain.clone());
    // The same session goes on where it was.
    let (_, usage) = ask(&engine, Some(&a), &longer(&answer), plain.clone());
    assert!(usage.prompt_tokens_reused > 0, "{usage:?}");
    // Two other sessions: the limit is 2, so the first is evicted.
    ask(&engine, Some(&b), &question, plain.clone());
    ask(&engine, Some(&c), &question, plain.clone());
    let (_, usage) = ask(&engine, Some(&a), &longer(&answer), plain.clone());
    assert_eq!(usage.prompt_tokens_reused, 0, "evicted: {usage:?}");
    // A session that ended starts cold (c is still kept until it ends).
    let (_, usage) = ask(&engine, Some(&c), &longer(&answer), plain.clone());
    assert!(usage.prompt_tokens_reused > 0, "{usage:?}");
    engine.end_session(&c);
    let (_, usage) = ask(&engine, Some(&c), &longer(&answer), plain.clone());
    assert_eq!(usage.prompt_tokens_reused, 0, "ended: {usage:?}");
    // Without a session, nothing is reused.
    let (_, usage) = ask(&engine, None, &question, plain.clone());
    let (_, again) = ask(&engine, None, &question, plain);
    assert_eq!(
        (usage.prompt_tokens_reused, again.prompt_tokens_reused),
        (0, 0)
    );
}
