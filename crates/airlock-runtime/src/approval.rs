//! Approval gates: a change to a file or a command happens only with a
//! person's yes, unless the profile allows it outright.
//!
//! The skill cannot see or answer the question: the [`Gate`] asks an
//! [`Approver`] that the caller supplies (the CLI's asks on the controlling
//! terminal, `/dev/tty`, never through the skill's streams), and the mode
//! comes from the profile, which the skill cannot change. With no approver
//! (no terminal, or `--non-interactive`) anything that would ask is denied,
//! with a message naming the profile key that would allow it.

use crate::profile::ApprovalMode;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

pub mod diff;

pub use diff::Diff;

/// How an edit changes the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Change {
    /// A new file.
    Create,
    /// New content for an existing file.
    Modify,
    /// A file removed.
    Delete,
    /// A new folder.
    CreateDir,
}

impl Change {
    /// The name in prompts, audit records and undo records.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Modify => "modify",
            Self::Delete => "delete",
            Self::CreateDir => "create-dir",
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a skill wants to do.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Subject {
    /// Change a file.
    Edit {
        /// Workspace-relative path.
        path: String,
        /// How the workspace changes.
        change: Change,
        /// The diff, made only when a person will see it (never under
        /// `allow` or `deny`, nor for `create-dir`). The audit record keeps
        /// its counts (lines added, removed, not shown), not its content.
        #[serde(skip_serializing_if = "Option::is_none")]
        diff: Option<Diff>,
        /// Size before, when the file existed.
        bytes_before: Option<u64>,
        /// Size after (0 for a deletion).
        bytes_after: u64,
        /// sha256 of the content before, when the file existed.
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256_before: Option<String>,
        /// sha256 of the content after, unless it is a deletion.
        #[serde(skip_serializing_if = "Option::is_none")]
        sha256_after: Option<String>,
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
    clock: Option<airlock_core::clock::RunClock>,
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
    pub fn with_clock(mut self, clock: airlock_core::clock::RunClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Whether deciding `request` under `mode` asks a person (so the diff
    /// is worth making): not under `deny`, not under `allow` for a request
    /// without risks, not after a "yes for this run", not without a
    /// person to ask.
    pub fn will_ask(&self, mode: ApprovalMode, request: &ApprovalRequest) -> bool {
        self.without_asking(mode, request).is_none()
    }

    /// The decision made without a person, if there is one.
    fn without_asking(&self, mode: ApprovalMode, request: &ApprovalRequest) -> Option<Decision> {
        let key = request.subject.profile_key();
        match mode {
            ApprovalMode::Deny => {
                return Some(Decision {
                    allowed: false,
                    how: How::ProfileDeny,
                    who: "profile".into(),
                    reason: Some(format!(
                        "the profile's {key} = \"deny\" refuses it; a profile with {key} = \"ask\" lets you approve it"
                    )),
                });
            }
            ApprovalMode::Allow if request.risks.is_empty() => {
                return Some(Decision {
                    allowed: true,
                    how: How::ProfileAllow,
                    who: "profile".into(),
                    reason: None,
                });
            }
            _ => {}
        }
        if request.risks.is_empty() && self.this_run.contains(&request.subject.rule_key()) {
            return Some(Decision {
                allowed: true,
                how: How::ThisRun,
                who: self.approver.as_ref().map_or_else(String::new, |a| a.who()),
                reason: None,
            });
        }
        if self.approver.is_none() {
            let fix = if request.risks.is_empty() {
                format!("or use a profile with {key} = \"allow\"")
            } else {
                // Risky actions ask under every mode but `deny`.
                format!(
                    "it asks even under {key} = \"allow\" ({})",
                    request.risks.join("; ")
                )
            };
            return Some(Decision {
                allowed: false,
                how: How::NonInteractive,
                who: "airlock".into(),
                reason: Some(format!(
                    "it needs a person's approval and nobody can be asked (no terminal, or --non-interactive); run Airlock in a terminal to approve it, {fix}"
                )),
            });
        }
        None
    }

    /// Decide `request` under `mode`.
    pub fn decide(&mut self, mode: ApprovalMode, request: &ApprovalRequest) -> Decision {
        if let Some(decision) = self.without_asking(mode, request) {
            return decision;
        }
        let rule = request.subject.rule_key();
        let Some(approver) = &self.approver else {
            // `without_asking` decided already; kept for the type.
            return Decision {
                allowed: false,
                how: How::NonInteractive,
                who: "airlock".into(),
                reason: Some("nobody can be asked".into()),
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
                change: Change::Modify,
                diff: None,
                bytes_before: Some(1),
                bytes_after: 2,
                sha256_before: None,
                sha256_after: None,
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
    fn a_person_is_asked_only_when_the_mode_and_the_answers_so_far_need_one() {
        let asking = Gate::new(Some(Arc::new(Says(Answer::YesThisRun))));
        assert!(!asking.will_ask(ApprovalMode::Deny, &edit("a")));
        assert!(!asking.will_ask(ApprovalMode::Allow, &edit("a")));
        assert!(asking.will_ask(ApprovalMode::Ask, &edit("a")));
        let mut risky = edit("a");
        risky.risks.push("runs code later".into());
        assert!(asking.will_ask(ApprovalMode::Allow, &risky));
        assert!(!asking.will_ask(ApprovalMode::Deny, &risky));
        assert!(!Gate::new(None).will_ask(ApprovalMode::Ask, &edit("a")));
        let mut asked = asking;
        asked.decide(ApprovalMode::Ask, &edit("a"));
        assert!(
            !asked.will_ask(ApprovalMode::Ask, &edit("a")),
            "yes for this run"
        );
        assert!(
            asked.will_ask(ApprovalMode::Ask, &risky),
            "risky asks every time"
        );
    }

    #[test]
    fn a_risky_change_without_a_terminal_is_refused_with_its_reason() {
        let mut risky = edit(".envrc");
        risky.risks.push("`.envrc` runs code later".into());
        let d = Gate::new(None).decide(ApprovalMode::Allow, &risky);
        assert!(!d.allowed);
        assert!(d.reason.unwrap_or_default().contains("runs code later"));
    }
}
