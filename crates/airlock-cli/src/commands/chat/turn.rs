//! One turn: the message run as one audited run of the skill, Ctrl-C
//! cancelling it (and only it), the answer streamed, and a summary line.

use super::super::live::LiveView;
use super::{Exchange, Session, dim};
use crate::exit::{Exit, Failure};
use crate::tty_approver::TerminalApprover;
use airlock_runtime::approval::{Answer, ApprovalRequest, Approver};
use airlock_runtime::clock::Cancel;
use airlock_runtime::terminal;
use airlock_runtime::{Event, EventSink, Request, RunFailure, RunReport};
use airlock_session::Hooks;
use airlock_session::launch::failure_events;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Ctrl-C (SIGINT) during a turn: a flag the handler sets, which cancels
/// the turn. At a terminal the prompt reads keys in raw mode, so Ctrl-C
/// there is a key (it clears the line), not a signal; a SIGINT between turns
/// is ignored, so the session never ends on a Ctrl-C that came a moment too
/// late. Without a terminal (messages piped in) SIGINT between turns keeps
/// its default action and ends the process.
pub struct Interrupts {
    /// SIGINT arrived during the current turn.
    hit: Arc<AtomicBool>,
    /// Between turns, SIGINT ends the process, as by default.
    default_between_turns: bool,
    /// Whether SIGINT ends the process now.
    default_now: Arc<AtomicBool>,
    /// Whether the handlers are in place.
    installed: bool,
}

impl Interrupts {
    /// Put the handlers in place, once per session; `interactive`: the
    /// prompt reads a terminal.
    pub fn install(interactive: bool) -> Self {
        use signal_hook::consts::SIGINT;
        let hit = Arc::new(AtomicBool::new(false));
        let default_now = Arc::new(AtomicBool::new(!interactive));
        // The default action first, so that when it applies nothing else
        // sees the signal.
        let installed =
            signal_hook::flag::register_conditional_default(SIGINT, default_now.clone())
                .and_then(|_| signal_hook::flag::register(SIGINT, hit.clone()));
        if let Err(e) = &installed {
            eprintln!(
                "warning: cannot catch Ctrl-C ({e}): it will end the session, not just the turn"
            );
        }
        Self {
            hit,
            default_between_turns: !interactive,
            default_now,
            installed: installed.is_ok(),
        }
    }

    /// A turn starts: SIGINT cancels it.
    fn turn_starts(&self) {
        self.hit.store(false, Ordering::SeqCst);
        self.default_now.store(false, Ordering::SeqCst);
    }

    /// The turn ended.
    fn turn_ended(&self) {
        self.default_now
            .store(self.default_between_turns, Ordering::SeqCst);
    }
}

/// The approval prompt of a chat turn: the terminal prompt's question, and
/// an answer read in raw mode so that Ctrl-C at the question answers no and
/// cancels the turn (a cooked-mode read would wait for Enter first).
struct ChatApprover {
    terminal: TerminalApprover,
    cancel: Cancel,
}

impl Approver for ChatApprover {
    fn ask(&self, request: &ApprovalRequest) -> Answer {
        if self.cancel.is_cancelled() {
            return Answer::No;
        }
        let config = rustyline::Config::builder()
            .behavior(rustyline::Behavior::PreferTerm)
            .check_cursor_position(false)
            .auto_add_history(false)
            .build();
        let Ok(mut editor) = rustyline::DefaultEditor::with_config(config) else {
            return self.terminal.ask(request);
        };
        let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") else {
            return Answer::No;
        };
        let rendered = crate::tty_approver::render(request);
        // The question's last line is the prompt the answer is typed after.
        let (head, last) = match rendered.rfind('\n') {
            Some(at) => (&rendered[..=at], &rendered[at + 1..]),
            None => ("", rendered.as_str()),
        };
        let _ = tty.write_all(head.as_bytes());
        let _ = tty.flush();
        let mut styled = last.to_string();
        loop {
            let raw = strip_ansi(&styled);
            match editor.readline(&(raw.as_str(), styled.as_str())) {
                Ok(line) => match line.trim().to_ascii_lowercase().as_str() {
                    "y" | "yes" => return Answer::Yes,
                    "n" | "no" | "" => return Answer::No,
                    "r" | "run" => return Answer::YesThisRun,
                    _ => styled = "Please answer y, n or r: ".to_string(),
                },
                Err(rustyline::error::ReadlineError::Interrupted) => {
                    let _ = writeln!(tty, "(no; cancelling the turn)");
                    self.cancel.cancel();
                    return Answer::No;
                }
                Err(_) => return Answer::No,
            }
        }
    }

    fn who(&self) -> String {
        self.terminal.who()
    }
}

