//! How `airlock audit show` prints records for a person: one line per
//! record, grouped by run. Everything a skill, a model or a file produced
//! goes through the terminal renderer (`--json` never comes here).

use airlock_runtime::audit::record::{Record, kind};
use airlock_runtime::terminal;
use serde_json::Value;
use std::io::Write;

use super::short;

fn hhmmss(time: &str) -> std::borrow::Cow<'_, str> {
    line(time.get(11..23).unwrap_or(time))
}

/// One approval record: what was asked, and what was decided by whom.
fn approval_line(r: &Record) -> String {
    let at = |p: &str| r.data.pointer(p).and_then(Value::as_str).unwrap_or("?");
    let subject = match at("/request/subject/type") {
        "command" => {
            let args: Vec<String> = r
                .data
                .pointer("/request/subject/args")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().unwrap_or("?").to_string())
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "run `{}` in {}",
                line(&airlock_runtime::approval::shell_words(
                    at("/request/subject/program"),
                    &args
                )),
                line(at("/request/subject/cwd"))
            )
        }
        _ => format!(
            "{} {}",
            line(at("/request/subject/change")),
            line(at("/request/subject/path"))
        ),
    };
    let allowed = r
        .data
        .pointer("/decision/allowed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut text = format!(
        "{subject}: {} ({}, {})",
        if allowed { "allowed" } else { "DENIED" },
        line(at("/decision/how")),
        line(at("/decision/who"))
    );
    if let Some(risks) = r
        .data
        .pointer("/request/risks")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        let risks: Vec<String> = risks
            .iter()
            .map(|v| line(v.as_str().unwrap_or("?")).into_owned())
            .collect();
        text.push_str(&format!(" · risk: {}", risks.join("; ")));
    }
    text
}

pub(super) fn loose_line(r: &Record) -> String {
    match r.kind.as_str() {
        kind::RUN_REFUSED => format!(
            "{}  refused  {} (exit {}): {}",
            line(&r.time),
            line(r.str("skill").unwrap_or("?")),
            r.u64("exit-code").unwrap_or(0),
            line(r.str("reason").unwrap_or_default())
        ),
        kind::ADMIN => format!(
            "{}  admin    {} by {} {}",
            line(&r.time),
            line(r.str("action").unwrap_or("?")),
            line(
                r.data
                    .pointer("/identity/user")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
            ),
            line(
                &r.data
                    .get("details")
                    .map(Value::to_string)
                    .unwrap_or_default()
            )
        ),
        _ => format!(
            "{}  {}  {}",
            line(&r.time),
            line(&r.kind),
            line(r.str("reason").unwrap_or_default())
        ),
    }
}

/// A recorded value on one line of the terminal: what a skill, a model or
/// a file produced is shown, never obeyed (`--json` stays exact).
fn line(text: &str) -> std::borrow::Cow<'_, str> {
    terminal::line(text)
}

/// Fold long text to its first line unless `full`; either way rendered for
/// the terminal (escapes shown; with `full`, each line indented).
fn fold(text: &str, full: bool, indent: &str) -> String {
    if full {
        return terminal::text(text).replace('\n', &format!("\n{indent}"));
    }
    let lines = text.lines().count();
    let first: String = text
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect();
    let cut = first.len() < text.trim_end().len();
    let first = line(&first).into_owned();
    if cut {
        format!(
            "{first} … ({lines} line(s), {} chars; --full shows all)",
            text.chars().count()
        )
    } else {
        first
    }
}

