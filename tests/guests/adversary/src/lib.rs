//! A hostile skill for the adversarial suite. `--arg case=NAME` picks the
//! attack; `--arg path=P` (and `content=`, `pattern=`) parameterise it.
//!
//! Workspace calls report their result as one line the tests compare
//! exactly: `ok: ...` or `err: <kind>|<field>|<field>|...`.

// Ambient std::fs allowed: a hostile guest: it tries ambient access on purpose (inside WASI).
#![allow(clippy::disallowed_methods)]

use airlock_sdk::{Error, Output, Request, Skill, SkillInfo, log, workspace};

struct Adversary;

impl Skill for Adversary {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "adversary".into(),
            version: "0.1.0".into(),
            summary: "Tries to break out of the sandbox, on purpose.".into(),
            capabilities: vec![airlock_sdk::Capability::WorkspaceRead(".".into())],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let path = request.arg("path").unwrap_or(".").to_string();
        let text = match request.arg("case").unwrap_or("") {
            "read" => report(workspace::read_to_string(&path)),
            "read-range" => report(
                workspace::read_range(&path, 0, 4)
                    .map(|b| String::from_utf8_lossy(&b).into_owned()),
            ),
            "write" => {
                let content = request.arg("content").unwrap_or("written by adversary");
                report(workspace::write(&path, content).map(|()| "written".to_string()))
            }
            "mkdir" => report(workspace::create_dir(&path).map(|()| "created".to_string())),
            "rm" => report(workspace::remove_file(&path).map(|()| "removed".to_string())),
            "stat" => report(
                workspace::stat(&path)
                    .map(|m| format!("{} {} bytes writable={}", m.path, m.size, m.writable)),
            ),
            "list" => report(workspace::list_dir(&path).map(|entries| entry_lines(&entries))),
            "walk" => report(workspace::walk(&path).map(|entries| entry_lines(&entries))),
            "search" => {
                let query = workspace::SearchQuery::new(request.arg("pattern").unwrap_or("secret"))
                    .in_path(&path);
                report(workspace::search(&query).map(|r| {
                    let mut lines: Vec<String> = r
                        .matches
                        .iter()
                        .map(|m| format!("{}:{}:{}", m.path, m.line, m.text))
                        .collect();
                    lines.extend(r.withheld.iter().map(|w| format!("withheld {w}")));
                    lines.join("\n")
                }))
            }
            "std-fs" => match std::fs::read_to_string(&path) {
                Ok(s) => format!("ok: {s}"),
                Err(e) => format!("err: std::fs|{:?}", e.kind()),
            },
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "recurse" => format!("{}", recurse(std::hint::black_box(1))),
            "recurse-light" => {
                let start: u64 = request
                    .arg("depth")
                    .and_then(|d| d.parse().ok())
                    .unwrap_or(u64::MAX);
                format!("{}", recurse_light(start))
            }
            "memory-bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 * 1024 * 1024]);
                    std::hint::black_box(&hoard);
                }
            }
            "huge-log" => {
                let huge = "x".repeat(32 * 1024 * 1024);
                log::info(&huge);
                "the host accepted a 32 MiB log message".into()
            }
            "log-flood" => {
                let line = "y".repeat(1000);
                loop {
                    log::info(&line);
                }
            }
            "stdout-flood" => {
                let line = "z".repeat(1000);
                loop {
                    println!("{line}");
                }
            }
            "big-output" => "o".repeat(2 * 1024 * 1024),
            "bulk-copy" => {
                // Read the same file again and again, as a copy loop would,
                // until the host stops it; report how it was stopped.
                let mut copies = 0u64;
                loop {
                    match workspace::read(&path) {
                        Ok(bytes) => {
                            std::hint::black_box(&bytes);
                            copies += 1;
                        }
                        Err(e) => break format!("after {copies} copies: {}", describe_error(&e)),
                    }
                }
            }
            "huge-path" => {
                let long = "a/".repeat(8 * 1024 * 1024);
                report(workspace::read_to_string(&long))
            }
            "panic" => panic!("adversary panicked on purpose"),
            // For benchmarks: `n` cheap host calls, or `n` reads of `path`.
            "grants-loop" => {
                let n: u64 = request.arg("n").and_then(|n| n.parse().ok()).unwrap_or(0);
                let mut total = 0usize;
                for _ in 0..n {
                    total += workspace::grants().len();
                }
                format!("ok: {total}")
            }
            "read-loop" => {
                let n: u64 = request.arg("n").and_then(|n| n.parse().ok()).unwrap_or(0);
                let mut total = 0usize;
                for _ in 0..n {
                    total += workspace::read(&path).map(|b| b.len()).unwrap_or(0);
                }
                format!("ok: {total}")
            }
            // Run `program` with `args` (split on spaces) in `path`, `times`
            // times (to see a "yes for this run" answer cover repeats).
            "exec" => {
                let program = request.arg("program").unwrap_or("true");
                let args: Vec<&str> = request
                    .arg("args")
                    .map(|a| a.split(' ').filter(|w| !w.is_empty()).collect())
                    .unwrap_or_default();
                let times: u32 = request
                    .arg("times")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                let mut lines = Vec::new();
                for _ in 0..times {
                    let command = airlock_sdk::exec::Command::new(program)
                        .args(&args)
                        .cwd(&path);
                    lines.push(report(command.run().map(|r| {
                        format!(
                            "exit={:?} signal={:?} timed-out={} truncated={}\nstdout:\n{}stderr:\n{}",
                            r.exit_code, r.signal, r.timed_out, r.truncated, r.stdout, r.stderr
                        )
                    })));
                }
                lines.join("\n---\n")
            }
            // The programs the profile lets this run start, as one line:
            // `ok: NAME(ask|allow) ...` in the host's order.
            "programs" => {
                let programs: Vec<String> = airlock_sdk::exec::allowed_programs()
                    .iter()
                    .map(|p| {
                        let approval = match p.approval {
                            airlock_sdk::exec::ProgramApproval::Ask => "ask",
                            airlock_sdk::exec::ProgramApproval::Allow => "allow",
                        };
                        format!("{}({approval})", p.name)
                    })
                    .collect();
                format!("ok: {}", programs.join(" "))
            }
            // Write the same file `times` times.
            "write-times" => {
                let times: u32 = request
                    .arg("times")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(2);
                let mut lines = Vec::new();
                for i in 0..times {
                    let content = format!("{} #{i}", request.arg("content").unwrap_or("written"));
                    lines.push(report(
                        workspace::write(&path, &content).map(|()| "written".to_string()),
                    ));
                }
                lines.join("\n")
            }
            // Read `path` `n` times and count the outcomes: `secret` when the
            // bytes contain `marker`, `clean` otherwise, then errors by kind.
            "read-tally" => {
                let n: u64 = request.arg("n").and_then(|n| n.parse().ok()).unwrap_or(0);
                let marker = request
                    .arg("marker")
                    .unwrap_or("SECRET")
                    .as_bytes()
                    .to_vec();
                let (mut clean, mut secret, mut denied, mut other) = (0u64, 0u64, 0u64, 0u64);
                let mut last_other = String::new();
                for _ in 0..n {
                    match workspace::read(&path) {
                        Ok(b)
                            if !marker.is_empty()
                                && b.windows(marker.len()).any(|w| w == marker) =>
                        {
                            secret += 1
                        }
                        Ok(_) => clean += 1,
                        Err(Error::AccessDenied { .. }) => denied += 1,
                        Err(e) => {
                            other += 1;
                            last_other = describe_error(&e);
                        }
                    }
                }
                format!(
                    "ok: clean={clean} secret={secret} denied={denied} other={other} last-other={last_other}"
                )
            }
            // Log `message` (as info), then print `ok: logged`: a log line
            // a terminal might obey.
            "log" => {
                log::info(request.arg("message").unwrap_or("logged by adversary"));
                "ok: logged".into()
            }
            // Write the bytes `hex` spells (any bytes, not only UTF-8).
            "write-hex" => {
                let hex = request.arg("hex").unwrap_or("");
                let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
                    .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
                    .collect();
                match bytes {
                    Some(bytes) => {
                        report(workspace::write(&path, bytes).map(|()| "written".to_string()))
                    }
                    None => format!("err: bad hex `{hex}`"),
                }
            }
            other => return Err(Error::InvalidInput(format!("unknown case `{other}`"))),
        };
        Ok(Output::text(text))
    }
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    // The array keeps each frame large and the result depends on every
    // frame, so the recursion cannot be turned into a loop.
    let frame = std::hint::black_box([depth; 64]);
    if depth == u64::MAX {
        return 0;
    }
    frame[(depth % 64) as usize].wrapping_add(recurse(depth + 1))
}

