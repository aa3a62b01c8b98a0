//! Agent turn latency, broken down: the `coder` skill doing a task on the
//! real SmolLM2-135M model (embedded llama.cpp), audited, in a small
//! project. For each run, model time is the sum of the inference calls'
//! wall-clock times as the host measured them; host time is everything else
//! (instantiating the sandbox, the skill's own code, workspace calls, token
//! counting, the schema, the audit trail). Host time should be a rounding
//! error next to model time.
//!
//! Needs the test model (scripts/fetch-test-model). Run:
//! `cargo bench -p airlock-runtime --bench agent`; record the results in
//! docs/performance.md.

// Ambient std::fs allowed: benchmarks build their fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use airlock_runtime::audit::{AuditLog, RunStart, SkillRef};
use airlock_runtime::inference::embedded::EmbeddedBackend;
use airlock_runtime::{Airlock, Event, Profile, Request, RunModels, RunOptions};
use airlock_tests::{guests, test_model_spec, workspace};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
const THREADS: u32 = 2;
const TASK: &str = "What does the function scale in src/calc.py do?";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let spec = test_model_spec();
    let engine = Arc::new(EmbeddedBackend::new(THREADS));
    engine.preload(&spec).unwrap();
    let models = RunModels {
        backend: engine,
        models: vec![spec],
    };
    let home = tempfile::tempdir().unwrap();
    let airlock = Airlock::new(Some(home.path())).unwrap();
    let audit = AuditLog::open(home.path(), Default::default()).unwrap();
    let skill = airlock.load(Path::new(guests::CODER)).unwrap();
    let profile = Profile::parse(
        "name = \"bench\"\n[[grant]]\npath = \".\"\naccess = \"read\"\n[limits]\nwall-clock-seconds = 600\n[inference]\nmodels = [\"smollm2\"]\nmax-calls = 1000\nmax-completion-tokens = 1000000\nmax-prompt-tokens = 1000000\n",
        airlock_runtime::profile::ProfileSource::Builtin("bench".into()),
    )
    .unwrap();
    let ws = workspace(&[
        (
            "src/calc.py",
            "def add(a, b):\n    return a + b\n\n\ndef scale(values, factor):\n    \"\"\"Multiply every value by factor.\"\"\"\n    return [v * factor for v in values]\n",
        ),
        (
            "README.md",
            "# calc\nA tiny calculator library. The tests live in test_calc.py.\n",
        ),
        (
            "test_calc.py",
            "from src.calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n",
        ),
    ]);
    let request = Request {
        input: Some(TASK.into()),
        args: vec![("max-steps".into(), "3".into())],
    };

    println!("coder on SmolLM2-135M Q4_1 (embedded, {THREADS} threads), audited: {TASK:?}");
    println!("run  calls  prompt+gen tokens  total ms  model ms  host ms  host %");
    let mut host = Vec::new();
    let mut totals = Vec::new();
    for round in 0..=ROUNDS {
        let run = audit.begin_run(&start(&skill, ws.path())).unwrap();
        let options = RunOptions {
            models: Some(models.clone()),
            audit: Some(run.clone()),
            ..RunOptions::default()
        };
        let started = Instant::now();
        let report = rt
            .block_on(airlock.run_with(&skill, &profile, ws.path(), &request, options))
            .unwrap();
        let total = started.elapsed();
        run.end(serde_json::json!({ "outcome": "ok" })).unwrap();
        assert!(report.error.is_none(), "{:?}", report.error);
        let (mut calls, mut model_ms, mut tokens) = (0, 0u64, (0u32, 0u32));
        for event in &report.events {
            if let Event::Inference {
                elapsed_ms,
                prompt_tokens,
                completion_tokens,
                ..
            } = event
            {
                calls += 1;
                model_ms += elapsed_ms;
                tokens.0 += prompt_tokens;
                tokens.1 += completion_tokens;
            }
        }
        let model = Duration::from_millis(model_ms);
        let host_time = total.saturating_sub(model);
        let label = if round == 0 {
            "warm-up".to_string()
        } else {
            round.to_string()
        };
        println!(
            "{label:>7}  {calls:>5}  {:>6}+{:<4}        {:>8}  {:>8}  {:>7}  {:>5.1}",
            tokens.0,
            tokens.1,
            total.as_millis(),
            model_ms,
            host_time.as_millis(),
            100.0 * host_time.as_secs_f64() / total.as_secs_f64()
        );
        // The first run compiles the component and warms caches.
        if round > 0 {
            host.push(host_time);
            totals.push(total);
        }
    }
    println!(
        "median: total {:?}, host {:?} ({:.1}% of the run)",
        median(&totals),
        median(&host),
        100.0 * median(&host).as_secs_f64() / median(&totals).as_secs_f64()
    );
}

fn start(skill: &airlock_runtime::LoadedSkill, ws: &Path) -> RunStart {
    RunStart {
        skill: SkillRef {
            name: "coder".into(),
            version: None,
            digest: skill.compiled.digest.clone(),
            path: skill.compiled.path.clone(),
            signer: "unsigned".into(),
        },
        profile: "bench".into(),
        profile_digest: String::new(),
        limits: serde_json::Value::Null,
        inference: serde_json::Value::Null,
        backend: None,
        models: Vec::new(),
        workspace: ws.to_path_buf(),
        input: Some(TASK.into()),
        args: Vec::new(),
    }
}

fn median(values: &[Duration]) -> Duration {
    let mut v = values.to_vec();
    v.sort();
    v[v.len() / 2]
}
