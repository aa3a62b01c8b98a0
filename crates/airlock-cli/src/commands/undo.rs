//! `airlock undo`.

use crate::cli::UndoArgs;
use crate::exit::{Exit, Failure};
use airlock_runtime::audit::AuditLog;
use airlock_runtime::undo::{self, UndoError};
use airlock_session::config::Config;
use std::path::PathBuf;

pub fn undo(
    args: UndoArgs,
    home: Option<PathBuf>,
    config: Option<PathBuf>,
) -> Result<Exit, Failure> {
    let home = home.ok_or_else(|| {
        Failure::usage(
            "no Airlock home ($AIRLOCK_HOME or $HOME): set AIRLOCK_HOME or pass --home DIR",
        )
    })?;
    let settings = Config::load(config.as_deref()).map_err(|e| Failure::usage(e.to_string()))?;
    let audit = AuditLog::open(&home, settings.audit)
        .map_err(|e| Failure::new(Exit::Audit, e.to_string()))?;
    let run = undo::find(&home, &args.run).map_err(|e| Failure::usage(e.to_string()))?;
    let restored = undo::undo(&home, &run, args.force).map_err(|e| match e {
        UndoError::Io(m) => Failure::new(Exit::Internal, m),
        other => Failure::usage(other.to_string()),
    })?;
    record(&audit, &run, args.force, &restored)?;
    if args.json {
        println!(
            "{}",
            super::to_json(&serde_json::json!({ "run": run, "files": restored }))?
        );
    } else {
        for r in &restored {
            println!("{:<9} {}", r.action, r.path);
        }
        println!("Undid run {run}: {} change(s).", restored.len());
    }
    Ok(Exit::Success)
}

/// Record an undo in the audit log (exit 6 when it cannot be recorded).
pub(super) fn record(
    audit: &AuditLog,
    run: &str,
    force: bool,
    restored: &[undo::Restored],
) -> Result<(), Failure> {
    audit
        .admin(
            "undo",
            serde_json::json!({ "run": run, "force": force, "files": restored }),
        )
        .map_err(|e| {
            Failure::new(
                Exit::Audit,
                format!(
                    "run {run} was undone, but the undo could not be recorded in the audit log: {e}"
                ),
            )
        })
}
