//! Requested capabilities against what a component imports (at pack time),
//! and against what a profile grants (at install and at every run).
//!
//! The rule at pack time: a component that imports a capability's functions
//! must request that capability — `airlock:skill/inference` needs at least
//! one model; any of `write-file`, `create-dir`, `remove-file` from
//! `airlock:skill/workspace` needs a `workspace-write` path; any other
//! workspace function that reads (`list-dir`, `walk`, `stat`, `read-file`,
//! `read-range`, `search`) needs a `workspace-read` or `workspace-write`
//! path. Requesting less is refused, naming the import and the missing
//! capability. (Components list only the functions they use, so this is
//! what the code can call, not what the SDK offers.)
//!
//! At run time the skill gets the overlap of request and profile: each
//! requested path narrowed to what a profile grant covers, writable only
//! where both say so; for each model role it asks for, the model the admin
//! policy's `[models.roles]` or else the profile's `[inference.roles]` maps
//! the role to (first: the skill's default model), then the models both
//! name; the programs both name, each with the profile's approval mode (a
//! request never upgrades it), under the profile's command timeout and
//! output limits; the lower of each limit. A role that nothing maps refuses
//! the install and the run: the officer chooses the model, and a plugin
//! never silently gets another one.

use super::manifest::Capabilities;
use airlock_core::paths::RelPath;
use airlock_policy::admin::{Policy, PolicyViolation};
use airlock_policy::profile::{Grant, Profile, ProfileSource, RelPathString};

pub use airlock_core::imports::Imported;

/// Refusals for a manifest that requests less than the component imports;
/// empty when it requests enough.
pub fn missing(requested: &Capabilities, imported: &Imported) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(import) = &imported.inference
        && requested.models.is_empty()
        && requested.model_roles.is_empty()
    {
        errors.push(format!(
            "the component imports `{import}` but the manifest requests no models: add the role it needs to `capabilities.model-roles` (such as [\"chat\"] or [\"code\"]), or the models it asks for by name to `capabilities.models`"
        ));
    }
    if let Some(import) = &imported.exec
        && requested.commands.is_empty()
    {
        errors.push(format!(
            "the component imports `{import}` but the manifest requests no programs: add the programs it runs to `capabilities.commands`"
        ));
    }
    if let Some(import) = imported.writes.first()
        && requested.workspace_write.is_empty()
    {
        errors.push(format!(
            "the component imports `{import}` but the manifest requests no workspace-write path: add the paths it writes to `capabilities.workspace-write`"
        ));
    }
    if let Some(import) = imported.reads.first()
        && requested.workspace_read.is_empty()
        && requested.workspace_write.is_empty()
    {
        errors.push(format!(
            "the component imports `{import}` but the manifest requests no workspace path: add the paths it reads to `capabilities.workspace-read`"
        ));
    }
    errors
}

/// Who chose the model that fills a role.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "by", content = "origin")]
pub enum MappedBy {
    /// The admin policy's `[models.roles]`, in these files.
    AdminPolicy(String),
    /// The profile's `[inference.roles]`.
    Profile,
}

/// The model a requested role gets.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleModel {
    /// The role the plugin asks for.
    pub role: String,
    /// The model that fills it.
    pub model: String,
    /// Who mapped the role to it (`by`, and the policy files as `origin`).
    #[serde(flatten)]
    pub by: MappedBy,
}

/// Why a plugin's model roles cannot be filled under a profile: the install
/// and every run are refused, with the key to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// Neither the admin policy nor the profile maps the role.
    #[error(
        "the plugin asks for a model for role `{role}`, which profile `{profile}` does not map; map it in {place}: [inference.roles] {role} = \"MODEL\", {fix}"
    )]
    Unmapped {
        /// The role.
        role: String,
        /// The profile's name.
        profile: String,
        /// The profile to edit, as a phrase.
        place: String,
        /// Which models it could be.
        fix: String,
    },
    /// The admin policy maps the role to a model the profile does not grant.
    #[error(
        "the plugin asks for a model for role `{role}`, which the admin policy maps to `{model}` ([models.roles] in {origin}), but profile `{profile}` does not grant `{model}`: add \"{model}\" to [inference] models in {place}"
    )]
    NotGranted {
        /// The role.
        role: String,
        /// The admin's model for it.
        model: String,
        /// The policy files that map it.
        origin: String,
        /// The profile's name.
        profile: String,
        /// The profile to edit, as a phrase.
        place: String,
    },
    /// The admin policy files disagree on the role's model.
    #[error(transparent)]
    Policy(#[from] PolicyViolation),
}

