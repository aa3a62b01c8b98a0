//! Sandbox profiles: what a skill may touch, and how much.
//!
//! A profile is TOML (see `sandbox-profiles/README.md`). It is parsed strictly
//! into [`schema`] types, then checked into a [`Profile`] whose grants,
//! deny-list and limits are ready to enforce ("parse, don't validate").

mod approvals;
mod commands;
mod inference;
mod limits;
mod lookup;
mod schema;

pub use approvals::{ApprovalMode, EditPolicy};
pub use commands::{CommandLimits, CommandPolicy, ScratchPaths, valid_program};
pub use inference::InferencePolicy;
pub use limits::{Limits, MAX_MEMORY_MIB};
pub use lookup::{
    ADMIN_PROFILE_DIR, ADMIN_PROFILE_DIR_ENV, MAX_PROFILE_BYTES, admin_dirs, admin_names,
};
pub use schema::HardLinks;

use crate::denylist::DenyList;
use airlock_core::paths::RelPath;
use airlock_core::toml_errors::{location, toml_message};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "read-only";

/// The profiles that ship with Airlock, compiled into the binary so that a
/// moved or edited checkout cannot change them.
pub const BUILTIN_PROFILES: &[(&str, &str)] = &[
    (
        "read-only",
        include_str!("../../../sandbox-profiles/read-only.toml"),
    ),
    (
        "workspace-write",
        include_str!("../../../sandbox-profiles/workspace-write.toml"),
    ),
    (
        "locked-down",
        include_str!("../../../sandbox-profiles/locked-down.toml"),
    ),
    (
        "assistant",
        include_str!("../../../sandbox-profiles/assistant.toml"),
    ),
    (
        "coder",
        include_str!("../../../sandbox-profiles/coder.toml"),
    ),
];

/// A granted workspace path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Normalised workspace-relative path (`.` is the whole workspace).
    pub path: RelPathString,
    /// Whether the skill may write under it.
    pub writable: bool,
}

/// A [`RelPath`] that serialises as its display string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelPathString(pub RelPath);

impl Serialize for RelPathString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Where a profile came from. Plugin install records store it (with the
/// sha256 of the text reviewed), so it is also deserialised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "kebab-case",
    tag = "kind",
    content = "name",
    deny_unknown_fields
)]
pub enum ProfileSource {
    /// Shipped with Airlock.
    Builtin(String),
    /// Installed by the administrator: a root-owned file in
    /// [`ADMIN_PROFILE_DIR`] (or `$AIRLOCK_PROFILE_DIR`), chosen by its name.
    Admin(PathBuf),
    /// A file the user named by its path.
    File(PathBuf),
}

impl ProfileSource {
    /// What `--profile` takes to select this source again: the built-in's
    /// or the admin profile's name, or the file's path.
    pub fn argument(&self) -> String {
        match self {
            Self::Builtin(name) => name.clone(),
            Self::Admin(path) => path.file_stem().map_or_else(
                || path.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            ),
            Self::File(path) => path.display().to_string(),
        }
    }
}

impl std::fmt::Display for ProfileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Builtin(name) => write!(f, "built-in profile `{name}`"),
            Self::Admin(path) => write!(f, "admin profile {}", path.display()),
            Self::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A checked profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    /// The profile's name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Where it was read from.
    pub source: ProfileSource,
    /// sha256 of the profile's TOML text, for reports and the audit trail.
    pub digest: String,
    /// Granted paths, in file order.
    pub grants: Vec<Grant>,
    /// Limits, with defaults filled in.
    pub limits: Limits,
    /// Models the skill may use, and its budget.
    pub inference: InferencePolicy,
    /// Whether file changes need a human's yes.
    pub edits: EditPolicy,
    /// Which programs the skill may ask to run.
    pub commands: CommandPolicy,
    /// Patterns the profile adds to the built-in deny-list.
    pub extra_deny: Vec<String>,
    /// Whether regular files with more than one hard link may be read.
    pub hard_links: HardLinks,
    #[serde(skip)]
    deny: DenyList,
}

