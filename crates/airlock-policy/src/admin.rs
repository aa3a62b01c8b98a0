//! The admin policy: a system-wide file that user and project configuration
//! cannot loosen (see `docs/policy.md`).
//!
//! The system file is `/etc/airlock/policy.toml`; with no such file the
//! built-in defaults apply (unsigned skills allowed, any trusted publisher, no
//! profile ceiling, any model). `$AIRLOCK_POLICY_FILE` may name one more file,
//! which is merged with the system one by taking the stricter value of every
//! key, so it can only tighten the policy. Both files must be owned by root
//! and writable by nobody else, in directories only root can write; anything
//! else refuses every run ("fail closed"), because whoever can edit the file
//! decides what skills may do.

// Ambient std::fs allowed: reads the admin policy and checks the ownership of the files it names.
#![allow(clippy::disallowed_methods)]

mod ceiling;
mod edits;
mod mcp;
mod models;
mod revoked;
pub(crate) mod trust;
pub use revoked::{
    REVOKED_DIR, REVOKED_FILE_ENV, REVOKED_FORMAT, Revocations, Revoked, RevokedKind,
};
pub use trust::root_only;

pub use edits::EditsPolicy;
pub use mcp::McpPolicy;
pub use models::{ModelPin, ModelsPolicy, PinConflict, RoleConflict, ServerUid, normalize_digest};

use crate::profile::Profile;
use airlock_core::toml_errors::{location, toml_message};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Why the admin policy refuses what a run would do (a profile over the
/// ceiling, a model not allowed, `airlock mcp` forbidden…): a sentence that
/// names the policy file, the key and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyViolation(pub String);

impl std::ops::Deref for PolicyViolation {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<PolicyViolation> for String {
    fn from(v: PolicyViolation) -> String {
        v.0
    }
}

impl PartialEq<&str> for PolicyViolation {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Where the system policy lives.
pub const SYSTEM_POLICY_PATH: &str = "/etc/airlock/policy.toml";

/// The environment variable naming an additional policy file, merged with
/// the system one by taking the stricter value of each key.
pub const POLICY_FILE_ENV: &str = "AIRLOCK_POLICY_FILE";

/// The effective admin policy.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    /// Whether components that are not signed packages may run at all (with
    /// the developer flag `--allow-unsigned`). Default `true`.
    pub allow_unsigned: bool,
    /// Fingerprints (as `airlock trust list` prints them) of the only
    /// publisher keys that may be trusted. `None`: any key the user trusts.
    pub trusted_publishers: Option<Vec<String>>,
    /// The most a run's profile may grant. `None`: no ceiling. When two files
    /// set one, this is the stricter of the two on every key.
    pub profile_ceiling: Option<Profile>,
    /// `[models]`: the only models a profile may use, pinned by digest,
    /// and who must run a loopback model server.
    pub models: ModelsPolicy,
    /// `[mcp]`: whether `airlock mcp` may run, and what it may serve.
    pub mcp: McpPolicy,
    /// `[edits]`: files whose changes always ask, whatever the profile.
    pub edits: EditsPolicy,
    /// The files read, and which of them set each key.
    pub sources: Sources,
    /// Publisher keys, plugin packages and release keys revoked
    /// (`/etc/airlock/revoked.d/*.toml`, `$AIRLOCK_REVOKED_FILE`).
    pub revoked: Revocations,
}

impl Default for Policy {
    /// The policy with no policy file: a developer machine.
    fn default() -> Self {
        Self {
            allow_unsigned: true,
            trusted_publishers: None,
            profile_ceiling: None,
            models: ModelsPolicy::default(),
            mcp: McpPolicy::default(),
            edits: EditsPolicy::default(),
            sources: Sources::default(),
            revoked: Revocations::default(),
        }
    }
}

/// Where each value of the effective policy came from. An empty list means
/// the built-in default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Sources {
    /// The policy files read, system file first.
    pub files: Vec<Origin>,
    /// Files that set `allow-unsigned`, with the value each gave.
    pub allow_unsigned: Vec<Setting>,
    /// Files that set `trusted-publishers`.
    pub trusted_publishers: Vec<Setting>,
    /// Files that set `profile-ceiling`.
    pub profile_ceiling: Vec<Setting>,
    /// Files that set `[models] allowed`.
    pub models_allowed: Vec<Setting>,
    /// Files that set `[models] server-uid`.
    pub models_server_uid: Vec<Setting>,
    /// Files that set `[models.roles]`.
    pub models_roles: Vec<Setting>,
    /// Files that set `[mcp] allowed`.
    pub mcp_allowed: Vec<Setting>,
    /// Files that set `[mcp] plugins`.
    pub mcp_plugins: Vec<Setting>,
    /// Files that set `[mcp] profiles`.
    pub mcp_profiles: Vec<Setting>,
    /// Files that set `[edits] always-ask`.
    pub edits_always_ask: Vec<Setting>,
}

/// One key's value as one file wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    /// The file.
    pub from: Origin,
    /// The value, in TOML syntax.
    pub value: String,
}

