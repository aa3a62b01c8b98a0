//! Rule engine tests. Every credential here is assembled at run time, so this
//! file does not itself look like a leak to scanners (including this one).

use super::*;
use airlock_sdk::Severity;

/// (rule id, line, column) of every finding.
fn hits(path: &str, text: &str) -> Vec<(String, u32, u32)> {
    scan_text(path, text)
        .into_iter()
        .map(|f| (f.rule_id, f.line.unwrap_or(0), f.column.unwrap_or(0)))
        .collect()
}

fn rule_ids(path: &str, text: &str) -> Vec<String> {
    hits(path, text).into_iter().map(|h| h.0).collect()
}

fn only(path: &str, text: &str, rule: &str) {
    assert_eq!(rule_ids(path, text), [rule], "in {text:?}");
}

fn none(path: &str, text: &str) {
    assert!(
        rule_ids(path, text).is_empty(),
        "unexpected finding in {text:?}"
    );
}

fn aws_key_id() -> String {
    format!("AKIA{}", "ABCDEFGHIJ234567")
}

fn github_token() -> String {
    format!(
        "ghp_{}",
        "a1B2c3D4e5".repeat(4).get(..36).unwrap_or_default()
    )
}

#[test]
fn aws_access_key_id() {
    only(
        "src/app.py",
        &format!("KEY = '{}'", aws_key_id()),
        "aws-access-key-id",
    );
    only(
        "a.txt",
        &format!("ASIA{}", "ABCDEFGHIJ234567"),
        "aws-access-key-id",
    );
    none("a.txt", &format!("AKIA{}", "ABCDEFGHIJ23456"));
    none("a.txt", &format!("XAKIA{}", "ABCDEFGHIJ234567"));
    none("a.txt", &format!("akia{}", "abcdefghij234567"));
}

#[test]
fn aws_secret_access_key() {
    let secret = "Zx9/".repeat(10);
    only(
        "deploy/run.py",
        &format!("aws_secret_access_key = \"{secret}\""),
        "aws-secret-access-key",
    );
    only(
        "a.txt",
        &format!("AWS_SECRET_KEY={secret}"),
        "aws-secret-access-key",
    );
    none(
        "a.txt",
        &format!("aws_secret_access_key = \"{}\"", &secret[..39]),
    );
    none("a.txt", &format!("aws_secret_access_key = \"{secret}X\""));
}

#[test]
fn private_keys_of_every_kind() {
    for kind in ["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED "] {
        let header = format!("-----BEGIN {kind}PRIVATE KEY-----");
        only("id_rsa.txt", &header, "private-key");
    }
    only(
        "key.asc",
        concat!("-----BEGIN PGP ", "PRIVATE KEY BLOCK-----"),
        "private-key",
    );
    none("cert.pem", "-----BEGIN PUBLIC KEY-----");
    none("cert.pem", "-----BEGIN CERTIFICATE-----");
}

#[test]
fn private_key_message_shows_the_header_label() {
    let pem = concat!("-----BEGIN RSA ", "PRIVATE KEY-----\nMIIE...\n");
    let f = scan_text("k.pem", pem);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].message, "private key block: RSA PRIVATE KEY");
    assert_eq!((f[0].line, f[0].column), (Some(1), Some(12)));
}

#[test]
fn github_tokens() {
    let body = "a1B2c3D4e5".repeat(4);
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        only("a.md", &format!("{prefix}{}", &body[..36]), "github-token");
    }
    only(
        "a.md",
        &format!("github_pat_{}_{}", &body[..22], &body[..30]),
        "github-token",
    );
    none("a.md", &format!("ghp_{}", &body[..20]));
    none("a.md", &format!("ghx_{}", &body[..36]));
}

#[test]
fn slack_tokens_and_webhooks() {
    only(
        "a.js",
        &format!("xoxb-{}-{}", "1234567890", "abcdEFGHijkl"),
        "slack-token",
    );
    none("a.js", "xoxb-123");
    none("a.js", &format!("xoxz-{}", "1234567890abcdef"));
    let hook = format!(
        "https://hooks.slack.com/services/{}/{}/{}",
        "T0123ABCD", "B0123ABCD", "abcdEFGH1234ijkl"
    );
    only("a.js", &hook, "slack-webhook-url");
    none("a.js", "https://hooks.slack.com/services/");
}

#[test]
fn google_api_key() {
    let body = "AbCdEfGhIj0123456789_-KlMnOpQrStUvW";
    assert_eq!(body.len(), 35);
    only("a.js", &format!("key: 'AIza{body}'"), "google-api-key");
    none("a.js", &format!("key: 'AIza{}'", &body[..34]));
}

#[test]
fn stripe_live_key() {
    let body = "a1B2c3D4e5F6g7H8i9J0k1L2";
    only(
        "a.rb",
        &format!("Stripe.api_key = 'sk_{}_{body}'", "live"),
        "stripe-live-key",
    );
    only("a.rb", &format!("rk_{}_{body}", "live"), "stripe-live-key");
    none("a.rb", &format!("sk_{}_{body}", "test"));
}