/// A profile that cannot be used, with the file, line and key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No built-in or admin-installed profile by this name.
    #[error(
        "no profile named `{name}`: the built-in profiles are {}{}; a bare name is never read from the current directory: to use a file, give a path such as ./{name}.toml",
        builtin_names().join(", "),
        installed_names(admin)
    )]
    UnknownName {
        /// What the user asked for.
        name: String,
        /// The admin-installed profiles' names.
        admin: Vec<String>,
    },
    /// An admin-installed profile that someone other than root could change.
    #[error(
        "refusing the admin profile {}: it {reason}, so someone other than root could change it; fix: {fix}",
        path.display()
    )]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// The commands that make it trustworthy.
        fix: String,
    },
    /// The file could not be read.
    #[error("cannot read profile {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed, has an unknown key, or a value is not allowed.
    #[error("{location}: {message}")]
    Invalid {
        /// `file:line:column`.
        location: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Names of the built-in profiles.
pub fn builtin_names() -> Vec<&'static str> {
    BUILTIN_PROFILES.iter().map(|(name, _)| *name).collect()
}

/// `; the admin-installed ones are a, b` (or `; none is admin-installed in DIR`).
fn installed_names(admin: &[String]) -> String {
    if admin.is_empty() {
        format!("; none is admin-installed in {ADMIN_PROFILE_DIR}")
    } else {
        format!("; the admin-installed ones are {}", admin.join(", "))
    }
}

impl Profile {
    /// Resolve `--profile NAME|PATH`. A value that looks like a path (it
    /// contains `/` or ends in `.toml`) is read from that file. Anything else
    /// is a name: a built-in profile, else one the administrator installed
    /// as a root-owned `NAME.toml` in [`ADMIN_PROFILE_DIR`]. A file in the
    /// current directory is never read for a bare name, so a repository
    /// cannot ship a `coder` that replaces the built-in one.
    pub fn load(name_or_path: &str) -> Result<Self, ProfileError> {
        if lookup::looks_like_path(name_or_path) {
            return Self::from_file(Path::new(name_or_path));
        }
        if BUILTIN_PROFILES.iter().any(|(n, _)| *n == name_or_path) {
            return Self::builtin(name_or_path);
        }
        match lookup::find_admin(name_or_path)? {
            Some(path) => Self::admin(&path),
            None => Err(ProfileError::UnknownName {
                name: name_or_path.into(),
                admin: admin_names(),
            }),
        }
    }

    /// Load the profile exactly from where `source` says, as a plugin's
    /// install review recorded it (no name lookup). An admin file is
    /// checked for root ownership again.
    pub fn from_source(source: &ProfileSource) -> Result<Self, ProfileError> {
        match source {
            ProfileSource::Builtin(name) => Self::builtin(name),
            ProfileSource::Admin(path) => Self::admin(path),
            ProfileSource::File(path) => Self::from_file(path),
        }
    }

    /// An admin-installed profile file, after checking that only root can
    /// change it.
    fn admin(path: &Path) -> Result<Self, ProfileError> {
        lookup::check_admin_file(path)?;
        let text = lookup::read_text(path)?;
        Self::parse(&text, ProfileSource::Admin(path.to_path_buf()))
    }

