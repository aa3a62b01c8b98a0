//! `airlock:skill/exec`: a program the profile lists, after the approval
//! gate, in the command sandbox ([`crate::command`]): no network, an
//! allowlisted environment, a minimal view of the system, limits, a seccomp
//! filter, and a private copy of the granted workspace. What the command
//! changed in its copy is then reviewed and applied like a skill's edits
//! (`edits.mode`, undo, audit, `limits.max-bytes-written`).
//!
//! Order of checks: the program must be listed (else refused before anyone
//! is asked), the working directory must be inside the workspace, risky
//! commands (deletes, history rewrites, anything that would talk to a
//! network) always ask whatever the profile says, and the decision is in the
//! audit trail before the command starts. If the sandbox cannot be set up,
//! the command is refused: Airlock never runs one unisolated.

use crate::approval::{ApprovalRequest, Subject};
use crate::audit::schema;
use crate::bindings::exec_api::{self as api, Command, CommandResult};
use crate::bindings::types::Error;
use crate::command::Mount;
use crate::command::snapshot::{Snapshot, SnapshotError, SnapshotSpec};
use crate::host::workspace::{WorkspaceState, WorkspaceView};
use crate::journal::{Event, Journal};
use crate::profile::CommandPolicy;
use crate::sandbox::denylist::DenyList;
use airlock_core::paths::RelPath;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasmtime::component::HasData;

/// The longest argument list accepted, in bytes all together.
pub const MAX_ARGS_BYTES: usize = 64 * 1024;