/// The model each role in `requested` gets under `profile` and `policy`, in
/// the manifest's order: the admin policy's `[models.roles]` where it maps
/// the role (the model must be one the profile grants), else the profile's
/// `[inference.roles]`; a role neither maps is refused.
pub fn role_models(
    profile: &Profile,
    requested: &Capabilities,
    policy: &Policy,
) -> Result<Vec<RoleModel>, RoleError> {
    let granted = &profile.inference.models;
    // Where to write the fix: a built-in profile cannot be edited.
    let place = || match &profile.source {
        ProfileSource::Builtin(name) => format!(
            "a copy of the built-in profile `{name}` (sandbox-profiles/{name}.toml; built-in profiles cannot be edited), reviewed with --profile ./FILE"
        ),
        other => format!("the profile ({other})"),
    };
    let mut out = Vec::new();
    for role in &requested.model_roles {
        let chosen = match policy.role_model(role)? {
            Some((model, origin)) => {
                if !granted.contains(&model) {
                    return Err(RoleError::NotGranted {
                        role: role.clone(),
                        model,
                        origin,
                        profile: profile.name.clone(),
                        place: place(),
                    });
                }
                RoleModel {
                    role: role.clone(),
                    model,
                    by: MappedBy::AdminPolicy(origin),
                }
            }
            None => match profile.inference.roles.get(role) {
                Some(model) => RoleModel {
                    role: role.clone(),
                    model: model.clone(),
                    by: MappedBy::Profile,
                },
                None => {
                    let fix = if granted.is_empty() {
                        "after granting the model in [inference] models (the profile grants none)"
                            .to_string()
                    } else {
                        let quoted: Vec<String> =
                            granted.iter().map(|m| format!("\"{m}\"")).collect();
                        format!("with MODEL one it grants ({})", quoted.join(", "))
                    };
                    return Err(RoleError::Unmapped {
                        role: role.clone(),
                        profile: profile.name.clone(),
                        place: place(),
                        fix,
                    });
                }
            },
        };
        out.push(chosen);
    }
    Ok(out)
}

/// One line of the review: a requested capability and what it gets.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReviewLine {
    /// `workspace-read`, `workspace-write`, `model-role`, `model`,
    /// `min-context` or `command`.
    pub capability: String,
    /// The path, role, model, context or program requested.
    pub requested: String,
    /// What the skill gets, or `None` when the profile grants nothing of it
    /// (for a role: when no model fills it, which refuses the plugin).
    pub granted: Option<String>,
}

/// The request next to the profile (under the admin policy): what the
/// skill would get.
pub fn review(requested: &Capabilities, profile: &Profile, policy: &Policy) -> Vec<ReviewLine> {
    // A role that cannot be filled refuses the plugin ([`narrow`] says
    // why); the review still shows every other line.
    let narrowed = narrow(profile, requested, policy).unwrap_or_else(|_| {
        let mut fillable = requested.clone();
        fillable.model_roles.clear();
        narrow(profile, &fillable, policy).unwrap_or_else(|_| profile.clone())
    });
    let mut lines = Vec::new();
    for (capability, paths, write) in [
        ("workspace-read", &requested.workspace_read, false),
        ("workspace-write", &requested.workspace_write, true),
    ] {
        for path in paths {
            let Ok(want) = RelPath::parse(path) else {
                continue;
            };
            let got: Vec<String> = narrowed
                .grants
                .iter()
                .filter(|g| g.path.0.starts_with(&want) || want.starts_with(&g.path.0))
                .filter(|g| !write || g.writable)
                .map(|g| g.path.0.to_string())
                .collect();
            lines.push(ReviewLine {
                capability: capability.into(),
                requested: want.to_string(),
                granted: (!got.is_empty()).then(|| got.join(", ")),
            });
        }
    }
    for role in &requested.model_roles {
        let one = Capabilities {
            model_roles: vec![role.clone()],
            ..Capabilities::default()
        };
        let granted = role_models(profile, &one, policy)
            .ok()
            .and_then(|mut found| found.pop())
            .map(|r| match r.by {
                MappedBy::Profile => {
                    format!("{} (inference.roles.{role} in the profile)", r.model)
                }
                MappedBy::AdminPolicy(origin) => {
                    format!("{} ([models.roles] in the admin policy {origin})", r.model)
                }
            });
        lines.push(ReviewLine {
            capability: "model-role".into(),
            requested: role.clone(),
            granted,
        });
    }
    for model in &requested.models {
        lines.push(ReviewLine {
            capability: "model".into(),
            requested: model.clone(),
            granted: narrowed
                .inference
                .models
                .contains(model)
                .then(|| model.clone()),
        });
    }
    if let Some(min) = requested.min_context {
        lines.push(ReviewLine {
            capability: "min-context".into(),
            requested: format!("{min} tokens"),
            granted: Some("checked when each run starts, against its models' context".into()),
        });
    }
    for program in &requested.commands {
        lines.push(ReviewLine {
            capability: "command".into(),
            requested: program.clone(),
            granted: narrowed
                .commands
                .programs
                .get(program)
                .filter(|mode| **mode != airlock_policy::profile::ApprovalMode::Deny)
                .map(|mode| format!("{} (commands.programs)", mode.as_str())),
        });
    }
    lines
}