/// A policy file, by its role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "path")]
pub enum Origin {
    /// The system file (`/etc/airlock/policy.toml`).
    System(PathBuf),
    /// The file named by `$AIRLOCK_POLICY_FILE`.
    Env(PathBuf),
    /// A revocation list (in `/etc/airlock/revoked.d/`, or named by
    /// `$AIRLOCK_REVOKED_FILE`).
    Revocations(PathBuf),
}

impl Origin {
    /// The file's path.
    pub fn path(&self) -> &Path {
        match self {
            Self::System(p) | Self::Env(p) | Self::Revocations(p) => p,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::System(p) => write!(f, "{}", p.display()),
            Self::Env(p) => write!(f, "${POLICY_FILE_ENV} ({})", p.display()),
            Self::Revocations(p) => write!(f, "revocation list {}", p.display()),
        }
    }
}

/// The origins of one key, for messages: `A` or `A and B`.
pub fn origins(settings: &[Setting]) -> String {
    let names: Vec<String> = settings.iter().map(|s| s.from.to_string()).collect();
    if names.is_empty() {
        "the built-in default".into()
    } else {
        names.join(" and ")
    }
}

/// Why no policy could be established. Every variant refuses every run.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file (or its directory) could be changed by someone other than root.
    #[error(
        "refusing to run: the admin policy {origin} {reason}, so someone other than root could loosen it; fix: {fix}"
    )]
    Untrusted {
        /// The file, by role.
        origin: Origin,
        /// What is wrong.
        reason: String,
        /// The commands that make it trustworthy.
        fix: String,
    },
    /// The file exists (or was named) but cannot be read.
    #[error(
        "refusing to run: cannot read the admin policy {origin}: {source}; Airlock does not run without the policy it was given (make the file readable: `sudo chmod 644 {}`)",
        origin.path().display()
    )]
    Read {
        /// The file, by role.
        origin: Origin,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key, or a value is not allowed.
    #[error("{location}: {message}")]
    Invalid {
        /// `file:line:column`.
        location: String,
        /// What is wrong and how to fix it, naming the key.
        message: String,
    },
}

/// A policy file exactly as written. Every key is documented in `docs/policy.md`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PolicyFile {
    allow_unsigned: Option<bool>,
    trusted_publishers: Option<Vec<Spanned<String>>>,
    profile_ceiling: Option<Spanned<String>>,
    models: Option<models::ModelsFile>,
    mcp: Option<mcp::McpFile>,
    edits: Option<edits::EditsFile>,
}

/// The message for the key `[models] allowed` replaced: names alone let a
/// user re-pin a name to any file.
const ALLOWED_MODELS_MOVED: &str = "`allowed-models` was replaced by `[models] allowed`, which pins each model by the sha256 of its content (a name alone can be re-pinned to any file by the user): write `[models]` and `allowed = [{ name = \"NAME\", sha256 = \"HEX\" }]`, with the digest `airlock model list` shows for each model; see docs/policy.md";

