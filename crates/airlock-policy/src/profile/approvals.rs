//! The `[edits]` table of a profile: whether a change to a file needs a
//! human's yes, and which files always ask (they run code later).

use crate::runs_later::{Origin, PatternError, RunsLater};
use serde::{Deserialize, Serialize};

/// How a gated action is decided.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalMode {
    /// Always refused.
    Deny,
    /// Shown to the user, who says yes or no; refused when nobody can be asked.
    #[default]
    Ask,
    /// Done without asking (within the grants; risky actions still ask).
    Allow,
}

impl ApprovalMode {
    /// The name used in profiles.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deny => "deny",
            Self::Ask => "ask",
            Self::Allow => "allow",
        }
    }
}

/// The `[edits]` table, checked.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EditPolicy {
    /// Writes, new directories and removals inside read-write grants.
    /// Default `ask`.
    pub mode: ApprovalMode,
    /// Patterns of files that run code outside the sandbox later, added to
    /// the built-in list (never replacing it): a change to one always asks,
    /// even under `mode = "allow"`.
    pub always_ask: Vec<String>,
    /// The built-in list, this profile's patterns and (at launch) the admin
    /// policy's, compiled.
    #[serde(skip)]
    runs_later: RunsLater,
}

impl EditPolicy {
    /// The files whose changes always ask.
    pub fn runs_later(&self) -> &RunsLater {
        &self.runs_later
    }

    /// Add the admin policy's `always-ask` patterns (which no profile can
    /// remove).
    pub fn add_admin_always_ask(&mut self, patterns: &[String]) -> Result<(), PatternError> {
        self.runs_later.extend(patterns, Origin::Admin)
    }
}

/// The `[edits]` table from its TOML shape; an error names the key (and,
/// through `at`, its line and column).
pub(super) fn edit_policy(
    spec: &super::schema::EditsSpec,
    at: &dyn Fn(Option<std::ops::Range<usize>>, String) -> super::ProfileError,
) -> Result<EditPolicy, super::ProfileError> {
    let mut always_ask = Vec::new();
    for pattern in spec.always_ask.iter().flatten() {
        RunsLater::check(pattern.get_ref()).map_err(|e| {
            at(
                Some(pattern.span()),
                format!(
                    "edits.always-ask: {e}; write a file or folder name (`Makefile`) or a glob over the workspace path (`scripts/*.sh`)"
                ),
            )
        })?;
        if !always_ask.contains(pattern.get_ref()) {
            always_ask.push(pattern.get_ref().clone());
        }
    }
    let mut runs_later = RunsLater::builtin();
    runs_later
        .extend(&always_ask, Origin::Profile)
        .map_err(|e| at(None, format!("edits.always-ask: {e}")))?;
    Ok(EditPolicy {
        mode: spec.mode.unwrap_or_default(),
        always_ask,
        runs_later,
    })
}

#[cfg(test)]
mod tests {
    use crate::profile::{Profile, ProfileSource};

    fn parse(text: &str) -> Result<Profile, crate::profile::ProfileError> {
        Profile::parse(text, ProfileSource::Builtin("t".into()))
    }

    #[test]
    fn always_ask_adds_to_the_builtin_list_and_a_bad_pattern_names_its_place() {
        let p = parse("[edits]\nmode = \"allow\"\nalways-ask = [\"Makefile\"]\n").expect("valid");
        assert_eq!(p.edits.always_ask, ["Makefile"]);
        let later = p.edits.runs_later();
        assert!(later.reason("Makefile").is_some());
        assert!(later.reason(".envrc").is_some(), "the built-ins stay");
        let e = parse("[edits]\nalways-ask = [\"{a\"]\n").expect_err("invalid");
        let text = e.to_string();
        assert!(text.contains(":2:"), "line and column: {text}");
        assert!(text.contains("edits.always-ask"), "{text}");
        // Without the key: the built-in list only.
        let plain = parse("").expect("valid");
        assert!(plain.edits.always_ask.is_empty());
        assert!(
            plain
                .edits
                .runs_later()
                .reason(".pre-commit-config.yaml")
                .is_some()
        );
    }
}