    /// A built-in profile by name.
    pub fn builtin(name: &str) -> Result<Self, ProfileError> {
        let (_, text) = BUILTIN_PROFILES
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ProfileError::UnknownName {
                name: name.into(),
                admin: admin_names(),
            })?;
        Self::parse(text, ProfileSource::Builtin(name.into()))
    }

    /// A profile file: a regular file of at most [`MAX_PROFILE_BYTES`]
    /// (a FIFO or device is refused before it is read).
    pub fn from_file(path: &Path) -> Result<Self, ProfileError> {
        let text = lookup::read_text(path)?;
        Self::parse(&text, ProfileSource::File(path.to_path_buf()))
    }

    /// Parse and check profile text.
    pub fn parse(text: &str, source: ProfileSource) -> Result<Self, ProfileError> {
        let origin = match &source {
            ProfileSource::Builtin(name) => format!("sandbox-profiles/{name}.toml"),
            ProfileSource::File(path) | ProfileSource::Admin(path) => path.display().to_string(),
        };
        let at = |span: Option<std::ops::Range<usize>>, message: String| ProfileError::Invalid {
            location: location(&origin, text, span),
            message,
        };
        let file: schema::ProfileFile = toml::from_str(text).map_err(|e| {
            at(
                e.span(),
                toml_message(&e, text, "sandbox-profiles/README.md"),
            )
        })?;

        let extra_deny: Vec<String> = file.deny.iter().map(|p| p.get_ref().clone()).collect();
        for pattern in &file.deny {
            DenyList::check_pattern(pattern.get_ref())
                .map_err(|e| at(Some(pattern.span()), format!("deny: {e}")))?;
        }
        let deny = DenyList::new(&extra_deny).map_err(|e| at(None, format!("deny: {e}")))?;

        let mut grants: Vec<Grant> = Vec::new();
        for (i, spec) in file.grant.iter().enumerate() {
            let raw = spec.path.get_ref();
            let span = Some(spec.path.span());
            let path = RelPath::parse(raw).map_err(|e| {
                at(
                    span.clone(),
                    format!(
                        "grant[{i}].path = {raw:?}: {e}; write a path inside the workspace such as \"src\" or \".\""
                    ),
                )
            })?;
            if let Some(rule) = deny.matching_rule(&path.to_string()) {
                return Err(at(
                    span,
                    format!(
                        "grant[{i}].path = {raw:?} is withheld by the deny-list rule `{rule}`, which no profile can lift; grant the files next to it instead"
                    ),
                ));
            }
            if let Some(vcs) = crate::denylist::vcs_component(&path.to_string()) {
                return Err(at(
                    span,
                    format!(
                        "grant[{i}].path = {raw:?} is inside `{vcs}`, version-control internals that skills never see (a command sees `.git` read-only); grant the working files instead"
                    ),
                ));
            }
            if grants.iter().any(|g| g.path.0 == path) {
                return Err(at(
                    span,
                    format!(
                        "grant[{i}].path = {raw:?} is granted twice; keep one [[grant]] table for it"
                    ),
                ));
            }
            grants.push(Grant {
                path: RelPathString(path),
                writable: spec.access == schema::AccessSpec::ReadWrite,
            });
        }

        let mut limits = Limits::default();
        let l = &file.limits;
        let slots: [(&str, &Option<toml::Spanned<u64>>, &mut u64); 8] = [
            (
                "wall-clock-seconds",
                &l.wall_clock_seconds,
                &mut limits.wall_clock_seconds,
            ),
            ("memory-mib", &l.memory_mib, &mut limits.memory_mib),
            (
                "max-bytes-read",
                &l.max_bytes_read,
                &mut limits.max_bytes_read,
            ),
            (
                "max-bytes-written",
                &l.max_bytes_written,
                &mut limits.max_bytes_written,
            ),
            (
                "max-output-bytes",
                &l.max_output_bytes,
                &mut limits.max_output_bytes,
            ),
            (
                "max-files-listed",
                &l.max_files_listed,
                &mut limits.max_files_listed,
            ),
            ("max-denials", &l.max_denials, &mut limits.max_denials),
            (
                "max-host-calls",
                &l.max_host_calls,
                &mut limits.max_host_calls,
            ),
        ];
        for (key, value, slot) in slots {
            let Some(value) = value else { continue };
            let range = limits::range(key);
            let v = *value.get_ref();
            if v < range.min || v > range.max {
                return Err(at(
                    Some(value.span()),
                    format!(
                        "limits.{key} = {v} is out of range: it must be between {} and {}",
                        range.min, range.max
                    ),
                ));
            }
            *slot = v;
        }

        let inference = inference_policy(&file.inference, &at)?;
        let commands = command_policy(&file.commands, &at)?;

        let name = file.name.unwrap_or_else(|| match &source {
            ProfileSource::Builtin(name) => name.clone(),
            ProfileSource::File(path) | ProfileSource::Admin(path) => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "profile".into()),
        });
        Ok(Self {
            name,
            description: file.description.unwrap_or_default(),
            source,
            digest: hex::encode(Sha256::digest(text.as_bytes())),
            grants,
            limits,
            inference,
            edits: approvals::edit_policy(&file.edits, &at)?,
            commands,
            extra_deny,
            hard_links: file.hard_links.unwrap_or_default(),
            deny,
        })
    }

    /// The deny-list in force: built-in patterns plus the profile's.
    pub fn deny_list(&self) -> &DenyList {
        &self.deny
    }

    /// Whether any grant allows writing.
    pub fn allows_writes(&self) -> bool {
        self.grants.iter().any(|g| g.writable)
    }
}

