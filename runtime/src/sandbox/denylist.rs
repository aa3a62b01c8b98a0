//! The deny-list: secret files that no profile can grant.
//!
//! It applies *inside* granted paths, to every component of a path and to the
//! whole path, case-insensitively (so `.ENV` on a case-insensitive filesystem
//! is still `.env`). Profiles may add patterns; they cannot remove built-in ones.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// Patterns that are always denied. Each matches a single path component
/// (a file or directory name); a denied directory denies everything below it.
pub const BUILTIN_PATTERNS: &[&str] = &[
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh",
    ".aws",
    ".gnupg",
    ".docker",
    ".kube",
    ".netrc",
    ".git-credentials",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    "credentials.json",
];

/// A compiled deny-list.
#[derive(Debug, Clone)]
pub struct DenyList {
    patterns: Vec<String>,
    set: GlobSet,
}

/// A pattern that is not a valid glob.
#[derive(Debug, thiserror::Error)]
#[error("invalid deny pattern `{pattern}`: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

impl DenyList {
    /// The built-in patterns plus `extra` (from a profile's `deny` key).
    pub fn new<S: AsRef<str>>(extra: &[S]) -> Result<Self, PatternError> {
        let mut builder = GlobSetBuilder::new();
        let mut patterns = Vec::new();
        for pattern in BUILTIN_PATTERNS
            .iter()
            .copied()
            .chain(extra.iter().map(AsRef::as_ref))
        {
            builder.add(compile(pattern)?);
            patterns.push(pattern.to_string());
        }
        let set = builder.build().map_err(|e| PatternError {
            pattern: patterns.join(", "),
            reason: e.to_string(),
        })?;
        Ok(Self { patterns, set })
    }

    /// Every pattern, built-in first.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The pattern that withholds `path` (workspace-relative, `/`-separated,
    /// already normalised), if any. Checks the whole path and each component.
    pub fn matching_rule(&self, path: &str) -> Option<&str> {
        let lowered = path.to_lowercase();
        let whole = self.set.matches(&lowered);
        if let Some(&i) = whole.first() {
            return Some(&self.patterns[i]);
        }
        for component in lowered.split('/').filter(|c| !c.is_empty()) {
            if let Some(&i) = self.set.matches(component).first() {
                return Some(&self.patterns[i]);
            }
        }
        None
    }
}

impl DenyList {
    /// [`Self::matching_rule`] for a path given as raw bytes
    /// (workspace-relative, `/`-separated), as the filesystem names it.
    /// A name that is not UTF-8 is matched byte for byte (ASCII letters
    /// without case), never skipped: a secret under a folder whose name is
    /// not UTF-8 is still withheld.
    pub fn matching_rule_bytes(&self, path: &[u8]) -> Option<&str> {
        use std::os::unix::ffi::OsStrExt;
        if let Ok(text) = std::str::from_utf8(path) {
            return self.matching_rule(text);
        }
        let lowered = path.to_ascii_lowercase();
        let as_path = |b: &[u8]| std::path::Path::new(std::ffi::OsStr::from_bytes(b)).to_path_buf();
        let whole = self.set.matches(as_path(&lowered));
        if let Some(&i) = whole.first() {
            return Some(&self.patterns[i]);
        }
        for component in lowered.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
            let text = std::str::from_utf8(component).ok();
            let hit = match text {
                Some(t) => self.set.matches(t.to_lowercase()),
                None => self.set.matches(as_path(component)),
            };
            if let Some(&i) = hit.first() {
                return Some(&self.patterns[i]);
            }
        }
        None
    }
}

fn compile(pattern: &str) -> Result<Glob, PatternError> {
    if pattern.trim().is_empty() {
        return Err(PatternError {
            pattern: pattern.to_string(),
            reason: "a pattern cannot be empty".into(),
        });
    }
    GlobBuilder::new(&pattern.to_lowercase())
        .case_insensitive(true)
        .literal_separator(true)
        .build()
        .map_err(|e| PatternError {
            pattern: pattern.to_string(),
            reason: e.kind().to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_utf8_are_matched_as_bytes() {
        let deny = list();
        assert_eq!(deny.matching_rule_bytes(b"\xff/.env"), Some(".env"));
        assert_eq!(
            deny.matching_rule_bytes(b"a/\xfe\xff/ID_RSA"),
            Some("id_rsa*")
        );
        assert_eq!(deny.matching_rule_bytes(b".ssh/\xff"), Some(".ssh"));
        assert_eq!(deny.matching_rule_bytes(b"k\xff.pem"), Some("*.pem"));
        assert_eq!(deny.matching_rule_bytes(b"\xff/notes.txt"), None);
        assert_eq!(deny.matching_rule_bytes(b"src/.env"), Some(".env"));
    }

    fn list() -> DenyList {
        DenyList::new::<&str>(&[]).expect("built-in patterns compile")
    }

    #[test]
    fn builtin_secrets_are_denied_anywhere_in_the_path() {
        let deny = list();
        for path in [
            ".env",
            ".env.production",
            "config/server.pem",
            "deploy/tls.key",
            "home/.ssh/known_hosts",
            ".ssh",
            "id_rsa",
            "keys/id_ed25519.pub",
            ".aws/credentials",
            ".gnupg/pubring.kbx",
            ".netrc",
            ".git-credentials",
            "certs/client.p12",
            "certs/client.PFX",
            ".npmrc",
            ".pypirc",
        ] {
            assert!(
                deny.matching_rule(path).is_some(),
                "{path} should be denied"
            );
        }
    }

    #[test]
    fn case_variants_are_denied() {
        let deny = list();
        assert_eq!(deny.matching_rule(".ENV"), Some(".env"));
        assert_eq!(deny.matching_rule("Keys/ID_RSA"), Some("id_rsa*"));
        assert_eq!(deny.matching_rule("x/.SSH/config"), Some(".ssh"));
    }

    #[test]
    fn ordinary_files_are_not_denied() {
        let deny = list();
        for path in [
            "src/main.rs",
            "environment.md",
            "docs/keys.md",
            "src/env.rs",
            "pem/readme.txt",
        ] {
            assert_eq!(deny.matching_rule(path), None, "{path}");
        }
    }

    #[test]
    fn profile_patterns_add_to_builtins() {
        let deny = DenyList::new(&["*.tfstate", "secrets/**"]).expect("valid");
        assert_eq!(deny.matching_rule("infra/prod.tfstate"), Some("*.tfstate"));
        assert_eq!(
            deny.matching_rule("secrets/db/pass.txt"),
            Some("secrets/**")
        );
        assert_eq!(deny.matching_rule(".env"), Some(".env"));
    }

    #[test]
    fn invalid_pattern_is_named() {
        let err = DenyList::new(&["a[b"]).expect_err("unclosed class");
        assert!(
            err.to_string().starts_with("invalid deny pattern `a[b`"),
            "{err}"
        );
    }
}
