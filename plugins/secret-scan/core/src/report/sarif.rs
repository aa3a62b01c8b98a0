//! SARIF 2.1.0, the format code-scanning dashboards ingest.
//!
//! Withheld and skipped files are tool execution notifications rather than
//! results: they are facts about the scan, not problems in the code.

use airlock_sdk::{Finding, Severity};
use serde_json::{Value, json};

use super::{Report, SkipReason};
use crate::rules;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The tool name dashboards show.
pub const TOOL_NAME: &str = "airlock-secret-scan";

pub fn render(report: &Report) -> String {
    let value = to_value(report);
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

fn to_value(report: &Report) -> Value {
    let rules: Vec<Value> = rules::all()
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": { "text": r.description },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "severity": r.severity.as_str(),
                    "security-severity": security_severity(r.severity),
                    "tags": ["security", "secret"],
                },
            })
        })
        .collect();
    let results: Vec<Value> = report.findings.iter().map(result).collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": TOOL_NAME,
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            // Columns are counted in characters, not UTF-16 units (the default).
            "columnKind": "unicodeCodePoints",
            "results": results,
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications(report),
            }],
        }],
    })
}

fn result(f: &Finding) -> Value {
    let mut value = json!({
        "ruleId": f.rule_id,
        "level": level(f.severity),
        "message": { "text": f.message },
        "locations": [],
        "properties": { "severity": f.severity.as_str() },
    });
    if let Some(index) = rules::all().iter().position(|r| r.id == f.rule_id) {
        value["ruleIndex"] = json!(index);
    }
    if let Some(path) = &f.path {
        let mut region = json!({ "startLine": f.line.unwrap_or(1) });
        if let Some(column) = f.column {
            region["startColumn"] = json!(column);
        }
        value["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(path) },
                "region": region,
            }
        }]);
    }
    value
}

fn notifications(report: &Report) -> Vec<Value> {
    let withheld = report
        .withheld
        .iter()
        .map(|w| notification("note", "withheld", &w.sentence(), Some(&w.path)));
    let skipped = report.skipped.iter().map(|s| {
        let level = match s.reason {
            SkipReason::Unreadable(_) => "warning",
            SkipReason::TooLarge { .. } | SkipReason::Binary => "note",
        };
        let text = format!("skipped {}: {}", s.path, s.reason.describe());
        notification(level, "skipped", &text, Some(&s.path))
    });
    let incomplete = report.incomplete.iter().map(|why| {
        let text = format!("scan incomplete, a profile limit stopped it: {why}");
        notification("warning", "incomplete", &text, None)
    });
    withheld.chain(skipped).chain(incomplete).collect()
}

fn notification(level: &str, id: &str, text: &str, path: Option<&str>) -> Value {
    let mut value = json!({
        "level": level,
        "descriptor": { "id": id },
        "message": { "text": text },
    });
    if let Some(path) = path {
        value["locations"] = json!([{
            "physicalLocation": { "artifactLocation": { "uri": uri(path) } }
        }]);
    }
    value
}

/// SARIF has three levels; `critical` and `high` both fail a build.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Note => "note",
    }
}

/// The CVSS-like score GitHub code scanning sorts security results by.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Note => "0.0",
    }
}

/// A workspace-relative path as a relative URI reference: `/` kept, every
/// byte outside the unreserved set percent-encoded.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn sarif() -> Value {
        serde_json::from_str(&render(&sample::report())).expect("SARIF is valid JSON")
    }

    #[test]
    fn top_level_shape() {
        let v = sarif();
        assert_eq!(v["version"], "2.1.0");
        assert!(
            v["$schema"]
                .as_str()
                .is_some_and(|s| s.contains("sarif-schema-2.1.0"))
        );
        let driver = &v["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], TOOL_NAME);
        assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
        let rules = driver["rules"].as_array().expect("rules array");
        assert_eq!(rules.len(), rules::all().len());
        for r in rules {
            assert!(r["id"].is_string());
            assert!(r["shortDescription"]["text"].is_string());
            assert!(r["defaultConfiguration"]["level"].is_string());
        }
    }

    #[test]
    fn results_carry_level_and_location() {
        let v = sarif();
        let results = v["runs"][0]["results"].as_array().expect("results array");
        assert_eq!(results.len(), 2);
        let r = &results[0];
        assert_eq!(r["ruleId"], "aws-access-key-id");
        assert_eq!(r["level"], "error");
        assert_eq!(r["message"]["text"], "AWS access key ID: AKIA…");
        let index = r["ruleIndex"].as_u64().expect("rule index");
        let rules = &v["runs"][0]["tool"]["driver"]["rules"];
        assert_eq!(
            rules[usize::try_from(index).expect("small")]["id"],
            "aws-access-key-id"
        );
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/my%20app.py");
        assert_eq!(loc["region"]["startLine"], 3);
        assert_eq!(loc["region"]["startColumn"], 9);
        assert_eq!(results[1]["level"], "warning");
    }

    #[test]
    fn withheld_files_are_note_notifications() {
        let v = sarif();
        let inv = &v["runs"][0]["invocations"][0];
        assert_eq!(inv["executionSuccessful"], true);
        let notes = inv["toolExecutionNotifications"].as_array().expect("array");
        let withheld = &notes[0];
        assert_eq!(withheld["level"], "note");
        assert_eq!(
            withheld["message"]["text"],
            "withheld by the deny-list (not read): .env (rule `.env`)"
        );
        assert_eq!(
            withheld["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            ".env"
        );
    }

    #[test]
    fn levels_follow_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
    }
}
