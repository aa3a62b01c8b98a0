//! Host-owned inference on the embedded llama.cpp engine, with the real
//! SmolLM2-135M model: what a skill gets through the binding is what
//! llama.cpp gives, sampling repeats, structured output parses, and the
//! profile's grants and budget hold.

use airlock_runtime::Request;
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
    let output = report.output.expect("output");
    serde_json::from_str(&output).unwrap_or_else(|e| panic!("output is not JSON ({e}): {output}"))
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

#[test]
fn concurrent_runs_never_share_a_context() {
    let prompts = [
        "What is 2 plus 2?",
        "Name a fruit.",
        "What colour is the sky?",
    ];
    let sequential: Vec<Value> = prompts
        .iter()
        .map(|p| infer(GRANTED, p, &[("max-tokens", "16")])["text"].clone())
        .collect();
    let concurrent: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = prompts
            .iter()
            .map(|p| s.spawn(move || infer(GRANTED, p, &[("max-tokens", "16")])["text"].clone()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(sequential, concurrent);
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
