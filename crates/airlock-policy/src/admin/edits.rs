//! `[edits]` of the admin policy: files whose changes always ask a person,
//! added to the built-in list and to every profile's `[edits] always-ask`.
//! No profile can remove them; two policy files add up.

use super::{PolicyError, Setting, toml_list};
use crate::runs_later::RunsLater;
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// `[edits]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct EditsFile {
    always_ask: Option<Vec<Spanned<String>>>,
}

/// `[edits]`, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EditsPolicy {
    /// Patterns of files that run code later, as `[edits] always-ask` in a
    /// profile writes them. Empty: the built-in list and the profile's.
    pub always_ask: Vec<String>,
}

impl EditsFile {
    /// Check the table; `at` places an error at its key.
    pub(super) fn check(
        self,
        origin: &super::Origin,
        at: &dyn Fn(Option<std::ops::Range<usize>>, String) -> PolicyError,
    ) -> Result<(EditsPolicy, Vec<Setting>), PolicyError> {
        let mut policy = EditsPolicy::default();
        let mut set = Vec::new();
        if let Some(list) = self.always_ask {
            for pattern in &list {
                RunsLater::check(pattern.get_ref()).map_err(|e| {
                    at(
                        Some(pattern.span()),
                        format!(
                            "[edits] always-ask: {e}; write a file or folder name (`Makefile`) or a glob over the workspace path (`scripts/*.sh`)"
                        ),
                    )
                })?;
                if !policy.always_ask.contains(pattern.get_ref()) {
                    policy.always_ask.push(pattern.get_ref().clone());
                }
            }
            set.push(Setting {
                from: origin.clone(),
                value: toml_list(&policy.always_ask),
            });
        }
        Ok((policy, set))
    }
}

impl EditsPolicy {
    /// Both files' patterns: the stricter policy asks about more files.
    pub(super) fn merge(mut self, other: EditsPolicy) -> EditsPolicy {
        for pattern in other.always_ask {
            if !self.always_ask.contains(&pattern) {
                self.always_ask.push(pattern);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Origin, Policy};
    use std::path::PathBuf;

    fn parse(text: &str, file: &str) -> Result<Policy, super::PolicyError> {
        Policy::parse(text, Origin::System(PathBuf::from(file)))
    }

    #[test]
    fn always_ask_is_parsed_merged_as_a_union_and_named_on_error() {
        let a = parse(
            "[edits]\nalways-ask = [\"Makefile\", \"Makefile\"]\n",
            "/a.toml",
        )
        .expect("valid");
        assert_eq!(a.edits.always_ask, ["Makefile"]);
        let b = parse("[edits]\nalways-ask = [\"build.rs\"]\n", "/b.toml").expect("valid");
        let both = a.merge(b).expect("merge");
        assert_eq!(both.edits.always_ask, ["Makefile", "build.rs"]);
        assert_eq!(both.sources.edits_always_ask.len(), 2);

        let bad = parse("[edits]\nalways-ask = [\"ok\", \"a[\"]\n", "/c.toml")
            .expect_err("an invalid glob");
        let text = bad.to_string();
        assert!(text.starts_with("/c.toml:2:"), "{text}");
        assert!(text.contains("[edits] always-ask"), "{text}");
        let unknown = parse("[edits]\nmode = \"allow\"\n", "/d.toml").expect_err("unknown key");
        assert!(unknown.to_string().contains("mode"), "{unknown}");
    }
}
