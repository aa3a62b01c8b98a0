//! Why a skill did not start (or its run could not be recorded), typed: the
//! caller chooses the exit code from [`LaunchError::status`] and shows the
//! message, which names what failed and what to do.

use crate::config::ConfigError;
use crate::status::Status;
use airlock_audit::AuditError;
use airlock_inference::EngineError;
use airlock_inference::resolve::GrantError;
use airlock_policy::admin::{PolicyError, PolicyViolation};
use airlock_policy::profile::ProfileError;
use airlock_policy::runs_later::PatternError;
use airlock_runtime::{LoadError, StartError};
use airlock_trust::admit::AdmitError;
use airlock_trust::caps::RoleError;
use std::path::PathBuf;

/// Why a skill did not start, or why its run could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The configuration file cannot be used.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No home directory, so no audit log, so no run.
    #[error(
        "no Airlock home ($AIRLOCK_HOME or $HOME), so no audit log: set AIRLOCK_HOME or pass --home DIR"
    )]
    NoHome,
    /// The audit log cannot be opened or written: nothing runs unrecorded.
    #[error(
        "{0}; Airlock does not run skills without a record. Fix the cause (disk space, permissions) and check the log with `airlock audit verify`"
    )]
    Audit(#[from] AuditError),
    /// The WebAssembly host did not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// The admin policy cannot be established (fail closed).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The admin policy refuses what the run would do.
    #[error(transparent)]
    Violation(#[from] PolicyViolation),
    /// The admin policy's `always-ask` files do not parse.
    #[error("admin policy: {0}")]
    AlwaysAsk(#[from] PatternError),
    /// The skill may not run: signature, trust, publisher, review.
    #[error(transparent)]
    Admit(Box<AdmitError>),
    /// The profile named cannot be used.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// A model role the plugin asks for is filled by no model.
    #[error("refused: {0}")]
    Roles(#[from] RoleError),
    /// The workspace is not a directory.
    #[error("workspace {} is not a directory; pass one with --workspace DIR", .0.display())]
    NotADirectory(PathBuf),
    /// The workspace's real path cannot be found.
    #[error("cannot resolve workspace {}: {source}", path.display())]
    Workspace {
        /// The workspace as given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The component does not load (or the host refuses its imports).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The configured inference engine cannot be used.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A granted model is missing, drifted or not served as pinned.
    #[error(transparent)]
    Models(Box<GrantError>),
    /// An installed plugin was replaced while a session held it.
    #[error("`{0}` changed since this session started; start it again")]
    Changed(String),
}

// The two largest errors are boxed, so every `Result<_, LaunchError>` stays small.
impl From<AdmitError> for LaunchError {
    fn from(e: AdmitError) -> Self {
        LaunchError::Admit(Box::new(e))
    }
}

impl From<GrantError> for LaunchError {
    fn from(e: GrantError) -> Self {
        LaunchError::Models(Box::new(e))
    }
}

impl LaunchError {
    /// How this ends: the code the audit log records for a refusal, and the
    /// one `airlock` exits with.
    pub fn status(&self) -> Status {
        match self {
            LaunchError::Config(_)
            | LaunchError::NoHome
            | LaunchError::NotADirectory(_)
            | LaunchError::Workspace { .. } => Status::Usage,
            LaunchError::Audit(_) => Status::Audit,
            LaunchError::Start(_) | LaunchError::AlwaysAsk(_) => Status::Internal,
            LaunchError::Policy(e) => Status::from(e),
            LaunchError::Violation(_) | LaunchError::Changed(_) | LaunchError::Roles(_) => {
                Status::Refused
            }
            LaunchError::Admit(e) => Status::from(&**e),
            LaunchError::Profile(e) => Status::from(e),
            LaunchError::Load(e) => Status::from(e),
            LaunchError::Engine(e) => match e {
                EngineError::UntrustedServer(_) => Status::Refused,
                _ => Status::Usage,
            },
            LaunchError::Models(e) => {
                // A model too small for the plugin is refused, as drift is.
                if e.is_drift() || matches!(**e, GrantError::Context { .. }) {
                    Status::Refused
                } else {
                    Status::Usage
                }
            }
        }
    }

    /// Whether this is a refusal ([`Status::Refused`]), which the audit log
    /// records.
    pub fn is_refusal(&self) -> bool {
        self.status() == Status::Refused
    }
}
