//! The HTTP inference engines, at the `Backend` level:
//!
//! - Ollama's native API, against a fixture that replays its documented
//!   response shapes (`airlock_tests::ollama_fixture`);
//! - an OpenAI-compatible API, against a real third-party server,
//!   llama-cpp-python's (`airlock_tests::llama_server`), running the test model;
//! - the loopback-only endpoint rule and the proxy-free client, run inside a
//!   private network namespace so that no packet can leave even if the code
//!   under test were wrong.

use airlock_runtime::inference::endpoint::{Endpoint, Timeouts};
use airlock_runtime::inference::ollama::OllamaBackend;
use airlock_runtime::inference::openai::OpenAiBackend;
use airlock_runtime::inference::{
    Backend, ChatRequest, EngineError, FinishReason, Message, ModelSource, ModelSpec, OutputFormat,
    Role, Sampling, StreamEvent, TokenStream, Usage,
};
use airlock_tests::TEST_MODEL_SHA256;
use airlock_tests::llama_server::{LlamaServer, SERVED_NAME};
use airlock_tests::ollama_fixture::{Ending, FixtureConfig, OllamaFixture};
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};

const DIGEST: &str = "baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878";

/// Every wait in this file is bounded: a hang is a failure, not a stuck CI job.
const BOUND: Duration = Duration::from_secs(30);

fn fixture_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        read: Duration::from_secs(5),
    }
}

fn ollama(url: &str) -> OllamaBackend {
    OllamaBackend::new(Endpoint::parse(url).unwrap(), fixture_timeouts()).unwrap()
}

fn ollama_model() -> ModelSpec {
    ModelSpec {
        name: "llama".into(),
        digest: format!("sha256:{DIGEST}"),
        family: "llama".into(),
        source: ModelSource::Ollama {
            model: "llama3.2:1b".into(),
        },
        context_length: 4096,
    }
}

fn request(prompt: &str, stream: bool, format: OutputFormat, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message {
                role: Role::System,
                content: "You are a concise assistant.".into(),
            },
            Message {
                role: Role::User,
                content: prompt.into(),
            },
        ],
        sampling: Sampling {
            max_tokens,
            ..Sampling::default()
        },
        format,
        stream,
        session: None,
    }
}

/// Every event of a stream, up to and including `Done` or an error.
async fn events(mut stream: TokenStream) -> Vec<Result<StreamEvent, EngineError>> {
    let mut all = Vec::new();
    while let Some(event) = tokio::time::timeout(BOUND, stream.next())
        .await
        .expect("the stream must not hang")
    {
        let last = matches!(event, Ok(StreamEvent::Done { .. }) | Err(_));
        all.push(event);
        if last {
            break;
        }
    }
    all
}

