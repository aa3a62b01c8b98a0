//! Airlock's performance numbers: per-run overhead, host calls, reads, and
//! the whole `airlock run` process. A plain harness (no criterion) because
//! the numbers we track are percentiles: each measurement is repeated and
//! p50/p99/mean are printed. Run with `cargo bench -p airlock-runtime`;
//! record results in docs/performance.md.

// Ambient std::fs allowed: benchmarks build their fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

use airlock_runtime::{Airlock, Profile, Request};
use airlock_tests::guests;
use std::path::Path;
use std::time::{Duration, Instant};

fn main() {
    let home = tempfile::tempdir().unwrap();
    let airlock = Airlock::new(Some(home.path())).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let mib = vec![7u8; 1024 * 1024];
    std::fs::write(ws.path().join("one-mib.bin"), &mib).unwrap();
    let profile = Profile::builtin("read-only").unwrap();

    // Compile once (and measure the first, uncached load of each kind).
    let t = Instant::now();
    let hello = airlock.load(Path::new(guests::HELLO)).unwrap();
    println!(
        "first load of hello (compile + cache write): {:?}",
        t.elapsed()
    );
    let t = Instant::now();
    let _again = airlock.load(Path::new(guests::HELLO)).unwrap();
    println!(
        "load of hello from the authenticated cache:  {:?}",
        t.elapsed()
    );
    let adversary = airlock.load(Path::new(guests::ADVERSARY)).unwrap();

    report(
        "instantiate cached hello (new store, WASI ctx, InstancePre) + describe call",
        2000,
        || {
            rt.block_on(airlock.describe(&hello)).unwrap();
        },
    );
    let request = Request::default();
    report(
        "whole in-process run of hello (store, instantiate, describe, run)",
        2000,
        || {
            rt.block_on(airlock.run(&hello, &profile, ws.path(), &request, None, None))
                .unwrap();
        },
    );

    // Host call round trip: a run with N calls minus a run with none.
    let calls = 100_000u64;
    let per_call = marginal_cost(
        &rt,
        &airlock,
        &adversary,
        &profile,
        ws.path(),
        "grants-loop",
        calls,
        &[],
        50,
    );
    println!("host call round trip (workspace::grants, {calls} calls): {per_call:?} per call");

    // 1 MiB read through the workspace interface vs std::fs::read.
    let reads = 100u64;
    let per_read = marginal_cost(
        &rt,
        &airlock,
        &adversary,
        &profile,
        ws.path(),
        "read-loop",
        reads,
        &[("path", "one-mib.bin")],
        20,
    );
    println!("read 1 MiB through workspace::read-file: {per_read:?} per read");
    let file = ws.path().join("one-mib.bin");
    report(
        "read 1 MiB with std::fs::read (host, for comparison)",
        1000,
        || {
            std::hint::black_box(std::fs::read(&file).unwrap());
        },
    );

    // The whole process, as a user runs it (cache warm).
    let bin = Path::new(env!("CARGO_BIN_EXE_airlock"));
    let run_process = || {
        let out = std::process::Command::new(bin)
            .args(["run", guests::HELLO, "--quiet", "-w"])
            .arg(ws.path())
            .env("AIRLOCK_HOME", home.path())
            .output()
            .unwrap();
        assert!(out.status.success());
    };
    run_process();
    report(
        "`airlock run hello` as a whole process (warm cache)",
        50,
        run_process,
    );
}

fn run(
    rt: &tokio::runtime::Runtime,
    airlock: &Airlock,
    skill: &airlock_runtime::LoadedSkill,
    profile: &Profile,
    ws: &Path,
    args: &[(&str, &str)],
) {
    let request = Request {
        input: None,
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let report = rt
        .block_on(airlock.run(skill, profile, ws, &request, None, None))
        .unwrap();
    assert!(report.output.unwrap().starts_with("ok"));
}

/// The cost of one iteration of an adversary `case` that loops `n` times:
/// the median run with `n` iterations minus the median run with none, over `n`.
#[allow(clippy::too_many_arguments)]
fn marginal_cost(
    rt: &tokio::runtime::Runtime,
    airlock: &Airlock,
    skill: &airlock_runtime::LoadedSkill,
    profile: &Profile,
    ws: &Path,
    case: &str,
    n: u64,
    extra: &[(&str, &str)],
    repeats: usize,
) -> Duration {
    let median_with = |count: u64| {
        let count = count.to_string();
        let mut args = vec![("case", case), ("n", count.as_str())];
        args.extend_from_slice(extra);
        median(&samples(repeats, || {
            run(rt, airlock, skill, profile, ws, &args)
        }))
    };
    let base = median_with(0);
    median_with(n).saturating_sub(base) / u32::try_from(n).unwrap_or(u32::MAX)
}

fn samples(n: usize, mut f: impl FnMut()) -> Vec<Duration> {
    f(); // warm-up
    let mut out: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    out.sort();
    out
}

fn median(sorted: &[Duration]) -> Duration {
    sorted[sorted.len() / 2]
}

fn report(name: &str, n: usize, f: impl FnMut()) {
    let s = samples(n, f);
    let p = |q: f64| s[((s.len() as f64 - 1.0) * q).round() as usize];
    let mean = s.iter().sum::<Duration>() / s.len() as u32;
    println!(
        "{name}: p50 {:?}  p99 {:?}  mean {:?}  (n={n})",
        p(0.5),
        p(0.99),
        mean
    );
}
