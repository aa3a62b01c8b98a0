//! `airlock:skill/exec`: a program the profile lists, after the approval
//! gate, in the command sandbox ([`crate::command`]): no network, an allowlisted
//! environment, writes only inside the workspace, a timeout.
//!
//! Order of checks: the program must be listed (else refused before anyone
//! is asked), the working directory must be inside the workspace, risky
//! commands (deletes, history rewrites, anything that would talk to a
//! network) always ask whatever the profile says, and the decision is in the
//! audit trail before the command starts. If the sandbox cannot be set up,
//! the command is refused: Airlock never runs one unisolated.

use crate::approval::{ApprovalRequest, Gate, Subject};
use crate::audit::record::kind;
use crate::bindings::exec_api::{self as api, Command, CommandResult};
use crate::bindings::types::Error;
use crate::journal::{Event, Journal};
use crate::profile::CommandPolicy;
use crate::sandbox::denylist::DenyList;
use crate::sandbox::paths::RelPath;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use wasmtime::component::HasData;

/// The longest argument list accepted, in bytes all together.
pub const MAX_ARGS_BYTES: usize = 64 * 1024;

/// Per-run state of the exec interface.
pub struct ExecState {
    policy: CommandPolicy,
    root: PathBuf,
    deadline: crate::clock::RunClock,
    skill: String,
    deny: DenyList,
    hidden: Vec<PathBuf>,
}

impl ExecState {
    /// State for one run over the workspace at `root`: `deny` is the
    /// profile's deny-list (those files are masked from commands too),
    /// `hidden` folders outside the workspace commands must not see.
    pub fn new(
        policy: CommandPolicy,
        root: PathBuf,
        deadline: crate::clock::RunClock,
        skill: String,
        deny: DenyList,
        hidden: Vec<PathBuf>,
    ) -> Self {
        Self {
            policy,
            root,
            deadline,
            skill,
            deny,
            hidden,
        }
    }
}

/// The most entries looked at when finding deny-listed files to mask.
const MASK_SCAN_LIMIT: usize = 200_000;

/// Workspace-relative paths the deny-list withholds (a withheld folder is
/// masked whole), so a command cannot read them either.
fn masked_paths(root: &std::path::Path, deny: &DenyList) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    let mut seen = 0usize;
    while let Some((dir, rel)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MASK_SCAN_LIMIT {
                return Err(format!(
                    "the workspace has more than {MASK_SCAN_LIMIT} entries; Airlock cannot check them all for secrets to hide from the command"
                ));
            }
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if deny.matching_rule(&path).is_some() {
                out.push(path);
            } else if kind.is_dir() && !kind.is_symlink() {
                stack.push((entry.path(), path));
            }
        }
    }
    Ok(out)
}

/// The borrowed view the generated `Host` trait is implemented on.
pub struct ExecView<'a> {
    /// Per-run state.
    pub state: &'a mut ExecState,
    /// The run's approval gate (shared with file edits).
    pub gate: &'a mut Gate,
    /// The run's journal.
    pub journal: &'a mut Journal,
}

/// Marker for `add_to_linker`.
pub struct HasExec;

impl HasData for HasExec {
    type Data<'a> = ExecView<'a>;
}

/// Add `airlock:skill/exec` to a linker.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> ExecView<'_>,
) -> wasmtime::Result<()> {
    api::add_to_linker::<T, HasExec>(linker, view)
}

