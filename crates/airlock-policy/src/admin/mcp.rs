//! The admin policy's `[mcp]` table: whether `airlock mcp` may run at all,
//! and which plugins and profiles it may serve. `airlock mcp` hands results
//! to whatever front-end started it (often one with a cloud model), so the
//! officer decides whether that door exists.
//!
//! ```toml
//! [mcp]
//! allowed = true                  # false: `airlock mcp` is refused (exit 3)
//! plugins = ["secret-scan"]       # only these plugins are served
//! profiles = ["read-only"]        # only under these profiles
//! ```

use super::PolicyViolation;
use super::models::{At, Checked};
use super::{Origin, Setting, origins, toml_list};
use crate::profile::Profile;
use crate::profile::ProfileSource;
use serde::{Deserialize, Serialize};
use std::path::Path;
use toml::Spanned;

/// `[mcp]` exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(super) struct McpFile {
    allowed: Option<bool>,
    plugins: Option<Vec<Spanned<String>>>,
    profiles: Option<Vec<Spanned<String>>>,
}

/// The effective `[mcp]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct McpPolicy {
    /// Whether `airlock mcp` may run at all. Default `true`.
    pub allowed: bool,
    /// The only plugins it may serve. `None`: any installed plugin.
    pub plugins: Option<Vec<String>>,
    /// The only profiles it may serve them under: built-in or
    /// admin-installed profile names, or absolute paths of profile files.
    /// `None`: any profile.
    pub profiles: Option<Vec<String>>,
}

impl Default for McpPolicy {
    fn default() -> Self {
        Self {
            allowed: true,
            plugins: None,
            profiles: None,
        }
    }
}

impl McpFile {
    /// Check one file's `[mcp]` table.
    pub(super) fn check(self, origin: &Origin, at: At<'_>) -> Checked<McpPolicy> {
        let mut policy = McpPolicy::default();
        let mut set = Vec::new();
        let setting = |value: String| Setting {
            from: origin.clone(),
            value,
        };
        if let Some(allowed) = self.allowed {
            policy.allowed = allowed;
            set.push(("allowed", setting(allowed.to_string())));
        }
        if let Some(list) = self.plugins {
            let mut names: Vec<String> = Vec::new();
            for name in list {
                airlock_core::names::check(airlock_core::names::NameKind::Plugin, name.get_ref())
                    .map_err(|reason| at(Some(name.span()), format!("mcp.plugins: {reason}")))?;
                if !names.contains(name.get_ref()) {
                    names.push(name.into_inner());
                }
            }
            set.push(("plugins", setting(toml_list(&names))));
            policy.plugins = Some(names);
        }
        if let Some(list) = self.profiles {
            let mut names: Vec<String> = Vec::new();
            for entry in list {
                let value = entry.get_ref();
                let is_path = value.starts_with('/');
                let is_name =
                    airlock_core::names::check(airlock_core::names::NameKind::Profile, value)
                        .is_ok();
                if !is_path && !is_name {
                    return Err(at(
                        Some(entry.span()),
                        format!(
                            "mcp.profiles: {value:?} is neither a profile name (a built-in profile or one installed in {}) nor an absolute path to a profile file",
                            crate::profile::ADMIN_PROFILE_DIR
                        ),
                    ));
                }
                if !names.contains(value) {
                    names.push(entry.into_inner());
                }
            }
            set.push(("profiles", setting(toml_list(&names))));
            policy.profiles = Some(names);
        }
        Ok((policy, set))
    }
}

impl McpPolicy {
    /// The stricter of two tables: allowed only if both allow, the plugins
    /// and profiles both lists hold.
    pub(super) fn merge(self, other: Self) -> Self {
        Self {
            allowed: self.allowed && other.allowed,
            plugins: super::intersect(self.plugins, other.plugins),
            profiles: super::intersect(self.profiles, other.profiles),
        }
    }
}

impl super::Policy {
    /// Whether `airlock mcp` may start at all.
    pub fn check_mcp(&self) -> Result<(), PolicyViolation> {
        if self.mcp.allowed {
            return Ok(());
        }
        Err(PolicyViolation(format!(
            "`airlock mcp` is forbidden by the admin policy ([mcp] allowed = false in {}): skills' results may not be handed to an MCP front-end on this machine. Run skills with `airlock run` instead, or ask the administrator",
            origins(&self.sources.mcp_allowed)
        )))
    }

    /// Whether `airlock mcp` may serve plugin `name`.
    pub fn mcp_allows_plugin(&self, name: &str) -> bool {
        self.mcp
            .plugins
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    /// Why plugin `name` is not served: for the refusal when `--skill`
    /// names it, or the note when it is left out.
    pub fn mcp_plugin_refusal(&self, name: &str) -> String {
        format!(
            "plugin `{name}` may not be served over MCP: the admin policy allows only [mcp] plugins = {} ({})",
            toml_list(self.mcp.plugins.as_deref().unwrap_or_default()),
            origins(&self.sources.mcp_plugins)
        )
    }

    /// Whether `airlock mcp` may serve plugin `plugin` under `profile`:
    /// with `[mcp] profiles` set, the profile must be a listed built-in or
    /// admin-installed profile, or a listed file. A profile file's own
    /// `name` never counts: anyone can write `name = "read-only"`.
    pub fn check_mcp_profile(
        &self,
        plugin: &str,
        profile: &Profile,
    ) -> Result<(), PolicyViolation> {
        let Some(allowed) = &self.mcp.profiles else {
            return Ok(());
        };
        if allowed.iter().any(|entry| profile_is(profile, entry)) {
            return Ok(());
        }
        Err(PolicyViolation(format!(
            "plugin `{plugin}` would be served under the profile `{}` ({}), which the admin policy does not allow over MCP ([mcp] profiles = {} in {}). Pass `--profile NAME` with one of those, or ask the administrator",
            profile.name,
            profile.source,
            toml_list(allowed),
            origins(&self.sources.mcp_profiles)
        )))
    }
}

/// Whether `profile` is the one `entry` (a name or an absolute path) names:
/// a built-in by its name, an admin-installed profile by its name or path, a
/// user's file by its path only.
fn profile_is(profile: &Profile, entry: &str) -> bool {
    let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let same_file = |path: &Path| entry.starts_with('/') && real(path) == real(Path::new(entry));
    match &profile.source {
        ProfileSource::Builtin(name) => name == entry,
        ProfileSource::Admin(path) => {
            path.file_stem().is_some_and(|stem| stem == entry) || same_file(path)
        }
        ProfileSource::File(path) => same_file(path),
    }
}
