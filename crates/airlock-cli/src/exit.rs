//! Exit codes. Each one means one thing, so scripts can branch on it.

use std::fmt;

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: the command did what was asked.
    Success = 0,
    /// 1: the skill ran and failed (returned an error or crashed).
    SkillFailed = 1,
    /// 2: bad arguments, an invalid profile, a missing or unreadable file.
    Usage = 2,
    /// 3: refused by policy before running (network import, unsupported
    /// import or WIT version, an untrusted admin profile, a plugin whose
    /// reviewed profile changed since the install review).
    Refused = 3,
    /// 4: a limit stopped the skill (deadline, memory, output, bytes read/written).
    Limit = 4,
    /// 5: the skill succeeded and reported findings at or above `--fail-on`.
    Findings = 5,
    /// 6: the audit log could not be written, so nothing ran or the run was
    /// stopped (fail closed); or `audit verify` found the log tampered with.
    Audit = 6,
    /// 130: the run was cancelled (Ctrl-C), as a shell reports SIGINT.
    Cancelled = 130,
    /// 70: a bug or environment failure in Airlock itself.
    Internal = 70,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}

/// A command failure: what to print, and the exit code.
#[derive(Debug)]
pub struct Failure {
    code: Exit,
    message: String,
}

impl Failure {
    pub fn new(code: Exit, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    pub fn code(&self) -> Exit {
        self.code
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<airlock_runtime::profile::ProfileError> for Failure {
    fn from(e: airlock_runtime::profile::ProfileError) -> Self {
        // An admin profile others could change is refused, as an untrusted
        // admin policy is; every other profile error is the caller's to fix.
        let code = match e {
            airlock_runtime::profile::ProfileError::Untrusted { .. } => Exit::Refused,
            _ => Exit::Usage,
        };
        Self::new(code, e.to_string())
    }
}

impl From<airlock_runtime::StartError> for Failure {
    fn from(e: airlock_runtime::StartError) -> Self {
        Self::new(Exit::Internal, e.to_string())
    }
}

impl From<&airlock_runtime::LoadError> for Exit {
    fn from(e: &airlock_runtime::LoadError) -> Self {
        use airlock_runtime::LoadError as L;
        match e {
            L::NetworkImport { .. } | L::UnsupportedImport { .. } | L::WitVersion { .. } => {
                Exit::Refused
            }
            L::Read { .. } | L::NotAComponent { .. } | L::NotASkill { .. } => Exit::Usage,
            L::Compile { .. } => Exit::Internal,
        }
    }
}

impl From<airlock_runtime::LoadError> for Failure {
    fn from(e: airlock_runtime::LoadError) -> Self {
        Self::new(Exit::from(&e), e.to_string())
    }
}
