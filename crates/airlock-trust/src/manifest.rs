//! A plugin's manifest: who published it, which version, and what it asks
//! for. Parsed strictly: unknown keys, bad names, paths and versions are
//! refused with the key named.
//!
//! The author writes `manifest.toml` without `[component]` and without
//! `publisher.key`; `airlock plugin pack` fills in the component's sha256
//! and size, `airlock plugin sign` the key's fingerprint. The package holds
//! the manifest in this canonical form ([`Manifest::to_canonical`]), and the
//! signature covers exactly those bytes.

use airlock_core::names::NameError;
use airlock_core::paths::{PathError, RelPath};
use airlock_core::toml_errors::{location, toml_message};
use airlock_core::wit_version::{WIT_VERSION, wit_compatible};
use serde::{Deserialize, Serialize};

/// The manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// The plugin's name, which `airlock run NAME` uses.
    pub name: String,
    /// Its version (semver); an install never goes to a lower one.
    pub version: String,
    /// One line on what it does.
    pub description: String,
    /// The `airlock:skill` WIT version it was built for.
    pub wit_version: String,
    /// Who publishes it.
    pub publisher: Publisher,
    /// What it asks for.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// The component: filled in by `airlock plugin pack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentRef>,
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not TOML, or not the keys and types of a manifest.
    #[error("{location}: {message}")]
    Toml {
        /// `ORIGIN:LINE:COLUMN`.
        location: String,
        /// The parser's message and the line quoted (`... (in `the line`)`).
        message: String,
    },
    /// A value that is not allowed.
    #[error("{origin}: {problem}")]
    Invalid {
        /// The manifest, as the caller named it.
        origin: String,
        /// Which key, and why.
        problem: ManifestProblem,
    },
}

/// A manifest value that is not allowed, with its key.
#[derive(Debug, thiserror::Error)]
pub enum ManifestProblem {
    /// `name` is not a valid plugin name.
    #[error("name: {0}")]
    Name(NameError),
    /// `version` is not semver.
    #[error("version: `{version}` is not a semantic version (like 1.2.0): {error}")]
    Version {
        /// The value.
        version: String,
        /// The semver parser's reason.
        error: semver::Error,
    },
    /// `wit-version` is one this host does not speak.
    #[error(
        "wit-version: the plugin targets airlock:skill@{0}, and this host speaks airlock:skill@{host}",
        host = WIT_VERSION
    )]
    WitVersion(String),
    /// `publisher.name` is not a valid publisher name.
    #[error("publisher.name: {0}")]
    PublisherName(NameError),
    /// `publisher.key` is not a fingerprint.
    #[error("publisher.key: `{0}` is not a key fingerprint (SHA256: and 64 lowercase hex digits)")]
    PublisherKey(String),
    /// A `capabilities.workspace-read` or `-write` path is refused.
    #[error("capabilities.{key}: `{path}`: {error}")]
    Path {
        /// `workspace-read` or `workspace-write`.
        key: &'static str,
        /// The path.
        path: String,
        /// Why.
        error: PathError,
    },
    /// A `capabilities.models` entry is not a valid model name.
    #[error("capabilities.models: {0}")]
    Model(NameError),
    /// A `capabilities.model-roles` entry is not a valid role name.
    #[error("capabilities.model-roles: {0}")]
    Role(airlock_policy::roles::RoleNameError),
    /// A `capabilities.model-roles` entry is listed twice.
    #[error("capabilities.model-roles: `{0}` is listed twice")]
    DuplicateRole(String),
    /// `capabilities.min-context` is zero or too large.
    #[error(
        "capabilities.min-context = {0} is out of range: it must be between 1 and {max} tokens",
        max = airlock_policy::roles::MAX_MIN_CONTEXT
    )]
    MinContext(u32),
    /// `capabilities.min-context` without any model request.
    #[error(
        "capabilities.min-context = {0} is set, but the manifest asks for no model: add the role it needs to `capabilities.model-roles` (such as [\"code\"]), or remove min-context"
    )]
    MinContextWithoutModel(u32),
    /// A `capabilities.commands` entry is not a bare program name.
    #[error(
        "capabilities.commands: `{0}` is not a bare program name (no paths, no spaces, not empty), such as \"cargo\""
    )]
    Program(String),
    /// A `capabilities.commands` entry is listed twice.
    #[error("capabilities.commands: `{0}` is listed twice")]
    DuplicateProgram(String),
    /// `component.sha256` is not 64 lowercase hex digits.
    #[error("component.sha256: `{0}` is not a hex sha256")]
    ComponentSha256(String),
}