#[test]
fn json_web_token() {
    let jwt = format!(
        "{}.{}.{}",
        "eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiIxMjM0NTY3ODkwIn0", "dozjgNryP4J3jVmNHl0w5N"
    );
    only("a.http", &format!("Authorization: Bearer {jwt}"), "jwt");
    none("a.http", "eyJhbGciOiJIUzI1NiJ9.payload");
}

#[test]
fn database_url_with_password() {
    let found = scan_text(
        "src/db.go",
        &format!(
            "dsn := \"postgres://app:{}@db.internal:5432/app\"",
            "s3cretPassw0rd"
        ),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule_id, "database-url-password");
    assert_eq!(found[0].message, "password in a database URL: s3cr…");
    only(
        "a.env.example",
        &format!("mongodb+srv://u:{}@c.example.net", "Tr0ub4dor3"),
        "database-url-password",
    );
    none("a.py", "url = f\"postgres://app:{password}@db/app\"");
    none("a.go", "postgres://app:${DB_PASSWORD}@db/app");
    none("a.go", "postgres://app:password@localhost/app");
    none("a.go", "postgres://localhost:5432/app");
    none("a.go", "https://user:hunter2hunter2@example.com/");
}

#[test]
fn generic_assignment_in_config_files() {
    only(
        "config.yaml",
        "db_password: \"hunter2hunter2\"",
        "generic-secret-assignment",
    );
    only(
        "settings.toml",
        "api_key = 'q8Zk2vLp0aW9'",
        "generic-secret-assignment",
    );
    only(
        "app.properties",
        "auth.token=q8Zk2vLp0aW9xx",
        "generic-secret-assignment",
    );
    only(
        "deploy.sh",
        "export API_TOKEN=q8Zk2vLp0aW9xx",
        "generic-secret-assignment",
    );
    only(
        "conf.json",
        "{\"clientSecret\": \"q8Zk2vLp0aW9\"}",
        "generic-secret-assignment",
    );
    // Not a config file: a variable in code is not reported by the loose rule.
    none("src/main.py", "password = \"hunter2hunter2\"");
}

#[test]
fn generic_assignment_skips_placeholders_and_non_secrets() {
    for line in [
        "password = \"changeme\"",
        "password: ${DB_PASSWORD}",
        "api_key = \"${API_KEY}\"",
        "token: <token>",
        "secret = \"xxxxxxxxxxxx\"",
        "password = \"short\"",
        "token_url = \"https://auth.internal/token\"",
        "password_file = \"/run/secrets/db\"",
        "tokenizer = \"bert-base-uncased\"",
        "public_key = \"AAAAB3NzaC1yc2EAAAADAQABAAABAQ\"",
        "token: {{ vault_token }}",
        "password = os.getenv(\"PASSWORD\")",
    ] {
        none("config.toml", line);
    }
}

#[test]
fn specific_rule_wins_over_generic_assignment() {
    let found = scan_text("config.toml", &format!("token = \"{}\"", github_token()));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].rule_id, "github-token");
    assert_eq!(found[0].severity, Severity::Critical);
}

#[test]
fn line_and_column_are_one_based_characters() {
    let text = format!("first\n\n  é = \"{}\"\n", aws_key_id());
    assert_eq!(
        hits("a.txt", &text),
        [("aws-access-key-id".to_string(), 3, 8)]
    );
}

#[test]
fn messages_never_contain_the_secret() {
    let key = aws_key_id();
    let token = github_token();
    let text = format!("{key}\n{token}\npassword: hunter2hunter2\n");
    let found = scan_text("c.yml", &text);
    assert_eq!(found.len(), 3);
    for f in &found {
        assert!(!f.message.contains(&key) && !f.message.contains(&token));
        assert!(!f.message.contains("hunter2hunter2"));
        assert!(f.message.ends_with('…'), "{}", f.message);
    }
    assert_eq!(found[0].message, "AWS access key ID: AKIA…");
    assert_eq!(
        found[2].message,
        "secret assigned in configuration (`password`): hunt…"
    );
}

#[test]
fn several_secrets_on_one_line_are_all_found() {
    let text = format!("{} {}", aws_key_id(), aws_key_id());
    assert_eq!(hits("a.txt", &text).len(), 2);
}

#[test]
fn binary_files_are_not_scanned() {
    let mut bytes = aws_key_id().into_bytes();
    bytes.insert(0, 0);
    assert_eq!(scan_file("a.bin", &bytes), FileScan::Binary);
    let text = aws_key_id().into_bytes();
    assert!(matches!(scan_file("a.txt", &text), FileScan::Text(f) if f.len() == 1));
}

#[test]
fn a_nul_after_the_sniffed_prefix_does_not_make_a_file_binary() {
    let mut bytes = vec![b'a'; BINARY_SNIFF_BYTES];
    bytes.push(0);
    assert_eq!(scan_file("a.txt", &bytes), FileScan::Text(Vec::new()));
}

#[test]
fn config_files_are_recognised() {
    for p in [
        "a/b.yaml",
        "x.TOML",
        ".env.local",
        "Dockerfile",
        ".npmrc",
        "c/settings.json",
    ] {
        assert!(is_config_file(p), "{p}");
    }
    for p in ["src/main.rs", "README.md", "lib.py"] {
        assert!(!is_config_file(p), "{p}");
    }
}