/// `text` without ANSI colour sequences (what a prompt's width is counted on).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // ESC [ ... final byte in @..~
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Run `message` as the next turn. Only an audit failure (exit 6) or a
/// plugin that may no longer run (exit 3) ends the session.
pub fn run(session: &mut Session, message: String) -> Result<(), Failure> {
    // The plugin may have been removed, replaced or distrusted meanwhile.
    if let Err(refusal) = session.launcher.recheck(&session.prepared) {
        return Err(Failure::new(
            Exit::from(refusal.status()),
            format!("{refusal}\nThe session ends: start it again to use the plugin as it is now."),
        ));
    }
    session.turns += 1;
    let number = session.turns;
    let mut args = session.extra_args.clone();
    args.push(("history".into(), session.history_json()));
    if let Some(model) = &session.model {
        args.push(("model".into(), model.clone()));
    }
    let request = Request {
        input: Some(message.clone()),
        args,
    };
    let cancel = Cancel::new();
    let view = Arc::new(LiveView::new());
    let sink: EventSink = {
        let view = view.clone();
        Arc::new(move |event: &Event| view.show(event))
    };
    let approver = session
        .interactive
        .then(TerminalApprover::open)
        .flatten()
        .map(|terminal| {
            Arc::new(ChatApprover {
                terminal,
                cancel: cancel.clone(),
            }) as Arc<dyn Approver>
        });
    let hooks = Hooks {
        sink: Some(sink),
        approver,
        cancel: Some(cancel.clone()),
        fail_on: None,
    };

    let interrupts = &session.interrupts;
    interrupts.turn_starts();
    let done = AtomicBool::new(false);
    let finished = std::thread::scope(|scope| {
        if interrupts.installed {
            scope.spawn(|| watch(&interrupts.hit, &done, &cancel));
        }
        let finished = session.rt.block_on(session.launcher.execute_in_session(
            &session.prepared,
            &request,
            hooks,
            Some(session.inference.clone()),
        ));
        done.store(true, Ordering::SeqCst);
        finished
    });
    interrupts.turn_ended();
    view.finish();
    // Not even a start record: nothing ran, and nothing will unrecorded.
    let finished = finished?;
    session.runs.push(finished.run_id.clone());
    let code = Exit::from(finished.status);
    let mid_line = view.mid_line();
    let run_id = finished.run_id.clone();
    // Ctrl-C cancels the turn, however the run then ended: the host stopped
    // the skill, or the skill returned first (with the error its cut-off
    // model call got, or the "no" its approval prompt got).
    let cancelled =
        cancel.is_cancelled() || matches!(&finished.outcome, Err(RunFailure::Cancelled { .. }));
    let (report, events) = match &finished.outcome {
        Ok(report) => (Some(report), &[][..]),
        Err(failure) => (None, failure_events(failure)),
    };
    let assistant = match &finished.outcome {
        Err(failure) if code == Exit::Audit => {
            if mid_line {
                println!();
            }
            summary(number, &run_id, finished.elapsed_ms, None, events);
            return Err(Failure::new(
                Exit::Audit,
                format!(
                    "{failure}\nThe session ends: Airlock does not run skills without a record."
                ),
            ));
        }
        _ if cancelled => {
            if mid_line {
                println!();
            }
            eprintln!(
                "turn {number} cancelled (Ctrl-C): the answer was dropped. audit: run {run_id} (`/audit` shows it)"
            );
            summary(number, &run_id, finished.elapsed_ms, report, events);
            CANCELLED.to_string()
        }
        Ok(report) => {
            show_rest(report, mid_line);
            if let Some(error) = &report.error {
                eprintln!(
                    "error: skill `{}` failed: {}",
                    terminal::line(&report.skill.name),
                    terminal::text(error)
                );
            }
            summary(number, &run_id, finished.elapsed_ms, Some(report), &[]);
            match &report.error {
                Some(error) => format!("(this turn failed: {error})"),
                None => report.output.clone().unwrap_or_default(),
            }
        }
        Err(failure) => {
            if mid_line {
                println!();
            }
            eprintln!(
                "error: {} (exit {}); audit: run {run_id} (`/audit` shows it)",
                terminal::text(&failure.to_string()),
                code as u8
            );
            summary(number, &run_id, finished.elapsed_ms, None, events);
            format!("(this turn failed: {failure})")
        }
    };
    session.exchanges.push(Exchange {
        user: message,
        assistant,
        run_id,
    });
    Ok(())
}

