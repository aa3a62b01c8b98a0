//! Prefix reuse and threads on the embedded engine, with the coding model
//! (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, `scripts/fetch-coder-model`) or the
//! GGUF in `AIRLOCK_BENCH_MODEL`:
//!
//! - an agent's second step, ~900 prompt tokens extending a held first step
//!   by ~100, read in the session's kept context vs the same prompt cold;
//! - prompt and generation speed with 1 and 2 llama.cpp threads.
//!
//! The load average is printed with every row: on a shared machine the
//! numbers mean little without it. Rounds: `AIRLOCK_BENCH_ROUNDS` (default
//! 3), medians. Threads: `AIRLOCK_BENCH_THREADS` (default `1,2`). Run:
//! `cargo bench -p airlock-inference --bench prefix`; record the results in
//! docs/performance.md ("Prefix reuse and threads").

// Ambient std::fs allowed: reads the load average.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod common;

use airlock_inference::embedded::EmbeddedBackend;
use airlock_inference::{
    Backend, ChatRequest, Message, ModelSource, ModelSpec, OutputFormat, Role, Sampling,
    SessionKey, StreamEvent,
};
use common::model_path;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A source file the agent "read": about 40 tokens a repetition.
const FILE_LINES: &str = "def scale(values, factor):\n    \"\"\"Multiply every value by factor.\"\"\"\n    return [v * factor for v in values]\n\n";

const SYSTEM: &str = "You are a coding agent. You fix bugs in the user's project by reading files, \
editing them with search/replace blocks and running the tests. Answer with one tool call per step.";

/// One call as its caller sees it.
#[derive(Debug, Clone, Copy)]
struct Timed {
    prompt_tokens: u32,
    reused: u32,
    generated: u32,
    /// From the request to the prompt's last token read.
    prompt: Duration,
    /// Generated tokens per second after the first.
    generation_rate: f64,
}