pub(super) fn show_run(out: &mut impl Write, id: &str, recs: &[&Record], full: bool) {
    let start = recs.iter().find(|r| r.kind == kind::RUN_START);
    let end = recs
        .iter()
        .find(|r| matches!(r.kind.as_str(), kind::RUN_END | kind::RUN_INCOMPLETE));
    let d = start.map(|r| &r.data);
    let get = |p: &str| {
        line(
            d.and_then(|d| d.pointer(p))
                .and_then(Value::as_str)
                .unwrap_or("?"),
        )
    };
    let signer = match d.and_then(|d| d.pointer("/skill/signer")) {
        Some(Value::String(s)) => line(s).into_owned(),
        Some(v) => format!(
            "signed by {}",
            line(v.get("trusted_as").and_then(Value::as_str).unwrap_or("?"))
        ),
        None => "?".into(),
    };
    let outcome = match end {
        Some(e) if e.kind == kind::RUN_INCOMPLETE => {
            "INCOMPLETE (the process was killed or crashed)".to_string()
        }
        Some(e) => format!(
            "{}, exit {}",
            line(e.str("outcome").unwrap_or("?")),
            e.u64("exit-code").unwrap_or(0)
        ),
        None => "no end record (still running, or killed)".into(),
    };
    let _ = writeln!(
        out,
        "run {}  {}  {} (sha256:{}…, {signer})  {outcome}",
        line(id),
        line(start.map_or("?", |r| r.time.as_str())),
        get("/skill/name"),
        short(&get("/skill/digest")),
    );
    let configured = d
        .and_then(|d| d.pointer("/identity/configured"))
        .and_then(Value::as_str)
        .map(|c| format!(" as {}", line(c)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  user {} (uid {}){configured} on {} · profile {} (sha256:{}…) · workspace {}",
        get("/identity/user"),
        line(
            &d.and_then(|d| d.pointer("/identity/uid"))
                .map(Value::to_string)
                .unwrap_or_default()
        ),
        get("/identity/host"),
        get("/profile"),
        short(&get("/profile-digest")),
        get("/workspace"),
    );
    if let Some(models) = d
        .and_then(|d| d.get("models"))
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
    {
        let names: Vec<String> = models
            .iter()
            .map(|m| {
                format!(
                    "{} ({}…)",
                    line(m.get("name").and_then(Value::as_str).unwrap_or("?")),
                    line(
                        m.get("digest")
                            .and_then(Value::as_str)
                            .map(|s| s.get(..19).unwrap_or(s))
                            .unwrap_or("?")
                    )
                )
            })
            .collect();
        let _ = writeln!(out, "  models {} via {}", names.join(", "), get("/backend"));
    }
    if let Some(input) = d.and_then(|d| d.get("input")).and_then(Value::as_str) {
        let _ = writeln!(out, "  input   {}", fold(input, full, "          "));
    }
    for r in recs {
        let t = hhmmss(&r.time);
        match r.kind.as_str() {
            kind::ACCESS => {
                let allowed = r
                    .data
                    .get("allowed")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let op = line(r.str("op").unwrap_or("?"));
                let path = line(r.str("path").unwrap_or("?"));
                let detail = if !allowed {
                    format!("DENIED: {}", line(r.str("rule").unwrap_or_default()))
                } else if let Some(err) = r.str("error") {
                    format!("failed: {}", line(err))
                } else if let Some(bytes) = r.u64("bytes") {
                    format!("{bytes} B")
                } else if let Some(n) = r.u64("entries") {
                    format!("{n} entries")
                } else if let Some(n) = r.u64("matches") {
                    format!(
                        "{n} matches for {}",
                        line(&format!("{:?}", r.str("pattern").unwrap_or_default()))
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(out, "  {t}  {op:<11} {path}  {detail}");
            }
            kind::LOG => {
                let _ = writeln!(
                    out,
                    "  {t}  log/{:<7} {}",
                    line(r.str("level").unwrap_or("?")),
                    fold(
                        r.str("message").unwrap_or_default(),
                        full,
                        "                        "
                    )
                );
            }
            kind::INFERENCE => {
                let status = match r.str("error") {
                    Some(e) => format!("failed: {}", line(e)),
                    None => line(r.str("finish").unwrap_or("?")).into_owned(),
                };
                let _ = writeln!(
                    out,
                    "  {t}  model       {} ({}…): {} prompt + {} generated tokens, {} ms, {status}",
                    line(r.str("model").unwrap_or("?")),
                    line(
                        r.str("digest")
                            .map(|s| s.get(..19).unwrap_or(s))
                            .unwrap_or("?")
                    ),
                    r.u64("prompt-tokens").unwrap_or(0),
                    r.u64("completion-tokens").unwrap_or(0),
                    r.u64("elapsed-ms").unwrap_or(0),
                );
                let pad = "                          ";
                if let Some(messages) = r
                    .data
                    .pointer("/request/messages")
                    .and_then(Value::as_array)
                {
                    for m in messages {
                        let role = m.get("role").and_then(Value::as_str).unwrap_or("?");
                        let content = m.get("content").and_then(Value::as_str).unwrap_or_default();
                        let _ = writeln!(
                            out,
                            "                 {:<9} {}",
                            format!("[{}]", line(role)),
                            fold(content, full, pad)
                        );
                    }
                }
                let _ = writeln!(
                    out,
                    "                 {:<9} {}",
                    "[answer]",
                    fold(r.str("output").unwrap_or_default(), full, pad)
                );
                if r.data
                    .get("redacted")
                    .and_then(Value::as_object)
                    .is_some_and(|m| !m.is_empty())
                {
                    let _ = writeln!(
                        out,
                        "                 (secrets redacted: {})",
                        line(&r.data["redacted"].to_string())
                    );
                }
            }
            kind::RUN_END => {
                let usage = match r.data.get("usage") {
                    Some(u) => format!(
                        " · read {} B · wrote {} B",
                        u.get("bytes-read").and_then(Value::as_u64).unwrap_or(0),
                        u.get("bytes-written").and_then(Value::as_u64).unwrap_or(0)
                    ),
                    None => String::new(),
                };
                let findings = r
                    .data
                    .get("findings")
                    .and_then(Value::as_array)
                    .map(|f| format!(" · {} finding(s)", f.len()))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {t}  end         {} · exit {} · {} ms{usage}{findings}{}",
                    line(r.str("outcome").unwrap_or("?")),
                    r.u64("exit-code").unwrap_or(0),
                    r.u64("elapsed-ms").unwrap_or(0),
                    r.str("error")
                        .map(|e| format!(" · error: {}", line(e)))
                        .unwrap_or_default(),
                );
                if let Some(output) = r.str("output").filter(|o| !o.is_empty()) {
                    let _ = writeln!(
                        out,
                        "                 output    {}",
                        fold(output, full, "                           ")
                    );
                }
            }
            kind::RUN_INCOMPLETE => {
                let _ = writeln!(
                    out,
                    "  {t}  incomplete  {}",
                    line(r.str("reason").unwrap_or_default())
                );
            }
            kind::APPROVAL => {
                let _ = writeln!(out, "  {t}  approval    {}", approval_line(r));
            }
            _ => {}
        }
    }
}
