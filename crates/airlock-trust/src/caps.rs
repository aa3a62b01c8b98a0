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
//! where both say so; the models both name; the programs both name, each
//! with the profile's approval mode (a request never upgrades it), under the
//! profile's command timeout and output limits; the lower of each limit.

use super::manifest::Capabilities;
use airlock_core::paths::RelPath;
use airlock_policy::profile::{Grant, Profile, RelPathString};

pub use airlock_core::imports::Imported;

/// Refusals for a manifest that requests less than the component imports;
/// empty when it requests enough.
pub fn missing(requested: &Capabilities, imported: &Imported) -> Vec<String> {
    let mut errors = Vec::new();
    if let Some(import) = &imported.inference
        && requested.models.is_empty()
    {
        errors.push(format!(
            "the component imports `{import}` but the manifest requests no models: add the models it asks for to `capabilities.models`"
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

/// One line of the review: a requested capability and what it gets.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReviewLine {
    /// `workspace-read`, `workspace-write`, `model` or `command`.
    pub capability: String,
    /// The path, model or program requested.
    pub requested: String,
    /// What the skill gets, or `None` when the profile grants nothing of it.
    pub granted: Option<String>,
}

/// The request next to the profile: what the skill would get.
pub fn review(requested: &Capabilities, profile: &Profile) -> Vec<ReviewLine> {
    let narrowed = narrow(profile, requested);
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

/// `profile` narrowed to the overlap with `requested`.
pub fn narrow(profile: &Profile, requested: &Capabilities) -> Profile {
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
    out.inference
        .models
        .retain(|m| requested.models.contains(m));
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
    out
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
        let narrowed = narrow(&profile, &caps(&["src"], &[], &["smollm2"]));
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
        let none = narrow(&profile, &Capabilities::default());
        assert!(none.grants.is_empty());
    }

    #[test]
    fn a_plugin_runs_only_the_programs_it_requests_with_the_profiles_mode() {
        let profile = Profile::builtin("coder").unwrap();
        let mut requested = caps(&["."], &["."], &["smollm2"]);
        requested.commands = vec!["make".into(), "bash".into()];
        let narrowed = narrow(&profile, &requested);
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
        let none = narrow(&profile, &caps(&["."], &[], &[]));
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
        let narrowed = narrow(&profile, &requested);
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
        let old = narrow(&profile, &caps(&["."], &["."], &[]));
        assert!(old.commands.programs.is_empty());
    }

    #[test]
    fn the_review_shows_each_requested_program_and_what_it_gets() {
        let profile = programs_profile();
        let mut requested = caps(&["."], &[], &[]);
        requested.commands = vec!["make".into(), "true".into(), "rm".into(), "cargo".into()];
        let lines: Vec<(String, String, Option<String>)> = review(&requested, &profile)
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
