//! Conversions between the SDK's types and the generated WIT bindings.
//!
//! All of them live here so that the generated types never leak into the
//! public API: plugin authors see plain Rust types, and a change in the
//! bindings generator touches this one file.

use crate::__private::airlock::skill::types as wit;
use crate::__private::airlock::skill::workspace as wit_ws;
use crate::workspace::{Entry, EntryKind, Grant, Metadata, SearchMatch, SearchQuery, SearchResult};
use crate::{Capability, Error, Finding, Output, Request, Severity, SkillInfo, WIT_VERSION};

pub(crate) fn error(e: wit::Error) -> Error {
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

pub(crate) fn error_to_wit(e: Error) -> wit::Error {
    match e {
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

/// Stamps the WIT version: the author does not supply it, the SDK knows it.
pub(crate) fn skill_info_to_wit(info: SkillInfo) -> wit::SkillInfo {
    wit::SkillInfo {
        name: info.name,
        version: info.version,
        summary: info.summary,
        capabilities: info
            .capabilities
            .into_iter()
            .map(capability_to_wit)
            .collect(),
        wit_version: WIT_VERSION.to_string(),
    }
}

fn capability_to_wit(c: Capability) -> wit::Capability {
    match c {
        Capability::WorkspaceRead(p) => wit::Capability::WorkspaceRead(p),
        Capability::WorkspaceWrite(p) => wit::Capability::WorkspaceWrite(p),
    }
}

pub(crate) fn request(r: wit::RunRequest) -> Request {
    Request {
        input: r.input,
        args: r.args,
    }
}

pub(crate) fn output_to_wit(o: Output) -> wit::RunOutput {
    wit::RunOutput {
        text: o.text,
        findings: o.findings.into_iter().map(finding_to_wit).collect(),
    }
}

fn finding_to_wit(f: Finding) -> wit::Finding {
    wit::Finding {
        rule_id: f.rule_id,
        severity: severity_to_wit(f.severity),
        message: f.message,
        path: f.path,
        line: f.line,
        column: f.column,
    }
}

fn severity_to_wit(s: Severity) -> wit::Severity {
    match s {
        Severity::Note => wit::Severity::Note,
        Severity::Low => wit::Severity::Low,
        Severity::Medium => wit::Severity::Medium,
        Severity::High => wit::Severity::High,
        Severity::Critical => wit::Severity::Critical,
    }
}

pub(crate) fn grant(g: wit_ws::Grant) -> Grant {
    Grant {
        path: g.path,
        writable: g.writable,
    }
}

fn entry_kind(k: wit_ws::EntryKind) -> EntryKind {
    match k {
        wit_ws::EntryKind::File => EntryKind::File,
        wit_ws::EntryKind::Directory => EntryKind::Directory,
        wit_ws::EntryKind::Symlink => EntryKind::Symlink,
        wit_ws::EntryKind::Other => EntryKind::Other,
    }
}

pub(crate) fn entries(list: Vec<wit_ws::Entry>) -> Vec<Entry> {
    list.into_iter()
        .map(|e| Entry {
            path: e.path,
            kind: entry_kind(e.kind),
            size: e.size,
            withheld: e.withheld,
        })
        .collect()
}

pub(crate) fn metadata(m: wit_ws::Metadata) -> Metadata {
    Metadata {
        path: m.path,
        kind: entry_kind(m.kind),
        size: m.size,
        modified_ms: m.modified_ms,
        writable: m.writable,
    }
}

pub(crate) fn search_query(q: &SearchQuery) -> wit_ws::SearchQuery {
    wit_ws::SearchQuery {
        pattern: q.pattern.clone(),
        literal: q.literal,
        case_insensitive: q.case_insensitive,
        path: q.path.clone(),
        glob: q.glob.clone(),
        max_matches: q.max_matches,
    }
}

pub(crate) fn search_result(r: wit_ws::SearchResult) -> SearchResult {
    SearchResult {
        matches: r
            .matches
            .into_iter()
            .map(|m| SearchMatch {
                path: m.path,
                line: m.line,
                text: m.text,
            })
            .collect(),
        withheld: r.withheld,
        truncated: r.truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(error(error_to_wit(e.clone())), e);
        }
    }

    #[test]
    fn skill_info_gets_the_wit_version() {
        let info = SkillInfo {
            name: "n".into(),
            version: "1.2.3".into(),
            summary: "s".into(),
            capabilities: vec![
                Capability::WorkspaceRead(".".into()),
                Capability::WorkspaceWrite("out".into()),
            ],
        };
        let w = skill_info_to_wit(info);
        assert_eq!(w.wit_version, WIT_VERSION);
        assert_eq!(w.version, "1.2.3");
        assert!(matches!(&w.capabilities[1], wit::Capability::WorkspaceWrite(p) if p == "out"));
    }

    #[test]
    fn findings_keep_every_field() {
        let out = Output::text("t").with_findings(vec![
            Finding::new("rule", Severity::Critical, "msg").at("p", 2, 3),
        ]);
        let w = output_to_wit(out);
        let f = &w.findings[0];
        assert_eq!(
            (
                f.rule_id.as_str(),
                f.severity,
                f.path.as_deref(),
                f.line,
                f.column
            ),
            ("rule", wit::Severity::Critical, Some("p"), Some(2), Some(3))
        );
    }
}
