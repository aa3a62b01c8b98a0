//! Divergence of prefix reuse against cold runs, over real agent calls.
//!
//! llama.cpp does not promise that a prompt read partly from a kept context
//! gives bit-identical logits to the same prompt read cold. This bench takes
//! model calls an agent made with reuse (the audit's inference records: the
//! request exactly as sent, the output, the tokens reused), reads each
//! prompt again cold in a fresh context with the same sampling settings and
//! seed, and counts the outputs that differ by even one byte.
//!
//! Input: `AIRLOCK_BENCH_CALLS`, a JSON Lines file of audit records, e.g.
//! `airlock audit show --json --skill coder --limit 0 > calls.jsonl` on the
//! state directory `scripts/bench-agent` used. Only chat calls that reused
//! tokens, finished (stop or length), and had nothing redacted are replayed.
//! `AIRLOCK_BENCH_LIMIT` (default 16) picks that many spread evenly over the
//! file; `AIRLOCK_BENCH_THREADS` (default 1) and `AIRLOCK_BENCH_CONTEXT`
//! (default 8192) should match the run's. Model: the coding model of
//! `scripts/fetch-coder-model`, or the GGUF in `AIRLOCK_BENCH_MODEL`; it must
//! be the file the calls were made with (its digest is checked). Run:
//! `cargo bench -p airlock-inference --bench divergence`; results go to
//! docs/performance.md ("Prefix reuse and threads").

// Ambient std::fs allowed: reads the calls file and hashes the model file.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod common;

use airlock_inference::embedded::EmbeddedBackend;
use airlock_inference::{
    Backend, ChatRequest, Message, ModelSource, ModelSpec, OutputFormat, Role, Sampling,
    StopScanner, StreamEvent,
};
use common::model_path;
use serde_json::Value;

