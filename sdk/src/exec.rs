//! Run a program the profile lists (the build, the tests), after a person's
//! yes where the profile asks for one.
//!
//! The host runs it with no network at all, with an environment reduced to
//! an allowlist, with writes confined to the workspace and with a timeout.
//! A program the profile does not list, a "no" from the person, or a run
//! where nobody can be asked comes back as [`Error::AccessDenied`] naming the
//! reason, so the skill can tell the user what to change.
//!
//! ```no_run
//! use airlock_sdk::exec::Command;
//!
//! # fn run() -> Result<(), airlock_sdk::Error> {
//! let result = Command::new("cargo").args(["test", "--quiet"]).run()?;
//! if result.success() {
//!     airlock_sdk::log::info("the tests pass");
//! } else {
//!     airlock_sdk::log::warn(&result.stderr);
//! }
//! # Ok(())
//! # }
//! ```

use crate::__private::airlock::skill::exec as host;
use crate::Error;

/// How a listed program is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramApproval {
    /// A person says yes to each run (refused when nobody can be asked).
    Ask,
    /// It runs without asking, except risky command lines, which still ask.
    Allow,
}

/// A program the profile lets this run start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The name to pass to [`Command::new`].
    pub name: String,
    /// Whether a person is asked.
    pub approval: ProgramApproval,
}

/// The programs this run may start, in name order; programs the profile
/// denies are not listed. Use it to tell the user (or a model) truthfully
/// what can be run.
pub fn allowed_programs() -> Vec<Program> {
    host::allowed_programs()
        .into_iter()
        .map(|p| Program {
            name: p.name,
            approval: match p.approval {
                host::ProgramApproval::Ask => ProgramApproval::Ask,
                host::ProgramApproval::Allow => ProgramApproval::Allow,
            },
        })
        .collect()
}

/// A command to ask the host to run.
#[derive(Debug, Clone)]
pub struct Command {
    program: String,
    args: Vec<String>,
    cwd: String,
    timeout_seconds: Option<u32>,
}

/// What a finished command left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandResult {
    /// The exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// Standard output (lossy UTF-8), cut at the profile's limit.
    pub stdout: String,
    /// Standard error, cut the same way.
    pub stderr: String,
    /// Whether either stream was cut.
    pub truncated: bool,
    /// Whether the timeout killed it.
    pub timed_out: bool,
    /// Wall-clock time in milliseconds.
    pub elapsed_ms: u64,
}

impl CommandResult {
    /// Exited with code 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0)
    }
}

impl Command {
    /// `program` (a name the profile's `[commands]` table lists), run in the
    /// workspace root.
    pub fn new(program: &str) -> Self {
        Self {
            program: program.to_string(),
            args: Vec::new(),
            cwd: ".".into(),
            timeout_seconds: None,
        }
    }

    /// Add one argument (passed as is: there is no shell).
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_string());
        self
    }

    /// Add arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Run in this workspace-relative directory.
    pub fn cwd(mut self, dir: &str) -> Self {
        self.cwd = dir.to_string();
        self
    }

    /// Kill the command after this many seconds (the profile caps it).
    pub fn timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = Some(seconds);
        self
    }

    /// Ask the host to run it, and wait.
    pub fn run(&self) -> Result<CommandResult, Error> {
        let command = host::Command {
            program: self.program.clone(),
            args: self.args.clone(),
            cwd: self.cwd.clone(),
            timeout_seconds: self.timeout_seconds,
        };
        let r = host::run(&command).map_err(Error::from_wit)?;
        Ok(CommandResult {
            exit_code: r.exit_code,
            signal: r.signal,
            stdout: r.stdout,
            stderr: r.stderr,
            truncated: r.truncated,
            timed_out: r.timed_out,
            elapsed_ms: r.elapsed_ms,
        })
    }
}
