//! How `airlock audit show` prints records for a person: one line per
//! record, grouped by run, each kind read through its typed payload
//! (`airlock_audit::schema`). Everything a skill, a model or a file produced
//! goes through the terminal renderer (`--json` never comes here).

use airlock_runtime::audit::record::{Record, kind};
use airlock_runtime::audit::schema::{
    Access, Admin, Approval, Inference, Log, Payload, RunEnd, RunIncomplete, RunRefused, RunStart,
    Signer, Subject,
};
use airlock_runtime::terminal;
use serde::Deserialize;
use std::borrow::Cow;
use std::io::Write;

use super::short;

/// Indents that line continuation lines up under a record's text.
const UNDER_TIME: &str = "                 ";

fn hhmmss(time: &str) -> Cow<'_, str> {
    line(time.get(11..23).unwrap_or(time))
}

/// A recorded value on one line of the terminal: what a skill, a model or
/// a file produced is shown, never obeyed (`--json` stays exact).
fn line(text: &str) -> Cow<'_, str> {
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

/// The first characters of a digest (`sha256:` and 12 hex digits).
fn digest_prefix(digest: &str) -> Cow<'_, str> {
    line(digest.get(..19).unwrap_or(digest))
}

/// `record`'s payload as `T`, or a line saying it cannot be read.
fn typed<'a, T: Deserialize<'a>>(record: &'a Record) -> Result<T, String> {
    T::deserialize(&record.data).map_err(|e| {
        format!(
            "(a `{}` record this Airlock cannot read: {})",
            line(&record.kind),
            line(&e.to_string())
        )
    })
}

/// A record that belongs to no run: a refusal, an admin change, a recovery.
pub(super) fn loose_line(r: &Record) -> String {
    let time = line(&r.time);
    match Payload::of(r) {
        Ok(Payload::RunRefused(refused)) => refused_line(&time, &refused),
        Ok(Payload::Admin(admin)) => admin_line(&time, &admin),
        Ok(Payload::Recovered(recovered)) => {
            format!("{time}  {}  {}", line(&r.kind), line(&recovered.reason))
        }
        Ok(_) => format!("{time}  {}  ", line(&r.kind)),
        Err(e) => format!("{time}  {}  {}", line(&r.kind), line(&e.to_string())),
    }
}

fn refused_line(time: &str, refused: &RunRefused) -> String {
    format!(
        "{time}  refused  {} (exit {}): {}",
        line(&refused.skill),
        refused.exit_code,
        line(&refused.reason)
    )
}

fn admin_line(time: &str, admin: &Admin) -> String {
    format!(
        "{time}  admin    {} by {} {}",
        line(&admin.action),
        line(&admin.identity.user),
        line(&admin.details.to_string())
    )
}

/// One run: a header from its start and end, then a line per record.
pub(super) fn show_run(out: &mut impl Write, id: &str, recs: &[&Record], full: bool) {
    let start = recs.iter().copied().find(|r| r.kind == kind::RUN_START);
    let end = recs
        .iter()
        .copied()
        .find(|r| matches!(r.kind.as_str(), kind::RUN_END | kind::RUN_INCOMPLETE));
    header(
        out,
        id,
        start.map(|r| r.time.as_str()),
        start.and_then(|r| RunStart::deserialize(&r.data).ok()),
        end,
        full,
    );
    for r in recs {
        let t = hhmmss(&r.time);
        let shown = match r.kind.as_str() {
            kind::ACCESS => typed(r).map(|a| access(out, &t, &a)),
            kind::LOG => typed(r).map(|l| log(out, &t, &l, full)),
            kind::INFERENCE => typed(r).map(|i| inference(out, &t, &i, full)),
            kind::RUN_END => typed(r).map(|e| run_end(out, &t, &e, full)),
            kind::RUN_INCOMPLETE => typed(r).map(|i| incomplete(out, &t, &i)),
            kind::APPROVAL => typed(r).map(|a| approval(out, &t, &a)),
            _ => Ok(()),
        };
        if let Err(unreadable) = shown {
            let _ = writeln!(out, "  {t}  {:<11} {unreadable}", line(&r.kind));
        }
    }
}

/// The run's first lines: skill, signer and outcome; who, profile and
/// workspace; models; input. `?` where its start record is missing.
fn header(
    out: &mut impl Write,
    id: &str,
    time: Option<&str>,
    start: Option<RunStart>,
    end: Option<&Record>,
    full: bool,
) {
    let unknown = || Cow::Borrowed("?");
    let signer = match start.as_ref().map(|s| &s.skill.signer) {
        Some(Signer::Named(s)) => line(s).into_owned(),
        Some(Signer::Signed(by)) => format!("signed by {}", line(&by.trusted_as)),
        None => "?".into(),
    };
    let outcome = match end {
        Some(e) if e.kind == kind::RUN_INCOMPLETE => {
            "INCOMPLETE (the process was killed or crashed)".to_string()
        }
        Some(e) => match RunEnd::deserialize(&e.data) {
            Ok(end) => format!("{}, exit {}", line(&end.outcome), end.exit_code),
            Err(_) => "?, exit ?".into(),
        },
        None => "no end record (still running, or killed)".into(),
    };
    let skill = start.as_ref().map(|s| &s.skill);
    let _ = writeln!(
        out,
        "run {}  {}  {} (sha256:{}…, {signer})  {outcome}",
        line(id),
        line(time.unwrap_or("?")),
        skill.map_or_else(unknown, |s| line(&s.name)),
        short(&skill.map_or_else(unknown, |s| line(&s.digest))),
    );
    let Some(start) = &start else {
        let _ = writeln!(
            out,
            "  user ? (uid ) on ? · profile ? (sha256:?…) · workspace ?"
        );
        return;
    };
    let who = &start.identity;
    let configured = who
        .configured
        .as_deref()
        .map(|c| format!(" as {}", line(c)))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "  user {} (uid {}){configured} on {} · profile {} (sha256:{}…) · workspace {}",
        line(&who.user),
        who.uid,
        line(&who.host),
        line(&start.profile),
        short(&line(&start.profile_digest)),
        line(&start.workspace.to_string_lossy()),
    );
    if !start.models.is_empty() {
        let names: Vec<String> = start
            .models
            .iter()
            .map(|m| format!("{} ({}…)", line(&m.name), digest_prefix(&m.digest)))
            .collect();
        let _ = writeln!(
            out,
            "  models {} via {}",
            names.join(", "),
            start.backend.as_deref().map_or_else(unknown, line)
        );
    }
    if let Some(input) = &start.input {
        let _ = writeln!(out, "  input   {}", fold(input, full, "          "));
    }
}

