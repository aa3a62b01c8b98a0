//! Approval gates: a change to a file (and, later, a command) happens only
//! with a human's yes, unless the profile allows it outright.
//!
//! The skill cannot see or answer the question: the host asks on its own
//! controlling terminal (`/dev/tty`), never through the skill's streams, and
//! the mode comes from the profile, which the skill cannot change. Without a
//! terminal (or with `--non-interactive`) anything that would ask is denied,
//! with a message naming the profile key that would allow it.

use crate::profile::ApprovalMode;
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::sync::Arc;

/// What a skill wants to do.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Subject {
    /// Change a file.
    Edit {
        /// Workspace-relative path.
        path: String,
        /// `create`, `modify`, `delete` or `create-dir`.
        change: &'static str,
        /// The unified diff shown to the user (empty for `create-dir`).
        #[serde(skip)]
        diff: String,
        /// Size before, when the file existed.
        bytes_before: Option<u64>,
        /// Size after (0 for a deletion).
        bytes_after: u64,
    },
    /// Run a program.
    Command {
        /// The program, as the profile lists it.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// The workspace-relative working directory.
        cwd: String,
    },
}

impl Subject {
    /// The key a "yes for the rest of this run" answer covers: this exact
    /// path (or command), never anything wider.
    fn rule_key(&self) -> String {
        match self {
            Subject::Edit { path, .. } => format!("edit:{path}"),
            Subject::Command { program, args, cwd } => {
                format!("command:{cwd}\0{program}\0{}", args.join("\0"))
            }
        }
    }

    /// The profile key that decides this kind of action.
    pub fn profile_key(&self) -> String {
        match self {
            Subject::Edit { .. } => "edits.mode".into(),
            Subject::Command { program, .. } => format!("commands.programs.{program}"),
        }
    }
}

/// A request for a decision.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ApprovalRequest {
    /// The skill asking.
    pub skill: String,
    /// What it wants.
    pub subject: Subject,
    /// Why it is risky, when it is (risky actions always ask).
    pub risks: Vec<String>,
}

/// What the human answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Yes, this once.
    Yes,
    /// No.
    No,
    /// Yes to this exact path (or command) for the rest of this run.
    YesThisRun,
}

/// Asks a human. Implemented by the terminal prompt; embedders may supply
/// their own (an MCP client's elicitation, a GUI).
pub trait Approver: Send + Sync {
    /// Ask, and wait for the answer.
    fn ask(&self, request: &ApprovalRequest) -> Answer;
    /// Who answers, for the audit trail (the OS user at the terminal).
    fn who(&self) -> String;
}

/// How a decision was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    /// The profile's mode is `deny`.
    ProfileDeny,
    /// The profile's mode is `allow` and the action is not risky.
    ProfileAllow,
    /// A person answered at the terminal.
    Interactive,
    /// An earlier "yes for this run" for the same path or command.
    ThisRun,
    /// Nobody could be asked, so it was denied.
    NonInteractive,
}

/// A decision, as recorded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Decision {
    /// Whether the action may go ahead.
    pub allowed: bool,
    /// How it was decided.
    pub how: How,
    /// Who decided: the user at the terminal, or `profile`/`airlock`.
    pub who: String,
    /// For a denial: the sentence the skill (and the user) gets.
    pub reason: Option<String>,
}

/// One run's gate: the approver, and the "yes for this run" answers given.
pub struct Gate {
    approver: Option<Arc<dyn Approver>>,
    this_run: BTreeSet<String>,
    clock: Option<crate::clock::RunClock>,
}

impl Gate {
    /// A gate that asks `approver`, or denies what would ask when `None`.
    pub fn new(approver: Option<Arc<dyn Approver>>) -> Self {
        Self {
            approver,
            this_run: BTreeSet::new(),
            clock: None,
        }
    }