impl Policy {
    /// The effective policy: `/etc/airlock/policy.toml` when it exists,
    /// tightened by the file `$AIRLOCK_POLICY_FILE` names, if set.
    pub fn load() -> Result<Self, PolicyError> {
        let extra = std::env::var_os(POLICY_FILE_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let mut policy = Self::load_from(Path::new(SYSTEM_POLICY_PATH), extra.as_deref())?;
        policy.revoked = Revocations::load()?;
        Ok(policy)
    }

    /// The effective policy from a system file (absent: defaults) and an
    /// optional additional file (which must exist).
    pub fn load_from(system: &Path, extra: Option<&Path>) -> Result<Self, PolicyError> {
        let origin = Origin::System(system.to_path_buf());
        let mut policy = match std::fs::symlink_metadata(system) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::default(),
            Err(source) => return Err(PolicyError::Read { origin, source }),
            Ok(_) => Self::from_file(origin)?,
        };
        if let Some(extra) = extra {
            policy = policy.merge(Self::from_file(Origin::Env(extra.to_path_buf()))?)?;
        }
        Ok(policy)
    }

    /// One policy file, after checking that only root can change it.
    fn from_file(origin: Origin) -> Result<Self, PolicyError> {
        trust::check(&origin, origin.path())?;
        let text = std::fs::read_to_string(origin.path()).map_err(|source| PolicyError::Read {
            origin: origin.clone(),
            source,
        })?;
        Self::parse(&text, origin)
    }