fn spec(path: PathBuf) -> ModelSpec {
    ModelSpec {
        name: "bench".into(),
        digest: "sha256:bench".into(),
        family: String::new(),
        source: ModelSource::Gguf { path },
        context_length: 4096,
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn message(role: Role, content: String) -> Message {
    Message { role, content }
}

fn call(
    rt: &tokio::runtime::Runtime,
    engine: &EmbeddedBackend,
    model: &ModelSpec,
    session: Option<&SessionKey>,
    messages: Vec<Message>,
    max_tokens: u32,
) -> (String, Timed) {
    let request = ChatRequest {
        messages,
        sampling: Sampling {
            max_tokens,
            ..Sampling::default()
        },
        format: OutputFormat::Text,
        stream: true,
        session: session.cloned(),
    };
    let started = Instant::now();
    let mut stream = engine.start(model, request).unwrap();
    let mut prompt = Duration::ZERO;
    let mut first: Option<Instant> = None;
    let mut text = String::new();
    rt.block_on(async {
        while let Some(event) = stream.next().await {
            match event.unwrap() {
                StreamEvent::Prompt { .. } => prompt = started.elapsed(),
                StreamEvent::Text { text: piece, .. } => {
                    first.get_or_insert_with(Instant::now);
                    text.push_str(&piece);
                }
                StreamEvent::Done { usage, .. } => {
                    let after_first = first.map_or(Duration::ZERO, |f| f.elapsed());
                    let rate = if usage.completion_tokens > 1 && !after_first.is_zero() {
                        f64::from(usage.completion_tokens - 1) / after_first.as_secs_f64()
                    } else {
                        0.0
                    };
                    return (
                        text.clone(),
                        Timed {
                            prompt_tokens: usage.prompt_tokens,
                            reused: usage.prompt_tokens_reused,
                            generated: usage.completion_tokens,
                            prompt,
                            generation_rate: rate,
                        },
                    );
                }
            }
        }
        panic!("the stream ended without Done");
    })
}

/// One thread count's measurements, a value per round.
#[derive(Default)]
struct Row {
    shape: (u32, u32),
    cold: Vec<f64>,
    reuse: Vec<f64>,
    prompt_rate: Vec<f64>,
    generation_rate: Vec<f64>,
    loads: Vec<String>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let Some(path) = model_path() else {
        println!(
            "no model: run scripts/fetch-coder-model, or set AIRLOCK_BENCH_MODEL to a GGUF file"
        );
        return;
    };
    let rounds: usize = std::env::var("AIRLOCK_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let threads: Vec<u32> = std::env::var("AIRLOCK_BENCH_THREADS")
        .unwrap_or_else(|_| "1,2".into())
        .split(',')
        .filter_map(|t| t.trim().parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let model = spec(path.clone());
    println!("model {} · {} rounds, medians", path.display(), rounds);
    // Step 1: the task and a file (~800 tokens); step 2 adds the answer and
    // a tool result (~100 tokens more).
    let step1 = vec![
        message(Role::System, SYSTEM.into()),
        message(
            Role::User,
            format!(
                "The test test_scale fails. src/calc.py:\n{}\nFix it.",
                FILE_LINES.repeat(26)
            ),
        ),
    ];
    let tool_result = format!(
        "Result of run_tests: 1 failed.\n{}\nWhat next?",
        "E   assert scale([1, 2], 3) == [3, 6]\n".repeat(4)
    );
    let writing = vec![message(
        Role::User,
        "Write a Python module with ten small functions about dates, each with a docstring.".into(),
    )];
    println!(
        "threads | cold ~900-token prompt | step 2 (reused/total) | step 2 / cold | prompt tok/s (cold) | generated tok/s | load (1/5/15 min) before → after, each round"
    );
    // The thread counts take turns within each round, so that a change in
    // the machine's load falls on all of them alike.
    let engines: Vec<(u32, EmbeddedBackend)> = threads
        .iter()
        .map(|&n| {
            let engine = EmbeddedBackend::new(n).with_kept_contexts(2);
            engine.preload(&model).unwrap();
            // Warm-up: page the weights in.
            call(&rt, &engine, &model, None, writing.clone(), 4);
            (n, engine)
        })
        .collect();
    let mut rows: Vec<Row> = engines.iter().map(|_| Row::default()).collect();
    for _ in 0..rounds {
        for ((_, engine), row) in engines.iter().zip(&mut rows) {
            let before = load();
            let key = SessionKey::new();
            let (answer, _) = call(&rt, engine, &model, Some(&key), step1.clone(), 24);
            let mut step2 = step1.clone();
            step2.push(message(Role::Assistant, answer));
            step2.push(message(Role::User, tool_result.clone()));
            let (_, warm) = call(&rt, engine, &model, Some(&key), step2.clone(), 1);
            engine.end_session(&key);
            let (_, fresh) = call(&rt, engine, &model, None, step2, 1);
            assert_eq!(fresh.reused, 0);
            row.shape = (warm.reused, warm.prompt_tokens);
            row.cold.push(fresh.prompt.as_secs_f64());
            row.reuse.push(warm.prompt.as_secs_f64());
            row.prompt_rate
                .push(f64::from(fresh.prompt_tokens) / fresh.prompt.as_secs_f64());
            let (_, written) = call(&rt, engine, &model, None, writing.clone(), 64);
            assert!(written.generated > 8, "{written:?}");
            row.generation_rate.push(written.generation_rate);
            row.loads.push(format!("{before} → {}", load()));
        }
    }
    for ((n, _), row) in engines.iter().zip(rows) {
        let (cold, reuse) = (median(row.cold), median(row.reuse));
        println!(
            "{n} | {cold:.2} s | {reuse:.2} s ({}/{}) | {:.1} % | {:.1} | {:.1} | {}",
            row.shape.0,
            row.shape.1,
            100.0 * reuse / cold,
            median(row.prompt_rate),
            median(row.generation_rate),
            row.loads.join("; ")
        );
    }
}
