//! Resource abuse: each attack is stopped by the named limit, with a message
//! that says which profile key stopped it.

use airlock_runtime::RunFailure;
use airlock_tests::{guests, profile, run, workspace};

fn limited(case: &str, limits: &str) -> RunFailure {
    let ws = workspace(&[("big.bin", &"b".repeat(1024 * 1024))]);
    let toml = format!("[[grant]]\npath = \".\"\n[limits]\n{limits}");
    run(
        guests::ADVERSARY,
        &profile(&toml),
        ws.path(),
        &[("case", case), ("path", "big.bin")],
    )
    .expect_err("the run must be stopped")
}

fn limit_of(failure: &RunFailure) -> (&str, &str) {
    match failure {
        RunFailure::Limit { key, message, .. } => (key.as_str(), message.as_str()),
        other => panic!("expected a limit failure, got {other:?}"),
    }
}

#[test]
fn infinite_loop_is_stopped_at_the_deadline() {
    let started = std::time::Instant::now();
    let failure = limited("loop", "wall-clock-seconds = 1\n");
    assert_eq!(
        limit_of(&failure),
        (
            "limits.wall-clock-seconds",
            "deadline reached: the skill ran longer than the profile's limits.wall-clock-seconds = 1"
        )
    );
    // Generous bound: the point is that the run ended, not how fast.
    assert!(started.elapsed().as_secs() < 30);
}

#[test]
fn deep_recursion_is_stopped_at_the_wasm_stack() {
    let failure = limited("recurse-light", "");
    assert_eq!(
        limit_of(&failure),
        (
            "wasm stack",
            "stack overflow: the skill recursed past the 512 KiB WebAssembly stack"
        )
    );
}

#[test]
fn deep_recursion_with_large_frames_is_contained() {
    // Rust keeps large frames on a shadow stack in linear memory; overflowing
    // it runs off the start of memory, which wasm bounds-checks.
    match limited("recurse", "") {
        RunFailure::Crashed { message, .. } => assert_eq!(
            message,
            "the skill crashed: out-of-bounds memory access (most often a stack overflow: Rust keeps large stack frames in linear memory, 1 MiB by default; or a bug in the skill)"
        ),
        other => panic!("expected a crash, got {other:?}"),
    }
}

#[test]
fn memory_bomb_is_stopped_at_the_memory_limit() {
    let failure = limited("memory-bomb", "memory-mib = 64\n");
    let (key, message) = limit_of(&failure);
    assert_eq!(key, "limits.memory-mib");
    assert!(
        message.starts_with("memory limit reached: the skill tried to grow its memory to ")
            && message.ends_with("MiB, over the profile's limits.memory-mib = 64"),
        "{message}"
    );
}

#[test]
fn huge_string_passed_to_the_host_is_refused() {
    let failure = limited("huge-log", "memory-mib = 256\n");
    assert_eq!(
        limit_of(&failure),
        (
            "host call size",
            "the skill passed a 33554432-byte message to log::log; one call may pass at most 65536 bytes"
        )
    );
}

#[test]
fn huge_path_passed_to_the_host_is_refused_as_invalid() {
    let ws = workspace(&[]);
    let report = run(
        guests::ADVERSARY,
        &profile("[[grant]]\npath = \".\"\n"),
        ws.path(),
        &[("case", "huge-path")],
    )
    .unwrap();
    assert_eq!(
        report.output.as_deref(),
        Some("err: invalid-input|the path is 16777216 bytes long; at most 4096 are accepted")
    );
}

#[test]
fn log_flood_is_stopped_at_the_output_limit() {
    let failure = limited("log-flood", "max-output-bytes = 65536\n");
    let (key, message) = limit_of(&failure);
    assert_eq!(key, "limits.max-output-bytes");
    assert!(
        message.starts_with(
            "output limit reached: a log::log message would bring the run's output to "
        ) && message.ends_with("bytes, over the profile's limits.max-output-bytes = 65536"),
        "{message}"
    );
    if let RunFailure::Limit { events, .. } = &failure {
        assert!(
            !events.is_empty(),
            "what was logged before the stop is kept"
        );
    }
}

