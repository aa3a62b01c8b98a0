//! The `[inference]` table of a profile: which models a skill may use, and
//! its budget.

use serde::Serialize;
use std::collections::BTreeMap;

/// What a skill may ask of a model. Built from a profile's `[inference]`
/// table; without one a skill may use no model at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct InferencePolicy {
    /// Models (names in the model store) the skill may use, first one the
    /// default. Default: none.
    pub models: Vec<String>,
    /// Chat calls per run. Default 16.
    pub max_calls: u64,
    /// Prompt tokens per run, all calls together. Default 32 768.
    pub max_prompt_tokens: u64,
    /// Generated tokens per run, all calls together. Default 4 096.
    pub max_completion_tokens: u64,
    /// Generated tokens per call when the skill does not say. Default 512.
    pub default_max_tokens: u64,
    /// Wall-clock seconds one call may take. Default 120.
    pub max_call_seconds: u64,
    /// `[inference.roles]`: the model each role (`chat`, `code`, ...) is
    /// filled by, each one of `models`. A plugin that asks for a role gets
    /// this model (unless the admin policy's `[models.roles]` maps the
    /// role: then that decides). Default: none. In a run's narrowed
    /// profile: the roles the plugin asked for, each with its model.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub roles: BTreeMap<String, String>,
    /// The smallest context, in tokens, a model of the run must have: never
    /// set by a profile file, only by narrowing to a plugin's request
    /// (`capabilities.min-context`). Checked when the run's models are
    /// resolved, against the context each will run with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_context: Option<u32>,
}

impl Default for InferencePolicy {
    fn default() -> Self {
        Self {
            models: Vec::new(),
            max_calls: 16,
            max_prompt_tokens: 32_768,
            max_completion_tokens: 4_096,
            default_max_tokens: 512,
            max_call_seconds: 120,
            roles: BTreeMap::new(),
            min_context: None,
        }
    }
}

/// The allowed range of each numeric key.
pub(crate) const RANGES: &[(&str, u64, u64)] = &[
    ("max-calls", 0, 100_000),
    ("max-prompt-tokens", 0, 100_000_000),
    ("max-completion-tokens", 0, 100_000_000),
    ("default-max-tokens", 1, 1_000_000),
    ("max-call-seconds", 1, 3600),
];
