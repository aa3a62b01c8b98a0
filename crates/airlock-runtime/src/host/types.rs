//! `airlock:skill/types`: no functions, only shared types; the host side is
//! conversions between them and the host's own types.

use crate::approval;
use crate::audit::schema;
use crate::bindings::types::{Denial, Error, LimitInfo};
use crate::profile::ApprovalMode;

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
    payload: &impl schema::RunEvent,
) -> Result<(), Error> {
    if !journal.audited() {
        return Ok(());
    }
    journal.audit(payload, true);
    journal.audit_check().map_err(|e| Error::Io(format!("{e}")))
}

/// The `approval` record of `decision` on `request` under `mode`.
pub(crate) fn approval_record(
    request: &approval::ApprovalRequest,
    decision: &approval::Decision,
    mode: ApprovalMode,
) -> schema::Approval {
    let subject = match &request.subject {
        approval::Subject::Edit {
            path,
            change,
            diff,
            bytes_before,
            bytes_after,
            sha256_before,
            sha256_after,
        } => schema::Subject::Edit {
            path: path.clone(),
            change: change.as_str().into(),
            diff: diff.as_ref().map(|d| schema::DiffCounts {
                lines_added: count(d.lines_added),
                lines_removed: count(d.lines_removed),
                lines_not_shown: count(d.lines_not_shown),
                approximate: d.approximate,
            }),
            bytes_before: *bytes_before,
            bytes_after: *bytes_after,
            sha256_before: sha256_before.clone(),
            sha256_after: sha256_after.clone(),
        },
        approval::Subject::Command { program, args, cwd } => schema::Subject::Command {
            program: program.clone(),
            args: args.clone(),
            cwd: cwd.clone(),
        },
    };
    schema::Approval {
        request: schema::ApprovalRequest {
            skill: request.skill.clone(),
            subject,
            risks: request.risks.clone(),
        },
        decision: schema::Decision {
            allowed: decision.allowed,
            how: match decision.how {
                approval::How::ProfileDeny => schema::How::ProfileDeny,
                approval::How::ProfileAllow => schema::How::ProfileAllow,
                approval::How::Interactive => schema::How::Interactive,
                approval::How::ThisRun => schema::How::ThisRun,
                approval::How::NonInteractive => schema::How::NonInteractive,
            },
            who: decision.who.clone(),
            reason: decision.reason.clone(),
        },
        mode: mode.as_str().into(),
    }
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::approval::{ApprovalRequest, Change, Decision, How, Subject};
    use serde_json::json;

    fn edit(change: Change, diff: bool) -> Subject {
        let before: Option<&[u8]> = (change != Change::Create).then_some(b"one\ntwo\n");
        let after: Option<&[u8]> = (change != Change::Delete).then_some(b"one\nthree\n");
        Subject::Edit {
            path: "src/a.txt".into(),
            change,
            diff: diff.then(|| approval::diff::diff("src/a.txt", before, after)),
            bytes_before: before.map(|b| b.len() as u64),
            bytes_after: after.map_or(0, |a| a.len() as u64),
            sha256_before: before.map(hex::encode),
            sha256_after: after.map(hex::encode),
        }
    }

    #[test]
    fn approval_records_write_the_bytes_they_wrote_before() {
        // The typed payload against the `json!` object written before the
        // typed schema (the gate's own types, serialized), for every shape.
        let subjects = [
            edit(Change::Modify, true),
            edit(Change::Modify, false),
            edit(Change::Create, true),
            edit(Change::Delete, false),
            Subject::Edit {
                path: "new".into(),
                change: Change::CreateDir,
                diff: None,
                bytes_before: None,
                bytes_after: 0,
                sha256_before: None,
                sha256_after: None,
            },
            Subject::Command {
                program: "git".into(),
                args: vec!["push".into(), "--force".into()],
                cwd: ".".into(),
            },
        ];
        let decisions = [
            (
                How::ProfileDeny,
                false,
                "profile",
                Some("edits.mode is deny"),
            ),
            (How::ProfileAllow, true, "profile", None),
            (How::Interactive, true, "alice", None),
            (How::Interactive, false, "alice", Some("not approved")),
            (How::ThisRun, true, "alice", None),
            (How::NonInteractive, false, "airlock", Some("nobody to ask")),
        ];
        let modes = [ApprovalMode::Deny, ApprovalMode::Ask, ApprovalMode::Allow];
        for subject in subjects {
            for risks in [vec![], vec!["runs code later".to_string()]] {
                let request = ApprovalRequest {
                    skill: "coder".into(),
                    subject: subject.clone(),
                    risks,
                };
                for (how, allowed, who, reason) in decisions {
                    let decision = Decision {
                        allowed,
                        how,
                        who: who.into(),
                        reason: reason.map(str::to_string),
                    };
                    for mode in modes {
                        let old = json!({ "request": request, "decision": decision, "mode": mode });
                        let typed = approval_record(&request, &decision, mode);
                        assert_eq!(
                            serde_json::to_value(&typed).unwrap().to_string(),
                            old.to_string()
                        );
                    }
                }
            }
        }
    }
}