/// The publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Publisher {
    /// The publisher's name.
    pub name: String,
    /// The signing key's fingerprint: filled in by `airlock plugin sign`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The capabilities a plugin requests. A profile grants; the skill gets the
/// overlap.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Capabilities {
    /// Workspace paths it reads (`.` is the whole workspace).
    #[serde(default)]
    pub workspace_read: Vec<String>,
    /// Workspace paths it writes (reading them too).
    #[serde(default)]
    pub workspace_write: Vec<String>,
    /// Models it asks for by name: for a plugin that truly needs one
    /// model. Most should ask for a role instead (`model-roles`).
    #[serde(default)]
    pub models: Vec<String>,
    /// Model roles it asks for (`chat`, `code`, or another name): the
    /// officer's profile, or the admin policy, maps each to a model, and a
    /// run gets that model, first (the skill's default). Absent or empty:
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_roles: Vec<String>,
    /// The smallest context window, in tokens, the plugin works with: a run
    /// whose model has a smaller one is refused when it starts, naming both
    /// numbers. Needs `model-roles` or `models`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_context: Option<u32>,
    /// Programs it may ask to run (bare names, such as `cargo`). A run gets
    /// those the profile's `[commands.programs]` lists, with the profile's
    /// approval mode for each (never more); commands always pass the
    /// approval gates. `exec` is accepted as another spelling of the key.
    /// Absent or empty: no commands.
    #[serde(default, alias = "exec", skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// Limits it asks for; a run gets the lower of these and the profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<RequestedLimits>,
}

/// Limits a plugin asks for (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RequestedLimits {
    /// Seconds of wall-clock time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_clock_seconds: Option<u64>,
    /// Linear memory, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    /// Bytes read from the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes_read: Option<u64>,
    /// Bytes written to the workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes_written: Option<u64>,
    /// Output bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_bytes: Option<u64>,
    /// Directory entries listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_files_listed: Option<u64>,
}

