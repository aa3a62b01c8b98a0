//! The administrator's side of a session: the admin policy in force, and
//! the audit records of the changes to what this machine trusts and runs
//! (plugins, publisher keys, models), written once a change succeeded.

use crate::config::{Config, ConfigError};
use airlock_audit::{AuditError, AuditLog};
use airlock_policy::admin::{Policy, PolicyError};
use std::path::Path;

/// The admin policy in force (the stricter of the system file and the one
/// `$AIRLOCK_POLICY_FILE` names). A policy that cannot be established
/// refuses every run: see [`crate::status::Status`]'s `From<&PolicyError>`.
pub fn policy() -> Result<Policy, PolicyError> {
    Policy::load()
}

/// A change to what this machine trusts and runs, as the audit log records
/// it.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminAction {
    /// The command, without `airlock`: `plugin install`, `trust add`, …
    pub action: String,
    /// Its arguments, and digests of the files it read.
    pub details: serde_json::Value,
}

/// A change that was made but could not be recorded.
#[derive(Debug, thiserror::Error)]
#[error(
    "`airlock {action}` was done, but could not be recorded in the audit log: {why}; fix the cause and check the log with `airlock audit verify`"
)]
pub struct NotRecorded {
    /// The command, as in [`AdminAction::action`].
    pub action: String,
    /// Why.
    pub why: Unrecordable,
}

/// Why an admin action could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum Unrecordable {
    /// No home directory, so no audit log.
    #[error("no Airlock home")]
    NoHome,
    /// The configuration (its `[audit]` table) cannot be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The audit log cannot be opened or written.
    #[error(transparent)]
    Audit(#[from] AuditError),
}

/// Record `action`, done, in the audit log in `home`, with the `[audit]`
/// settings of the configuration file `config` (or the default one).
pub fn record(
    home: Option<&Path>,
    config: Option<&Path>,
    action: &AdminAction,
) -> Result<(), NotRecorded> {
    let attempt = || -> Result<(), Unrecordable> {
        let home = home.ok_or(Unrecordable::NoHome)?;
        let options = Config::load(config)?.audit;
        let log = AuditLog::open(home, options)?;
        log.admin(&action.action, action.details.clone())?;
        Ok(())
    };
    attempt().map_err(|why| NotRecorded {
        action: action.action.clone(),
        why,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn action() -> AdminAction {
        AdminAction {
            action: "trust remove".into(),
            details: serde_json::json!({ "name": "acme" }),
        }
    }

    #[test]
    fn an_action_is_recorded_in_the_audit_log_of_home() {
        let home = tempfile::tempdir().unwrap();
        let config = home.path().join("config.toml");
        std::fs::write(&config, "").unwrap();
        record(Some(home.path()), Some(&config), &action()).unwrap();
        let log = std::fs::read_dir(airlock_audit::audit_dir(home.path())).unwrap();
        assert!(log.count() > 0, "the audit directory holds the log");
    }

    #[test]
    fn without_a_home_the_action_is_done_but_not_recorded() {
        let e = record(None, None, &action()).unwrap_err();
        assert!(matches!(e.why, Unrecordable::NoHome));
        assert_eq!(
            e.to_string(),
            "`airlock trust remove` was done, but could not be recorded in the audit log: no Airlock home; fix the cause and check the log with `airlock audit verify`"
        );
    }

    #[test]
    fn a_missing_configuration_file_is_named() {
        let home = tempfile::tempdir().unwrap();
        let missing = home.path().join("nope.toml");
        let e = record(Some(home.path()), Some(&missing), &action()).unwrap_err();
        assert!(matches!(e.why, Unrecordable::Config(_)), "{e}");
        assert!(e.to_string().contains("nope.toml"), "{e}");
    }
}
