//! The result of a scan and its three renderings.

mod json;
mod sarif;
mod text;

use airlock_sdk::{Finding, Severity};

use crate::options::Format;

/// A file the deny-list withheld: listed, never read.
pub use airlock_sdk::workspace::Withheld;

/// Why a file was not scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Over [`crate::scanner::MAX_FILE_BYTES`].
    TooLarge {
        /// The file's size.
        bytes: u64,
    },
    /// A NUL byte near the start.
    Binary,
    /// The host refused or failed to read it; the error as text.
    Unreadable(String),
}

impl SkipReason {
    /// A short phrase: "binary", "larger than 2 MiB (3.5 MiB)".
    pub fn describe(&self) -> String {
        match self {
            SkipReason::TooLarge { bytes } => {
                format!("larger than 2 MiB ({})", human_size(*bytes))
            }
            SkipReason::Binary => "binary".to_string(),
            SkipReason::Unreadable(err) => format!("not readable: {err}"),
        }
    }

    /// The machine-friendly kind, for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            SkipReason::TooLarge { .. } => "too-large",
            SkipReason::Binary => "binary",
            SkipReason::Unreadable(_) => "unreadable",
        }
    }
}

/// A file that was not scanned, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Workspace-relative path.
    pub path: String,
    /// Why.
    pub reason: SkipReason,
}

/// Everything a scan found out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Findings at or above the minimum severity, in path and line order.
    pub findings: Vec<Finding>,
    /// Files withheld by the deny-list.
    pub withheld: Vec<Withheld>,
    /// Files not scanned.
    pub skipped: Vec<Skipped>,
    /// Files read and scanned.
    pub files_scanned: u64,
    /// Set when a profile limit stopped the scan early: the limit's message.
    pub incomplete: Option<String>,
    /// The `min-severity` the findings were filtered with.
    pub min_severity: Option<Severity>,
}

impl Report {
    /// Drops findings below `min`, remembering the threshold for the summary.
    pub fn keep_at_least(&mut self, min: Severity) {
        self.findings.retain(|f| f.severity >= min);
        if min > Severity::Note {
            self.min_severity = Some(min);
        }
    }

    /// Number of findings of each severity, most serious first, zeros left out.
    pub fn counts(&self) -> Vec<(Severity, usize)> {
        Severity::ALL
            .into_iter()
            .rev()
            .map(|s| (s, self.findings.iter().filter(|f| f.severity == s).count()))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// Renders the report in the requested format.
pub fn render(format: Format, report: &Report) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => json::render(report),
        Format::Sarif => sarif::render(report),
    }
}

fn human_size(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    let mib = bytes as f64 / MIB;
    format!("{mib:.1} MiB")
}

#[cfg(test)]
pub(crate) mod sample {
    //! A small report shared by the renderers' tests.

    use super::*;

    pub fn report() -> Report {
        Report {
            findings: vec![
                Finding::new(
                    "aws-access-key-id",
                    Severity::High,
                    "AWS access key ID: AKIA…",
                )
                .at("src/my app.py", 3, 9),
                Finding::new("jwt", Severity::Medium, "JSON Web Token: eyJh…").at("b.txt", 1, 1),
            ],
            withheld: vec![Withheld {
                path: ".env".into(),
                rule: ".env".into(),
            }],
            skipped: vec![
                Skipped {
                    path: "big.log".into(),
                    reason: SkipReason::TooLarge {
                        bytes: 3 * 1024 * 1024,
                    },
                },
                Skipped {
                    path: "logo.png".into(),
                    reason: SkipReason::Binary,
                },
            ],
            files_scanned: 7,
            incomplete: None,
            min_severity: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_severity_filters_and_is_remembered() {
        let mut r = sample::report();
        r.keep_at_least(Severity::High);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.min_severity, Some(Severity::High));
        assert_eq!(r.counts(), [(Severity::High, 1)]);
    }

    #[test]
    fn sizes_read_in_mebibytes() {
        assert_eq!(
            SkipReason::TooLarge {
                bytes: 3 * 1024 * 1024 + 512 * 1024
            }
            .describe(),
            "larger than 2 MiB (3.5 MiB)"
        );
    }
}