impl ExecView<'_> {
    fn deny(&mut self, program: &str, reason: String) -> Error {
        self.journal.record(Event::Denied {
            capability: "exec".into(),
            path: program.to_string(),
            reason: reason.clone(),
        });
        Error::denied("exec", program, reason)
    }

    fn run_command(&mut self, command: Command) -> Result<CommandResult, Error> {
        let program = command.program.clone();
        let Some(&mode) = self.state.policy.programs.get(&program) else {
            let listed: Vec<&str> = self
                .state
                .policy
                .programs
                .keys()
                .map(String::as_str)
                .collect();
            let reason = format!(
                "the profile does not list `{program}` in [commands].programs (it lists: {}); add `{program} = \"ask\"` there to let the skill request it",
                if listed.is_empty() {
                    "nothing".to_string()
                } else {
                    listed.join(", ")
                }
            );
            return Err(self.deny(&program, reason));
        };
        let arg_bytes: usize = command.args.iter().map(String::len).sum();
        if arg_bytes > MAX_ARGS_BYTES {
            return Err(Error::InvalidInput(format!(
                "the arguments are {arg_bytes} bytes; at most {MAX_ARGS_BYTES} are accepted"
            )));
        }
        let cwd = RelPath::parse(&command.cwd).map_err(|e| {
            Error::InvalidInput(format!(
                "cwd {:?}: {e}; give a directory inside the workspace, such as \".\"",
                command.cwd
            ))
        })?;
        if !self.state.root.join(cwd.to_path()).is_dir() {
            return Err(Error::NotFound(format!("{cwd} (the working directory)")));
        }
        let risks: Vec<String> = crate::command::risk::assess(&program, &command.args)
            .iter()
            .map(ToString::to_string)
            .collect();
        let request = ApprovalRequest {
            skill: self.state.skill.clone(),
            subject: Subject::Command {
                program: program.clone(),
                args: command.args.clone(),
                cwd: cwd.to_string(),
            },
            risks,
        };
        let decision = self.gate.decide(mode, &request);
        crate::host::types::audit_durable(
            self.journal,
            kind::APPROVAL,
            json!({ "request": request, "decision": decision, "mode": mode }),
        )?;
        if !decision.allowed {
            let reason = decision.reason.unwrap_or_else(|| "not approved".into());
            return Err(self.deny(&program, reason));
        }
        let remaining = self
            .state
            .deadline
            .at()
            .saturating_duration_since(Instant::now());
        let asked = command
            .timeout_seconds
            .map_or(u64::MAX, u64::from)
            .min(self.state.policy.timeout_seconds);
        let timeout = Duration::from_secs(asked).min(remaining);
        if timeout.is_zero() {
            return Err(Error::limit("limits.wall-clock-seconds", 0, 1));
        }
        let masked = masked_paths(&self.state.root, &self.state.deny)
            .map_err(|reason| self.deny(&program, reason))?;
        let sandboxed = crate::command::CommandRequest {
            program: program.clone(),
            args: command.args.clone(),
            cwd: cwd.to_string(),
            timeout,
            max_output_bytes: usize::try_from(self.state.policy.max_output_bytes)
                .unwrap_or(usize::MAX),
            masked,
            read_only: vec![".git".into()],
            hidden: self.state.hidden.clone(),
            caller_env: crate::command::env::current(),
        };
        let outcome = match crate::command::run(&self.state.root, &sandboxed) {
            Ok(o) => o,
            Err(e) => {
                let reason = e.to_string();
                if self.journal.audited() {
                    self.journal.audit(
                        kind::COMMAND,
                        json!({ "program": program, "args": command.args, "cwd": cwd.to_string(), "error": reason }),
                        true,
                    );
                }
                return Err(self.deny(&program, reason));
            }
        };
        let result = CommandResult {
            exit_code: outcome.exit_code,
            signal: outcome.signal,
            truncated: outcome.stdout_truncated || outcome.stderr_truncated,
            timed_out: outcome.timed_out,
            elapsed_ms: u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX),
            stdout: outcome.stdout,
            stderr: outcome.stderr,
        };
        if self.journal.audited() {
            let (stdout, r1) = self.journal.audit_redact(&result.stdout);
            let (stderr, r2) = self.journal.audit_redact(&result.stderr);
            let mut redacted = r1;
            for (rule, n) in r2 {
                *redacted.entry(rule).or_insert(0) += n;
            }
            crate::host::types::audit_durable(
                self.journal,
                kind::COMMAND,
                json!({
                    "program": program,
                    "args": command.args,
                    "cwd": cwd.to_string(),
                    "exit-code": result.exit_code,
                    "signal": result.signal,
                    "timed-out": result.timed_out,
                    "truncated": result.truncated,
                    "elapsed-ms": result.elapsed_ms,
                    "stdout": stdout,
                    "stderr": stderr,
                    "redacted": redacted,
                }),
            )?;
        }
        Ok(result)
    }
}

impl api::Host for ExecView<'_> {
    fn allowed_programs(&mut self) -> wasmtime::Result<Vec<api::Program>> {
        Ok(self
            .state
            .policy
            .programs
            .iter()
            .filter_map(|(name, mode)| {
                let approval = match mode {
                    crate::profile::ApprovalMode::Deny => return None,
                    crate::profile::ApprovalMode::Ask => api::ProgramApproval::Ask,
                    crate::profile::ApprovalMode::Allow => api::ProgramApproval::Allow,
                };
                Some(api::Program {
                    name: name.clone(),
                    approval,
                })
            })
            .collect())
    }

    fn run(&mut self, command: Command) -> wasmtime::Result<Result<CommandResult, Error>> {
        let result = self.run_command(command);
        self.journal.audit_check()?;
        Ok(result)
    }
}