fn texts(events: &[Result<StreamEvent, EngineError>]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Ok(StreamEvent::Text { text, .. }) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

async fn collect(stream: TokenStream) -> Result<(String, FinishReason, Usage), EngineError> {
    tokio::time::timeout(BOUND, stream.collect())
        .await
        .expect("the answer must not hang")
}

fn unavailable(result: Result<impl std::fmt::Debug, EngineError>) -> String {
    match result {
        Err(EngineError::Unavailable(message)) => message,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Ollama, against the fixture.

#[tokio::test]
async fn ollama_streams_pieces_that_collect_to_the_whole_answer() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let backend = ollama(&fixture.url());
    let stream = backend
        .start(
            &ollama_model(),
            request("What colour is the sky?", true, OutputFormat::Text, 64),
        )
        .unwrap();
    let events = events(stream).await;
    assert_eq!(texts(&events), ["The", " sky", " is", " blue", "."]);
    assert!(events.iter().all(|e| !matches!(
        e,
        Ok(StreamEvent::Text { tokens, .. }) if *tokens != 1
    )));
    assert_eq!(
        events.last().unwrap(),
        &Ok(StreamEvent::Done {
            finish: FinishReason::Stop,
            usage: Usage {
                prompt_tokens: 26,
                completion_tokens: 5,
                prompt_tokens_reused: 0
            }
        })
    );

    let sent = fixture.last_chat();
    assert_eq!(sent["model"], "llama3.2:1b");
    assert_eq!(sent["stream"], true);
    // Ollama keeps the model, and the prompt its runner holds, loaded.
    assert_eq!(sent["keep_alive"], "30m");
    assert_eq!(
        sent["options"],
        json!({"temperature": 0.0, "top_p": 1.0, "seed": 0, "num_predict": 64, "num_ctx": 4096})
    );
    assert_eq!(
        sent["messages"],
        json!([
            {"role": "system", "content": "You are a concise assistant."},
            {"role": "user", "content": "What colour is the sky?"}
        ])
    );
    assert!(sent.get("format").is_none(), "{sent}");
}

#[tokio::test]
async fn ollama_unstreamed_answer_is_one_piece_with_all_its_tokens() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let backend = ollama(&fixture.url());
    let stream = backend
        .start(
            &ollama_model(),
            request("What colour is the sky?", false, OutputFormat::Text, 64),
        )
        .unwrap();
    let events = events(stream).await;
    assert_eq!(
        events,
        [
            Ok(StreamEvent::Text {
                text: "The sky is blue.".into(),
                tokens: 5
            }),
            Ok(StreamEvent::Done {
                finish: FinishReason::Stop,
                usage: Usage {
                    prompt_tokens: 26,
                    completion_tokens: 5,
                    prompt_tokens_reused: 0
                }
            })
        ]
    );
    assert_eq!(fixture.last_chat()["stream"], false);
}

#[tokio::test]
async fn ollama_gets_the_schema_as_format() {
    let fixture = OllamaFixture::start(FixtureConfig {
        answer: vec!["{\"colour\":".into(), " \"blue\"}".into()],
        ..FixtureConfig::default()
    });
    let schema = json!({
        "type": "object",
        "properties": {"colour": {"type": "string"}},
        "required": ["colour"]
    });
    let stream = ollama(&fixture.url())
        .start(
            &ollama_model(),
            request(
                "Sky colour?",
                true,
                OutputFormat::JsonSchema(schema.to_string()),
                64,
            ),
        )
        .unwrap();
    let (text, _, _) = collect(stream).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["colour"],
        "blue"
    );
    assert_eq!(fixture.last_chat()["format"], schema);
}

#[tokio::test]
async fn ollama_reaching_max_tokens_finishes_with_length() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let stream = ollama(&fixture.url())
        .start(
            &ollama_model(),
            request("Sky?", true, OutputFormat::Text, 3),
        )
        .unwrap();
    let (text, finish, usage) = collect(stream).await.unwrap();
    assert_eq!(text, "The sky is");
    assert_eq!(finish, FinishReason::Length);
    assert_eq!(usage.completion_tokens, 3);
}