/// One recorded call, ready to replay.
struct Recorded {
    run: String,
    request: ChatRequest,
    output: String,
    prompt_tokens: u64,
    reused: u64,
    digest: String,
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn role(name: &str) -> Option<Role> {
    match name {
        "system" => Some(Role::System),
        "user" => Some(Role::User),
        "assistant" => Some(Role::Assistant),
        _ => None,
    }
}

/// The request as the host recorded it (the serialized `ChatRequest`).
fn request(value: &Value) -> Option<ChatRequest> {
    let messages = value
        .get("messages")?
        .as_array()?
        .iter()
        .map(|m| {
            Some(Message {
                role: role(m.get("role")?.as_str()?)?,
                content: m.get("content")?.as_str()?.to_string(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    let s = value.get("sampling")?;
    let sampling = Sampling {
        max_tokens: u32::try_from(s.get("max_tokens")?.as_u64()?).ok()?,
        temperature: s.get("temperature")?.as_f64()? as f32,
        top_p: s.get("top_p")?.as_f64()? as f32,
        seed: s.get("seed")?.as_u64()?,
        stop: s
            .get("stop")?
            .as_array()?
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()?,
    };
    let f = value.get("format")?;
    let format = match f.get("kind")?.as_str()? {
        "text" => OutputFormat::Text,
        "json-schema" => OutputFormat::JsonSchema(f.get("value")?.as_str()?.to_string()),
        "grammar" => OutputFormat::Grammar(f.get("value")?.as_str()?.to_string()),
        _ => return None,
    };
    Some(ChatRequest {
        messages,
        sampling,
        format,
        stream: true,
        session: None,
    })
}

/// The calls worth replaying from one audit record, if it is one.
fn recorded(line: &str) -> Option<Recorded> {
    let record: Value = serde_json::from_str(line).ok()?;
    if record.get("kind")?.as_str()? != "inference" {
        return None;
    }
    let data = record.get("data")?;
    let finished = matches!(
        data.get("finish").and_then(Value::as_str),
        Some("stop" | "length")
    );
    let redacted = data
        .get("redacted")
        .and_then(Value::as_object)
        .is_some_and(|r| !r.is_empty());
    let reused = data.get("prompt-tokens-reused")?.as_u64()?;
    if data.get("call")?.as_str()? != "chat" || !finished || redacted || reused == 0 {
        return None;
    }
    Some(Recorded {
        run: record.get("run")?.as_str()?.to_string(),
        request: request(data.get("request")?)?,
        output: data.get("output")?.as_str()?.to_string(),
        prompt_tokens: data.get("prompt-tokens")?.as_u64()?,
        reused,
        digest: data.get("digest")?.as_str()?.to_string(),
    })
}

/// `count` items spread evenly over `items`, first and last included.
fn spread<T>(items: Vec<T>, count: usize) -> Vec<T> {
    let n = items.len();
    if count >= n {
        return items;
    }
    let keep: std::collections::BTreeSet<usize> = (0..count)
        .map(|i| {
            if count == 1 {
                0
            } else {
                i * (n - 1) / (count - 1)
            }
        })
        .collect();
    items
        .into_iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, x)| x)
        .collect()
}

/// The answer to `request` read cold, as the host releases it (stop
/// sequences applied the same way).
fn cold(
    rt: &tokio::runtime::Runtime,
    engine: &EmbeddedBackend,
    model: &ModelSpec,
    request: ChatRequest,
) -> (String, u32) {
    let mut scanner = StopScanner::new(&request.sampling.stop);
    let mut stream = engine.start(model, request).unwrap();
    let mut text = String::new();
    rt.block_on(async {
        while let Some(event) = stream.next().await {
            match event.unwrap() {
                StreamEvent::Prompt { reused, .. } => assert_eq!(reused, 0, "not a cold read"),
                StreamEvent::Text { text: piece, .. } => {
                    text.push_str(&scanner.push(&piece));
                    if scanner.stopped() {
                        return (text, 0);
                    }
                }
                StreamEvent::Done { usage, .. } => {
                    text.push_str(&scanner.finish());
                    return (text, usage.prompt_tokens_reused);
                }
            }
        }
        panic!("the stream ended without Done");
    })
}

fn sha256_file(path: &std::path::Path) -> String {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).unwrap();
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut file, &mut hasher).unwrap();
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

fn main() {
    let Some(calls) = std::env::var_os("AIRLOCK_BENCH_CALLS") else {
        println!(
            "no calls: set AIRLOCK_BENCH_CALLS to a JSON Lines file of audit records (see the top of benches/divergence.rs)"
        );
        return;
    };
    let Some(path) = model_path() else {
        println!(
            "no model: run scripts/fetch-coder-model, or set AIRLOCK_BENCH_MODEL to a GGUF file"
        );
        return;
    };
    let text = std::fs::read_to_string(&calls).unwrap();
    let all: Vec<Recorded> = text.lines().filter_map(recorded).collect();
    let digest = sha256_file(&path);
    let (mine, other): (Vec<Recorded>, Vec<Recorded>) =
        all.into_iter().partition(|r| r.digest == digest);
    if !other.is_empty() {
        println!(
            "{} call(s) made with another model than {} skipped",
            other.len(),
            path.display()
        );
    }
    let limit = usize::try_from(env_number("AIRLOCK_BENCH_LIMIT", 16)).unwrap();
    let total = mine.len();
    let picked = spread(mine, limit);
    let threads = u32::try_from(env_number("AIRLOCK_BENCH_THREADS", 1)).unwrap();
    let model = ModelSpec {
        name: "bench".into(),
        digest,
        family: String::new(),
        source: ModelSource::Gguf { path },
        context_length: u32::try_from(env_number("AIRLOCK_BENCH_CONTEXT", 8192)).unwrap(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let engine = EmbeddedBackend::new(threads);
    engine.preload(&model).unwrap();
    println!(
        "{} of {total} recorded call(s) with reuse, replayed cold on {threads} thread(s)",
        picked.len()
    );
    println!("run | prompt tokens (reused) | temperature | output bytes | cold vs recorded");
    let (mut same, mut greedy, mut greedy_same) = (0, 0, 0);
    for call in &picked {
        let temperature = call.request.sampling.temperature;
        let (answer, reused) = cold(&rt, &engine, &model, call.request.clone());
        assert_eq!(reused, 0);
        let verdict = if answer == call.output {
            same += 1;
            "identical".to_string()
        } else {
            let at = answer
                .bytes()
                .zip(call.output.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            format!("differs from byte {at}")
        };
        if temperature == 0.0 {
            greedy += 1;
            greedy_same += usize::from(answer == call.output);
        }
        println!(
            "{} | {} ({}) | {temperature} | {} | {verdict}",
            call.run,
            call.prompt_tokens,
            call.reused,
            call.output.len()
        );
    }
    let n = picked.len();
    println!(
        "identical: {same} of {n} ({} greedy: {greedy_same} identical; {} sampled: {} identical); divergence rate {:.0} %",
        greedy,
        n - greedy,
        same - greedy_same,
        if n == 0 {
            0.0
        } else {
            100.0 * (n - same) as f64 / n as f64
        }
    );
}
