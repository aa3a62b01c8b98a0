//! Inference numbers, measured side by side in one run on the real
//! SmolLM2-135M model: model load time; time to first token and generation
//! speed of the embedded llama.cpp engine called directly vs through a skill;
//! and the OpenAI-compatible engine (llama-cpp-python's server on loopback)
//! through a skill vs a direct HTTP request to the same server.
//!
//! Each pair is measured alternately, ROUNDS times, and the medians printed.
//! Needs the test model (scripts/fetch-test-model) and the server
//! (scripts/setup-test-server). Run: `cargo bench -p airlock-runtime --bench
//! inference`; record the results in docs/performance.md.

// Ambient std::fs allowed: benchmarks build their fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use airlock_runtime::inference::embedded::EmbeddedBackend;
use airlock_runtime::inference::endpoint::{Endpoint, Timeouts};
use airlock_runtime::inference::openai::OpenAiBackend;
use airlock_runtime::inference::{
    Backend, ChatRequest, Message, ModelSource, ModelSpec, OutputFormat, Role, Sampling,
    StreamEvent,
};
use airlock_runtime::{Airlock, Profile, Request, RunModels};
use airlock_tests::llama_server::LlamaServer;
use airlock_tests::{guests, test_model_spec};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 7;
const MAX_TOKENS: u32 = 96;
const PROMPT: &str = "Write a detailed essay about the history of computing.";
const THREADS: u32 = 1;

/// One generation as seen by its caller.
#[derive(Clone, Copy)]
struct Timing {
    first_token: Duration,
    total: Duration,
    tokens: u32,
}

impl Timing {
    /// Tokens per second after the first one (the decode rate).
    fn decode_rate(&self) -> f64 {
        f64::from(self.tokens.saturating_sub(1)) / (self.total - self.first_token).as_secs_f64()
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let spec = test_model_spec();

    // Model load: a fresh engine each time, so the file is really loaded.
    let mut loads = Vec::new();
    for _ in 0..ROUNDS {
        let engine = EmbeddedBackend::new(THREADS);
        loads.push(engine.preload(&spec).unwrap());
    }
    println!(
        "model load (SmolLM2-135M Q4_1, 98 MB, mmap): median {:?}",
        median(&loads)
    );

    let embedded: Arc<EmbeddedBackend> = Arc::new(EmbeddedBackend::new(THREADS));
    embedded.preload(&spec).unwrap();
    let home = tempfile::tempdir().unwrap();
    let airlock = Airlock::new(Some(home.path())).unwrap();
    let skill = airlock.load(Path::new(guests::INFER)).unwrap();
    let profile = Profile::parse(
        "name = \"bench\"\n[limits]\nwall-clock-seconds = 600\n[inference]\nmodels = [\"smollm2\"]\nmax-calls = 1000\nmax-completion-tokens = 1000000\nmax-prompt-tokens = 1000000\n",
        airlock_runtime::profile::ProfileSource::Builtin("bench".into()),
    )
    .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let embedded_models = RunModels {
        backend: embedded.clone(),
        models: vec![spec.clone()],
    };

    let mut direct = Vec::new();
    let mut skilled = Vec::new();
    for _ in 0..ROUNDS {
        direct.push(rt.block_on(direct_engine(embedded.as_ref(), &spec)));
        skilled.push(through_skill(
            &rt,
            &airlock,
            &skill,
            &profile,
            ws.path(),
            &embedded_models,
        ));
    }
    compare("embedded llama.cpp", &direct, &skilled);

    // The OpenAI-compatible engine on a real server on loopback.
    let server = LlamaServer::start();
    let endpoint = Endpoint::parse(&server.url()).unwrap();
    let http = Arc::new(OpenAiBackend::new(endpoint.clone(), Timeouts::default()).unwrap());
    let served = ModelSpec {
        source: ModelSource::Served {
            model: airlock_tests::llama_server::SERVED_NAME.into(),
        },
        ..spec.clone()
    };
    let http_models = RunModels {
        backend: http,
        models: vec![served],
    };
    let client = endpoint.client(Timeouts::default()).unwrap();
    let url = endpoint.join("/v1/chat/completions");
    // Warm the server (its first request loads state).
    rt.block_on(direct_http(&client, &url));
    let mut direct = Vec::new();
    let mut skilled = Vec::new();
    for _ in 0..ROUNDS {
        direct.push(rt.block_on(direct_http(&client, &url)));
        skilled.push(through_skill(
            &rt,
            &airlock,
            &skill,
            &profile,
            ws.path(),
            &http_models,
        ));
    }
    compare(
        "OpenAI-compatible (llama-cpp-python server)",
        &direct,
        &skilled,
    );
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![Message {
            role: Role::User,
            content: PROMPT.into(),
        }],
        sampling: Sampling {
            max_tokens: MAX_TOKENS,
            ..Sampling::default()
        },
        format: OutputFormat::Text,
        stream: true,
        session: None,
    }
}

