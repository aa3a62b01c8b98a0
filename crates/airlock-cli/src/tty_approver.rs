//! The question on the terminal: what the skill wants, the diff or the
//! command line, the risks, and the answers.
//!
//! Every part a skill, a model or a file produced (the skill's name, the
//! path, each diff line, each argument, each risk) goes through
//! [`airlock_runtime::terminal`], with its escapes highlighted in reverse video, so
//! the prompt shows what is true whatever the bytes: a `\r` or an erase
//! sequence cannot hide a line, a conceal sequence cannot hide text, and a
//! bidi override cannot reverse a path.

// Ambient std::fs allowed: the person's terminal (`/dev/tty`), not a file of
// the workspace or the state directory.
#![allow(clippy::disallowed_methods)]

use airlock_runtime::approval::diff::{Kind, cut_note, marker};
use airlock_runtime::approval::{Answer, ApprovalRequest, Approver, Subject};
use airlock_runtime::terminal;
use std::io::{BufRead, Write};

/// Asks on the controlling terminal (`/dev/tty`), in colour.
pub struct TerminalApprover {
    user: String,
}

impl TerminalApprover {
    /// A prompt on this process's controlling terminal, if it has one.
    pub fn open() -> Option<Self> {
        let tty = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .ok()?;
        drop(tty);
        let id = airlock_runtime::audit::Identity::current(None);
        Some(Self {
            user: format!("{} (uid {})", id.user, id.uid),
        })
    }
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";
/// Escapes in untrusted text are shown in reverse video (and back), which
/// leaves the line's colour as it was.
const MARK_ON: &str = "\x1b[7m";
const MARK_OFF: &str = "\x1b[27m";

/// Untrusted text for one line of the prompt, escapes highlighted.
fn shown(text: &str) -> String {
    terminal::line_marked(text.as_bytes(), MARK_ON, MARK_OFF).into_owned()
}

/// The prompt's text (coloured for a terminal).
pub fn render(request: &ApprovalRequest) -> String {
    let mut out = String::new();
    let skill = shown(&request.skill);
    if let Subject::Edit {
        path,
        change,
        diff,
        bytes_before,
        bytes_after,
        ..
    } = &request.subject
    {
        let sizes = match bytes_before {
            Some(b) => format!("{b} → {bytes_after} bytes"),
            None => format!("{bytes_after} bytes"),
        };
        out.push_str(&format!(
            "\n{BOLD}Airlock: skill `{skill}` wants to {change} {}{RESET} ({sizes})\n",
            shown(path)
        ));
        if let Some(diff) = diff {
            for line in diff.lines() {
                let colour = match line.kind {
                    Kind::Header => BOLD,
                    Kind::Added => GREEN,
                    Kind::Removed => RED,
                    Kind::Hunk => CYAN,
                    Kind::Context | Kind::Note => "",
                };
                let text = terminal::line_marked(&line.bytes, MARK_ON, MARK_OFF);
                let cut = if line.cut > 0 {
                    format!("{RESET}{YELLOW}{}", cut_note(line.cut))
                } else {
                    String::new()
                };
                out.push_str(&format!(
                    "  {colour}{}{text}{cut}{RESET}\n",
                    marker(line.kind)
                ));
            }
            if let Some(more) = diff.more_note() {
                out.push_str(&format!("  {YELLOW}{more}{RESET}\n"));
            }
            if diff.approximate {
                out.push_str(&format!(
                    "  {YELLOW}(too large to match line by line in time: every change is shown, perhaps with unchanged lines among them){RESET}\n"
                ));
            }
        }
    }
    if let Subject::Command { program, args, cwd } = &request.subject {
        out.push_str(&format!(
            "\n{BOLD}Airlock: skill `{skill}` wants to run a command{RESET}\n  {CYAN}${RESET} {}\n  in {} (no network, writes only inside the workspace)\n",
            shown(&shell_words(program, args)),
            shown(cwd)
        ));
    }
    for risk in &request.risks {
        out.push_str(&format!("  {YELLOW}risk: {}{RESET}\n", shown(risk)));
    }
    out.push_str(&format!(
        "{BOLD}Allow?{RESET} [y] yes, once  [n] no  [r] yes to this exact {} for the rest of this run: ",
        match request.subject {
            Subject::Edit { .. } => "path",
            Subject::Command { .. } => "command",
        }
    ));
    out
}

/// The command as a shell would show it (quoted where needed). Not yet
/// safe for a terminal: pass it through [`airlock_core::terminal::line`].
pub fn shell_words(program: &str, args: &[String]) -> String {
    let quote = |w: &str| {
        if !w.is_empty()
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
        {
            w.to_string()
        } else {
            format!("'{}'", w.replace('\'', "'\\''"))
        }
    };
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(quote)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Approver for TerminalApprover {
    fn ask(&self, request: &ApprovalRequest) -> Answer {
        let Ok(tty) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
        else {
            return Answer::No;
        };
        let Ok(mut writer) = tty.try_clone() else {
            return Answer::No;
        };
        let mut reader = std::io::BufReader::new(tty);
        let _ = writer.write_all(render(request).as_bytes());
        let _ = writer.flush();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return Answer::No,
                Ok(_) => {}
            }
            match line.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Answer::Yes,
                "n" | "no" | "" => return Answer::No,
                "r" | "run" => return Answer::YesThisRun,
                _ => {
                    let _ = writer.write_all(b"Please answer y, n or r: ");
                    let _ = writer.flush();
                }
            }
        }
    }

    fn who(&self) -> String {
        self.user.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock_runtime::approval::diff::diff;

    fn edit(path: &str, before: &[u8], after: &[u8]) -> ApprovalRequest {
        ApprovalRequest {
            skill: "s\x1b[2K".into(),
            subject: Subject::Edit {
                path: path.into(),
                change: airlock_runtime::approval::Change::Modify,
                diff: Some(diff(path, Some(before), Some(after))),
                bytes_before: Some(before.len() as u64),
                bytes_after: after.len() as u64,
                sha256_before: None,
                sha256_after: None,
            },
            risks: vec!["`x` runs\r code".into()],
        }
    }

    /// The prompt without Airlock's own colours: what a person reads.
    fn visible(prompt: &str) -> String {
        let mut out = prompt.to_string();
        for code in [RED, GREEN, CYAN, BOLD, YELLOW, RESET, MARK_ON, MARK_OFF] {
            out = out.replace(code, "");
        }
        out
    }

    #[test]
    fn nothing_in_the_prompt_is_obeyed_but_airlocks_own_colours() {
        let request = edit(
            "\u{202E}txt.exe",
            b"one\n",
            b"one\nok\x1b[2K\rforged\n\x1b[8mhidden\n\xff\n",
        );
        let prompt = render(&request);
        let seen = visible(&prompt);
        assert!(
            !seen
                .chars()
                .any(|c| c != '\n' && airlock_runtime::terminal::is_escaped(c)),
            "{seen:?}"
        );
        assert!(seen.contains("skill `s\\x1b[2K`"), "{seen}");
        assert!(seen.contains("modify <U+202E>txt.exe"), "{seen}");
        assert!(seen.contains("+ok\\x1b[2K^Mforged"), "{seen}");
        assert!(seen.contains("+\\x1b[8mhidden"), "{seen}");
        assert!(seen.contains("+\\xff"), "{seen}");
        assert!(seen.contains("risk: `x` runs^M code"), "{seen}");
        // Escapes are highlighted, so they cannot pass for typed text.
        assert!(
            prompt.contains(&format!("{MARK_ON}\\x1b{MARK_OFF}[8mhidden")),
            "{prompt:?}"
        );
    }

    #[test]
    fn a_command_line_is_quoted_and_shown() {
        let request = ApprovalRequest {
            skill: "s".into(),
            subject: Subject::Command {
                program: "git".into(),
                args: vec!["commit".into(), "-m".into(), "fix\x1b[1A\rok".into()],
                cwd: ".".into(),
            },
            risks: Vec::new(),
        };
        let seen = visible(&render(&request));
        assert!(seen.contains("$ git commit -m 'fix\\x1b[1A^Mok'"), "{seen}");
    }
}
