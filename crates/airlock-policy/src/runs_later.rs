//! Files that run code outside the sandbox later: a change to one always
//! asks a person, even under `edits.mode = "allow"`, with the reason in the
//! prompt.
//!
//! The criterion: a file that makes a program run code when a person does
//! something *other* than running that code — commits (`.pre-commit-config.yaml`,
//! `.husky/`), enters the directory (`.envrc`), opens the folder in an editor
//! (`.vscode/tasks.json`, `.devcontainer/`), pushes (`.github/workflows/`), or
//! checks out (`.gitattributes` filters, `.gitmodules`). Build files
//! (`Makefile`, `build.rs`, `package.json` scripts) run code when the person
//! builds or tests, a step they take on purpose with the same trust as the
//! code being changed; they are not on the list, and a profile
//! (`[edits] always-ask`) or the admin policy (`always-ask`) can add them.
//!
//! A pattern without `/` matches a file or folder name at any depth (a
//! folder's name covers everything below it); one with `/` is a glob over
//! the whole workspace-relative path. ASCII case is ignored, as on the
//! case-insensitive filesystems these tools also run on.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

/// The built-in list: pattern, and what runs it.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        ".pre-commit-config.yaml",
        "runs code when git commits (pre-commit hooks)",
    ),
    (
        ".husky",
        "holds git hooks that run code when git commits or pushes",
    ),
    (
        ".envrc",
        "runs code in your shell when you enter the directory (direnv)",
    ),
    (
        ".vscode/tasks.json",
        "runs commands from VS Code, some as soon as the folder is opened",
    ),
    (
        ".vscode/launch.json",
        "runs programs and pre-launch tasks when you debug in VS Code",
    ),
    (
        ".vscode/settings.json",
        "names programs VS Code and its extensions run (formatters, linters, interpreters, terminal profiles)",
    ),
    (
        ".devcontainer",
        "runs commands when the folder is opened in a dev container",
    ),
    (
        ".github/workflows",
        "runs code in CI on push, with the repository's secrets",
    ),
    (
        ".gitlab-ci.yml",
        "runs code in CI on push, with the project's variables",
    ),
    (
        ".gitattributes",
        "names filter and diff drivers git runs on checkout, add and diff",
    ),
    (
        ".gitmodules",
        "names repositories git fetches and checks out, and their update commands",
    ),
    (
        ".git",
        "a git directory's hooks and config run code whenever git runs",
    ),
];

/// Where a pattern came from, for the reason shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from", content = "detail")]
pub enum Origin {
    /// Airlock's built-in list; the text says what runs it.
    Builtin(&'static str),
    /// The profile's `[edits] always-ask`.
    Profile,
    /// The admin policy's `always-ask`.
    Admin,
}

/// A pattern that is not a valid glob.
#[derive(Debug, thiserror::Error)]
#[error("invalid always-ask pattern `{pattern}`: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The compiled list: built-in patterns, then the profile's, then the
/// admin's. Adding never removes.
#[derive(Debug, Clone)]
pub struct RunsLater {
    patterns: Vec<(String, Origin)>,
    set: GlobSet,
    /// For each glob in `set`, its index in `patterns`.
    owners: Vec<usize>,
}

impl Default for RunsLater {
    /// The built-in list alone.
    fn default() -> Self {
        Self::builtin()
    }
}

/// `anywhere`: a pattern with `/` also matches below any folder (the
/// built-in ones: `.vscode/tasks.json` of a sub-project counts too).
fn compile(pattern: &str, anywhere: bool) -> Result<Vec<Glob>, PatternError> {
    let err = |e: globset::Error| PatternError {
        pattern: pattern.to_string(),
        reason: e.kind().to_string(),
    };
    let trimmed = pattern.trim_matches('/');
    if trimmed.is_empty() {
        return Err(PatternError {
            pattern: pattern.to_string(),
            reason: "it is empty; write a file or folder name (`Makefile`) or a path glob (`scripts/*.sh`)".into(),
        });
    }
    let build = |p: &str| {
        GlobBuilder::new(p)
            .literal_separator(true)
            .case_insensitive(true)
            .build()
            .map_err(err)
    };
    let (exact, below) = if trimmed.contains('/') && !anywhere {
        (trimmed.to_string(), format!("{trimmed}/**"))
    } else {
        (format!("**/{trimmed}"), format!("**/{trimmed}/**"))
    };
    Ok(vec![build(&exact)?, build(&below)?])
}

impl RunsLater {
    /// The built-in list.
    pub fn builtin() -> Self {
        let mut out = Self {
            patterns: Vec::new(),
            set: GlobSet::empty(),
            owners: Vec::new(),
        };
        let builtin: Vec<(String, Origin)> = BUILTIN
            .iter()
            .map(|(p, why)| ((*p).to_string(), Origin::Builtin(why)))
            .collect();
        // The built-in patterns are constants, checked by a unit test.
        if out.add(builtin).is_err() {
            out.set = GlobSet::empty();
        }
        out
    }

