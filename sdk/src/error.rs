//! The one error type of the SDK, shared by host calls and skills.

use std::fmt;

use crate::__private::airlock::skill::types as wit;

/// Why a host call, or a skill's run, failed.
///
/// The variants mirror the WIT `error` variant one to one, so an error the
/// host returns can be handed back from [`Skill::run`](crate::Skill::run)
/// unchanged (with `?`) and the user sees exactly what the host refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The sandbox profile does not grant this; nothing was read or written.
    AccessDenied {
        /// What was needed: `workspace-read` or `workspace-write`.
        capability: String,
        /// The path as the skill gave it.
        path: String,
        /// A sentence for a human explaining the refusal.
        reason: String,
    },
    /// A profile limit would be exceeded; nothing was read or written.
    LimitExceeded {
        /// The profile key, for example `limits.max-bytes-read`.
        limit: String,
        /// The value the profile sets for that key.
        max: u64,
        /// What the request would have needed.
        requested: u64,
    },
    /// The path does not exist (inside a granted path).
    NotFound(String),
    /// The request itself is malformed (bad pattern, bad range, bad argument).
    InvalidInput(String),
    /// An I/O error from the host's filesystem, with its message.
    Io(String),
    /// The skill itself failed; the message is the skill's.
    Failed(String),
}

impl Error {
    /// A skill failure with the given message: the usual way for a skill to
    /// give up with an explanation.
    pub fn failed(msg: impl Into<String>) -> Error {
        Error::Failed(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AccessDenied {
                capability,
                path,
                reason,
            } => write!(
                f,
                "access denied: `{path}` needs the `{capability}` capability: {reason}"
            ),
            Error::LimitExceeded {
                limit,
                max,
                requested,
            } => write!(
                f,
                "limit exceeded: `{limit}` is {max}, the request needed {requested}"
            ),
            Error::NotFound(path) => write!(f, "not found: {path}"),
            Error::InvalidInput(msg) => write!(f, "invalid input: {msg}"),
            Error::Io(msg) => write!(f, "I/O error: {msg}"),
            Error::Failed(msg) => write!(f, "skill failed: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The SDK's copy of the WIT `error` every host call returns (the two
    /// have the same variants, so nothing is lost either way).
    pub(crate) fn from_wit(e: wit::Error) -> Error {
        match e {
            wit::Error::AccessDenied(d) => Error::AccessDenied {
                capability: d.capability,
                path: d.path,
                reason: d.reason,
            },
            wit::Error::LimitExceeded(l) => Error::LimitExceeded {
                limit: l.limit,
                max: l.max,
                requested: l.requested,
            },
            wit::Error::NotFound(m) => Error::NotFound(m),
            wit::Error::InvalidInput(m) => Error::InvalidInput(m),
            wit::Error::Io(m) => Error::Io(m),
            wit::Error::Failed(m) => Error::Failed(m),
        }
    }

    /// The WIT `error` that `run` returns for a skill's failure.
    pub(crate) fn into_wit(self) -> wit::Error {
        match self {
            Error::AccessDenied {
                capability,
                path,
                reason,
            } => wit::Error::AccessDenied(wit::Denial {
                capability,
                path,
                reason,
            }),
            Error::LimitExceeded {
                limit,
                max,
                requested,
            } => wit::Error::LimitExceeded(wit::LimitInfo {
                limit,
                max,
                requested,
            }),
            Error::NotFound(m) => wit::Error::NotFound(m),
            Error::InvalidInput(m) => wit::Error::InvalidInput(m),
            Error::Io(m) => wit::Error::Io(m),
            Error::Failed(m) => wit::Error::Failed(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_denied_names_capability_path_and_reason() {
        let e = Error::AccessDenied {
            capability: "workspace-write".into(),
            path: "src/main.rs".into(),
            reason: "the profile grants `src` read-only".into(),
        };
        assert_eq!(
            e.to_string(),
            "access denied: `src/main.rs` needs the `workspace-write` capability: \
             the profile grants `src` read-only"
        );
    }

    #[test]
    fn limit_exceeded_names_limit_and_numbers() {
        let e = Error::LimitExceeded {
            limit: "limits.max-bytes-read".into(),
            max: 1024,
            requested: 4096,
        };
        assert_eq!(
            e.to_string(),
            "limit exceeded: `limits.max-bytes-read` is 1024, the request needed 4096"
        );
    }

    #[test]
    fn simple_variants_carry_their_message() {
        assert_eq!(
            Error::NotFound("a.txt".into()).to_string(),
            "not found: a.txt"
        );
        assert_eq!(
            Error::InvalidInput("bad regex".into()).to_string(),
            "invalid input: bad regex"
        );
        assert_eq!(
            Error::Io("disk full".into()).to_string(),
            "I/O error: disk full"
        );
        assert_eq!(Error::failed("nope").to_string(), "skill failed: nope");
        assert_eq!(Error::failed("nope"), Error::Failed("nope".into()));
    }

    #[test]
    fn every_error_survives_a_round_trip() {
        let all = [
            Error::AccessDenied {
                capability: "workspace-read".into(),
                path: ".env".into(),
                reason: "withheld".into(),
            },
            Error::LimitExceeded {
                limit: "limits.max-bytes-read".into(),
                max: 1,
                requested: 2,
            },
            Error::NotFound("a".into()),
            Error::InvalidInput("b".into()),
            Error::Io("c".into()),
            Error::Failed("d".into()),
        ];
        for e in all {
            assert_eq!(Error::from_wit(e.clone().into_wit()), e);
        }
    }
}