fn command_policy(
    spec: &schema::CommandsSpec,
    at: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ProfileError,
) -> Result<CommandPolicy, ProfileError> {
    let mut policy = CommandPolicy::default();
    for (name, mode) in &spec.programs {
        let program = name.get_ref();
        if !valid_program(program) {
            return Err(at(
                Some(name.span()),
                format!(
                    "commands.programs: {program:?} is not a program name; list bare names found on PATH, such as cargo or make (no paths, no spaces)"
                ),
            ));
        }
        policy.programs.insert(program.clone(), *mode);
    }
    let slots: [(&str, &Option<toml::Spanned<u64>>, &mut u64); 10] = [
        (
            "timeout-seconds",
            &spec.timeout_seconds,
            &mut policy.timeout_seconds,
        ),
        (
            "max-output-bytes",
            &spec.max_output_bytes,
            &mut policy.max_output_bytes,
        ),
        (
            "max-processes",
            &spec.max_processes,
            &mut policy.limits.max_processes,
        ),
        (
            "memory-mib",
            &spec.memory_mib,
            &mut policy.limits.memory_mib,
        ),
        (
            "cpu-seconds",
            &spec.cpu_seconds,
            &mut policy.limits.cpu_seconds,
        ),
        (
            "max-file-mib",
            &spec.max_file_mib,
            &mut policy.limits.max_file_mib,
        ),
        (
            "max-open-files",
            &spec.max_open_files,
            &mut policy.limits.max_open_files,
        ),
        ("tmp-mib", &spec.tmp_mib, &mut policy.limits.tmp_mib),
        (
            "max-snapshot-mib",
            &spec.max_snapshot_mib,
            &mut policy.max_snapshot_mib,
        ),
        (
            "max-scratch-mib",
            &spec.max_scratch_mib,
            &mut policy.max_scratch_mib,
        ),
    ];
    for (key, value, slot) in slots {
        let Some(value) = value else { continue };
        let v = *value.get_ref();
        let (_, min, max) = commands::RANGES
            .iter()
            .find(|(k, _, _)| *k == key)
            .copied()
            .unwrap_or((key, 0, u64::MAX));
        if !(min..=max).contains(&v) {
            return Err(at(
                Some(value.span()),
                format!("commands.{key} = {v} is out of range: it must be between {min} and {max}"),
            ));
        }
        *slot = v;
    }
    if let Some(list) = &spec.scratch {
        let entries = list.get_ref();
        if entries.len() > commands::MAX_SCRATCH_PATTERNS {
            return Err(at(
                Some(list.span()),
                format!(
                    "commands.scratch lists {} paths: at most {} are allowed; use globs such as \"*.egg-info/\" to cover several",
                    entries.len(),
                    commands::MAX_SCRATCH_PATTERNS
                ),
            ));
        }
        for entry in entries {
            if let Err(why) = ScratchPaths::new(std::slice::from_ref(entry.get_ref())) {
                return Err(at(Some(entry.span()), format!("commands.scratch: {why}")));
            }
        }
        let patterns: Vec<&str> = entries.iter().map(|e| e.get_ref().as_str()).collect();
        policy.scratch = ScratchPaths::new(&patterns)
            .map_err(|why| at(Some(list.span()), format!("commands.scratch: {why}")))?;
    }
    Ok(policy)
}

