//! Applies the rules to one file's contents. Pure: no host calls, so the
//! whole engine is tested natively.

use airlock_sdk::Finding;
use regex::Captures;

use crate::placeholder::is_placeholder;
use crate::redact::redact;
use crate::rules::{self, Check, Reveal, Rule, Scope};

/// Files larger than this are skipped: credentials live in small text files,
/// and a 2 MiB cap keeps one huge log from eating the read budget.
pub const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

/// How much of a file is sniffed for a NUL byte to call it binary (the same
/// heuristic as git and grep).
pub const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// Shortest value the generic assignment rule reports: shorter values are
/// mostly flags and words, and real secrets are longer.
const MIN_ASSIGNED_SECRET_CHARS: usize = 8;

/// The result of scanning one file.
#[derive(Debug, PartialEq, Eq)]
pub enum FileScan {
    /// A NUL byte near the start: not scanned.
    Binary,
    /// Scanned; these are the findings (possibly none).
    Text(Vec<Finding>),
}

/// Scans a whole file's bytes. Invalid UTF-8 is replaced rather than
/// refused: a Latin-1 config file can still hold an ASCII token.
pub fn scan_file(path: &str, bytes: &[u8]) -> FileScan {
    let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    if sniff.contains(&0) {
        return FileScan::Binary;
    }
    FileScan::Text(scan_text(path, &String::from_utf8_lossy(bytes)))
}

/// Scans text, line by line, with every rule that applies to `path`.
pub fn scan_text(path: &str, text: &str) -> Vec<Finding> {
    let config = is_config_file(path);
    // A rule that matches nowhere in the file need not be tried per line.
    let active: Vec<&Rule> = rules::all()
        .iter()
        .filter(|r| config || r.scope == Scope::AnyFile)
        .filter(|r| r.pattern.is_match(text))
        .collect();
    if active.is_empty() {
        return Vec::new();
    }
    let mut findings = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let hits = scan_line(&active, line);
        findings.extend(
            hits.into_iter()
                .map(|h| h.into_finding(path, line, line_no)),
        );
    }
    findings
}

/// A rule's match on one line, before it becomes a [`Finding`].
struct Hit<'r> {
    rule: &'r Rule,
    /// Byte span of the secret (or label) in the line.
    start: usize,
    end: usize,
    /// The assigned key, for generic assignments.
    key: Option<String>,
}

impl Hit<'_> {
    fn overlaps(&self, other: &Hit<'_>) -> bool {
        self.start < other.end && other.start < self.end
    }

    fn into_finding(self, path: &str, line: &str, line_no: u32) -> Finding {
        let secret = &line[self.start..self.end];
        let shown = match self.rule.reveal {
            Reveal::Redacted => redact(secret),
            Reveal::Label => secret.to_string(),
        };
        let message = match &self.key {
            Some(key) => format!("{} (`{key}`): {shown}", self.rule.description),
            None => format!("{}: {shown}", self.rule.description),
        };
        // Columns count characters, as SARIF's `unicodeCodePoints` column kind.
        let column = u32::try_from(line[..self.start].chars().count() + 1).unwrap_or(u32::MAX);
        Finding::new(self.rule.id, self.rule.severity, message).at(path, line_no, column)
    }
}

fn scan_line<'r>(rules: &[&'r Rule], line: &str) -> Vec<Hit<'r>> {
    let mut hits = Vec::new();
    for rule in rules {
        for caps in rule.pattern.captures_iter(line) {
            if let Some(hit) = accept(rule, &caps) {
                hits.push(hit);
            }
        }
    }
    // A generic assignment that covers the same text as a specific rule adds
    // nothing but noise.
    let specific: Vec<(usize, usize)> = hits
        .iter()
        .filter(|h| !h.rule.is_generic())
        .map(|h| (h.start, h.end))
        .collect();
    hits.retain(|h| {
        !h.rule.is_generic() || !specific.iter().any(|&(s, e)| h.start < e && s < h.end)
    });
    hits.sort_by_key(|h| h.start);
    dedup_overlapping_same_rule(&mut hits);
    hits
}

