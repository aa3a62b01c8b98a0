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