fn inference_policy(
    spec: &schema::InferenceSpec,
    at: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ProfileError,
) -> Result<InferencePolicy, ProfileError> {
    let mut policy = InferencePolicy::default();
    if let Some(models) = &spec.models {
        for model in models.get_ref() {
            let name = model.get_ref();
            if airlock_core::names::check(airlock_core::names::NameKind::Model, name).is_err() {
                return Err(at(
                    Some(model.span()),
                    format!(
                        "inference.models: {name:?} is not a model name; names are lower-case letters, digits, `.`, `_` and `-`, as `airlock model list` shows them"
                    ),
                ));
            }
            if policy.models.contains(name) {
                return Err(at(
                    Some(model.span()),
                    format!("inference.models: {name:?} is listed twice"),
                ));
            }
            policy.models.push(name.clone());
        }
    }
    let slots: [(&str, &Option<toml::Spanned<u64>>, &mut u64); 5] = [
        ("max-calls", &spec.max_calls, &mut policy.max_calls),
        (
            "max-prompt-tokens",
            &spec.max_prompt_tokens,
            &mut policy.max_prompt_tokens,
        ),
        (
            "max-completion-tokens",
            &spec.max_completion_tokens,
            &mut policy.max_completion_tokens,
        ),
        (
            "default-max-tokens",
            &spec.default_max_tokens,
            &mut policy.default_max_tokens,
        ),
        (
            "max-call-seconds",
            &spec.max_call_seconds,
            &mut policy.max_call_seconds,
        ),
    ];
    for (key, value, slot) in slots {
        let Some(value) = value else { continue };
        let (_, min, max) = inference::RANGES
            .iter()
            .find(|(k, _, _)| *k == key)
            .copied()
            .unwrap_or((key, 0, u64::MAX));
        let v = *value.get_ref();
        if v < min || v > max {
            return Err(at(
                Some(value.span()),
                format!(
                    "inference.{key} = {v} is out of range: it must be between {min} and {max}"
                ),
            ));
        }
        *slot = v;
    }
    for (role, model) in spec.roles.iter().flatten() {
        policy.roles.insert(
            role_mapping(role, model, &policy.models, at)?,
            model.get_ref().clone(),
        );
    }
    Ok(policy)
}

/// One `[inference.roles]` entry, checked: a role name, mapped to a model
/// the profile grants.
fn role_mapping(
    role: &toml::Spanned<String>,
    model: &toml::Spanned<String>,
    granted: &[String],
    at: &dyn Fn(Option<std::ops::Range<usize>>, String) -> ProfileError,
) -> Result<String, ProfileError> {
    let (name, target) = (role.get_ref(), model.get_ref());
    crate::roles::check(name)
        .map_err(|e| at(Some(role.span()), format!("inference.roles: {e}")))?;
    if airlock_core::names::check(airlock_core::names::NameKind::Model, target).is_err() {
        return Err(at(
            Some(model.span()),
            format!(
                "inference.roles.{name} = {target:?} is not a model name; names are lower-case letters, digits, `.`, `_` and `-`, as `airlock model list` shows them"
            ),
        ));
    }
    if !granted.contains(target) {
        let fix = if granted.is_empty() {
            format!("the profile grants no model: add {target:?} to [inference] models")
        } else {
            let quoted: Vec<String> = granted.iter().map(|m| format!("{m:?}")).collect();
            format!(
                "add {target:?} to [inference] models, or map `{name}` to one of the granted {}",
                quoted.join(", ")
            )
        };
        return Err(at(
            Some(model.span()),
            format!(
                "inference.roles.{name} = {target:?} maps the role to a model the profile does not grant (inference.models); {fix}"
            ),
        ));
    }
    Ok(name.clone())
}