/// Per-run state of the exec interface.
pub struct ExecState {
    policy: CommandPolicy,
    root: PathBuf,
    deadline: airlock_core::clock::RunClock,
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
        deadline: airlock_core::clock::RunClock,
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

/// Where a command's copy of the workspace is made first: the RAM file
/// system most Linux systems mount (it holds at most
/// `commands.max-snapshot-mib` for the length of one command).
const SHM: &str = "/dev/shm";

/// The borrowed view the generated `Host` trait is implemented on.
pub struct ExecView<'a> {
    /// Per-run state.
    pub state: &'a mut ExecState,
    /// The run's workspace (its approval gate, and the edit machinery that
    /// applies a command's changes).
    pub workspace: &'a mut WorkspaceState,
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
        if !self
            .workspace
            .sandbox()
            .root()
            .metadata(cwd.to_path())
            .is_ok_and(|m| m.is_dir())
        {
            return Err(Error::NotFound(format!("{cwd} (the working directory)")));
        }
        if self
            .workspace
            .sandbox()
            .grant_for(&cwd, crate::sandbox::resolve::Need::Read)
            .is_none()
        {
            return Err(self.deny(
                &program,
                format!("the working directory `{cwd}` is not granted by the profile"),
            ));
        }
        let caller_env = crate::command::env::current();
        let view = crate::command::isolate::SystemView::new(
            &caller_env,
            &self.state.hidden,
            &self.state.root,
        );
        // A program on the system's PATH, outside the workspace: its real
        // path names what runs, for the risk list.
        #[allow(clippy::disallowed_methods)]
        let real = view
            .find_program(&program)
            .and_then(|p| p.canonicalize().ok());
        let risks: Vec<String> =
            crate::command::risk::assess_resolved(&program, real.as_deref(), &command.args)
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
        let decision = self.workspace.gate_mut().decide(mode, &request);
        // The audit trail gets the arguments redacted like prompts are.
        let args = self.redacted_args(&command.args);
        let mut recorded = request.clone();
        if let Subject::Command { args: a, .. } = &mut recorded.subject {
            a.clone_from(&args);
        }
        crate::host::types::audit_durable(
            self.journal,
            &crate::host::types::approval_record(&recorded, &decision, mode),
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
        let snapshot = self
            .snapshot()
            .map_err(|reason| self.deny(&program, reason))?;
        let mounts = self.mounts(&snapshot);
        let sandboxed = crate::command::CommandRequest {
            program: program.clone(),
            args: command.args.clone(),
            cwd: self.state.root.join(cwd.to_path()),
            timeout,
            max_output_bytes: usize::try_from(self.state.policy.max_output_bytes)
                .unwrap_or(usize::MAX),
            mounts,
            hidden: self.state.hidden.clone(),
            caller_env,
            limits: self.state.policy.limits(),
        };
        let outcome = match crate::command::run(&sandboxed) {
            Ok(o) => o,
            Err(e) => {
                let reason = e.to_string();
                if self.journal.audited() {
                    let record = command_record(program.clone(), args, &cwd, Err(reason.clone()));
                    self.journal.audit(&record, true);
                }
                return Err(self.deny(&program, reason));
            }
        };
        let policy = &self.state.policy;
        let (changes, scratch_bytes) = snapshot
            .changes(&self.state.deny, &|p| policy.is_scratch(p))
            .map_err(|e| Error::Failed(e.to_string()))?;
        let links_withheld = snapshot.links_withheld().len();
        drop(snapshot);
        let applied = WorkspaceView {
            state: self.workspace,
            journal: self.journal,
        }
        .apply_command_changes(changes)
        .map_err(|e| Error::Failed(format!("the audit log failed: {e}")))?;
        let mut notes = Vec::new();
        if let Some((_, message)) = &outcome.limit {
            notes.push(message.clone());
        } else if outcome.exit_code != Some(0) && !outcome.timed_out {
            notes.push(format!(
                "the command ended with {}; {}",
                match (outcome.exit_code, outcome.signal) {
                    (_, Some(sig)) => format!("signal {sig}"),
                    (Some(code), None) => format!("exit status {code}"),
                    (None, None) => "no status".into(),
                },
                outcome.limits
            ));
        }
        let scratch_cap = self
            .state
            .policy
            .max_scratch_mib
            .saturating_mul(1024 * 1024);
        if scratch_bytes > scratch_cap {
            notes.push(format!(
                "build output under commands.scratch paths was {} MiB, over commands.max-scratch-mib = {}; it was discarded, as scratch output always is",
                scratch_bytes / (1024 * 1024),
                self.state.policy.max_scratch_mib
            ));
        }
        if links_withheld > 0 {
            notes.push(format!(
                "{links_withheld} file(s) with more than one hard link were left out of the command's copy (a hard link can be a secret under another name); the profile's `hard-links = \"allow\"` copies those not linked to a deny-listed file"
            ));
        }
        notes.extend(applied.iter().map(|a| match &a.reason {
            None => format!("{} `{}`: applied to the workspace", a.change, a.path),
            Some(why) => format!("{} `{}`: not applied: {why}", a.change, a.path),
        }));
        let mut stderr = outcome.stderr;
        if !notes.is_empty() {
            if !stderr.is_empty() && !stderr.ends_with('\n') {
                stderr.push('\n');
            }
            for note in &notes {
                stderr.push_str("[airlock] ");
                stderr.push_str(note);
                stderr.push('\n');
            }
        }
        let result = CommandResult {
            exit_code: outcome.exit_code,
            signal: outcome.signal,
            truncated: outcome.stdout_truncated || outcome.stderr_truncated,
            timed_out: outcome.timed_out,
            elapsed_ms: u64::try_from(outcome.elapsed.as_millis()).unwrap_or(u64::MAX),
            stdout: outcome.stdout,
            stderr,
        };
        if self.journal.audited() {
            let limit = outcome.limit.map(|(key, _)| key);
            let ran = ran_record(self.journal, &result, limit, outcome.limits, applied);
            let record = command_record(program, args, &cwd, Ok(ran));
            crate::host::types::audit_durable(self.journal, &record)?;
        }
        Ok(result)
    }

    /// The arguments as the audit log keeps them: secrets redacted.
    fn redacted_args(&self, args: &[String]) -> Vec<String> {
        args.iter()
            .map(|a| self.journal.audit_redact(a).0)
            .collect()
    }