/// The engine through its Rust API: no skill, no WebAssembly.
async fn direct_engine(engine: &dyn Backend, spec: &ModelSpec) -> Timing {
    let started = Instant::now();
    let mut stream = engine.start(spec, request()).unwrap();
    let mut first = None;
    let mut tokens = 0;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            StreamEvent::Text { tokens: n, .. } => {
                first.get_or_insert(started.elapsed());
                tokens += n;
            }
            StreamEvent::Done { .. } => break,
            StreamEvent::Prompt { .. } => {}
        }
    }
    Timing {
        first_token: first.unwrap(),
        total: started.elapsed(),
        tokens,
    }
}

/// The `infer` test skill streaming the same request; it times itself from
/// inside the sandbox (WASI monotonic clock).
fn through_skill(
    rt: &tokio::runtime::Runtime,
    airlock: &Airlock,
    skill: &airlock_runtime::LoadedSkill,
    profile: &Profile,
    ws: &Path,
    models: &RunModels,
) -> Timing {
    let request = Request {
        input: Some(PROMPT.into()),
        args: vec![
            ("case".into(), "stream".into()),
            ("max-tokens".into(), MAX_TOKENS.to_string()),
        ],
    };
    let report = rt
        .block_on(airlock.run(skill, profile, ws, &request, Some(models.clone()), None))
        .unwrap();
    let out: serde_json::Value = serde_json::from_str(&report.output.unwrap()).unwrap();
    Timing {
        first_token: Duration::from_micros(out["first-piece-us"].as_u64().unwrap()),
        total: Duration::from_micros(out["total-us"].as_u64().unwrap()),
        tokens: out["completion"]["completion-tokens"].as_u64().unwrap() as u32,
    }
}

/// A streaming request straight to the server, read the way a careful client
/// would: time to the first content piece, then every piece.
async fn direct_http(client: &reqwest::Client, url: &reqwest::Url) -> Timing {
    let body = serde_json::json!({
        "model": airlock_tests::llama_server::SERVED_NAME,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": MAX_TOKENS,
        "temperature": 0.0,
        "stream": true,
    });
    let started = Instant::now();
    let mut response = client.post(url.clone()).json(&body).send().await.unwrap();
    let mut first = None;
    let mut tokens = 0;
    let mut buffer = String::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find('\n') {
            let line: String = buffer.drain(..=end).collect();
            let Some(data) = line.trim().strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(data).unwrap();
            if value["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
            {
                first.get_or_insert(started.elapsed());
                tokens += 1;
            }
        }
    }
    Timing {
        first_token: first.unwrap(),
        total: started.elapsed(),
        tokens,
    }
}

fn compare(engine: &str, direct: &[Timing], skilled: &[Timing]) {
    let ttft = |t: &[Timing]| median(&t.iter().map(|x| x.first_token).collect::<Vec<_>>());
    let rate = |t: &[Timing]| {
        let mut r: Vec<f64> = t.iter().map(Timing::decode_rate).collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let (d_ttft, s_ttft) = (ttft(direct), ttft(skilled));
    let (d_rate, s_rate) = (rate(direct), rate(skilled));
    println!("{engine}, {MAX_TOKENS} tokens greedy, {ROUNDS} alternating rounds, medians:");
    println!(
        "  direct:        first token {d_ttft:>10.2?}   {d_rate:>7.1} tokens/s   ({} tokens)",
        direct[0].tokens
    );
    println!(
        "  through skill: first token {s_ttft:>10.2?}   {s_rate:>7.1} tokens/s   ({} tokens)",
        skilled[0].tokens
    );
    let added = s_ttft.as_secs_f64() - d_ttft.as_secs_f64();
    println!(
        "  skill/direct: {:.3}x tokens/s, {:+.2} ms to first token",
        s_rate / d_rate,
        added * 1000.0
    );
}

fn median(values: &[Duration]) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    v[v.len() / 2]
}