/// Recursion whose frames live only on the WebAssembly stack (no locals in
/// linear memory), so it exhausts the engine's stack rather than Rust's.
#[inline(never)]
fn recurse_light(n: u64) -> u64 {
    if n == 0 {
        return 1;
    }
    let below = recurse_light(n - 1);
    below.rotate_left((n % 63) as u32) ^ n
}

fn report(result: Result<String, Error>) -> String {
    match result {
        Ok(s) => format!("ok: {s}"),
        Err(e) => describe_error(&e),
    }
}

fn describe_error(e: &Error) -> String {
    match e {
        Error::AccessDenied {
            capability,
            path,
            reason,
        } => format!("err: access-denied|{capability}|{path}|{reason}"),
        Error::LimitExceeded {
            limit,
            max,
            requested,
        } => format!("err: limit-exceeded|{limit}|{max}|{requested}"),
        Error::NotFound(p) => format!("err: not-found|{p}"),
        Error::InvalidInput(m) => format!("err: invalid-input|{m}"),
        Error::Io(m) => format!("err: io|{m}"),
        Error::Failed(m) => format!("err: failed|{m}"),
    }
}

fn entry_lines(entries: &[workspace::Entry]) -> String {
    entries
        .iter()
        .map(|e| match &e.withheld {
            Some(rule) => format!("{} withheld({rule})", e.path),
            None => format!("{} {:?}", e.path, e.kind),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

airlock_sdk::export_skill!(Adversary);