    /// The private copy of the granted workspace the command works on.
    fn snapshot(&self) -> Result<Snapshot, String> {
        let grants: Vec<Vec<u8>> = self
            .workspace
            .sandbox()
            .grants()
            .iter()
            .map(|g| g.path.0.to_string().into_bytes())
            .map(|p| if p == b"." { Vec::new() } else { p })
            .collect();
        // The copy goes to a RAM file system when there is one (creating
        // 10,000 files there takes milliseconds, on a disk seconds), else,
        // or when it is full, to the state directory.
        let state_tmp = self
            .state
            .hidden
            .first()
            .map(|home| home.join("tmp"))
            .unwrap_or_else(std::env::temp_dir);
        let places: Vec<PathBuf> = [PathBuf::from(SHM), state_tmp]
            .into_iter()
            .filter(|p| p != Path::new(SHM) || crate::command::isolate::is_tmpfs(p))
            .collect();
        let policy = &self.state.policy;
        let mut last = None;
        for parent in &places {
            let taken = Snapshot::take(&SnapshotSpec {
                root: &self.state.root,
                grants: grants.clone(),
                deny: &self.state.deny,
                exclude: self.state.hidden.clone(),
                is_scratch: &|p| policy.is_scratch(p),
                max_bytes: policy.max_snapshot_mib.saturating_mul(1024 * 1024),
                hard_links: self.workspace.sandbox().hard_links(),
                parent,
            });
            match taken {
                Err(e @ SnapshotError::NoSpace(_)) => last = Some(e),
                other => return other.map_err(|e| e.to_string()),
            }
        }
        Err(last.map_or_else(
            || "no place for the command's copy".into(),
            |e| e.to_string(),
        ))
    }

    /// The workspace as the command sees it: the copy at the workspace's
    /// own path, each grant writable or read-only as the profile says
    /// (a folder the profile does not grant is not in the copy), and each
    /// `.git` folder read-only from the real tree.
    fn mounts(&self, snapshot: &Snapshot) -> Vec<Mount> {
        let root = &self.state.root;
        let mut grants: Vec<(String, bool)> = self
            .workspace
            .sandbox()
            .grants()
            .iter()
            .map(|g| (g.path.0.to_string(), g.writable))
            .collect();
        grants.sort_by_key(|(p, _)| if p == "." { 0 } else { p.split('/').count() });
        let mut mounts = vec![Mount {
            source: snapshot.path().to_path_buf(),
            target: root.clone(),
            writable: false,
        }];
        // Bubblewrap follows symbolic links in a mount's source on the host:
        // a grant (or `.git`) that is, or passes through, a link is not
        // bound, so a link cannot put what it points to in the command's
        // view. Inside the sandbox the link resolves against the read-only
        // copy instead.
        let copy = open_root(snapshot.path());
        for (path, writable) in grants {
            let rel = if path == "." { String::new() } else { path };
            if copy
                .as_ref()
                .is_some_and(|c| is_plain_dir(c, Path::new(&rel)))
            {
                mounts.push(Mount {
                    source: snapshot.path().join(&rel),
                    target: root.join(&rel),
                    writable,
                });
            }
        }
        let real = open_root(root);
        for vcs in snapshot.vcs_dirs() {
            let rel = std::path::Path::new(std::ffi::OsStr::from_bytes(vcs));
            if real.as_ref().is_some_and(|r| is_plain_dir(r, rel)) {
                mounts.push(Mount {
                    source: root.join(rel),
                    target: root.join(rel),
                    writable: false,
                });
            }
        }
        mounts
    }
}

/// The folder at `path` as a handle, if it opens.
fn open_root(path: &Path) -> Option<cap_std::fs::Dir> {
    cap_std::fs::Dir::open_ambient_dir(path, cap_std::ambient_authority()).ok()
}

/// Whether `rel` under `dir` is a folder reached without following a
/// symbolic link at any of its components (`""` is `dir` itself).
fn is_plain_dir(dir: &cap_std::fs::Dir, rel: &Path) -> bool {
    let mut prefix = PathBuf::new();
    for part in rel.components() {
        let std::path::Component::Normal(name) = part else {
            return false;
        };
        prefix.push(name);
        match dir.symlink_metadata(&prefix) {
            Ok(meta) if meta.is_dir() => {}
            _ => return false,
        }
    }
    true
}

/// The `command` record of a command that ran, or that the sandbox refused
/// to start (`Err` says why). `args` are as the log keeps them (redacted).
fn command_record(
    program: String,
    args: Vec<String>,
    cwd: &RelPath,
    ran: Result<schema::Ran, String>,
) -> schema::Command {
    let (ran, error) = match ran {
        Ok(ran) => (Some(ran), None),
        Err(reason) => (None, Some(reason)),
    };
    schema::Command {
        program,
        args,
        cwd: cwd.to_string(),
        error,
        ran,
    }
}