#[tokio::test]
async fn ollama_refuses_grammars_and_models_pinned_elsewhere_before_any_request() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let backend = ollama(&fixture.url());
    let grammar = backend.start(
        &ollama_model(),
        request("x", true, OutputFormat::Grammar("root ::= \"a\"".into()), 8),
    );
    let Err(EngineError::InvalidRequest(message)) = grammar else {
        panic!("a grammar must be refused");
    };
    assert!(
        message.contains("grammars need the embedded engine"),
        "{message}"
    );

    let gguf = ModelSpec {
        source: ModelSource::Gguf {
            path: "/models/x.gguf".into(),
        },
        ..ollama_model()
    };
    let Err(EngineError::InvalidRequest(message)) =
        backend.start(&gguf, request("x", true, OutputFormat::Text, 8))
    else {
        panic!("a GGUF model must be refused by the Ollama engine");
    };
    assert!(message.contains("pinned as a GGUF file"), "{message}");
    assert!(fixture.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn ollama_verify_accepts_the_pinned_digest_and_refuses_drift() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let backend = ollama(&fixture.url());
    backend.verify(&ollama_model()).await.unwrap();
    assert_eq!(
        backend.tags().await.unwrap(),
        [("llama3.2:1b".to_string(), format!("sha256:{DIGEST}"))]
    );

    let drifted = "0".repeat(64);
    let fixture = OllamaFixture::start(FixtureConfig {
        digest: drifted.clone(),
        ..FixtureConfig::default()
    });
    let err = ollama(&fixture.url())
        .verify(&ollama_model())
        .await
        .unwrap_err();
    let EngineError::ModelDrift {
        model,
        pinned,
        found,
    } = &err
    else {
        panic!("expected ModelDrift, got {err:?}");
    };
    assert_eq!(model, "llama");
    assert_eq!(pinned, &format!("sha256:{DIGEST}"));
    assert_eq!(
        found,
        &format!(
            "Ollama at {}/ reports sha256:{drifted} for llama3.2:1b",
            fixture.url()
        )
    );
    let message = err.to_string();
    assert!(message.contains(&format!("sha256:{DIGEST}")), "{message}");
    assert!(message.contains(&format!("sha256:{drifted}")), "{message}");
}

#[tokio::test]
async fn ollama_verify_names_a_missing_model_and_how_to_get_it() {
    let fixture = OllamaFixture::start(FixtureConfig {
        model: "qwen2.5:0.5b".into(),
        ..FixtureConfig::default()
    });
    let message = unavailable(ollama(&fixture.url()).verify(&ollama_model()).await);
    assert_eq!(
        message,
        format!(
            "Ollama at {}/ does not have llama3.2:1b; run `ollama pull llama3.2:1b`",
            fixture.url()
        )
    );
}

#[tokio::test]
async fn ollama_error_status_carries_the_servers_message() {
    let fixture = OllamaFixture::start(FixtureConfig {
        model: "qwen2.5:0.5b".into(),
        ..FixtureConfig::default()
    });
    let stream = ollama(&fixture.url())
        .start(&ollama_model(), request("x", true, OutputFormat::Text, 8))
        .unwrap();
    let message = unavailable(collect(stream).await);
    assert_eq!(
        message,
        format!(
            "Ollama at {}/ answered HTTP 404 Not Found: model \"llama3.2:1b\" not found, try pulling it first",
            fixture.url()
        )
    );
}

