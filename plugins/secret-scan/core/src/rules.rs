//! The detection rules: what a credential looks like, line by line.
//!
//! Format-specific rules (a GitHub token, an AWS key id) are trusted as they
//! match: their shape is distinctive enough that a match is worth a look even
//! in a test fixture. The two loose rules (generic assignments and database
//! URLs) are checked further in [`crate::scanner`] against placeholders.

use std::sync::LazyLock;

use airlock_sdk::Severity;
use regex::Regex;

/// Which files a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every text file.
    AnyFile,
    /// Configuration-like files only, where `key = value` means a setting
    /// rather than, say, a variable in a test.
    ConfigFiles,
}

/// How a match is checked before it becomes a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The pattern alone decides.
    None,
    /// `key = value`: the key must not name a non-secret (`token_url`), and
    /// the value must be long enough and not a placeholder.
    Assignment,
    /// `scheme://user:pass@host`: the password must not be a placeholder.
    UrlPassword,
}

/// How the matched secret is shown in the finding's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reveal {
    /// First characters only (see [`crate::redact`]).
    Redacted,
    /// The matched text is a label, not the secret (a PEM header), and is
    /// shown whole.
    Label,
}

/// One detection rule.
#[derive(Debug)]
pub struct Rule {
    /// Stable id, used in output and SARIF (`aws-access-key-id`).
    pub id: &'static str,
    /// How serious a match is.
    pub severity: Severity,
    /// What the rule finds, as a noun phrase ("AWS access key ID").
    pub description: &'static str,
    /// The pattern; see `secret_groups`.
    pub pattern: Regex,
    /// Capture groups that may hold the secret; the first that took part in
    /// the match is the secret (alternatives for quoted/unquoted values).
    pub secret_groups: &'static [usize],
    /// Which files the rule applies to.
    pub scope: Scope,
    /// Extra validation of a match.
    pub check: Check,
    /// How the secret is shown.
    pub reveal: Reveal,
}

impl Rule {
    /// Loose rules give way to a specific rule matching the same text, so a
    /// `token = "ghp_…"` line is reported once, as a GitHub token.
    pub fn is_generic(&self) -> bool {
        self.check == Check::Assignment
    }
}

/// Keys whose values are secrets. The keyword may carry a prefix glued on
/// (`dbPassword`, `AWS_SECRET`) but a suffix only after a separator, so that
/// `tokenizer` or `secretary` do not count.
const SECRET_KEY: &str = r"(?:password|passwd|secret|api[_.-]?key|apikey|access[_.-]?token|auth[_.-]?token|token|client[_.-]?secret)";

/// Assignment operators of the usual config formats: TOML/INI/shell `=`,
/// YAML/JSON `:`, Go-ish `:=`, Ruby/PHP `=>`.
const ASSIGN: &str = r#"["']?\s*(?::=|=>|=|:)\s*"#;

/// A value: double-quoted, single-quoted, or bare up to a comment or separator.
const VALUE: &str = r#"(?:"([^"]*)"|'([^']*)'|([^\s"'#;,]+))"#;

/// Schemes of databases and brokers whose URLs commonly carry a password.
const DB_SCHEMES: &str = r"(?:jdbc:)?(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse|couchdb|neo4j(?:\+s)?|nats)";

fn regex(pattern: &str) -> Regex {
    // The patterns are constants of this crate; a unit test compiles each.
    Regex::new(pattern).expect("built-in rule pattern compiles")
}

fn build() -> Vec<Rule> {
    vec![
        Rule {
            id: "aws-access-key-id",
            severity: Severity::High,
            description: "AWS access key ID",
            pattern: regex(r"\b((?:AKIA|ASIA)[A-Z0-9]{16})\b"),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "aws-secret-access-key",
            severity: Severity::Critical,
            description: "AWS secret access key",
            pattern: regex(&format!(
                r"(?i)aws[_.-]?secret[_.-]?(?:access[_.-]?)?key{ASSIGN}[\x22']?([A-Za-z0-9/+]{{40}})(?:[^A-Za-z0-9/+=]|$)"
            )),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "private-key",
            severity: Severity::Critical,
            description: "private key block",
            pattern: regex(
                r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?)-----",
            ),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Label,
        },
        Rule {
            id: "github-token",
            severity: Severity::Critical,
            description: "GitHub token",
            pattern: regex(
                r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b",
            ),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "slack-token",
            severity: Severity::High,
            description: "Slack token",
            pattern: regex(r"\b(xox[abposr]-[0-9A-Za-z][0-9A-Za-z-]{9,250})\b"),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "slack-webhook-url",
            severity: Severity::High,
            description: "Slack incoming-webhook URL",
            pattern: regex(
                r"(https://hooks\.slack\.com/services/T[0-9A-Za-z]+/B[0-9A-Za-z]+/[0-9A-Za-z]{8,})",
            ),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "google-api-key",
            severity: Severity::High,
            description: "Google API key",
            pattern: regex(r"\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)"),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "stripe-live-key",
            severity: Severity::Critical,
            description: "Stripe live secret key",
            pattern: regex(r"\b((?:sk|rk)_live_[0-9A-Za-z]{24,247})\b"),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "jwt",
            severity: Severity::Medium,
            description: "JSON Web Token",
            pattern: regex(r"\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::None,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "database-url-password",
            severity: Severity::High,
            description: "password in a database URL",
            pattern: regex(&format!(
                r#"(?i)\b{DB_SCHEMES}://[^:/?#@\s"'<>]+:([^@/?#\s"'<>]+)@[^\s"'<>/]+"#
            )),
            secret_groups: &[1],
            scope: Scope::AnyFile,
            check: Check::UrlPassword,
            reveal: Reveal::Redacted,
        },
        Rule {
            id: "generic-secret-assignment",
            severity: Severity::Medium,
            description: "secret assigned in configuration",
            pattern: regex(&format!(
                r"(?i)(?:^|[^a-z0-9_.-])([a-z0-9_.-]*?{SECRET_KEY}(?:[_.-][a-z0-9_.-]*)?){ASSIGN}{VALUE}"
            )),
            secret_groups: &[2, 3, 4],
            scope: Scope::ConfigFiles,
            check: Check::Assignment,
            reveal: Reveal::Redacted,
        },
    ]
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(build);

/// Every rule, in a fixed order (SARIF refers to rules by index).
pub fn all() -> &'static [Rule] {
    &RULES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_ids_are_unique() {
        let rules = all();
        let mut ids: Vec<_> = rules.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), rules.len());
        for rule in rules {
            assert!(!rule.secret_groups.is_empty());
            assert!(
                rule.secret_groups
                    .iter()
                    .all(|g| *g < rule.pattern.captures_len()),
                "{} names a missing group",
                rule.id
            );
        }
    }
}
