//! The deny-list: secret files that no profile can grant.
//!
//! It applies *inside* granted paths, to every component of a path and to the
//! whole path, case-insensitively (so `.ENV` on a case-insensitive filesystem
//! is still `.env`). Profiles may add patterns; they cannot remove built-in ones.
//!
//! Built-in patterns come in two shapes: a single name (`.env`, `*.pem`),
//! matched against every component, and a run of names (`.config/gh`),
//! matched against every run of consecutive components, so `.config/gh` is
//! withheld at the workspace root and in `home/me/.config/gh` alike. A
//! profile's pattern with a `/` keeps its documented meaning: a glob over
//! the whole workspace-relative path (`secrets/**`).
//!
//! Version-control internals ([`VCS_NAMES`]) are not deny-list patterns: they
//! have their own reason and rule name ([`VCS_RULE`]), and no profile can
//! change them either.

use globset::{Candidate, Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Patterns that are always denied. A pattern without `/` matches a single
/// path component (a file or directory name); one with `/` matches a run of
/// consecutive components anywhere in the path. A denied directory denies
/// everything below it.
pub const BUILTIN_PATTERNS: &[&str] = &[
    ".env",
    ".env.*",
    ".envrc",
    "*.pem",
    "*.key",
    "*.keytab",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".config/gh",
    ".gnupg",
    ".docker",
    ".kube",
    ".netrc",
    ".git-credentials",
    ".vault-token",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".m2/settings.xml",
    ".my.cnf",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.tfstate",
    "*.tfstate.backup",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    "credentials.json",
    // Shell and REPL histories: commands typed with tokens and passwords.
    ".*_history",
    ".zhistory",
    ".history",
    "fish_history",
    ".lesshst",
];

/// Names of version-control folders (or, for `.git`, the gitdir file of a
/// worktree or submodule). Skills never read, list into, walk, search or
/// write them: they hold every secret ever committed (objects and packs)
/// and credential URLs (`.git/config`). Compared without ASCII case.
pub const VCS_NAMES: &[&str] = &[".git", ".hg", ".svn", ".jj"];

/// The rule name shown for a version-control entry in listings.
pub const VCS_RULE: &str = "version-control";

/// The reason given when a skill asks for a path inside [`VCS_NAMES`].
pub const VCS_REASON: &str = "version-control internals hold every committed secret and credential URLs; skills never read them; commands see `.git` read-only";

/// The first component of `path` (`/`-separated) that is a
/// version-control name, if any.
pub fn vcs_component(path: &str) -> Option<&str> {
    path.split('/').find(|c| is_vcs_name(c.as_bytes()))
}

/// Whether one path component is a version-control name.
pub fn is_vcs_name(name: &[u8]) -> bool {
    VCS_NAMES
        .iter()
        .any(|v| name.eq_ignore_ascii_case(v.as_bytes()))
}

/// A compiled deny-list.
#[derive(Debug, Clone)]
pub struct DenyList {
    patterns: Vec<String>,
    /// Single-name rules and the profile's whole-path rules.
    set: GlobSet,
    /// For each glob in `set`, its index in `patterns`.
    set_rules: Vec<usize>,
    /// Built-in multi-component rules: index in `patterns`, one matcher per
    /// component.
    runs: Vec<(usize, Vec<GlobMatcher>)>,
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
        let mut set_rules = Vec::new();
        let mut runs = Vec::new();
        for pattern in BUILTIN_PATTERNS.iter().copied() {
            if pattern.contains('/') {
                let parts = pattern
                    .split('/')
                    .map(|part| compile(part).map(|g| g.compile_matcher()))
                    .collect::<Result<Vec<_>, _>>()?;
                runs.push((patterns.len(), parts));
            } else {
                builder.add(compile(pattern)?);
                set_rules.push(patterns.len());
            }
            patterns.push(pattern.to_string());
        }
        for pattern in extra.iter().map(AsRef::as_ref) {
            builder.add(compile(pattern)?);
            set_rules.push(patterns.len());
            patterns.push(pattern.to_string());
        }
        let set = builder.build().map_err(|e| PatternError {
            pattern: patterns.join(", "),
            reason: e.to_string(),
        })?;
        Ok(Self {
            patterns,
            set,
            set_rules,
            runs,
        })
    }

    /// Checks one pattern as a profile's `deny` key would add it, without
    /// compiling a whole list (a profile names the bad pattern's line).
    pub fn check_pattern(pattern: &str) -> Result<(), PatternError> {
        compile(pattern).map(drop)
    }

    /// Every pattern, built-in first.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// The pattern that withholds `path` (workspace-relative, `/`-separated,
    /// already normalised), if any. Checks the whole path, each component
    /// and each run of components.
    pub fn matching_rule(&self, path: &str) -> Option<&str> {
        let lowered = path.to_lowercase();
        let components: Vec<&str> = lowered.split('/').filter(|c| !c.is_empty()).collect();
        let candidates: Vec<Candidate<'_>> = components.iter().map(Candidate::new).collect();
        self.rule_for(&Candidate::new(&lowered), &candidates)
    }

    /// [`Self::matching_rule`] for a path given as raw bytes
    /// (workspace-relative, `/`-separated), as the filesystem names it.
    /// A name that is not UTF-8 is matched byte for byte (ASCII letters
    /// without case), never skipped: a secret under a folder whose name is
    /// not UTF-8 is still withheld.
    pub fn matching_rule_bytes(&self, path: &[u8]) -> Option<&str> {
        if let Ok(text) = std::str::from_utf8(path) {
            return self.matching_rule(text);
        }
        let lowered = path.to_ascii_lowercase();
        let components: Vec<Vec<u8>> = lowered
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(|c| match std::str::from_utf8(c) {
                Ok(t) => t.to_lowercase().into_bytes(),
                Err(_) => c.to_vec(),
            })
            .collect();
        let as_path = |b: &[u8]| Path::new(OsStr::from_bytes(b)).to_path_buf();
        let whole = as_path(&lowered);
        let paths: Vec<_> = components.iter().map(|c| as_path(c)).collect();
        let candidates: Vec<Candidate<'_>> = paths.iter().map(Candidate::new).collect();
        self.rule_for(&Candidate::new(&whole), &candidates)
    }

    /// The rule matching the whole path, one of its components, or a run of
    /// its components (all lowercased by the caller).
    fn rule_for(&self, whole: &Candidate<'_>, components: &[Candidate<'_>]) -> Option<&str> {
        let rule = |i: usize| Some(self.patterns[i].as_str());
        if let Some(&i) = self.set.matches_candidate(whole).first() {
            return rule(self.set_rules[i]);
        }
        for component in components {
            if let Some(&i) = self.set.matches_candidate(component).first() {
                return rule(self.set_rules[i]);
            }
        }
        for (i, parts) in &self.runs {
            let hit = components.windows(parts.len()).any(|window| {
                window
                    .iter()
                    .zip(parts)
                    .all(|(c, m)| m.is_match_candidate(c))
            });
            if hit {
                return rule(*i);
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
    fn credential_stores_and_histories_are_denied() {
        let deny = list();
        for (path, rule) in [
            (".envrc", ".envrc"),
            ("sub/.ENVRC", ".envrc"),
            ("etc/krb5.keytab", "*.keytab"),
            (".vault-token", ".vault-token"),
            (".my.cnf", ".my.cnf"),
            (".azure/accessTokens.json", ".azure"),
            ("infra/prod.tfstate", "*.tfstate"),
            ("infra/prod.tfstate.backup", "*.tfstate.backup"),
            (".bash_history", ".*_history"),
            (".zsh_history", ".*_history"),
            (".python_history", ".*_history"),
            (".psql_history", ".*_history"),
            (".mysql_history", ".*_history"),
            (".node_repl_history", ".*_history"),
            (".sqlite_history", ".*_history"),
            (".zhistory", ".zhistory"),
            (".local/share/fish/fish_history", "fish_history"),
            (".lesshst", ".lesshst"),
        ] {
            assert_eq!(deny.matching_rule(path), Some(rule), "{path}");
        }
    }

    #[test]
    fn multi_component_rules_match_a_run_of_components_anywhere() {
        let deny = list();
        for (path, rule) in [
            (".config/gh", ".config/gh"),
            (".config/gh/hosts.yml", ".config/gh"),
            ("home/me/.config/gh/hosts.yml", ".config/gh"),
            (".CONFIG/GH/hosts.yml", ".config/gh"),
            (".config/gcloud/credentials.db", ".config/gcloud"),
            (".cargo/credentials", ".cargo/credentials"),
            (".cargo/credentials.toml", ".cargo/credentials.toml"),
            ("home/me/.cargo/credentials.toml", ".cargo/credentials.toml"),
            (".m2/settings.xml", ".m2/settings.xml"),
            ("u/.m2/SETTINGS.XML", ".m2/settings.xml"),
        ] {
            assert_eq!(deny.matching_rule(path), Some(rule), "{path}");
            assert_eq!(
                deny.matching_rule_bytes(path.as_bytes()),
                Some(rule),
                "{path} as bytes"
            );
        }
        assert_eq!(
            deny.matching_rule_bytes(b"\xff/.config/gh/hosts.yml"),
            Some(".config/gh")
        );
        assert_eq!(deny.matching_rule_bytes(b"\xff/.cargo/config.toml"), None);
    }

    #[test]
    fn near_misses_of_the_new_rules_are_not_denied() {
        let deny = list();
        for path in [
            ".config/ghostty/config",
            "gh/.config",
            "config/gh/hosts.yml",
            ".config",
            ".config/git/ignore",
            ".cargo/config.toml",
            ".cargo/registry/cache/x.crate",
            "credentials/readme.md",
            ".m2/repository/org/x.pom",
            "settings.xml",
            "docs/history.md",
            "notes_history.md",
            "environment.rc",
            "src/keytab.rs",
            "main.tf",
        ] {
            assert_eq!(deny.matching_rule(path), None, "{path}");
            assert_eq!(deny.matching_rule_bytes(path.as_bytes()), None, "{path}");
        }
    }

    #[test]
    fn version_control_names_are_recognised_without_case() {
        for path in [
            ".git",
            "a/.git/config",
            "x/.GIT",
            ".hg/hgrc",
            "b/.svn/x",
            ".jj/repo",
        ] {
            assert!(vcs_component(path).is_some(), "{path}");
        }
        for path in [
            ".gitignore",
            ".github/workflows/ci.yml",
            "git/x",
            ".gitmodules",
            "a.git",
        ] {
            assert_eq!(vcs_component(path), None, "{path}");
        }
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
