//! Skills asking a model through the HTTP engines, end to end: the binding,
//! the budget and the pinning checks are the same as on the embedded engine.
//! The OpenAI-compatible engine runs against the real llama-cpp-python
//! server; Ollama against the fixture that replays its documented shapes.

use airlock_runtime::inference::endpoint::{Endpoint, Timeouts};
use airlock_runtime::inference::ollama::OllamaBackend;
use airlock_runtime::inference::openai::OpenAiBackend;
use airlock_runtime::inference::resolve::granted_models;
use airlock_runtime::inference::{ModelSource, ModelSpec};
use airlock_runtime::models::ModelStore;
use airlock_runtime::policy::Policy;
use airlock_runtime::{Request, RunModels};
use airlock_session::config::Config;
use airlock_tests::llama_server::{LlamaServer, SERVED_NAME};
use airlock_tests::ollama_fixture::{FixtureConfig, OllamaFixture};
use airlock_tests::{TEST_MODEL_SHA256, guests, profile, run_request, workspace};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const GRANTED: &str =
    "name = \"http\"\n[limits]\nwall-clock-seconds = 300\n[inference]\nmodels = [\"smollm2\"]\n";

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn infer(models: RunModels, profile_toml: &str, input: &str, args: &[(&str, &str)]) -> Value {
    let ws = workspace(&[]);
    let request = Request {
        input: Some(input.into()),
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
        Some(models),
    )
    .unwrap_or_else(|e| panic!("run failed: {e}"));
    assert_eq!(report.error, None);
    serde_json::from_str(&report.output.unwrap()).unwrap()
}

fn openai_models(server: &LlamaServer) -> RunModels {
    let backend = OpenAiBackend::new(
        Endpoint::parse(&server.url()).unwrap(),
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(60),
        },
    )
    .unwrap();
    RunModels {
        backend: Arc::new(backend),
        models: vec![ModelSpec {
            name: "smollm2".into(),
            digest: format!("sha256:{TEST_MODEL_SHA256}"),
            family: "llama".into(),
            source: ModelSource::Served {
                model: SERVED_NAME.into(),
            },
            context_length: 0,
        }],
    }
}

#[test]
fn a_skill_streams_through_the_openai_engine_as_the_server_answers() {
    let server = LlamaServer::shared();
    let _turn = block_on(LlamaServer::turn());
    let prompt = "Name three colours.";
    // llama-cpp-python reuses the evaluated prefix of the previous request,
    // which changes its arithmetic slightly: warm it up with this prompt so
    // both compared requests find the same cached state.
    infer(
        openai_models(server),
        GRANTED,
        prompt,
        &[("max-tokens", "24")],
    );
    let one_shot = infer(
        openai_models(server),
        GRANTED,
        prompt,
        &[("max-tokens", "24")],
    );
    let streamed = infer(
        openai_models(server),
        GRANTED,
        prompt,
        &[("case", "stream"), ("max-tokens", "24")],
    );
    let pieces = streamed["pieces"].as_array().unwrap();
    assert!(pieces.len() > 1, "{streamed}\n{}", server.log());
    let joined: String = pieces.iter().map(|p| p.as_str().unwrap()).collect();
    assert!(!joined.trim().is_empty());
    assert_eq!(
        Value::String(joined),
        one_shot["text"],
        "greedy: same answer"
    );
    assert_eq!(one_shot["digest"], format!("sha256:{TEST_MODEL_SHA256}"));
}

#[test]
fn a_skill_gets_schema_shaped_json_through_the_openai_engine() {
    let server = LlamaServer::shared();
    let _turn = block_on(LlamaServer::turn());
    let schema = r#"{"type":"object","properties":{"colour":{"type":"string","maxLength":20},"count":{"type":"integer"}},"required":["colour","count"]}"#;
    let out = infer(
        openai_models(server),
        GRANTED,
        "Pick a colour and a number.",
        &[("schema", schema), ("max-tokens", "80")],
    );
    let text = out["text"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(
        parsed["colour"].is_string() && parsed["count"].is_i64(),
        "{text}"
    );
}

#[test]
fn the_budget_holds_on_the_openai_engine_too() {
    let server = LlamaServer::shared();
    let _turn = block_on(LlamaServer::turn());
    let out = infer(
        openai_models(server),
        &format!("{GRANTED}max-calls = 2\n"),
        "Say hi.",
        &[("case", "loop"), ("max-tokens", "4")],
    );
    assert_eq!(out["calls-ok"], 2, "{out}");
    assert_eq!(out["kind"], "budget-exhausted");
}

/// A home whose store pins `smollm2` as the Ollama model `llama3.2:1b` with
/// `digest`, and a configuration pointing at the fixture.
fn ollama_setup(fixture: &OllamaFixture, digest: &str) -> (tempfile::TempDir, Config) {
    let home = tempfile::tempdir().unwrap();
    let store = ModelStore::open(home.path());
    store
        .pin_ollama("smollm2", "llama3.2:1b", &format!("sha256:{digest}"), false)
        .unwrap();
    let config = Config::parse(
        &format!(
            "[engine]\nbackend = \"ollama\"\nendpoint = \"{}\"\n",
            fixture.url()
        ),
        None,
    )
    .unwrap();
    (home, config)
}

#[test]
fn a_skill_streams_through_the_ollama_engine_after_its_digest_is_checked() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let (home, config) = ollama_setup(&fixture, &FixtureConfig::default().digest);
    let backend = Arc::new(
        OllamaBackend::new(
            config.engine.endpoint.clone().unwrap(),
            config.engine.timeouts,
        )
        .unwrap(),
    );
    let models = block_on(granted_models(
        &profile(GRANTED),
        &config,
        &ModelStore::open(home.path()),
        backend,
        &Policy::default(),
    ))
    .unwrap()
    .unwrap();
    let out = infer(
        models,
        GRANTED,
        "What colour is the sky?",
        &[("case", "stream")],
    );
    let pieces: Vec<&str> = out["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(pieces.concat(), "The sky is blue.");
    assert_eq!(fixture.last_chat()["model"], "llama3.2:1b");
}

#[test]
fn an_ollama_model_whose_digest_drifted_is_refused_before_the_run() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let pinned = "0".repeat(64);
    let (home, config) = ollama_setup(&fixture, &pinned);
    let backend = Arc::new(
        OllamaBackend::new(
            config.engine.endpoint.clone().unwrap(),
            config.engine.timeouts,
        )
        .unwrap(),
    );
    let err = block_on(granted_models(
        &profile(GRANTED),
        &config,
        &ModelStore::open(home.path()),
        backend,
        &Policy::default(),
    ))
    .err()
    .expect("drift must refuse the run");
    assert!(err.is_drift(), "{err}");
    let message = err.to_string();
    assert!(message.contains(&pinned), "{message}");
    assert!(
        message.contains(&FixtureConfig::default().digest),
        "{message}"
    );
    assert!(
        fixture
            .requests()
            .iter()
            .all(|r| !r.path.contains("/api/chat")),
        "no chat was sent"
    );
}
