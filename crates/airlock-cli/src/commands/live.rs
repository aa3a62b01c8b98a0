//! The live view of a run on stderr (log lines, denials, model calls,
//! progress) and the text a skill prints, on stdout, as it happens. Shared
//! by `airlock run` and `airlock chat`.
//!
//! What the skill (or a model, or a file name) wrote passes through
//! [`airlock_runtime::terminal`]: on stderr always (each event one line,
//! escapes and line breaks shown), on stdout when it is a terminal (line
//! breaks and tabs kept). Piped stdout gets the skill's text exactly.

use airlock_runtime::Event;
use airlock_runtime::journal::Level;
use airlock_runtime::terminal;
use std::io::Write;

/// The live view of a run on stderr: log lines and denials as they happen,
/// and the skill's progress as a bar on a terminal (as lines elsewhere).
pub struct LiveView {
    bar: indicatif::ProgressBar,
    terminal: bool,
    /// stdout is a terminal: the skill's printed text is rendered for it.
    stdout_terminal: bool,
    /// Printed text on stdout ended mid-line: start the next stderr line afresh.
    mid_line: std::sync::atomic::AtomicBool,
    /// A stderr line ended a printed line: a newline the skill prints next
    /// would show as a blank line, so it is dropped (from the terminal only).
    line_broken: std::sync::atomic::AtomicBool,
}

impl LiveView {
    pub fn new() -> Self {
        let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let bar = indicatif::ProgressBar::hidden();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Self {
            bar,
            terminal,
            stdout_terminal: std::io::IsTerminal::is_terminal(&std::io::stdout()),
            mid_line: std::sync::atomic::AtomicBool::new(false),
            line_broken: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether stdout was left in the middle of a line.
    pub fn mid_line(&self) -> bool {
        self.mid_line.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn show(&self, event: &Event) {
        let line = match event {
            Event::Log { level, message } => {
                let tag = match level {
                    Level::Debug => "debug",
                    Level::Info => "info",
                    Level::Warn => "warn",
                    Level::Error => "error",
                };
                format!("[{tag}] {}", terminal::line(message))
            }
            Event::Progress {
                done,
                total,
                message,
            } => {
                if self.terminal && *total > 0 {
                    if self.bar.is_hidden() {
                        self.bar
                            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    }
                    self.bar.set_length(*total);
                    self.bar.set_position(*done);
                    self.bar.set_message(terminal::line(message).into_owned());
                    return;
                }
                let message = terminal::line(message);
                if *total > 0 {
                    format!("[{done}/{total}] {message}")
                } else {
                    format!("[{done}] {message}")
                }
            }
            Event::Denied {
                capability,
                path,
                reason,
            } => format!(
                "[denied] {capability} `{}`: {}",
                terminal::line(path),
                terminal::line(reason)
            ),
            Event::Print { text } => {
                let broken = self
                    .line_broken
                    .swap(false, std::sync::atomic::Ordering::Relaxed);
                let text = match text.strip_prefix('\n') {
                    Some(rest) if broken => rest,
                    _ => text.as_str(),
                };
                let shown = if self.stdout_terminal {
                    terminal::text(text)
                } else {
                    std::borrow::Cow::Borrowed(text)
                };
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(shown.as_bytes());
                let _ = out.flush();
                if !text.is_empty() {
                    self.mid_line
                        .store(!text.ends_with('\n'), std::sync::atomic::Ordering::Relaxed);
                }
                return;
            }
            Event::Inference {
                model,
                digest,
                prompt_tokens,
                completion_tokens,
                error,
                elapsed_ms,
                ..
            } => {
                let short = digest.get(..19).unwrap_or(digest);
                let model = terminal::line(model);
                match error {
                    Some(e) => format!(
                        "[model] {model} ({short}…) failed after {elapsed_ms} ms: {}",
                        terminal::line(e)
                    ),
                    None => format!(
                        "[model] {model} ({short}…) {prompt_tokens} prompt + {completion_tokens} generated tokens in {elapsed_ms} ms"
                    ),
                }
            }
        };
        let line = if self
            .mid_line
            .swap(false, std::sync::atomic::Ordering::Relaxed)
        {
            self.line_broken
                .store(true, std::sync::atomic::Ordering::Relaxed);
            format!("\n{line}")
        } else {
            line
        };
        if self.bar.is_hidden() {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        } else {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