    /// Add patterns (the profile's or the admin's); nothing is removed.
    pub fn extend<S: AsRef<str>>(
        &mut self,
        patterns: &[S],
        origin: Origin,
    ) -> Result<(), PatternError> {
        let more = patterns
            .iter()
            .map(|p| (p.as_ref().to_string(), origin.clone()))
            .filter(|(p, o)| !self.patterns.iter().any(|(q, r)| q == p && r == o))
            .collect();
        self.add(more)
    }

    fn add(&mut self, more: Vec<(String, Origin)>) -> Result<(), PatternError> {
        let mut patterns = self.patterns.clone();
        patterns.extend(more);
        let mut builder = GlobSetBuilder::new();
        let mut owners = Vec::new();
        for (i, (pattern, origin)) in patterns.iter().enumerate() {
            let anywhere = matches!(origin, Origin::Builtin(_));
            for glob in compile(pattern, anywhere)? {
                builder.add(glob);
                owners.push(i);
            }
        }
        let set = builder.build().map_err(|e| PatternError {
            pattern: patterns
                .iter()
                .map(|(p, _)| p.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            reason: e.kind().to_string(),
        })?;
        *self = Self {
            patterns,
            set,
            owners,
        };
        Ok(())
    }

    /// Check one pattern as a profile or policy would write it.
    pub fn check(pattern: &str) -> Result<(), PatternError> {
        compile(pattern, false).map(|_| ())
    }

    /// Every pattern, with its origin, built-in first.
    pub fn patterns(&self) -> &[(String, Origin)] {
        &self.patterns
    }

    /// Why a change to `path` (workspace-relative, `/`-separated) always
    /// asks, or `None` when it need not. The sentence names the file and
    /// what runs it: "`.pre-commit-config.yaml` runs code when git commits
    /// (pre-commit hooks)".
    pub fn reason(&self, path: &str) -> Option<String> {
        let first = self
            .set
            .matches(path)
            .into_iter()
            .map(|i| self.owners[i])
            .min()?;
        let (pattern, origin) = &self.patterns[first];
        let shown = airlock_core::terminal::line(path);
        Some(match origin {
            Origin::Builtin(why) => {
                format!("`{shown}` {why}, outside the sandbox: a change to it always asks")
            }
            Origin::Profile => format!(
                "`{shown}` matches `{}` in the profile's edits.always-ask: a change to it always asks",
                airlock_core::terminal::line(pattern)
            ),
            Origin::Admin => format!(
                "`{shown}` matches `{}` in the admin policy's always-ask: a change to it always asks",
                airlock_core::terminal::line(pattern)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_patterns_compile() {
        for (pattern, _) in BUILTIN {
            RunsLater::check(pattern).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(RunsLater::builtin().patterns().len(), BUILTIN.len());
    }

    #[test]
    fn files_that_run_code_later_are_found_at_any_depth_and_case() {
        let list = RunsLater::builtin();
        for path in [
            ".pre-commit-config.yaml",
            ".husky/pre-commit",
            ".husky/_/husky.sh",
            ".envrc",
            "sub/dir/.envrc",
            ".vscode/tasks.json",
            ".VSCode/Tasks.JSON",
            "pkg/.vscode/settings.json",
            ".vscode/launch.json",
            ".devcontainer/devcontainer.json",
            ".devcontainer",
            ".github/workflows/ci.yml",
            ".gitlab-ci.yml",
            ".gitattributes",
            ".gitmodules",
            "vendor/lib/.git/hooks/post-checkout",
            "vendor/lib/.git",
        ] {
            assert!(list.reason(path).is_some(), "{path} should always ask");
        }
        for path in [
            "notes.txt",
            "Makefile",
            "src/build.rs",
            ".vscode/extensions.json",
            ".github/CODEOWNERS",
            "envrc",
            "x.pre-commit-config.yaml",
        ] {
            assert_eq!(list.reason(path), None, "{path} need not ask");
        }
        let why = list.reason(".pre-commit-config.yaml").unwrap_or_default();
        assert!(
            why.starts_with("`.pre-commit-config.yaml` runs code when git commits"),
            "{why}"
        );
    }

    #[test]
    fn a_profile_and_the_admin_add_patterns_and_are_named() {
        let mut list = RunsLater::builtin();
        list.extend(&["Makefile", "scripts/*.sh"], Origin::Profile)
            .expect("valid");
        list.extend(&["build.rs"], Origin::Admin).expect("valid");
        let why = list.reason("sub/Makefile").unwrap_or_default();
        assert!(why.contains("the profile's edits.always-ask"), "{why}");
        assert!(list.reason("scripts/x.sh").is_some());
        assert_eq!(
            list.reason("sub/scripts/x.sh"),
            None,
            "a path glob is anchored"
        );
        let why = list.reason("crates/a/build.rs").unwrap_or_default();
        assert!(why.contains("admin policy"), "{why}");
        // The built-ins stay.
        assert!(list.reason(".envrc").is_some());
        assert!(RunsLater::check("a[").is_err());
        assert!(RunsLater::check("/").is_err());
    }

    #[test]
    fn a_path_with_escapes_is_shown_escaped_in_the_reason() {
        let list = RunsLater::builtin();
        let why = list.reason("\u{202E}x/.envrc").unwrap_or_default();
        assert!(why.starts_with("`<U+202E>x/.envrc`"), "{why}");
    }
}
