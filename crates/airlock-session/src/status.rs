//! How a run, or a refusal before one, ends: the code and the word that the
//! audit log records (`exit-code`, `outcome`), that `--json` reports
//! (`status`), and that `airlock` exits with. One classification of the
//! errors of the crates below, so the code recorded is the code returned.

use airlock_policy::admin::PolicyError;
use airlock_policy::profile::ProfileError;
use airlock_runtime::Severity;
use airlock_runtime::{LoadError, RunFailure, RunReport};
use airlock_trust::admit::AdmitError;
use airlock_trust::package::PackageError;
use airlock_trust::store::StoreError;

/// How a run ended, or why none started. The codes are `airlock`'s exit
/// codes (see its `exit.rs`), and the audit log's `exit-code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 0: done.
    Ok,
    /// 1: the skill ran and failed (returned an error or crashed).
    SkillFailed,
    /// 2: a bad argument, profile, workspace, configuration or model.
    Usage,
    /// 3: refused before running (signature, trust, admin policy, drift…).
    Refused,
    /// 4: a limit stopped the skill.
    Limit,
    /// 5: the skill succeeded and reported findings at or above the threshold.
    Findings,
    /// 6: the audit log could not be written (fail closed).
    Audit,
    /// 130: cancelled, as a shell reports SIGINT.
    Cancelled,
    /// 70: a bug or environment failure in Airlock itself.
    Internal,
}

impl Status {
    /// Every status, in code order (for tests and tables).
    pub const ALL: [Status; 9] = [
        Status::Ok,
        Status::SkillFailed,
        Status::Usage,
        Status::Refused,
        Status::Limit,
        Status::Findings,
        Status::Audit,
        Status::Internal,
        Status::Cancelled,
    ];

    /// The exit code, as the audit log records it.
    pub const fn code(self) -> u8 {
        match self {
            Status::Ok => 0,
            Status::SkillFailed => 1,
            Status::Usage => 2,
            Status::Refused => 3,
            Status::Limit => 4,
            Status::Findings => 5,
            Status::Audit => 6,
            Status::Internal => 70,
            Status::Cancelled => 130,
        }
    }

    /// The machine-readable word: `--json`'s `status`, the audit log's
    /// `outcome` of a run that failed.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::SkillFailed => "skill-failed",
            Status::Usage => "usage-error",
            Status::Refused => "refused",
            Status::Limit => "limit-exceeded",
            Status::Findings => "findings",
            Status::Audit => "audit-failed",
            Status::Cancelled => "cancelled",
            Status::Internal => "internal-error",
        }
    }

    /// The status of a run: a skill's error is [`Status::SkillFailed`], a
    /// finding at or above `fail_on` is [`Status::Findings`], a failure
    /// inside the sandbox has its own status.
    pub fn of_run(outcome: &Result<RunReport, RunFailure>, fail_on: Option<Severity>) -> Self {
        match outcome {
            Ok(report) => {
                if report.error.is_some() {
                    return Status::SkillFailed;
                }
                if let Some(threshold) = fail_on {
                    let hit = report.findings.iter().any(|f| f.severity >= threshold);
                    if hit {
                        return Status::Findings;
                    }
                }
                Status::Ok
            }
            Err(failure) => match failure {
                RunFailure::Setup(_) => Status::Usage,
                RunFailure::Host(_) => Status::Internal,
                RunFailure::Refused(_) => Status::Refused,
                RunFailure::Limit { .. } => Status::Limit,
                RunFailure::Audit { .. } => Status::Audit,
                RunFailure::Crashed { .. } => Status::SkillFailed,
                RunFailure::Cancelled { .. } => Status::Cancelled,
            },
        }
    }
}

impl From<&LoadError> for Status {
    /// An import or WIT version the host refuses is a refusal; a file that is
    /// not a skill is the caller's to fix; a failed compile is Airlock's.
    fn from(e: &LoadError) -> Self {
        match e {
            LoadError::NetworkImport { .. }
            | LoadError::UnsupportedImport { .. }
            | LoadError::WitVersion { .. } => Status::Refused,
            LoadError::Read { .. }
            | LoadError::NotAComponent { .. }
            | LoadError::NotASkill { .. } => Status::Usage,
            LoadError::Compile { .. } => Status::Internal,
        }
    }
}

impl From<&ProfileError> for Status {
    /// An admin profile others could change is refused, as an untrusted
    /// admin policy is; every other profile error is the caller's to fix.
    fn from(e: &ProfileError) -> Self {
        match e {
            ProfileError::Untrusted { .. } => Status::Refused,
            _ => Status::Usage,
        }
    }
}

impl From<&PolicyError> for Status {
    /// A malformed policy is the caller's to fix (the message names
    /// file:line:column); an untrusted or unreadable one refuses.
    fn from(e: &PolicyError) -> Self {
        match e {
            PolicyError::Invalid { .. } => Status::Usage,
            PolicyError::Untrusted { .. } | PolicyError::Read { .. } => Status::Refused,
        }
    }
}

impl From<&PackageError> for Status {
    /// A package that cannot be read or parsed is the caller's to fix; one
    /// that does not verify is refused.
    fn from(e: &PackageError) -> Self {
        match e {
            PackageError::Read { .. } | PackageError::Format { .. } => Status::Usage,
            _ => Status::Refused,
        }
    }
}

impl From<&StoreError> for Status {
    /// Installed files that do not check out are refused; a plugin that is
    /// not installed is a usage error; the store's own I/O is Airlock's.
    fn from(e: &StoreError) -> Self {
        match e {
            StoreError::Package(e) => Status::from(e),
            StoreError::NotInstalled(_) => Status::Usage,
            StoreError::Io { .. } => Status::Internal,
            _ => Status::Refused,
        }
    }
}

impl From<&AdmitError> for Status {
    /// Every reason a plugin may not run is a refusal, except a name nothing
    /// is installed under and a reviewed profile that cannot be read (the
    /// caller's to fix).
    fn from(e: &AdmitError) -> Self {
        match e {
            AdmitError::NotInstalled(_) => Status::Usage,
            AdmitError::ProfileUnusable { source, .. } => Status::from(&**source),
            AdmitError::Store(e) => Status::from(&**e),
            AdmitError::Package(e) => Status::from(&**e),
            AdmitError::PublisherNotAllowed { .. }
            | AdmitError::Revoked { .. }
            | AdmitError::Unsigned(_)
            | AdmitError::PolicyForbidsUnsigned { .. }
            | AdmitError::ReviewNotPinned { .. }
            | AdmitError::ProfileChanged { .. }
            | AdmitError::Changed { .. } => Status::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_are_ordered_and_parsed_in_any_case() {
        assert!(Severity::Note < Severity::Low);
        assert!(Severity::High < Severity::Critical);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert_eq!(Severity::parse("medium"), Some(Severity::Medium));
        assert_eq!(Severity::parse("severe"), None);
        for s in [
            Severity::Note,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn codes_and_words_are_the_documented_ones() {
        let table: Vec<(u8, &str)> = Status::ALL.iter().map(|s| (s.code(), s.as_str())).collect();
        assert_eq!(
            table,
            [
                (0, "ok"),
                (1, "skill-failed"),
                (2, "usage-error"),
                (3, "refused"),
                (4, "limit-exceeded"),
                (5, "findings"),
                (6, "audit-failed"),
                (70, "internal-error"),
                (130, "cancelled"),
            ]
        );
    }
}