/// `profile` narrowed to the overlap with `requested`, under `policy`'s
/// model roles. Its models: each requested role's model (see
/// [`role_models`]), then the models both name, in the profile's order; the
/// first is the skill's default.
pub fn narrow(
    profile: &Profile,
    requested: &Capabilities,
    policy: &Policy,
) -> Result<Profile, RoleError> {
    let roles = role_models(profile, requested, policy)?;
    let mut out = profile.clone();
    let mut grants: Vec<Grant> = Vec::new();
    let wants = requested
        .workspace_read
        .iter()
        .map(|p| (p, false))
        .chain(requested.workspace_write.iter().map(|p| (p, true)));
    for (path, write) in wants {
        let Ok(want) = RelPath::parse(path) else {
            continue;
        };
        for grant in &profile.grants {
            let narrower = if want.starts_with(&grant.path.0) {
                want.clone()
            } else if grant.path.0.starts_with(&want) {
                grant.path.0.clone()
            } else {
                continue;
            };
            let writable = write && grant.writable;
            match grants.iter_mut().find(|g| g.path.0 == narrower) {
                Some(existing) => existing.writable |= writable,
                None => grants.push(Grant {
                    path: RelPathString(narrower),
                    writable,
                }),
            }
        }
    }
    out.grants = grants;
    // Commands: only the programs the manifest requests, each with the
    // profile's mode (never more than the profile allows).
    out.commands
        .programs
        .retain(|name, _| requested.commands.contains(name));
    let mut models: Vec<String> = Vec::new();
    let by_role = roles.iter().map(|r| &r.model);
    let by_name = profile
        .inference
        .models
        .iter()
        .filter(|m| requested.models.contains(m));
    for model in by_role.chain(by_name) {
        if !models.contains(model) {
            models.push(model.clone());
        }
    }
    out.inference.models = models;
    out.inference.roles = roles.into_iter().map(|r| (r.role, r.model)).collect();
    out.inference.min_context = requested.min_context;
    if let Some(limits) = &requested.limits {
        let l = &mut out.limits;
        for (mine, asked) in [
            (&mut l.wall_clock_seconds, limits.wall_clock_seconds),
            (&mut l.memory_mib, limits.memory_mib),
            (&mut l.max_bytes_read, limits.max_bytes_read),
            (&mut l.max_bytes_written, limits.max_bytes_written),
            (&mut l.max_output_bytes, limits.max_output_bytes),
            (&mut l.max_files_listed, limits.max_files_listed),
        ] {
            if let Some(asked) = asked {
                *mine = (*mine).min(asked);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn caps(read: &[&str], write: &[&str], models: &[&str]) -> Capabilities {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        Capabilities {
            workspace_read: v(read),
            workspace_write: v(write),
            models: v(models),
            ..Capabilities::default()
        }
    }

    #[test]
    fn requesting_less_than_the_imports_is_refused_naming_both() {
        let imported = Imported {
            reads: vec!["airlock:skill/workspace@0.1.0#read-file".into()],
            writes: vec!["airlock:skill/workspace@0.1.0#write-file".into()],
            inference: Some("airlock:skill/inference@0.1.0".into()),
            exec: Some("airlock:skill/exec@0.1.0#run".into()),
        };
        let errors = missing(&caps(&["."], &[], &[]), &imported);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("the component imports `airlock:skill/inference@0.1.0` but the manifest requests no models"));
        assert!(errors[1].starts_with("the component imports `airlock:skill/exec@0.1.0#run` but the manifest requests no programs"), "{errors:?}");
        assert!(errors[2].starts_with("the component imports `airlock:skill/workspace@0.1.0#write-file` but the manifest requests no workspace-write path"));
        let mut enough = caps(&[], &["out"], &["m"]);
        enough.commands = vec!["make".into()];
        assert!(missing(&enough, &imported).is_empty());
    }

    #[test]
    fn the_skill_gets_the_overlap() {
        let profile = Profile::builtin("workspace-write").unwrap();
        let narrowed = narrow(
            &profile,
            &caps(&["src"], &[], &["smollm2"]),
            &Policy::default(),
        )
        .unwrap();
        assert!(
            narrowed.grants.iter().all(|g| !g.writable),
            "{:?}",
            narrowed.grants
        );
        assert!(
            narrowed
                .grants
                .iter()
                .any(|g| g.path.0.to_string() == "src")
        );
        assert!(narrowed.inference.models.is_empty());
        let none = narrow(&profile, &Capabilities::default(), &Policy::default()).unwrap();
        assert!(none.grants.is_empty());
    }

    #[test]
    fn a_plugin_runs_only_the_programs_it_requests_with_the_profiles_mode() {
        let profile = Profile::builtin("coder").unwrap();
        let mut requested = caps(&["."], &["."], &["smollm2"]);
        requested.commands = vec!["make".into(), "bash".into()];
        let narrowed = narrow(&profile, &requested, &Policy::default()).unwrap();
        let programs: Vec<(&String, &airlock_policy::profile::ApprovalMode)> =
            narrowed.commands.programs.iter().collect();
        // `bash` is not in the profile, `cargo` was not requested.
        assert_eq!(
            programs,
            [(
                &"make".to_string(),
                &airlock_policy::profile::ApprovalMode::Ask
            )]
        );
        assert_eq!(
            narrowed.commands.timeout_seconds,
            profile.commands.timeout_seconds
        );
        let none = narrow(&profile, &caps(&["."], &[], &[]), &Policy::default()).unwrap();
        assert!(none.commands.programs.is_empty());
    }

    fn programs_profile() -> Profile {
        let text = "name = \"p\"\ndescription = \"d\"\n\n[[grant]]\npath = \".\"\naccess = \"read-write\"\n\n[commands.programs]\nmake = \"ask\"\ntrue = \"allow\"\nrm = \"deny\"\n\n[commands]\ntimeout-seconds = 42\nmax-output-bytes = 4096\n";
        Profile::parse(
            text,
            airlock_policy::profile::ProfileSource::Builtin("p".into()),
        )
        .unwrap()
    }

    #[test]
    fn requested_programs_keep_the_profiles_mode_and_limits() {
        use airlock_policy::profile::ApprovalMode;
        let profile = programs_profile();
        let mut requested = caps(&["."], &[], &[]);
        requested.commands = vec!["true".into(), "rm".into(), "cargo".into()];
        let narrowed = narrow(&profile, &requested, &Policy::default()).unwrap();
        // `true` stays `allow`, `rm` stays `deny` (a request never upgrades
        // it), `cargo` is not in the profile, `make` was not requested.
        let programs: Vec<(&str, ApprovalMode)> = narrowed
            .commands
            .programs
            .iter()
            .map(|(name, mode)| (name.as_str(), *mode))
            .collect();
        assert_eq!(
            programs,
            [("rm", ApprovalMode::Deny), ("true", ApprovalMode::Allow)]
        );
        assert_eq!(narrowed.commands.timeout_seconds, 42);
        assert_eq!(narrowed.commands.max_output_bytes, 4096);
        // An old manifest (no `commands`) gets no programs at all.
        let old = narrow(&profile, &caps(&["."], &["."], &[]), &Policy::default()).unwrap();
        assert!(old.commands.programs.is_empty());
    }

    #[test]
    fn the_review_shows_each_requested_program_and_what_it_gets() {
        let profile = programs_profile();
        let mut requested = caps(&["."], &[], &[]);
        requested.commands = vec!["make".into(), "true".into(), "rm".into(), "cargo".into()];
        let lines: Vec<(String, String, Option<String>)> =
            review(&requested, &profile, &Policy::default())
                .into_iter()
                .filter(|l| l.capability == "command")
                .map(|l| (l.capability, l.requested, l.granted))
                .collect();
        let granted = |mode: &str| Some(format!("{mode} (commands.programs)"));
        assert_eq!(
            lines,
            [
                ("command".into(), "make".into(), granted("ask")),
                ("command".into(), "true".into(), granted("allow")),
                ("command".into(), "rm".into(), None),
                ("command".into(), "cargo".into(), None),
            ]
        );
    }
}
