//! Optional redaction of secrets in stored prompts and outputs
//! (`audit.redact-secrets = true`): each match is replaced by
//! `[redacted:RULE]` and the record lists what was redacted.

use regex::Regex;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// (rule, pattern) pairs: well-known credential shapes.
const RULES: &[(&str, &str)] = &[
    (
        "private-key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
    ),
    ("aws-access-key-id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    ("slack-token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    (
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b",
    ),
    (
        "assigned-secret",
        r#"(?i)\b(?:password|passwd|secret|api[_-]?key|access[_-]?key|token)\b\s*[:=]\s*["']?[^\s"']{8,}"#,
    ),
];

fn compiled() -> &'static [(&'static str, Regex)] {
    static SET: OnceLock<Vec<(&'static str, Regex)>> = OnceLock::new();
    SET.get_or_init(|| {
        RULES
            .iter()
            .filter_map(|(name, pattern)| Regex::new(pattern).ok().map(|r| (*name, r)))
            .collect()
    })
}

/// Redact `text`, counting matches per rule into `counts`.
pub fn redact(text: &str, counts: &mut BTreeMap<&'static str, u64>) -> String {
    let mut out = text.to_string();
    for (name, regex) in compiled() {
        let n = regex.find_iter(&out).count() as u64;
        if n > 0 {
            *counts.entry(name).or_default() += n;
            out = regex
                .replace_all(&out, format!("[redacted:{name}]").as_str())
                .into_owned();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_credentials_are_replaced_and_counted() {
        let mut counts = BTreeMap::new();
        let text = "key AKIAABCDEFGHIJKLMNOP and password = hunter2hunter2\nplain words";
        let out = redact(text, &mut counts);
        assert!(!out.contains("AKIAABCDEFGHIJKLMNOP"), "{out}");
        assert!(!out.contains("hunter2hunter2"), "{out}");
        assert!(out.contains("[redacted:aws-access-key-id]"), "{out}");
        assert!(out.contains("plain words"));
        assert_eq!(counts.get("aws-access-key-id"), Some(&1));
        assert_eq!(counts.get("assigned-secret"), Some(&1));
    }
}