/// What the next turns' history says of a cancelled turn.
const CANCELLED: &str = "(the user cancelled this turn before the answer was complete)";

/// Cancel the turn when Ctrl-C arrives, until `done`.
fn watch(hit: &AtomicBool, done: &AtomicBool, cancel: &Cancel) {
    while !done.load(Ordering::SeqCst) {
        if hit.swap(false, Ordering::SeqCst) && !cancel.is_cancelled() {
            cancel.cancel();
            let _ = writeln!(std::io::stderr().lock(), "\n(cancelling the turn…)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The part of the output the live view has not shown, on a line of its own.
fn show_rest(report: &RunReport, mid_line: bool) {
    let full = report.output.as_deref().unwrap_or_default();
    let rest = full.get(report.printed_bytes..).unwrap_or_default();
    // Exact bytes into a pipe; escapes shown on a terminal.
    let rest = if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        terminal::text(rest)
    } else {
        std::borrow::Cow::Borrowed(rest)
    };
    let mut out = std::io::stdout().lock();
    if mid_line && !rest.is_empty() {
        let _ = out.write_all(b"\n");
    }
    let _ = out.write_all(rest.as_bytes());
    let ends_open = if rest.is_empty() {
        mid_line
    } else {
        !rest.ends_with('\n')
    };
    if ends_open {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// The dim line after a turn: run id, time, tokens, files written.
fn summary(
    number: usize,
    run_id: &str,
    elapsed_ms: u64,
    report: Option<&RunReport>,
    events: &[Event],
) {
    let mut parts = vec![
        format!("turn {number}"),
        format!("run {run_id}"),
        format!("{:.1} s", elapsed_ms as f64 / 1000.0),
    ];
    let (prompt, reused, generated) = match report {
        Some(r) => (
            r.inference.prompt_tokens,
            r.inference.prompt_tokens_reused,
            r.inference.completion_tokens,
        ),
        None => events.iter().fold((0, 0, 0), |(p, r, g), e| match e {
            Event::Inference {
                prompt_tokens,
                prompt_tokens_reused,
                completion_tokens,
                ..
            } => (
                p + u64::from(*prompt_tokens),
                r + u64::from(*prompt_tokens_reused),
                g + u64::from(*completion_tokens),
            ),
            _ => (p, r, g),
        }),
    };
    if prompt + generated > 0 {
        let reused = if reused > 0 {
            format!(" ({reused} of the prompt's reused)")
        } else {
            String::new()
        };
        parts.push(format!(
            "{prompt} prompt + {generated} generated tokens{reused}"
        ));
    }
    if let Some(r) = report {
        let denials = r.denials().count();
        if denials > 0 {
            parts.push(format!("{denials} denied"));
        }
        if r.usage.bytes_written > 0 {
            parts.push(format!("wrote {} B (/undo reverts)", r.usage.bytes_written));
        }
    }
    let _ = writeln!(std::io::stderr().lock(), "{}", dim(&parts.join(" · ")));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_stripped_from_a_prompt() {
        assert_eq!(strip_ansi("\x1b[1mAllow?\x1b[0m [y] yes"), "Allow? [y] yes");
        assert_eq!(strip_ansi("plain"), "plain");
    }
}