#[test]
fn stdout_flood_is_stopped_at_the_output_limit() {
    let failure = limited("stdout-flood", "max-output-bytes = 65536\n");
    assert_eq!(
        limit_of(&failure),
        (
            "limits.max-output-bytes",
            "output limit reached: the skill wrote more than the profile's limits.max-output-bytes = 65536 bytes to stdout"
        )
    );
}

#[test]
fn oversized_final_output_is_refused() {
    let failure = limited("big-output", "max-output-bytes = 65536\n");
    let (key, message) = limit_of(&failure);
    assert_eq!(key, "limits.max-output-bytes");
    assert!(message.contains("the skill's final output"), "{message}");
}

#[test]
fn bulk_copy_loop_is_stopped_at_the_read_budget() {
    let ws = workspace(&[("big.bin", &"b".repeat(1024 * 1024))]);
    let toml = "[[grant]]\npath = \".\"\n[limits]\nmax-bytes-read = 10485760\n";
    let report = run(
        guests::ADVERSARY,
        &profile(toml),
        ws.path(),
        &[("case", "bulk-copy"), ("path", "big.bin")],
    )
    .unwrap();
    assert_eq!(
        report.output.as_deref(),
        Some("after 10 copies: err: limit-exceeded|limits.max-bytes-read|10485760|11534336")
    );
    assert_eq!(report.usage.bytes_read, 10 * 1024 * 1024);
}

#[test]
fn write_budget_is_enforced() {
    let ws = workspace(&[]);
    let toml = "[[grant]]\npath = \".\"\naccess = \"read-write\"\n[edits]\nmode = \"allow\"\n[limits]\nmax-bytes-written = 10\n";
    let report = run(
        guests::ADVERSARY,
        &profile(toml),
        ws.path(),
        &[
            ("case", "write"),
            ("path", "out.txt"),
            ("content", "more than ten bytes"),
        ],
    )
    .unwrap();
    assert_eq!(
        report.output.as_deref(),
        Some("err: limit-exceeded|limits.max-bytes-written|10|19")
    );
    assert!(!ws.path().join("out.txt").exists());
}

#[test]
fn listing_budget_is_enforced() {
    let files: Vec<(String, &str)> = (0..20).map(|i| (format!("f{i:02}.txt"), "x")).collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), *c)).collect();
    let ws = workspace(&refs);
    let toml = "[[grant]]\npath = \".\"\n[limits]\nmax-files-listed = 5\n";
    let report = run(
        guests::ADVERSARY,
        &profile(toml),
        ws.path(),
        &[("case", "walk"), ("path", ".")],
    )
    .unwrap();
    assert_eq!(
        report.output.as_deref(),
        Some("err: limit-exceeded|limits.max-files-listed|5|6")
    );
}

#[test]
fn a_panic_is_reported_with_the_skills_message() {
    let ws = workspace(&[]);
    let failure = run(
        guests::ADVERSARY,
        &profile(""),
        ws.path(),
        &[("case", "panic")],
    )
    .unwrap_err();
    match failure {
        RunFailure::Crashed { message, .. } => {
            assert!(
                message.starts_with(
                    "the skill crashed: wasm trap: wasm `unreachable` instruction executed"
                ),
                "{message}"
            );
            assert!(
                message.contains("adversary panicked on purpose"),
                "{message}"
            );
        }
        other => panic!("expected a crash, got {other:?}"),
    }
}

#[test]
fn the_next_run_after_an_abuse_is_unaffected() {
    let _ = limited("memory-bomb", "memory-mib = 64\n");
    let ws = workspace(&[]);
    let report = run(guests::HELLO, &profile(""), ws.path(), &[]).unwrap();
    assert_eq!(report.output.as_deref(), Some("hello, world"));
}
