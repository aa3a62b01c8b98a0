//! Exit codes. Each one means one thing, so scripts can branch on it.

use airlock_session::admin::NotRecorded;
use airlock_session::{LaunchError, Status};
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

impl From<Status> for Exit {
    /// The session's statuses are these exit codes (the audit log records
    /// the same numbers).
    fn from(status: Status) -> Self {
        match status {
            Status::Ok => Exit::Success,
            Status::SkillFailed => Exit::SkillFailed,
            Status::Usage => Exit::Usage,
            Status::Refused => Exit::Refused,
            Status::Limit => Exit::Limit,
            Status::Findings => Exit::Findings,
            Status::Audit => Exit::Audit,
            Status::Cancelled => Exit::Cancelled,
            Status::Internal => Exit::Internal,
        }
    }
}

impl From<LaunchError> for Failure {
    /// Why a skill did not start: the session's status is the exit code, its
    /// message what is printed.
    fn from(e: LaunchError) -> Self {
        Self::new(Exit::from(e.status()), e.to_string())
    }
}

impl From<airlock_runtime::profile::ProfileError> for Failure {
    fn from(e: airlock_runtime::profile::ProfileError) -> Self {
        Self::new(Exit::from(Status::from(&e)), e.to_string())
    }
}

impl From<airlock_runtime::StartError> for Failure {
    fn from(e: airlock_runtime::StartError) -> Self {
        Self::new(Exit::Internal, e.to_string())
    }
}

impl From<&airlock_runtime::LoadError> for Exit {
    fn from(e: &airlock_runtime::LoadError) -> Self {
        Exit::from(Status::from(e))
    }
}

impl From<airlock_runtime::LoadError> for Failure {
    fn from(e: airlock_runtime::LoadError) -> Self {
        Self::new(Exit::from(&e), e.to_string())
    }
}

impl From<airlock_runtime::policy::PolicyError> for Failure {
    /// A malformed policy is exit 2 (the message names file:line:column and
    /// key); an untrusted or unreadable one is exit 3. Either way nothing runs.
    fn from(e: airlock_runtime::policy::PolicyError) -> Self {
        Self::new(Exit::from(Status::from(&e)), e.to_string())
    }
}

impl From<airlock_trust::package::PackageError> for Failure {
    /// A package that cannot be read or parsed is exit 2; one that does not
    /// verify is refused (3).
    fn from(e: airlock_trust::package::PackageError) -> Self {
        Self::new(Exit::from(Status::from(&e)), e.to_string())
    }
}

impl From<airlock_trust::store::StoreError> for Failure {
    /// Installed files that do not check out are refused (3); a plugin that
    /// is not installed is exit 2; the store's own I/O is Airlock's (70).
    fn from(e: airlock_trust::store::StoreError) -> Self {
        Self::new(Exit::from(Status::from(&e)), e.to_string())
    }
}

impl From<airlock_trust::admit::AdmitError> for Failure {
    /// Why a plugin may not run or be installed: a refusal (exit 3), except a
    /// name nothing is installed under, an unreadable file or profile (2) and
    /// the store's own I/O (70).
    fn from(e: airlock_trust::admit::AdmitError) -> Self {
        Self::new(Exit::from(Status::from(&e)), e.to_string())
    }
}

impl From<NotRecorded> for Failure {
    /// A change made but not recorded fails the command (exit 6).
    fn from(e: NotRecorded) -> Self {
        Self::new(Exit::Audit, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_exits_with_the_code_the_audit_log_records() {
        for status in Status::ALL {
            assert_eq!(Exit::from(status) as u8, status.code(), "{status:?}");
        }
    }
}