#[tokio::test]
async fn ollama_closing_mid_stream_is_unavailable_at_once() {
    let fixture = OllamaFixture::start(FixtureConfig {
        ending: Ending::CloseAfter(2),
        ..FixtureConfig::default()
    });
    let started = Instant::now();
    let stream = ollama(&fixture.url())
        .start(&ollama_model(), request("x", true, OutputFormat::Text, 64))
        .unwrap();
    let events = events(stream).await;
    assert_eq!(texts(&events), ["The", " sky"]);
    let message = unavailable(events.last().unwrap().clone().map(|_| ()));
    assert!(
        message.starts_with(&format!(
            "Ollama at {}/ broke off the answer after 2 pieces",
            fixture.url()
        )),
        "{message}"
    );
    // Well under the 5 s read timeout: a closed connection is noticed, not waited out.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn ollama_going_silent_is_unavailable_after_the_read_timeout() {
    let fixture = OllamaFixture::start(FixtureConfig {
        ending: Ending::StallAfter(1),
        ..FixtureConfig::default()
    });
    let backend = OllamaBackend::new(
        Endpoint::parse(&fixture.url()).unwrap(),
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(1),
        },
    )
    .unwrap();
    let started = Instant::now();
    let stream = backend
        .start(&ollama_model(), request("x", true, OutputFormat::Text, 64))
        .unwrap();
    let message = unavailable(collect(stream).await);
    assert_eq!(
        message,
        format!(
            "Ollama at {}/ broke off the answer after 1 pieces: it went silent for 1 s",
            fixture.url()
        )
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn ollama_endless_line_is_refused_not_buffered() {
    let fixture = OllamaFixture::start(FixtureConfig {
        ending: Ending::EndlessLine,
        ..FixtureConfig::default()
    });
    let stream = ollama(&fixture.url())
        .start(&ollama_model(), request("x", true, OutputFormat::Text, 64))
        .unwrap();
    let message = unavailable(collect(stream).await);
    assert_eq!(
        message,
        format!(
            "Ollama at {}/ broke off the answer after 0 pieces: it sent a line longer than 1048576 bytes without a line break",
            fixture.url()
        )
    );
    // The engine hung up instead of reading the remaining 63 MiB.
    let started = Instant::now();
    while fixture.abandoned() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the engine kept reading"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn ollama_connection_refused_names_the_endpoint() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let backend = ollama(&url);
    let stream = backend
        .start(&ollama_model(), request("x", true, OutputFormat::Text, 8))
        .unwrap();
    let message = unavailable(collect(stream).await);
    assert!(
        message.starts_with(&format!("Ollama at {url}/ cannot be reached (")),
        "{message}"
    );
    assert!(message.contains("refused"), "{message}");
    let message = unavailable(backend.verify(&ollama_model()).await);
    assert!(
        message.starts_with(&format!("Ollama at {url}/ cannot be reached")),
        "{message}"
    );
}

#[tokio::test]
async fn dropping_the_stream_cancels_the_request() {
    let fixture = OllamaFixture::start(FixtureConfig {
        answer: (0..200).map(|i| format!(" w{i}")).collect(),
        piece_delay: Duration::from_millis(20),
        ..FixtureConfig::default()
    });
    let mut stream = ollama(&fixture.url())
        .start(
            &ollama_model(),
            request("x", true, OutputFormat::Text, 1000),
        )
        .unwrap();
    for _ in 0..2 {
        let event = tokio::time::timeout(BOUND, stream.next()).await.unwrap();
        assert!(
            matches!(event, Some(Ok(StreamEvent::Text { .. }))),
            "{event:?}"
        );
    }
    drop(stream);
    // The engine closes the connection; the server's next writes fail long
    // before the 200 pieces (4 s) are through.
    let started = Instant::now();
    while fixture.abandoned() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the fixture kept streaming to a cancelled request"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------
// An OpenAI-compatible API, against llama-cpp-python's server.

fn served_model(name: &str) -> ModelSpec {
    ModelSpec {
        name: "smollm2".into(),
        digest: format!("sha256:{TEST_MODEL_SHA256}"),
        family: "llama".into(),
        source: ModelSource::Served { model: name.into() },
        context_length: 0,
    }
}

fn openai(server: &LlamaServer) -> OpenAiBackend {
    OpenAiBackend::new(
        Endpoint::parse(&server.url()).unwrap(),
        Timeouts {
            connect: Duration::from_secs(2),
            read: Duration::from_secs(60),
        },
    )
    .unwrap()
}

#[tokio::test]
async fn openai_streamed_and_whole_answers_agree_when_greedy() {
    let server = LlamaServer::shared();
    let _turn = LlamaServer::turn().await;
    let backend = openai(server);
    let model = served_model(SERVED_NAME);
    for prompt in ["What is the capital of France?", "Name three colours."] {
        let streamed = events(
            backend
                .start(&model, request(prompt, true, OutputFormat::Text, 32))
                .unwrap(),
        )
        .await;
        let pieces = texts(&streamed);
        let Some(Ok(StreamEvent::Done { usage, .. })) = streamed.last() else {
            panic!(
                "the stream must end with Done: {streamed:?}\n{}",
                server.log()
            );
        };
        assert!(pieces.len() > 1, "streamed in pieces: {pieces:?}");
        assert!(
            usage.prompt_tokens > 0 && usage.completion_tokens > 0,
            "{usage:?}"
        );

        let (whole, _, whole_usage) = collect(
            backend
                .start(&model, request(prompt, false, OutputFormat::Text, 32))
                .unwrap(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
        assert!(!whole.trim().is_empty());
        assert_eq!(pieces.concat(), whole, "same greedy answer for {prompt:?}");
        assert!(whole_usage.prompt_tokens > 0, "{whole_usage:?}");
        // The request carried `cache_prompt` (llama.cpp's field), which this
        // server accepts; it says nothing of cached tokens, so none count.
        assert_eq!(whole_usage.prompt_tokens_reused, 0, "{whole_usage:?}");
    }
}

#[tokio::test]
async fn openai_reaching_max_tokens_finishes_with_length() {
    let server = LlamaServer::shared();
    let _turn = LlamaServer::turn().await;
    let backend = openai(server);
    let model = served_model(SERVED_NAME);
    for stream in [false, true] {
        let (_, finish, usage) = collect(
            backend
                .start(
                    &model,
                    request(
                        "Write a long story about a dragon.",
                        stream,
                        OutputFormat::Text,
                        8,
                    ),
                )
                .unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(finish, FinishReason::Length, "stream: {stream}");
        assert_eq!(usage.completion_tokens, 8, "stream: {stream}");
    }
}

#[tokio::test]
async fn openai_json_schema_output_parses_with_the_required_keys() {
    let server = LlamaServer::shared();
    let _turn = LlamaServer::turn().await;
    let backend = openai(server);
    let model = served_model(SERVED_NAME);
    // Bounded lengths keep every answer well inside max_tokens, so a
    // truncated (unparseable) answer would be the engine's fault.
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 24},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "tags": {
                "type": "array",
                "items": {"type": "string", "maxLength": 12},
                "maxItems": 3
            }
        },
        "required": ["name", "age", "tags"]
    });
    let prompts = [
        "Describe a person called Ada who is 36 years old.",
        "Tell me a joke about cats.",
        "Write a haiku about the sea.",
        "List the planets of the solar system.",
    ];
    for (i, prompt) in prompts.iter().enumerate() {
        let stream = i % 2 == 0;
        let (text, _, _) = collect(
            backend
                .start(
                    &model,
                    request(
                        prompt,
                        stream,
                        OutputFormat::JsonSchema(schema.to_string()),
                        200,
                    ),
                )
                .unwrap(),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{prompt:?} (stream {stream}): {e}: {text}"));
        let name = value["name"].as_str().unwrap_or_else(|| panic!("{text}"));
        let age = value["age"].as_u64().unwrap_or_else(|| panic!("{text}"));
        let tags = value["tags"].as_array().unwrap_or_else(|| panic!("{text}"));
        // The schema itself was enforced, not just "some JSON": its bounds hold
        // (left alone, this model lists a score of tags).
        assert!(
            name.chars().count() <= 24 && age <= 150 && tags.len() <= 3,
            "{text}"
        );
        assert!(tags.iter().all(Value::is_string), "{text}");
    }
}

#[tokio::test]
async fn openai_verify_accepts_the_served_name_and_refuses_others() {
    let server = LlamaServer::shared();
    // Even `GET /v1/models` interrupts a running stream on this server.
    let _turn = LlamaServer::turn().await;
    let backend = openai(server);
    backend.verify(&served_model(SERVED_NAME)).await.unwrap();
    assert_eq!(backend.models().await.unwrap(), [SERVED_NAME]);
    let message = unavailable(backend.verify(&served_model("gpt-4o")).await);
    assert_eq!(
        message,
        format!(
            "the OpenAI-compatible server at {}/ does not serve `gpt-4o` (it serves `{SERVED_NAME}`); start it with that model, or pin the name it serves",
            server.url()
        )
    );
}

#[tokio::test]
async fn openai_stream_interrupted_by_another_request_is_not_taken_as_complete() {
    // llama-cpp-python ends a running stream with `[DONE]` and no finish
    // reason when another request arrives (`interrupt_requests`, on by default).
    let server = LlamaServer::shared();
    let _turn = LlamaServer::turn().await;
    let backend = openai(server);
    let mut stream = backend
        .start(
            &served_model(SERVED_NAME),
            request(
                "Write a very long story about a dragon and a knight.",
                true,
                OutputFormat::Text,
                2000,
            ),
        )
        .unwrap();
    let first = tokio::time::timeout(BOUND, stream.next()).await.unwrap();
    assert!(
        matches!(first, Some(Ok(StreamEvent::Text { .. }))),
        "{first:?}\n{}",
        server.log()
    );
    let other = backend.clone();
    let models = tokio::spawn(async move { other.models().await });
    let message = loop {
        match tokio::time::timeout(BOUND, stream.next()).await.unwrap() {
            Some(Ok(StreamEvent::Text { .. } | StreamEvent::Prompt { .. })) => {}
            Some(Err(EngineError::Unavailable(message))) => break message,
            other => panic!("expected Unavailable after the interruption, got {other:?}"),
        }
    };
    assert!(message.contains("without a finish reason"), "{message}");
    assert_eq!(models.await.unwrap().unwrap(), [SERVED_NAME]);
}

#[tokio::test]
async fn openai_server_killed_mid_stream_is_unavailable_quickly() {
    // Its own server: this one is killed.
    let server = tokio::task::spawn_blocking(LlamaServer::start)
        .await
        .unwrap();
    let backend = openai(&server);
    let mut stream = backend
        .start(
            &served_model(SERVED_NAME),
            request(
                "Write a very long story about a dragon and a knight.",
                true,
                OutputFormat::Text,
                2000,
            ),
        )
        .unwrap();
    let first = tokio::time::timeout(BOUND, stream.next()).await.unwrap();
    assert!(
        matches!(first, Some(Ok(StreamEvent::Text { .. }))),
        "{first:?}\n{}",
        server.log()
    );
    server.kill();
    let killed = Instant::now();
    let message = loop {
        match tokio::time::timeout(BOUND, stream.next()).await.unwrap() {
            Some(Ok(StreamEvent::Text { .. } | StreamEvent::Prompt { .. })) => {}
            Some(Err(EngineError::Unavailable(message))) => break message,
            other => panic!("expected Unavailable after the kill, got {other:?}"),
        }
    };
    assert!(
        message.starts_with(&format!(
            "the OpenAI-compatible server at {}/ broke off the answer after",
            server.url()
        )),
        "{message}"
    );
    assert!(
        killed.elapsed() < Duration::from_secs(5),
        "{:?}",
        killed.elapsed()
    );
}

// ---------------------------------------------------------------------------
// The endpoint rule and the proxy-free client, in a private network namespace.

/// Set in the child process that runs a scenario inside the namespace.
const NETNS_CHILD: &str = "AIRLOCK_TEST_NETNS_CHILD";
/// The child prints this after its scenario passed.
const NETNS_DONE: &str = "netns scenario passed:";

/// Run `scenario` in a copy of this test binary inside a new network
/// namespace (`unshare --net --map-root-user`) that has only a loopback
/// interface, with `env` set for that process only. In the parent this
/// asserts that the child ran the scenario and passed; it fails, never
/// skips, when namespaces are unavailable.
fn in_private_netns(test: &str, env: &[(&str, &str)], scenario: impl FnOnce()) {
    let name = format!("inference_http::{test}");
    if std::env::var(NETNS_CHILD).as_deref() == Ok(name.as_str()) {
        let up = Command::new("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .expect("run `ip link set lo up` in the namespace");
        assert!(up.success(), "cannot bring loopback up in the namespace");
        let links = Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .unwrap();
        let links = String::from_utf8_lossy(&links.stdout);
        assert_eq!(
            links.lines().count(),
            1,
            "the namespace must hold only loopback:\n{links}"
        );
        assert!(links.contains(": lo:"), "{links}");
        scenario();
        println!("{NETNS_DONE} {name}");
        return;
    }
    let probe = Command::new("unshare")
        .args(["--net", "--map-root-user", "true"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs `unshare` (util-linux) to run in a private network namespace: {e}"
            )
        });
    assert!(
        probe.status.success(),
        "this test needs a private network namespace, and `unshare --net --map-root-user true` failed: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let output = Command::new("unshare")
        .args(["--net", "--map-root-user", "--"])
        .arg(std::env::current_exe().unwrap())
        .args([
            name.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(NETNS_CHILD, &name)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(&format!("{NETNS_DONE} {name}")),
        "the scenario failed in the namespace ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn endpoints_off_this_machine_are_refused_with_the_reason() {
    in_private_netns(
        "endpoints_off_this_machine_are_refused_with_the_reason",
        &[],
        || {
            for (raw, reason) in [
                (
                    "http://10.0.0.1:11434",
                    "10.0.0.1 is not a loopback address. Airlock talks only to inference servers on this machine",
                ),
                (
                    "http://example.com",
                    "host `example.com` is a name other than localhost, and names are not resolved (a lookup could leave the machine)",
                ),
                (
                    "https://127.0.0.1:1",
                    "scheme `https` is not supported: the server is on this machine, so plain http:// is used",
                ),
                (
                    "http://user:pw@127.0.0.1:1",
                    "credentials in the URL are not supported",
                ),
            ] {
                let err = Endpoint::parse(raw).expect_err(raw);
                assert!(
                    err.to_string()
                        .starts_with(&format!("endpoint `{raw}` refused: {reason}")),
                    "{err}"
                );
            }
            for raw in [
                "http://127.0.0.1:8080",
                "http://[::1]:8080",
                "http://localhost:8080",
            ] {
                let endpoint = Endpoint::parse(raw).unwrap_or_else(|e| panic!("{e}"));
                assert!(
                    endpoint.addrs().iter().all(|a| a.ip().is_loopback()),
                    "{raw}"
                );
            }
        },
    );
}

/// What the proxy tests run: the Ollama engine at `localhost` and at
/// `127.0.0.1` reaches the fixture directly, whatever the environment says.
fn reaches_the_fixture_directly() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    for url in [
        fixture.url(),
        format!("http://localhost:{}", fixture.port()),
    ] {
        let backend = ollama(&url);
        block_on(async {
            backend.verify(&ollama_model()).await.unwrap();
            let stream = backend
                .start(&ollama_model(), request("x", true, OutputFormat::Text, 64))
                .unwrap();
            let (text, _, _) = collect(stream).await.unwrap();
            assert_eq!(text, "The sky is blue.");
        });
    }
    assert_eq!(fixture.requests().len(), 4);
}

#[test]
fn proxy_settings_are_ignored() {
    let proxy = "http://10.0.0.1:3128";
    in_private_netns(
        "proxy_settings_are_ignored",
        &[
            ("HTTP_PROXY", proxy),
            ("http_proxy", proxy),
            ("ALL_PROXY", proxy),
            ("all_proxy", proxy),
        ],
        reaches_the_fixture_directly,
    );
}

#[test]
fn proxy_settings_pointing_at_a_loopback_trap_are_ignored() {
    // Inside the fresh namespace every port is free, so the trap can have a
    // fixed one: had the client used the proxy, the trap would see it.
    let trap = "http://127.0.0.1:3128";
    in_private_netns(
        "proxy_settings_pointing_at_a_loopback_trap_are_ignored",
        &[
            ("HTTP_PROXY", trap),
            ("http_proxy", trap),
            ("ALL_PROXY", trap),
            ("all_proxy", trap),
        ],
        || {
            let trap = std::net::TcpListener::bind("127.0.0.1:3128").unwrap();
            trap.set_nonblocking(true).unwrap();
            reaches_the_fixture_directly();
            assert!(
                trap.accept().is_err(),
                "the client connected to the proxy from the environment"
            );
        },
    );
}
