//! `airlock:skill/types`: no functions, only shared types; the host side is
//! conversions between them and the host's own types.

use crate::bindings::types::{Denial, Error, LimitInfo};

impl Error {
    /// An `access-denied` error.
    pub(crate) fn denied(capability: &str, path: &str, reason: impl Into<String>) -> Self {
        Error::AccessDenied(Denial {
            capability: capability.into(),
            path: path.into(),
            reason: reason.into(),
        })
    }

    /// A `limit-exceeded` error.
    pub(crate) fn limit(limit: &str, max: u64, requested: u64) -> Self {
        Error::LimitExceeded(LimitInfo {
            limit: limit.into(),
            max,
            requested,
        })
    }
}

/// Write a record to the run's audit log and sync it before going on; when
/// it cannot be written, the action is refused (and the run then stops).
pub(crate) fn audit_durable(
    journal: &mut crate::journal::Journal,
    kind: &'static str,
    data: serde_json::Value,
) -> Result<(), Error> {
    if !journal.audited() {
        return Ok(());
    }
    journal.audit(kind, data, true);
    journal.audit_check().map_err(|e| Error::Io(format!("{e}")))
}

/// A sentence for a WIT error, naming the capability, path or limit.
pub(crate) fn message(e: &Error) -> String {
    match e {
        Error::AccessDenied(d) => format!(
            "access denied ({}) to `{}`: {}",
            d.capability, d.path, d.reason
        ),
        Error::LimitExceeded(l) => format!(
            "limit exceeded: {} is {}, and the request needed {}",
            l.limit, l.max, l.requested
        ),
        Error::NotFound(path) => format!("not found: `{path}`"),
        Error::InvalidInput(msg) => format!("invalid input: {msg}"),
        Error::Io(msg) => format!("I/O error: {msg}"),
        Error::Failed(msg) => msg.clone(),
    }
}