/// The component a manifest describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ComponentRef {
    /// Hex sha256 of `component.wasm`.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Manifest {
    /// Parse and check a manifest; `origin` names it in errors. A TOML
    /// error says `ORIGIN:LINE:COLUMN: message (in `the line`)`; a value
    /// that is not allowed says `ORIGIN: key: why`.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ManifestError> {
        let manifest: Self = toml::from_str(text).map_err(|e| ManifestError::Toml {
            location: location(origin, text, e.span()),
            message: toml_message(&e, text, "docs/plugins.md"),
        })?;
        manifest.check().map_err(|problem| ManifestError::Invalid {
            origin: origin.to_string(),
            problem,
        })?;
        Ok(manifest)
    }

    fn check(&self) -> Result<(), ManifestProblem> {
        super::check_name(super::NameKind::Plugin, &self.name).map_err(ManifestProblem::Name)?;
        semver::Version::parse(&self.version).map_err(|error| ManifestProblem::Version {
            version: self.version.clone(),
            error,
        })?;
        if !wit_compatible(&self.wit_version) {
            return Err(ManifestProblem::WitVersion(self.wit_version.clone()));
        }
        super::check_name(super::NameKind::Publisher, &self.publisher.name)
            .map_err(ManifestProblem::PublisherName)?;
        if let Some(key) = &self.publisher.key
            && !super::keys::is_fingerprint(key)
        {
            return Err(ManifestProblem::PublisherKey(key.clone()));
        }
        let caps = &self.capabilities;
        for (key, paths) in [
            ("workspace-read", &caps.workspace_read),
            ("workspace-write", &caps.workspace_write),
        ] {
            for path in paths {
                RelPath::parse(path).map_err(|error| ManifestProblem::Path {
                    key,
                    path: path.clone(),
                    error,
                })?;
            }
        }
        for model in &caps.models {
            airlock_core::names::check(airlock_core::names::NameKind::Model, model)
                .map_err(ManifestProblem::Model)?;
        }
        for (i, role) in caps.model_roles.iter().enumerate() {
            airlock_policy::roles::check(role).map_err(ManifestProblem::Role)?;
            if caps.model_roles[..i].contains(role) {
                return Err(ManifestProblem::DuplicateRole(role.clone()));
            }
        }
        if let Some(min) = caps.min_context {
            if min == 0 || min > airlock_policy::roles::MAX_MIN_CONTEXT {
                return Err(ManifestProblem::MinContext(min));
            }
            if caps.models.is_empty() && caps.model_roles.is_empty() {
                return Err(ManifestProblem::MinContextWithoutModel(min));
            }
        }
        for (i, program) in caps.commands.iter().enumerate() {
            if !airlock_policy::profile::valid_program(program) {
                return Err(ManifestProblem::Program(program.clone()));
            }
            if caps.commands[..i].contains(program) {
                return Err(ManifestProblem::DuplicateProgram(program.clone()));
            }
        }
        if let Some(c) = &self.component
            && !(c.sha256.len() == 64
                && c.sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        {
            return Err(ManifestProblem::ComponentSha256(c.sha256.clone()));
        }
        Ok(())
    }

    /// The version, parsed (checked by [`Manifest::parse`]).
    pub fn semver(&self) -> semver::Version {
        semver::Version::parse(&self.version).unwrap_or_else(|_| semver::Version::new(0, 0, 0))
    }

    /// The canonical text the package holds and the signature covers.
    pub fn to_canonical(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The component's sha256 (empty before packing).
    pub fn component_sha256(&self) -> &str {
        self.component.as_ref().map_or("", |c| c.sha256.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const GOOD: &str = "name = \"hello\"\nversion = \"0.1.0\"\ndescription = \"d\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"acme\"\n\n[capabilities]\nworkspace-read = [\".\"]\n";

    #[test]
    fn parses_and_round_trips_canonically() {
        let m = Manifest::parse(GOOD, "manifest.toml").unwrap();
        assert_eq!(m.capabilities.workspace_read, ["."]);
        let again = Manifest::parse(&m.to_canonical(), "x").unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn strict_errors_name_the_key() {
        let err = Manifest::parse(&GOOD.replace("0.1.0\"\ndesc", "1.x\"\ndesc"), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("m.toml: version: `1.x` is not a semantic version"),
            "{err}"
        );
        let err = Manifest::parse(&format!("{GOOD}network = true\n"), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `network`"), "{err}");
        let err = Manifest::parse(&GOOD.replace("\".\"", "\"../up\""), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("capabilities.workspace-read: `../up`"),
            "{err}"
        );
        let err = Manifest::parse(
            &GOOD.replace("wit-version = \"0.1.0\"", "wit-version = \"0.2.0\""),
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("targets airlock:skill@0.2.0"), "{err}");
    }

    #[test]
    fn commands_are_bare_program_names_listed_once() {
        let ok = Manifest::parse(
            &format!("{GOOD}commands = [\"make\", \"cargo\"]\n"),
            "m.toml",
        )
        .unwrap();
        assert_eq!(ok.capabilities.commands, ["make", "cargo"]);
        // The canonical form keeps them, under `commands`.
        let canonical = ok.to_canonical();
        assert!(
            canonical.contains("commands = [\"make\", \"cargo\"]"),
            "{canonical}"
        );
        assert_eq!(Manifest::parse(&canonical, "x").unwrap(), ok);
        // `exec` is another spelling of the same key.
        let alias =
            Manifest::parse(&format!("{GOOD}exec = [\"make\", \"cargo\"]\n"), "m.toml").unwrap();
        assert_eq!(alias, ok);
        for bad in [
            "/bin/sh",
            "../make",
            "make test",
            "",
            " cargo",
            "car\\tgo",
            ".",
        ] {
            let text = format!("{GOOD}commands = [{}]\n", toml::Value::from(bad));
            let err = Manifest::parse(&text, "m.toml").unwrap_err().to_string();
            assert!(
                err.starts_with("m.toml: capabilities.commands: `")
                    && err.contains("is not a bare program name"),
                "{bad:?}: {err}"
            );
        }
        let err = Manifest::parse(
            &format!("{GOOD}commands = [\"make\", \"make\"]\n"),
            "m.toml",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "m.toml: capabilities.commands: `make` is listed twice");
        let err = Manifest::parse(&format!("{GOOD}commands = \"make\"\n"), "m.toml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("m.toml:11:12: invalid type: string \"make\", expected a sequence (in `commands = \"make\"`)"), "{err}");
    }

    #[test]
    fn old_manifests_without_commands_request_none_and_stay_canonical() {
        let m = Manifest::parse(GOOD, "manifest.toml").unwrap();
        assert!(m.capabilities.commands.is_empty());
        let canonical = m.to_canonical();
        assert!(!canonical.contains("commands"), "{canonical}");
        assert!(!canonical.contains("exec"), "{canonical}");
        let empty = Manifest::parse(&format!("{GOOD}commands = []\n"), "m.toml").unwrap();
        assert_eq!(empty, m);
    }
}
