//! The export side of the component: the run request into the SDK's
//! [`Request`], and what a [`Skill`](crate::Skill) returns into the WIT
//! types of the world's `describe` and `run`. [`export_skill!`](crate::export_skill)
//! expands to calls of these (through `__private`).

use crate::__private::airlock::skill::types as wit;
use crate::{Capability, Finding, Output, Request, Severity, SkillInfo, WIT_VERSION};

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

#[cfg(test)]
mod tests {
    use super::*;

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