/// A workspace call: what, where, and how much (or why not).
fn access(out: &mut impl Write, t: &str, a: &Access) {
    let detail = if !a.allowed {
        format!("DENIED: {}", line(a.rule.as_deref().unwrap_or_default()))
    } else if let Some(err) = &a.error {
        format!("failed: {}", line(err))
    } else if let Some(bytes) = a.bytes {
        format!("{bytes} B")
    } else if let Some(n) = a.entries {
        format!("{n} entries")
    } else if let Some(search) = &a.search {
        format!(
            "{} matches for {}",
            search.matches,
            line(&format!("{:?}", search.pattern))
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "  {t}  {:<11} {}  {detail}",
        line(&a.op),
        line(&a.path)
    );
}

/// A log message of the skill.
fn log(out: &mut impl Write, t: &str, l: &Log, full: bool) {
    let _ = writeln!(
        out,
        "  {t}  log/{:<7} {}",
        line(&l.level),
        fold(&l.message, full, "                        ")
    );
}

/// A model call: the model, tokens, time and outcome, then each message
/// and the answer.
fn inference(out: &mut impl Write, t: &str, i: &Inference, full: bool) {
    let status = match &i.error {
        Some(e) => format!("failed: {}", line(e)),
        None => line(i.finish.as_deref().unwrap_or("?")).into_owned(),
    };
    let _ = writeln!(
        out,
        "  {t}  model       {} ({}…): {} prompt + {} generated tokens, {} ms, {status}",
        line(&i.model),
        digest_prefix(&i.digest),
        i.prompt_tokens,
        i.completion_tokens,
        i.elapsed_ms,
    );
    let pad = "                          ";
    for m in &i.request.messages {
        let _ = writeln!(
            out,
            "{UNDER_TIME}{:<9} {}",
            format!("[{}]", line(&m.role)),
            fold(&m.content, full, pad)
        );
    }
    let _ = writeln!(
        out,
        "{UNDER_TIME}{:<9} {}",
        "[answer]",
        fold(&i.output, full, pad)
    );
    if !i.redacted.is_empty() {
        let counts = serde_json::to_string(&i.redacted).unwrap_or_default();
        let _ = writeln!(out, "{UNDER_TIME}(secrets redacted: {})", line(&counts));
    }
}

/// The run's end: outcome, time, usage and findings, then its output.
fn run_end(out: &mut impl Write, t: &str, e: &RunEnd, full: bool) {
    let (usage, findings) = match &e.finished {
        Some(f) => (
            format!(
                " · read {} B · wrote {} B",
                f.usage.bytes_read, f.usage.bytes_written
            ),
            format!(" · {} finding(s)", f.findings.len()),
        ),
        None => (String::new(), String::new()),
    };
    let _ = writeln!(
        out,
        "  {t}  end         {} · exit {} · {} ms{usage}{findings}{}",
        line(&e.outcome),
        e.exit_code,
        e.elapsed_ms,
        e.error
            .as_deref()
            .map(|e| format!(" · error: {}", line(e)))
            .unwrap_or_default(),
    );
    let output = e.finished.as_ref().and_then(|f| f.output.as_deref());
    if let Some(output) = output.filter(|o| !o.is_empty()) {
        let _ = writeln!(
            out,
            "{UNDER_TIME}output    {}",
            fold(output, full, "                           ")
        );
    }
}

/// A run whose process died without recording its end.
fn incomplete(out: &mut impl Write, t: &str, i: &RunIncomplete) {
    let _ = writeln!(out, "  {t}  incomplete  {}", line(&i.reason));
}

/// A decision on a gated action: what was asked, and what was decided by whom.
fn approval(out: &mut impl Write, t: &str, a: &Approval) {
    let subject = match &a.request.subject {
        Subject::Command { program, args, cwd } => format!(
            "run `{}` in {}",
            line(&crate::tty_approver::shell_words(program, args)),
            line(cwd)
        ),
        Subject::Edit { path, change, .. } => format!("{} {}", line(change), line(path)),
    };
    let decision = &a.decision;
    let mut text = format!(
        "{subject}: {} ({}, {})",
        if decision.allowed {
            "allowed"
        } else {
            "DENIED"
        },
        decision.how.as_str(),
        line(&decision.who)
    );
    if !a.request.risks.is_empty() {
        let risks: Vec<Cow<'_, str>> = a.request.risks.iter().map(|r| line(r)).collect();
        text.push_str(&format!(" · risk: {}", risks.join("; ")));
    }
    let _ = writeln!(out, "  {t}  approval    {text}");
}
