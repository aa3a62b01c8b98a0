//! The result of a review and its three renderings: text, JSON and
//! SARIF 2.1.0 (the same shape as `secret-scan`'s, with one rule).

use std::fmt::Write;

use airlock_sdk::{Finding, Severity};
use serde_json::{Value, json};

use crate::findings::RULE_ID;
use crate::options::Format;

/// The tool name SARIF dashboards show.
pub const TOOL_NAME: &str = "airlock-review";

const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Lines of one file that were reviewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reviewed {
    /// Workspace-relative path.
    pub path: String,
    /// Reviewed line ranges, inclusive.
    pub ranges: Vec<(u32, u32)>,
}

/// Everything a review found out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Findings, in path and line order.
    pub findings: Vec<Finding>,
    /// What was reviewed.
    pub reviewed: Vec<Reviewed>,
    /// Findings dropped because their line was outside the reviewed lines.
    pub dropped: usize,
    /// Things the reader should know: an answer that did not parse, lines
    /// left unreviewed because a budget ran out.
    pub notes: Vec<String>,
    /// The model that answered, and its digest.
    pub model: String,
    /// `sha256:<hex>` of the model.
    pub digest: String,
    /// Model calls made.
    pub calls: u32,
}

impl Report {
    /// Records the reviewed ranges of `path`, merging with earlier ones.
    pub fn add_reviewed(&mut self, path: &str, ranges: Vec<(u32, u32)>) {
        match self.reviewed.iter_mut().find(|r| r.path == path) {
            Some(r) => r.ranges.extend(ranges),
            None => self.reviewed.push(Reviewed {
                path: path.to_string(),
                ranges,
            }),
        }
    }

    /// Sorts the findings by path, line and severity (most serious first).
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.path, a.line, std::cmp::Reverse(a.severity)).cmp(&(
                &b.path,
                b.line,
                std::cmp::Reverse(b.severity),
            ))
        });
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
        Format::Text => text(report),
        Format::Json => pretty(&json_value(report)),
        Format::Sarif => pretty(&sarif_value(report)),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

fn ranges_text(ranges: &[(u32, u32)]) -> String {
    ranges
        .iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{}:{}  {}  {}",
            f.path.as_deref().unwrap_or("-"),
            f.line.unwrap_or(0),
            f.severity,
            f.message
        );
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    let reviewed: Vec<String> = report
        .reviewed
        .iter()
        .map(|r| format!("{} (lines {})", r.path, ranges_text(&r.ranges)))
        .collect();
    let counts: Vec<String> = report
        .counts()
        .iter()
        .map(|(s, n)| format!("{n} {s}"))
        .collect();
    let _ = write!(
        out,
        "Reviewed {} with {}: {} finding{}",
        if reviewed.is_empty() {
            "nothing".to_string()
        } else {
            reviewed.join(", ")
        },
        report.model,
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" }
    );
    if !counts.is_empty() {
        let _ = write!(out, " ({})", counts.join(", "));
    }
    out.push_str(".\n");
    if report.dropped > 0 {
        let _ = writeln!(
            out,
            "Dropped {} finding{} whose line was outside the reviewed lines.",
            report.dropped,
            if report.dropped == 1 { "" } else { "s" }
        );
    }
    for note in &report.notes {
        let _ = writeln!(out, "Note: {note}");
    }
    out.push_str("Findings come from a language model: check each one before acting on it.\n");
    out
}

fn finding_json(f: &Finding) -> Value {
    json!({
        "rule_id": f.rule_id,
        "path": f.path,
        "line": f.line,
        "severity": f.severity.as_str(),
        "message": f.message,
    })
}

fn json_value(report: &Report) -> Value {
    json!({
        "findings": report.findings.iter().map(finding_json).collect::<Vec<_>>(),
        "reviewed": report.reviewed.iter().map(|r| json!({
            "path": r.path,
            "lines": r.ranges.iter().map(|&(a, b)| json!([a, b])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "dropped": report.dropped,
        "notes": report.notes,
        "model": { "name": report.model, "digest": report.digest, "calls": report.calls },
    })
}

/// SARIF has three levels; `critical` and `high` both fail a build.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Note => "note",
    }
}

/// A workspace-relative path as a relative URI reference.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn sarif_value(report: &Report) -> Value {
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut r = json!({
                "ruleId": f.rule_id,
                "ruleIndex": 0,
                "level": level(f.severity),
                "message": { "text": f.message },
                "properties": { "severity": f.severity.as_str() },
            });
            if let Some(path) = &f.path {
                r["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(path) },
                        "region": { "startLine": f.line.unwrap_or(1) },
                    }
                }]);
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = report
        .notes
        .iter()
        .map(|n| json!({ "level": "warning", "message": { "text": n } }))
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": TOOL_NAME,
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": [{
                        "id": RULE_ID,
                        "shortDescription": { "text": "A problem a local language model found in review." },
                        "help": { "text": "Findings come from a language model: check each one before acting on it." },
                    }],
                }
            },
            "results": results,
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "properties": { "model": report.model, "modelDigest": report.digest },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut high =
            Finding::new(RULE_ID, Severity::High, "division by zero").in_file("src/a b.py");
        high.line = Some(3);
        let mut low = Finding::new(RULE_ID, Severity::Low, "unused name").in_file("src/a b.py");
        low.line = Some(1);
        let mut r = Report {
            findings: vec![high, low],
            dropped: 1,
            notes: vec!["one answer did not parse".into()],
            model: "smollm2".into(),
            digest: "sha256:ab".into(),
            calls: 1,
            ..Report::default()
        };
        r.add_reviewed("src/a b.py", vec![(1, 10)]);
        r.add_reviewed("src/a b.py", vec![(20, 20)]);
        r.sort();
        r
    }

    #[test]
    fn text_lists_findings_then_a_summary() {
        let t = render(Format::Text, &sample());
        assert!(
            t.starts_with("src/a b.py:1  low  unused name\nsrc/a b.py:3  high  division by zero\n"),
            "{t}"
        );
        assert!(
            t.contains(
                "Reviewed src/a b.py (lines 1-10, 20) with smollm2: 2 findings (1 high, 1 low).\n"
            ),
            "{t}"
        );
        assert!(t.contains("Dropped 1 finding whose line"));
        assert!(t.contains("Note: one answer did not parse"));
    }

    #[test]
    fn json_has_findings_and_what_was_reviewed() {
        let v: Value = serde_json::from_str(&render(Format::Json, &sample())).expect("json");
        assert_eq!(v["findings"][1]["line"], 3);
        assert_eq!(v["findings"][1]["severity"], "high");
        assert_eq!(v["findings"][0]["rule_id"], RULE_ID);
        assert_eq!(v["reviewed"][0]["lines"], json!([[1, 10], [20, 20]]));
        assert_eq!(v["model"]["name"], "smollm2");
        assert_eq!(v["dropped"], 1);
    }

    #[test]
    fn sarif_is_2_1_0_with_levels_and_locations() {
        let v: Value = serde_json::from_str(&render(Format::Sarif, &sample())).expect("sarif");
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], TOOL_NAME);
        assert_eq!(run["tool"]["driver"]["rules"][0]["id"], RULE_ID);
        let r = &run["results"][1];
        assert_eq!(r["level"], "error");
        assert_eq!(r["ruleId"], RULE_ID);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/a%20b.py");
        assert_eq!(loc["region"]["startLine"], 3);
        assert_eq!(run["results"][0]["level"], "note");
        assert_eq!(
            run["invocations"][0]["toolExecutionNotifications"][0]["level"],
            "warning"
        );
    }
}