    /// Stop `clock` while a person is being asked.
    pub fn with_clock(mut self, clock: crate::clock::RunClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Decide `request` under `mode`.
    pub fn decide(&mut self, mode: ApprovalMode, request: &ApprovalRequest) -> Decision {
        let key = request.subject.profile_key();
        match mode {
            ApprovalMode::Deny => {
                return Decision {
                    allowed: false,
                    how: How::ProfileDeny,
                    who: "profile".into(),
                    reason: Some(format!(
                        "the profile's {key} = \"deny\" refuses it; a profile with {key} = \"ask\" lets you approve it"
                    )),
                };
            }
            ApprovalMode::Allow if request.risks.is_empty() => {
                return Decision {
                    allowed: true,
                    how: How::ProfileAllow,
                    who: "profile".into(),
                    reason: None,
                };
            }
            _ => {}
        }
        let rule = request.subject.rule_key();
        if request.risks.is_empty() && self.this_run.contains(&rule) {
            return Decision {
                allowed: true,
                how: How::ThisRun,
                who: self.approver.as_ref().map_or_else(String::new, |a| a.who()),
                reason: None,
            };
        }
        let Some(approver) = &self.approver else {
            return Decision {
                allowed: false,
                how: How::NonInteractive,
                who: "airlock".into(),
                reason: Some(format!(
                    "it needs a person's approval and nobody can be asked (no terminal, or --non-interactive); run Airlock in a terminal to approve it, or use a profile with {key} = \"allow\""
                )),
            };
        };
        let asked = std::time::Instant::now();
        let answer = approver.ask(request);
        if let Some(clock) = &self.clock {
            clock.add_wait(asked.elapsed());
        }
        let who = approver.who();
        match answer {
            Answer::Yes => Decision {
                allowed: true,
                how: How::Interactive,
                who,
                reason: None,
            },
            Answer::YesThisRun => {
                self.this_run.insert(rule);
                Decision {
                    allowed: true,
                    how: How::Interactive,
                    who,
                    reason: None,
                }
            }
            Answer::No => Decision {
                allowed: false,
                how: How::Interactive,
                who: who.clone(),
                reason: Some(format!("{who} declined it at the approval prompt")),
            },
        }
    }
}

/// A unified diff of `before` → `after` for `path` (text), or a one-line
/// summary for binary content.
pub fn diff(path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> String {
    let text = |b: Option<&[u8]>| match b {
        None => Some(String::new()),
        Some(bytes) => std::str::from_utf8(bytes).ok().map(str::to_string),
    };
    match (text(before), text(after)) {
        (Some(old), Some(new)) => {
            let from = if before.is_some() {
                format!("a/{path}")
            } else {
                "/dev/null".into()
            };
            let to = if after.is_some() {
                format!("b/{path}")
            } else {
                "/dev/null".into()
            };
            similar::TextDiff::from_lines(&old, &new)
                .unified_diff()
                .context_radius(3)
                .header(&from, &to)
                .to_string()
        }
        _ => format!(
            "binary content: {} → {} bytes",
            before.map_or(0, <[u8]>::len),
            after.map_or(0, <[u8]>::len)
        ),
    }
}

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
        let id = crate::audit::Identity::current(None);
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

/// The prompt's text (coloured for a terminal).
pub fn render(request: &ApprovalRequest) -> String {
    let mut out = String::new();
    if let Subject::Edit {
        path,
        change,
        diff,
        bytes_before,
        bytes_after,
    } = &request.subject
    {
        let sizes = match bytes_before {
            Some(b) => format!("{b} → {bytes_after} bytes"),
            None => format!("{bytes_after} bytes"),
        };
        out.push_str(&format!(
            "\n{BOLD}Airlock: skill `{}` wants to {change} {path}{RESET} ({sizes})\n",
            request.skill
        ));
        for line in diff.lines() {
            let colour = if line.starts_with("+++") || line.starts_with("---") {
                BOLD
            } else if line.starts_with('+') {
                GREEN
            } else if line.starts_with('-') {
                RED
            } else if line.starts_with("@@") {
                CYAN
            } else {
                ""
            };
            out.push_str(&format!("  {colour}{line}{RESET}\n"));
        }
    }
    if let Subject::Command { program, args, cwd } = &request.subject {
        out.push_str(&format!(
            "\n{BOLD}Airlock: skill `{}` wants to run a command{RESET}\n  {CYAN}${RESET} {}\n  in {cwd} (no network, writes only inside the workspace)\n",
            request.skill,
            shell_words(program, args)
        ));
    }
    for risk in &request.risks {
        out.push_str(&format!("  {YELLOW}risk: {risk}{RESET}\n"));
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

/// The command as a shell would show it (quoted where needed).
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

    struct Says(Answer);
    impl Approver for Says {
        fn ask(&self, _: &ApprovalRequest) -> Answer {
            self.0
        }
        fn who(&self) -> String {
            "tester".into()
        }
    }

    fn edit(path: &str) -> ApprovalRequest {
        ApprovalRequest {
            skill: "s".into(),
            subject: Subject::Edit {
                path: path.into(),
                change: "modify",
                diff: String::new(),
                bytes_before: Some(1),
                bytes_after: 2,
            },
            risks: Vec::new(),
        }
    }

    #[test]
    fn modes_and_answers_decide_as_documented() {
        let mut gate = Gate::new(None);
        assert!(!gate.decide(ApprovalMode::Deny, &edit("a")).allowed);
        assert!(gate.decide(ApprovalMode::Allow, &edit("a")).allowed);
        let denied = gate.decide(ApprovalMode::Ask, &edit("a"));
        assert_eq!(denied.how, How::NonInteractive);
        assert!(
            denied
                .reason
                .unwrap_or_default()
                .contains("edits.mode = \"allow\"")
        );

        let mut risky = edit("a");
        risky.risks.push("deletes a file".into());
        assert!(
            !gate.decide(ApprovalMode::Allow, &risky).allowed,
            "risky actions always ask"
        );

        let mut gate = Gate::new(Some(Arc::new(Says(Answer::YesThisRun))));
        assert!(gate.decide(ApprovalMode::Ask, &edit("a")).allowed);
        let mut gate_no = Gate::new(Some(Arc::new(Says(Answer::No))));
        assert!(!gate_no.decide(ApprovalMode::Ask, &edit("a")).allowed);
        // The "this run" answer covers that path only.
        gate.approver = Some(Arc::new(Says(Answer::No)));
        assert_eq!(gate.decide(ApprovalMode::Ask, &edit("a")).how, How::ThisRun);
        assert!(!gate.decide(ApprovalMode::Ask, &edit("b")).allowed);
    }

    #[test]
    fn the_diff_shows_removed_and_added_lines() {
        let d = diff("src/a.txt", Some(b"one\ntwo\n"), Some(b"one\nthree\n"));
        assert!(d.contains("--- a/src/a.txt"), "{d}");
        assert!(d.contains("-two"), "{d}");
        assert!(d.contains("+three"), "{d}");
        let new = diff("n.txt", None, Some(b"hi\n"));
        assert!(
            new.contains("--- /dev/null") && new.contains("+hi"),
            "{new}"
        );
        assert!(diff("b.bin", Some(&[0xff, 0xfe]), Some(b"x")).contains("binary"));
    }
}
