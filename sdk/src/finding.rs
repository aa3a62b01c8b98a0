//! Structured results: severities and findings.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// How serious a finding is: the SARIF levels, plus `critical`.
///
/// Ordered from least to most serious, so `severity >= Severity::High` reads
/// as expected when filtering.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Informational; nothing to fix.
    Note,
    /// Worth a look.
    Low,
    /// Should be fixed.
    Medium,
    /// Must be fixed.
    High,
    /// Must be fixed now (for example a live credential).
    Critical,
}

impl Severity {
    /// Every severity, least serious first.
    pub const ALL: [Severity; 5] = [
        Severity::Note,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name, as the WIT enum spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = Error;

    /// Parses a severity name, ignoring ASCII case (`High` and `high` alike),
    /// because the value usually comes from a user's `--arg`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "unknown severity `{s}` (expected note, low, medium, high or critical)"
                ))
            })
    }
}

/// One structured result of a run: a secret found, a symbol, a lint.
///
/// The host reports findings and keeps them in the run's audit record, whatever
/// the skill's text output looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// A stable identifier of the rule that produced this, e.g. `aws-access-key-id`.
    pub rule_id: String,
    /// How serious it is.
    pub severity: Severity,
    /// A sentence for a human.
    pub message: String,
    /// Workspace-relative path, when the finding is about a file.
    pub path: Option<String>,
    /// 1-based line number.
    pub line: Option<u32>,
    /// 1-based column number.
    pub column: Option<u32>,
}

impl Finding {
    /// A finding not (yet) tied to a place; add one with [`Finding::at`] or
    /// [`Finding::in_file`].
    pub fn new(rule_id: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            rule_id: rule_id.into(),
            severity,
            message: message.into(),
            path: None,
            line: None,
            column: None,
        }
    }

    /// Places the finding at a 1-based line and column of a file.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>, line: u32, column: u32) -> Self {
        self.path = Some(path.into());
        self.line = Some(line);
        self.column = Some(column);
        self
    }

    /// Ties the finding to a whole file, without a line.
    #[must_use]
    pub fn in_file(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self.line = None;
        self.column = None;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_parses_every_name_in_any_case() {
        for sev in Severity::ALL {
            assert_eq!(sev.as_str().parse::<Severity>(), Ok(sev));
            assert_eq!(sev.as_str().to_uppercase().parse::<Severity>(), Ok(sev));
            assert_eq!(sev.to_string(), sev.as_str());
        }
        assert_eq!(" High ".parse::<Severity>(), Ok(Severity::High));
    }

    #[test]
    fn severity_rejects_unknown_names() {
        let err = "severe".parse::<Severity>();
        assert!(matches!(err, Err(Error::InvalidInput(ref m)) if m.contains("`severe`")));
        assert!("".parse::<Severity>().is_err());
    }

    #[test]
    fn severity_orders_least_serious_first() {
        assert!(Severity::Note < Severity::Low);
        assert!(Severity::Low < Severity::Medium);
        assert!(Severity::Medium < Severity::High);
        assert!(Severity::High < Severity::Critical);
    }

    #[test]
    fn finding_builder_places_the_finding() {
        let f = Finding::new("r", Severity::High, "m").at("src/a.rs", 3, 7);
        assert_eq!(f.path.as_deref(), Some("src/a.rs"));
        assert_eq!((f.line, f.column), (Some(3), Some(7)));
        let f = f.in_file("b.rs");
        assert_eq!(
            (f.path.as_deref(), f.line, f.column),
            (Some("b.rs"), None, None)
        );
    }
}