/// How a command ran, as its record keeps it: its output redacted like
/// prompts are, the profile key of the limit that stopped it, the limits
/// it ran under (a sentence), and what became of its changes.
fn ran_record(
    journal: &Journal,
    result: &CommandResult,
    limit: Option<String>,
    limits: String,
    changes: Vec<schema::AppliedChange>,
) -> schema::Ran {
    let (stdout, r1) = journal.audit_redact(&result.stdout);
    let (stderr, r2) = journal.audit_redact(&result.stderr);
    let mut redacted = r1;
    for (rule, n) in r2 {
        *redacted.entry(rule).or_insert(0) += n;
    }
    schema::Ran {
        exit_code: result.exit_code,
        signal: result.signal,
        timed_out: result.timed_out,
        truncated: result.truncated,
        elapsed_ms: result.elapsed_ms,
        limit,
        limits,
        changes,
        stdout,
        stderr,
        redacted: schema::redacted(redacted),
    }
}

impl api::Host for ExecView<'_> {
    fn allowed_programs(&mut self) -> wasmtime::Result<Vec<api::Program>> {
        self.journal.host_call("exec::allowed-programs")?;
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
        self.journal.host_call("exec::run")?;
        let result = self.run_command(command);
        self.journal.audit_check()?;
        Ok(result)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! The `command` records as the typed payload writes them, against the
    //! `json!` objects the host wrote before the typed schema, for the same
    //! inputs: the canonical bytes (sorted keys) are the same.

    use super::*;
    use crate::audit::schema::AppliedChange;
    use serde_json::json;

    const KEY: &str = "AKIAABCDEFGHIJKLMNOP";

    fn bytes(payload: &impl serde::Serialize) -> String {
        serde_json::to_value(payload).unwrap().to_string()
    }

    #[test]
    fn a_refused_command_writes_the_bytes_it_wrote_before() {
        let cwd = RelPath::parse("src").unwrap();
        let args = vec!["-c".to_string(), "true".to_string()];
        let reason = "the command sandbox could not be set up: no user namespaces";
        let old = json!({ "program": "sh", "args": args, "cwd": cwd.to_string(), "error": reason });
        let typed = command_record("sh".into(), args.clone(), &cwd, Err(reason.into()));
        assert_eq!(bytes(&typed), old.to_string());
    }

    #[test]
    fn a_command_that_ran_writes_the_bytes_it_wrote_before() {
        let home = tempfile::tempdir().unwrap();
        let cwd = RelPath::parse(".").unwrap();
        let applied = vec![
            AppliedChange {
                path: "out.txt".into(),
                change: "create".into(),
                applied: true,
                reason: None,
            },
            AppliedChange {
                path: ".env".into(),
                change: "other".into(),
                applied: false,
                reason: Some("withheld by the deny-list".into()),
            },
        ];
        let endings = [
            (Some(0), None, false, None),
            (None, Some(9), true, Some("limits.wall-clock-seconds")),
            (Some(2), None, false, Some("commands.max-output-bytes")),
        ];
        for journal in [
            Journal::new(1024, None),
            crate::journal::redacting_journal(home.path()),
        ] {
            for (exit_code, signal, timed_out, limit) in endings {
                let result = CommandResult {
                    exit_code,
                    signal,
                    truncated: limit.is_some(),
                    timed_out,
                    elapsed_ms: 1234,
                    stdout: format!("out {KEY}\n"),
                    stderr: format!("err {KEY} {KEY}\n"),
                };
                let limits = "limits: 256 processes".to_string();
                let limit = limit.map(str::to_string);
                let args = vec!["build".to_string()];
                // The old writer, as it was.
                let (stdout, r1) = journal.audit_redact(&result.stdout);
                let (stderr, r2) = journal.audit_redact(&result.stderr);
                let mut redacted = r1;
                for (rule, n) in r2 {
                    *redacted.entry(rule).or_insert(0) += n;
                }
                let old = json!({
                    "program": "make",
                    "args": args,
                    "cwd": cwd.to_string(),
                    "exit-code": result.exit_code,
                    "signal": result.signal,
                    "timed-out": result.timed_out,
                    "truncated": result.truncated,
                    "elapsed-ms": result.elapsed_ms,
                    "limit": limit.as_ref(),
                    "limits": limits,
                    "changes": applied,
                    "stdout": stdout,
                    "stderr": stderr,
                    "redacted": redacted,
                });
                let ran = ran_record(&journal, &result, limit, limits, applied.clone());
                let typed = command_record("make".into(), args, &cwd, Ok(ran));
                assert_eq!(bytes(&typed), old.to_string());
            }
        }
    }
}
