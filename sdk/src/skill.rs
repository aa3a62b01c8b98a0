//! What a skill is: the [`Skill`] trait and the values it exchanges with the host.

use crate::{Error, Finding};

/// A capability a skill asks for in [`Skill::describe`].
///
/// Asking is not getting: the sandbox profile decides what the run is granted,
/// and `airlock inspect` shows the two side by side.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Read files under this workspace-relative path (`.` for all of it).
    WorkspaceRead(String),
    /// Create, change and remove files under this workspace-relative path.
    WorkspaceWrite(String),
}

/// What a skill says about itself.
///
/// The `airlock:skill` WIT version is not here on purpose: the SDK stamps
/// [`WIT_VERSION`](crate::WIT_VERSION) itself, so it always names the contract
/// the skill was really built against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkillInfo {
    /// Short machine-friendly name, e.g. `secret-scan`.
    pub name: String,
    /// The skill's own version, usually `env!("CARGO_PKG_VERSION")`.
    pub version: String,
    /// One sentence about what the skill does.
    pub summary: String,
    /// What the skill needs from the workspace.
    pub capabilities: Vec<Capability>,
}

/// What the user asked the skill to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    /// Free text (`--input`).
    pub input: Option<String>,
    /// Structured arguments (`--arg KEY=VALUE`), in the order given.
    pub args: Vec<(String, String)>,
}

impl Request {
    /// A request with these `--arg KEY=VALUE` pairs and no input, for tests.
    pub fn with_args(args: &[(&str, &str)]) -> Self {
        Self {
            input: None,
            args: args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    /// The value of argument `key`, if given. When the user repeats a key the
    /// last value wins, so a later `--arg` overrides an earlier (e.g. aliased) one.
    pub fn arg(&self, key: &str) -> Option<&str> {
        self.args
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What a skill produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// The human-readable (or skill-formatted, e.g. SARIF) output.
    pub text: String,
    /// Structured findings; the host reports them and keeps them for the audit trail.
    pub findings: Vec<Finding>,
}

impl Output {
    /// An output with this text and no findings.
    pub fn text(text: impl Into<String>) -> Self {
        Output {
            text: text.into(),
            findings: Vec::new(),
        }
    }

    /// Replaces the findings.
    #[must_use]
    pub fn with_findings(mut self, findings: Vec<Finding>) -> Self {
        self.findings = findings;
        self
    }
}

/// A skill. Implement it on a unit struct and export that with
/// [`export_skill!`](crate::export_skill).
///
/// Both functions are associated functions (no `self`): a component is
/// instantiated for one run, so there is no state to carry between calls.
pub trait Skill {
    /// Who the skill is and what it asks for. Must not touch the workspace:
    /// the host calls it to inspect a skill without granting anything.
    fn describe() -> SkillInfo;

    /// Do the work. Errors from host calls can be returned with `?`.
    fn run(request: Request) -> Result<Output, Error>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(args: &[(&str, &str)]) -> Request {
        Request::with_args(args)
    }

    #[test]
    fn arg_finds_a_value() {
        let r = request(&[("format", "json"), ("depth", "3")]);
        assert_eq!(r.arg("format"), Some("json"));
        assert_eq!(r.arg("depth"), Some("3"));
    }

    #[test]
    fn arg_last_value_wins() {
        let r = request(&[("format", "json"), ("format", "sarif")]);
        assert_eq!(r.arg("format"), Some("sarif"));
    }

    #[test]
    fn arg_missing_or_case_different_is_none() {
        let r = request(&[("format", "json")]);
        assert_eq!(r.arg("Format"), None);
        assert_eq!(r.arg("missing"), None);
        assert_eq!(Request::default().arg("format"), None);
    }

    #[test]
    fn arg_may_be_empty() {
        let r = request(&[("verbose", "")]);
        assert_eq!(r.arg("verbose"), Some(""));
    }

    #[test]
    fn output_builders() {
        let f = Finding::new("r", crate::Severity::Low, "m");
        let o = Output::text("hi").with_findings(vec![f.clone()]);
        assert_eq!(o.text, "hi");
        assert_eq!(o.findings, vec![f]);
    }
}
