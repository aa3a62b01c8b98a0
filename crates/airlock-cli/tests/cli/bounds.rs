//! Bounds on what a skill can make the host keep: denials and cheap calls
//! stop at named limits, with the audit log's share bounded; a broken
//! compile-cache key and a lying package header get clear errors, not a
//! crash or a huge allocation. Each test is named after the attack, runs the
//! real `airlock` (or the library call the CLI makes), and would have
//! succeeded as an attack on b2782b7.
//!
//! The skill is the `adversary` test guest: `case=read-loop` reads `path`
//! `n` times, ignoring errors, and prints `ok: TOTAL-BYTES` only if it gets
//! through all of them.

use crate::support::{airlock, describe, text, utf8};
use airlock_tests::guests;
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;
use std::process::Output;

/// A workspace with a secret and an empty file, a profile (`{limits}`
/// filled per test), and a state directory.
struct Case {
    home: PathBuf,
    ws: PathBuf,
    profile: PathBuf,
    _dirs: [tempfile::TempDir; 2],
}

fn case(limits: &str) -> Case {
    let ws = tempfile::tempdir().expect("workspace");
    std::fs::write(ws.path().join(".env"), "API_TOKEN=do-not-read\n").expect("write .env");
    std::fs::write(ws.path().join("empty.txt"), "").expect("write empty.txt");
    let other = tempfile::tempdir().expect("state");
    let profile = other.path().join("bounds.toml");
    std::fs::write(
        &profile,
        format!("name = \"bounds\"\n[[grant]]\npath = \".\"\n[limits]\nwall-clock-seconds = 120\n{limits}\n"),
    )
    .expect("write the profile");
    Case {
        home: other.path().join("home"),
        ws: ws.path().to_path_buf(),
        profile,
        _dirs: [ws, other],
    }
}

impl Case {
    fn airlock(&self, args: &[&str]) -> Output {
        airlock(&self.home, args)
    }

    /// The adversary's `read-loop` of `path`, `n` times.
    fn read_loop(&self, path: &str, n: u64) -> Output {
        self.airlock(&[
            "run",
            guests::ADVERSARY,
            "--allow-unsigned",
            "-w",
            utf8(&self.ws),
            "--profile",
            utf8(&self.profile),
            "--arg",
            "case=read-loop",
            "--arg",
            &format!("path={path}"),
            "--arg",
            &format!("n={n}"),
        ])
    }

    /// Every audit record, as `airlock audit show --json` prints them.
    fn audit(&self) -> Vec<Value> {
        let out = self.airlock(&["audit", "show", "--json", "--limit", "0"]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        text(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

fn access(records: &[Value], allowed: bool) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| r["kind"] == "access" && r["data"]["allowed"] == allowed)
        .collect()
}

#[test]
fn a_million_denied_calls_stop_at_the_named_limit() {
    // The default limits.max-denials (1 000).
    let c = case("");
    let out = c.read_loop(".env", 1_000_000);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(4),
        "the run stops as a limit failure: {}",
        describe(&out)
    );
    assert!(stderr.contains("limits.max-denials"), "{}", describe(&out));
    assert!(
        !text(&out.stdout).contains("ok:"),
        "the skill did not get through its million reads: {}",
        describe(&out)
    );
    assert!(!text(&out.stdout).contains("do-not-read"));

    let records = c.audit();
    let denied = access(&records, false);
    assert!(
        (1_000..=1_001).contains(&denied.len()),
        "1 000 denials and one last record are in the audit log, not {}",
        denied.len()
    );
    let last = denied.last().expect("a denial");
    assert_eq!(last["data"]["op"], "limit", "{last}");
    assert_eq!(last["data"]["limit"], "limits.max-denials", "{last}");
    assert!(
        last["data"]["rule"]
            .as_str()
            .is_some_and(|r| r.contains("were not recorded")),
        "{last}"
    );
    let end = records
        .iter()
        .find(|r| r["kind"] == "run-end")
        .expect("a run-end record");
    assert_eq!(end["data"]["exit-code"], 4, "{end}");
    assert!(
        end.to_string().contains("limits.max-denials"),
        "the run's end names the limit: {end}"
    );
    let verify = c.airlock(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", describe(&verify));
}

#[test]
fn cheap_calls_stop_at_max_host_calls() {
    let c = case("max-host-calls = 10000");
    // A million zero-length reads: each one is allowed and cheap.
    let out = c.read_loop("empty.txt", 1_000_000);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("limits.max-host-calls = 10000"),
        "{}",
        describe(&out)
    );
    assert!(!text(&out.stdout).contains("ok:"), "{}", describe(&out));

    let records = c.audit();
    let reads = access(&records, true)
        .into_iter()
        .filter(|r| r["data"]["op"] == "read-file")
        .count();
    // The skill's `describe` and SDK start-up make no workspace calls: all
    // 10 000 calls are reads, the 10 001st is refused before it reads.
    assert_eq!(
        reads, 10_000,
        "the audit log holds one record per call made"
    );
    let verify = c.airlock(&["audit", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", describe(&verify));
}

#[test]
fn unreadable_cache_key_fails_with_clear_error() {
    let c = case("");
    // b2782b7 retried for ever when `cache.key` existed but could not be
    // read, until the host's stack overflowed.
    std::fs::create_dir_all(c.home.join("cache/cache.key")).expect("a directory named cache.key");
    let out = c.airlock(&["run", guests::HELLO, "--allow-unsigned", "-w", utf8(&c.ws)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "the run goes on without the cache: {}",
        describe(&out)
    );
    assert!(
        text(&out.stdout).contains("hello, world"),
        "{}",
        describe(&out)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("cache.key is not a regular file")
            && stderr.contains("continuing without the compile cache"),
        "{stderr}"
    );
}

// Records the largest single allocation a thread asks for while tracking.
struct Tracking;

thread_local! {
    static TRACKING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let tracking = TRACKING.try_with(Cell::get).unwrap_or(false);
    if tracking {
        let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
    }
}

// SAFETY: every call is passed to the system allocator unchanged; the
// thread-locals are const-initialised and never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Tracking = Tracking;

/// The largest allocation `f` asks for on this thread.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    TRACKING.with(|t| t.set(true));
    let out = f();
    TRACKING.with(|t| t.set(false));
    (out, LARGEST.with(Cell::get))
}

#[test]
fn package_header_cannot_request_huge_allocation() {
    // A 92-byte file whose header says its component has 256 MiB.
    let mut bytes = b"AIRLOCK-PLUGIN\0\x01".to_vec();
    for (name, data, claimed) in [
        ("manifest.toml", &b"name = \"x\""[..], 10u64),
        ("signature", &b""[..], 0),
        ("component.wasm", &b""[..], 256 * 1024 * 1024),
    ] {
        bytes.extend_from_slice(&(name.len() as u16).to_be_bytes());
        bytes.extend_from_slice(name.as_bytes());
        bytes.extend_from_slice(&claimed.to_be_bytes());
        bytes.extend_from_slice(data);
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("liar.airlock");
    std::fs::write(&path, &bytes).expect("write the package");

    let (result, largest) = largest_allocation(|| airlock_trust::package::Package::read(&path));
    let message = result.expect_err("the package is refused").to_string();
    assert!(
        largest < 1024 * 1024,
        "reading a {}-byte package allocated {largest} bytes at once",
        bytes.len()
    );
    assert!(message.contains("liar.airlock"), "{message}");
    assert!(
        message.contains("`component.wasm` says it has 268435456 bytes, but the file has only 0"),
        "{message}"
    );
}
