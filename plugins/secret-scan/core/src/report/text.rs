//! The human-readable report: a grep-like line per finding, then a summary.

use std::fmt::Write;

use super::{Report, SkipReason};

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{}:{}:{}  {}  {}  {}",
            f.path.as_deref().unwrap_or("-"),
            f.line.unwrap_or(0),
            f.column.unwrap_or(0),
            f.severity,
            f.rule_id,
            f.message
        );
    }
    if !report.findings.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(report));
    out.push('\n');
    if let Some(min) = report.min_severity {
        let _ = writeln!(out, "Findings below `{min}` are not shown.");
    }
    for s in &report.skipped {
        if s.reason != SkipReason::Binary {
            let _ = writeln!(out, "skipped: {}: {}", s.path, s.reason.describe());
        }
    }
    for w in &report.withheld {
        let _ = writeln!(out, "{}", w.sentence());
    }
    if let Some(why) = &report.incomplete {
        let _ = writeln!(out, "Scan incomplete, a profile limit stopped it: {why}");
    }
    out
}

/// "Scanned 7 files, skipped 2 (1 binary, 1 too large): 2 findings (1 high, 1 medium)."
fn summary(report: &Report) -> String {
    let mut line = format!("Scanned {}", plural(report.files_scanned, "file"));
    if !report.skipped.is_empty() {
        let binary = report
            .skipped
            .iter()
            .filter(|s| s.reason == SkipReason::Binary)
            .count();
        let large = report
            .skipped
            .iter()
            .filter(|s| matches!(s.reason, SkipReason::TooLarge { .. }))
            .count();
        let unreadable = report.skipped.len() - binary - large;
        let parts: Vec<String> = [
            (binary, "binary"),
            (large, "too large"),
            (unreadable, "unreadable"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        let _ = write!(
            line,
            ", skipped {} ({})",
            report.skipped.len(),
            parts.join(", ")
        );
    }
    if report.findings.is_empty() {
        line.push_str(": no findings.");
    } else {
        let counts: Vec<String> = report
            .counts()
            .into_iter()
            .map(|(sev, n)| format!("{n} {sev}"))
            .collect();
        let total = u64::try_from(report.findings.len()).unwrap_or(u64::MAX);
        let _ = write!(
            line,
            ": {} ({}).",
            plural(total, "finding"),
            counts.join(", ")
        );
    }
    line
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn lists_findings_then_summary_then_withheld() {
        let text = render(&sample::report());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "src/my app.py:3:9  high  aws-access-key-id  AWS access key ID: AKIA…",
                "b.txt:1:1  medium  jwt  JSON Web Token: eyJh…",
                "",
                "Scanned 7 files, skipped 2 (1 binary, 1 too large): 2 findings (1 high, 1 medium).",
                "skipped: big.log: larger than 2 MiB (3.0 MiB)",
                "withheld by the deny-list (not read): .env (rule `.env`)",
            ]
        );
    }

    #[test]
    fn empty_scan_says_so() {
        let text = render(&Report {
            files_scanned: 1,
            ..Report::default()
        });
        assert_eq!(text, "Scanned 1 file: no findings.\n");
    }
}
