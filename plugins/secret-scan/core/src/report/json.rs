//! The JSON report: one object, for scripts.

use serde_json::{Value, json};

use super::Report;

pub fn render(report: &Report) -> String {
    let value = to_value(report);
    // Serialising a `Value` cannot fail; fall back to compact output anyway
    // rather than panic.
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

fn to_value(report: &Report) -> Value {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule_id": f.rule_id,
                "severity": f.severity.as_str(),
                "message": f.message,
                "path": f.path,
                "line": f.line,
                "column": f.column,
            })
        })
        .collect();
    let withheld: Vec<Value> = report
        .withheld
        .iter()
        .map(|w| json!({ "path": w.path, "rule": w.rule }))
        .collect();
    let skipped: Vec<Value> = report
        .skipped
        .iter()
        .map(
            |s| json!({ "path": s.path, "reason": s.reason.kind(), "detail": s.reason.describe() }),
        )
        .collect();
    let counts: serde_json::Map<String, Value> = report
        .counts()
        .into_iter()
        .map(|(sev, n)| (sev.as_str().to_string(), json!(n)))
        .collect();
    json!({
        "files_scanned": report.files_scanned,
        "findings": findings,
        "counts": counts,
        "withheld": withheld,
        "skipped": skipped,
        "min_severity": report.min_severity.map(|s| s.as_str()),
        "incomplete": report.incomplete,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn has_the_documented_keys() {
        let v: Value = serde_json::from_str(&render(&sample::report())).expect("valid JSON");
        assert_eq!(v["files_scanned"], 7);
        assert_eq!(v["findings"][0]["rule_id"], "aws-access-key-id");
        assert_eq!(v["findings"][0]["severity"], "high");
        assert_eq!(v["findings"][0]["line"], 3);
        assert_eq!(v["findings"][0]["column"], 9);
        assert_eq!(v["withheld"][0], json!({"path": ".env", "rule": ".env"}));
        assert_eq!(v["skipped"][1]["reason"], "binary");
        assert_eq!(v["counts"], json!({"high": 1, "medium": 1}));
    }
}