    /// Parse one policy file's text. A `profile-ceiling` path is read (and
    /// checked like the policy file itself).
    pub fn parse(text: &str, origin: Origin) -> Result<Self, PolicyError> {
        let file_name = origin.path().display().to_string();
        let at = |span: Option<std::ops::Range<usize>>, message: String| PolicyError::Invalid {
            location: location(&file_name, text, span),
            message,
        };
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            if e.message().contains("unknown field `allowed-models`") {
                return at(e.span(), ALLOWED_MODELS_MOVED.into());
            }
            at(e.span(), toml_message(&e, text, "docs/policy.md"))
        })?;
        let mut policy = Self::default();
        policy.sources.files.push(origin.clone());
        let setting = |value: String| Setting {
            from: origin.clone(),
            value,
        };

        if let Some(allow) = file.allow_unsigned {
            policy.allow_unsigned = allow;
            policy
                .sources
                .allow_unsigned
                .push(setting(allow.to_string()));
        }

        if let Some(list) = &file.trusted_publishers {
            let mut keys: Vec<String> = Vec::new();
            for key in list {
                let fingerprint = key.get_ref().trim();
                if fingerprint.is_empty() || fingerprint.contains(char::is_whitespace) {
                    return Err(at(
                        Some(key.span()),
                        format!(
                            "trusted-publishers: {:?} is not a key fingerprint; write each as `airlock trust list` prints it, e.g. \"SHA256:…\"",
                            key.get_ref()
                        ),
                    ));
                }
                if !keys.iter().any(|k| k == fingerprint) {
                    keys.push(fingerprint.to_string());
                }
            }
            policy
                .sources
                .trusted_publishers
                .push(setting(toml_list(&keys)));
            policy.trusted_publishers = Some(keys);
        }

        if let Some(table) = file.models {
            let (models, set) = table.check(&origin, &at)?;
            for (key, setting) in set {
                match key {
                    "allowed" => policy.sources.models_allowed.push(setting),
                    "roles" => policy.sources.models_roles.push(setting),
                    _ => policy.sources.models_server_uid.push(setting),
                }
            }
            policy.models = models;
        }

        if let Some(table) = file.mcp {
            let (mcp, set) = table.check(&origin, &at)?;
            for (key, setting) in set {
                match key {
                    "allowed" => policy.sources.mcp_allowed.push(setting),
                    "plugins" => policy.sources.mcp_plugins.push(setting),
                    _ => policy.sources.mcp_profiles.push(setting),
                }
            }
            policy.mcp = mcp;
        }

        if let Some(table) = file.edits {
            let (edits, set) = table.check(&origin, &at)?;
            policy.sources.edits_always_ask.extend(set);
            policy.edits = edits;
        }

        if let Some(spec) = &file.profile_ceiling {
            let ceiling = ceiling::load(spec.get_ref()).map_err(|e| match e {
                ceiling::LoadError::Invalid(message) => at(Some(spec.span()), message),
                ceiling::LoadError::Untrusted(why) => PolicyError::Untrusted {
                    origin: origin.clone(),
                    reason: why.reason,
                    fix: why.fix,
                },
            })?;
            policy
                .sources
                .profile_ceiling
                .push(setting(format!("{:?}", spec.get_ref())));
            policy.profile_ceiling = Some(ceiling);
        }
        Ok(policy)
    }

    /// The stricter of two policies on every key: `allow-unsigned` if both
    /// allow it, publishers and models both lists allow, and a ceiling no
    /// looser than either. The result can never allow more than `self`.
    pub fn merge(self, other: Policy) -> Result<Self, PolicyError> {
        let profile_ceiling = match (self.profile_ceiling, other.profile_ceiling) {
            (Some(a), Some(b)) => Some(ceiling::meet(&a, &b).map_err(|e| {
                PolicyError::Invalid {
                    location: origins(
                        &[
                            &self.sources.profile_ceiling[..],
                            &other.sources.profile_ceiling[..],
                        ]
                        .concat(),
                    ),
                    message: format!("profile-ceiling: cannot combine the two ceilings: {e}"),
                }
            })?),
            (a, b) => a.or(b),
        };
        let models = self
            .models
            .merge(other.models, &self.sources, &other.sources);
        let mut sources = self.sources;
        let theirs = other.sources;
        sources.files.extend(theirs.files);
        sources.allow_unsigned.extend(theirs.allow_unsigned);
        sources.trusted_publishers.extend(theirs.trusted_publishers);
        sources.profile_ceiling.extend(theirs.profile_ceiling);
        sources.models_allowed.extend(theirs.models_allowed);
        sources.models_server_uid.extend(theirs.models_server_uid);
        sources.models_roles.extend(theirs.models_roles);
        sources.mcp_allowed.extend(theirs.mcp_allowed);
        sources.mcp_plugins.extend(theirs.mcp_plugins);
        sources.mcp_profiles.extend(theirs.mcp_profiles);
        sources.edits_always_ask.extend(theirs.edits_always_ask);
        Ok(Self {
            allow_unsigned: self.allow_unsigned && other.allow_unsigned,
            trusted_publishers: intersect(self.trusted_publishers, other.trusted_publishers),
            profile_ceiling,
            models,
            mcp: self.mcp.merge(other.mcp),
            edits: self.edits.merge(other.edits),
            sources,
            revoked: Revocations {
                entries: [self.revoked.entries, other.revoked.entries].concat(),
            },
        })
    }

    /// Whether a publisher key (its fingerprint as `airlock trust list`
    /// prints it) may be trusted. The user's trust store must hold the key
    /// too: this only narrows it.
    pub fn allows_publisher(&self, fingerprint: &str) -> bool {
        self.trusted_publishers
            .as_ref()
            .is_none_or(|keys| keys.iter().any(|k| k == fingerprint.trim()))
    }

    /// Whether `profile` stays within the profile ceiling: every grant inside
    /// a ceiling grant with no more access, every limit and model budget at
    /// most the ceiling's, the ceiling's deny patterns included, and only
    /// models the ceiling grants. The error names each key over the ceiling
    /// and the ceiling's value.
    pub fn check_profile(&self, profile: &Profile) -> Result<(), PolicyViolation> {
        let Some(ceiling) = &self.profile_ceiling else {
            return Ok(());
        };
        let over = ceiling::exceeded(profile, ceiling);
        if over.is_empty() {
            return Ok(());
        }
        Err(PolicyViolation(format!(
            "profile `{}` exceeds the admin policy's profile ceiling `{}` (profile-ceiling in {}): {}. Use a profile within the ceiling (`airlock policy show` prints it), or ask the administrator",
            profile.name,
            ceiling.name,
            origins(&self.sources.profile_ceiling),
            over.join("; ")
        )))
    }
}

/// Both lists' common entries, in the first list's order; one list alone
/// stands; neither means no restriction.
fn intersect(a: Option<Vec<String>>, b: Option<Vec<String>>) -> Option<Vec<String>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.into_iter().filter(|x| b.contains(x)).collect()),
        (a, b) => a.or(b),
    }
}

/// A list of strings in TOML syntax.
pub(crate) fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests;
