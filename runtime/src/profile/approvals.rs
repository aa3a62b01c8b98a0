//! The `[edits]` table of a profile: whether a change to a file needs a
//! human's yes.

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct EditPolicy {
    /// Writes, new directories and removals inside read-write grants.
    /// Default `ask`.
    pub mode: ApprovalMode,
}