/// One rule can match the same secret twice only through overlapping
/// alternatives; report it once.
fn dedup_overlapping_same_rule(hits: &mut Vec<Hit<'_>>) {
    let mut kept: Vec<Hit<'_>> = Vec::with_capacity(hits.len());
    for hit in hits.drain(..) {
        if !kept
            .iter()
            .any(|k| k.rule.id == hit.rule.id && k.overlaps(&hit))
        {
            kept.push(hit);
        }
    }
    *hits = kept;
}

fn accept<'r>(rule: &'r Rule, caps: &Captures<'_>) -> Option<Hit<'r>> {
    let (group, secret) = rule
        .secret_groups
        .iter()
        .find_map(|&g| caps.get(g).map(|m| (g, m)))?;
    let mut key = None;
    match rule.check {
        Check::None => {}
        Check::UrlPassword => {
            let value = secret.as_str();
            if is_placeholder(value)
                || URL_PASSWORD_WORDS.contains(&value.to_ascii_lowercase().as_str())
            {
                return None;
            }
        }
        Check::Assignment => {
            let name = caps.get(1)?.as_str();
            let value = secret.as_str();
            let bare = group == *rule.secret_groups.last()?;
            if !assignment_is_secret(name, value, bare) {
                return None;
            }
            key = Some(name.to_string());
        }
    }
    Some(Hit {
        rule,
        start: secret.start(),
        end: secret.end(),
        key,
    })
}

/// Passwords that documentation puts in example URLs.
const URL_PASSWORD_WORDS: &[&str] = &["pass", "pwd", "pw", "user", "username"];

/// Last key segments that name something about a secret, not the secret:
/// `token_url`, `password_file`, `secret_name`, `password.min-length`.
const NON_SECRET_KEY_SUFFIXES: &[&str] = &[
    "file", "path", "dir", "url", "uri", "endpoint", "host", "name", "env", "var", "length", "len",
    "min", "max", "type", "field", "prompt", "regex", "pattern", "policy", "header", "hash",
    "format", "expiry", "expires", "ttl", "timeout", "lifetime", "enabled", "required", "id",
    "ref", "label", "count", "size",
];

fn assignment_is_secret(key: &str, value: &str, bare: bool) -> bool {
    let key = key.to_ascii_lowercase();
    let mut segments = key.split(['_', '.', '-']).filter(|s| !s.is_empty());
    let last = segments.clone().next_back().unwrap_or_default();
    if NON_SECRET_KEY_SUFFIXES.contains(&last) || segments.any(|s| s == "public") {
        return false;
    }
    // A bare value with brackets is code or a function call, not a literal.
    if bare && value.contains(['(', ')', '[', ']', '{', '}']) {
        return false;
    }
    value.chars().count() >= MIN_ASSIGNED_SECRET_CHARS && !is_placeholder(value)
}

#[cfg(test)]
mod tests;

/// Extensions of files where `key = value` is configuration.
const CONFIG_EXTENSIONS: &[&str] = &[
    "yaml",
    "yml",
    "toml",
    "json",
    "json5",
    "ini",
    "cfg",
    "conf",
    "config",
    "properties",
    "env",
    "tfvars",
    "tf",
    "hcl",
    "xml",
    "plist",
    "sh",
    "bash",
    "zsh",
    "envrc",
    "npmrc",
    "pypirc",
    "netrc",
    "pgpass",
    "gitconfig",
    "dockercfg",
];

/// Extension-less names of configuration files.
const CONFIG_NAMES: &[&str] = &["dockerfile", "containerfile", "credentials", "config"];

/// Whether `path` looks like a configuration file (by extension or name).
pub fn is_config_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    if name.starts_with(".env") || CONFIG_NAMES.contains(&name.as_str()) {
        return true;
    }
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| CONFIG_EXTENSIONS.contains(&ext))
}
