//! Airlock's performance numbers: per-run overhead, host calls, reads, and
//! the whole `airlock run` process. A plain harness (no criterion) because
//! the numbers we track are percentiles: each measurement is repeated and
//! p50/p99/mean are printed. Run with `cargo bench -p airlock-runtime`;
//! record results in docs/performance.md.
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
            rt.block_on(airlock.run(&hello, &profile, ws.path(), &request, None))
                .unwrap();
        },
    );

    // Host call round trip: a run with N calls minus a run with none.
    let calls = 100_000u64;
    let base = median(&samples(50, || {
        run(
            &rt,
            &airlock,
            &adversary,
            &profile,
            ws.path(),
            &[("case", "grants-loop"), ("n", "0")],
        );
    }));
    let with_calls = median(&samples(50, || {
        run(
            &rt,
            &airlock,
            &adversary,
            &profile,
            ws.path(),
            &[("case", "grants-loop"), ("n", &calls.to_string())],
        );
    }));
    println!(
        "host call round trip (workspace::grants, {calls} calls): {:?} per call",
        with_calls.saturating_sub(base) / calls as u32
    );

    // 1 MiB read through the workspace interface vs std::fs::read.
    let reads = 100u64;
    let with_reads = median(&samples(20, || {
        run(
            &rt,
            &airlock,
            &adversary,
            &profile,
            ws.path(),
            &[
                ("case", "read-loop"),
                ("n", &reads.to_string()),
                ("path", "one-mib.bin"),
            ],
        );
    }));
    let base = median(&samples(20, || {
        run(
            &rt,
            &airlock,
            &adversary,
            &profile,
            ws.path(),
            &[("case", "read-loop"), ("n", "0"), ("path", "one-mib.bin")],
        );
    }));
    println!(
        "read 1 MiB through workspace::read-file: {:?} per read",
        with_reads.saturating_sub(base) / reads as u32
    );
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
        .block_on(airlock.run(skill, profile, ws, &request, None))
        .unwrap();
    assert!(report.output.unwrap().starts_with("ok"));
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
