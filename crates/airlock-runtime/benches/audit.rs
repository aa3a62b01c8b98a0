//! What the audit trail costs: a real run with and without it, a burst of
//! audited workspace reads (records per second), and the cost of a
//! checkpoint. Each pair is measured alternately (ROUNDS times) in one
//! process and the medians printed; with the test model present
//! (`AIRLOCK_TEST_MODEL`, see scripts/fetch-test-model) a real inference run
//! is compared too. Run: `cargo bench -p airlock-runtime --bench audit`;
//! record the results in docs/performance.md.

// Ambient std::fs allowed: benchmarks build their fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use airlock_runtime::audit::{AuditLog, AuditOptions, RunStart, SkillRef};
use airlock_runtime::inference::embedded::EmbeddedBackend;
use airlock_runtime::{Airlock, LoadedSkill, Profile, Request, RunModels};
use airlock_tests::guests;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROUNDS: usize = 15;

fn main() {
    let home = tempfile::tempdir().unwrap();
    let airlock = Airlock::new(Some(home.path())).unwrap();
    let audit = AuditLog::open(home.path(), AuditOptions::default()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();

    // A realistic scan: secret-scan over 200 source files (~2 KB each).
    let ws = tempfile::tempdir().unwrap();
    for i in 0..200 {
        let dir = ws.path().join(format!("src/mod{}", i % 10));
        std::fs::create_dir_all(&dir).unwrap();
        let body = format!("fn f{i}() -> u32 {{ {i} }}\n").repeat(80);
        std::fs::write(dir.join(format!("file{i}.rs")), body).unwrap();
    }
    let scan = airlock.load(Path::new(guests::SECRET_SCAN)).unwrap();
    let read_only = Profile::builtin("read-only").unwrap();
    let request = Request::default();
    let (off, on) = pair(
        &rt,
        &airlock,
        &audit,
        &scan,
        &read_only,
        ws.path(),
        &request,
        None,
    );
    println!(
        "secret-scan over 200 files (~400 records): audit off {off:?}, on {on:?}: {:+.1}%",
        percent(off, on)
    );

    // A burst of reads: the adversary reads one small file N times.
    std::fs::write(ws.path().join("small.txt"), "x".repeat(100)).unwrap();
    let adversary = airlock.load(Path::new(guests::ADVERSARY)).unwrap();
    let n = 20_000u32;
    let burst = Request {
        input: None,
        args: vec![
            ("case".into(), "read-loop".into()),
            ("n".into(), n.to_string()),
            ("path".into(), "small.txt".into()),
        ],
    };
    let (off, on) = pair(
        &rt,
        &airlock,
        &audit,
        &adversary,
        &read_only,
        ws.path(),
        &burst,
        None,
    );
    let per_record = on.saturating_sub(off) / n;
    println!(
        "burst of {n} audited reads: audit off {off:?}, on {on:?}; {per_record:?} per read record, {:.0} records/s",
        f64::from(n) / on.as_secs_f64()
    );

    // Sealing a checkpoint on its own (three synced files and a signature).
    let mut times = Vec::new();
    for _ in 0..ROUNDS {
        let run = audit.begin_run(&start(&scan, ws.path())).unwrap();
        let t = Instant::now();
        run.end(serde_json::json!({ "outcome": "ok" })).unwrap();
        times.push(t.elapsed());
    }
    println!(
        "run-end record + checkpoint (synced): median {:?}",
        median(&mut times)
    );

    // A real model run, when the test model is available.
    if let Some(model) = std::env::var_os("AIRLOCK_TEST_MODEL") {
        let spec = airlock_tests::test_model_spec();
        assert!(Path::new(&model).is_file());
        let engine = Arc::new(EmbeddedBackend::new(1));
        engine.preload(&spec).unwrap();
        let models = RunModels {
            backend: engine,
            models: vec![spec],
        };
        let infer = airlock.load(Path::new(guests::INFER)).unwrap();
        let profile = Profile::parse(
            "name = \"bench\"\n[limits]\nwall-clock-seconds = 600\n[inference]\nmodels = [\"smollm2\"]\nmax-calls = 1000\nmax-completion-tokens = 1000000\nmax-prompt-tokens = 1000000\n",
            airlock_runtime::profile::ProfileSource::Builtin("bench".into()),
        )
        .unwrap();
        let ask = Request {
            input: Some("Explain what a hash chain is, in three sentences.".into()),
            args: vec![
                ("max-tokens".into(), "64".into()),
                ("seed".into(), "7".into()),
            ],
        };
        let (off, on) = pair(
            &rt,
            &airlock,
            &audit,
            &infer,
            &profile,
            ws.path(),
            &ask,
            Some(&models),
        );
        println!(
            "one 64-token answer from SmolLM2 (embedded, 1 thread): audit off {off:?}, on {on:?}: {:+.1}%",
            percent(off, on)
        );
    } else {
        println!(
            "(no AIRLOCK_TEST_MODEL: the model run is not measured; run scripts/fetch-test-model)"
        );
    }
    let report = airlock_runtime::audit::verify::verify_log(audit.dir(), &[]);
    assert!(report.ok, "{:?}", report.failure);
    println!(
        "the benchmark's own log verifies: {} records",
        report.records
    );
}

fn start(skill: &LoadedSkill, ws: &Path) -> RunStart {
    RunStart {
        skill: SkillRef {
            name: "bench".into(),
            version: None,
            digest: skill.compiled.digest.clone(),
            path: skill.compiled.path.clone(),
            signer: "unsigned".into(),
        },
        profile: "read-only".into(),
        profile_digest: String::new(),
        limits: serde_json::Value::Null,
        inference: serde_json::Value::Null,
        backend: None,
        models: Vec::new(),
        workspace: ws.to_path_buf(),
        input: None,
        args: Vec::new(),
    }
}

/// Median run time without and with the audit trail, measured alternately.
#[allow(clippy::too_many_arguments)]
fn pair(
    rt: &tokio::runtime::Runtime,
    airlock: &Airlock,
    audit: &Arc<AuditLog>,
    skill: &LoadedSkill,
    profile: &Profile,
    ws: &Path,
    request: &Request,
    models: Option<&RunModels>,
) -> (Duration, Duration) {
    let plain = || {
        let t = Instant::now();
        let report = rt
            .block_on(airlock.run(skill, profile, ws, request, models.cloned(), None))
            .unwrap();
        assert!(report.error.is_none(), "{:?}", report.error);
        t.elapsed()
    };
    let audited = || {
        let t = Instant::now();
        let run = audit.begin_run(&start(skill, ws)).unwrap();
        let report = rt
            .block_on(airlock.run_audited(
                skill,
                profile,
                ws,
                request,
                models.cloned(),
                None,
                run.clone(),
            ))
            .unwrap();
        assert!(report.error.is_none(), "{:?}", report.error);
        run.end(serde_json::json!({ "outcome": "ok", "output": report.output }))
            .unwrap();
        t.elapsed()
    };
    plain();
    audited();
    let mut off = Vec::new();
    let mut on = Vec::new();
    for _ in 0..ROUNDS {
        off.push(plain());
        on.push(audited());
    }
    (median(&mut off), median(&mut on))
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn percent(off: Duration, on: Duration) -> f64 {
    (on.as_secs_f64() / off.as_secs_f64() - 1.0) * 100.0
}
