//! The profile ceiling: the most any run's profile may grant.
//!
//! A profile is within the ceiling when, at every workspace path, it grants
//! no more access than the ceiling (none < read < read-write, the most
//! specific grant deciding, as in the sandbox); every limit is at most the
//! ceiling's; its deny-list includes the ceiling's extra patterns; and it
//! grants only models the ceiling grants, within the ceiling's budget.

use super::{toml_list, trust};
use crate::denylist::DenyList;
use crate::profile::{
    CommandPolicy, InferencePolicy, Limits, Profile, ProfileSource, builtin_names,
};
use airlock_core::paths::RelPath;
use std::path::{Path, PathBuf};

/// What a profile allows at a path; ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Access {
    None,
    Read,
    ReadWrite,
}

impl Access {
    fn word(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Read => "read",
            Self::ReadWrite => "read-write",
        }
    }
}

/// Why a `profile-ceiling` cannot be used.
pub(super) enum LoadError {
    /// Not a built-in name or absolute path, or the file is not a valid
    /// profile: an error at the key.
    Invalid(String),
    /// The file could be changed by someone other than root.
    Untrusted(trust::Untrusted),
}

/// Resolve `profile-ceiling = "NAME|/abs/path.toml"`. A file must be as
/// trustworthy as the policy itself, or whoever can edit it could loosen the
/// ceiling.
pub(super) fn load(spec: &str) -> Result<Profile, LoadError> {
    let invalid = |message: String| LoadError::Invalid(message);
    if spec.starts_with('/') {
        let path = Path::new(spec);
        match trust::check_path(path) {
            Ok(()) => {}
            Err(Err(e)) => {
                return Err(invalid(format!(
                    "profile-ceiling = {spec:?}: cannot read the profile file: {e}"
                )));
            }
            Err(Ok(why)) => {
                return Err(LoadError::Untrusted(trust::Untrusted {
                    reason: format!(
                        "names the profile-ceiling file {spec}, which {}",
                        why.reason
                    ),
                    fix: why.fix,
                }));
            }
        }
        return Profile::from_file(path)
            .map_err(|e| invalid(format!("profile-ceiling = {spec:?}: {e}")));
    }
    if spec.contains('/') || spec.ends_with(".toml") {
        return Err(invalid(format!(
            "profile-ceiling = {spec:?}: name a profile file by its absolute path (the policy holds in every directory), or use a built-in profile ({})",
            builtin_names().join(", ")
        )));
    }
    Profile::builtin(spec).map_err(|_| {
        invalid(format!(
            "profile-ceiling = {spec:?} is neither a built-in profile ({}) nor an absolute path to a profile file",
            builtin_names().join(", ")
        ))
    })
}

/// The access `profile` grants at `path`, and the grant that decides it.
fn access_at(profile: &Profile, path: &RelPath) -> (Access, Option<usize>) {
    profile
        .grants
        .iter()
        .enumerate()
        .filter(|(_, g)| path.starts_with(&g.path.0))
        .max_by_key(|(_, g)| g.path.0.components().len())
        .map_or((Access::None, None), |(i, g)| {
            let access = if g.writable {
                Access::ReadWrite
            } else {
                Access::Read
            };
            (access, Some(i))
        })
}

/// The paths where either profile's access can change: every grant path of
/// both. Between them access is constant, so comparing there compares
/// everywhere.
fn change_points<'a>(a: &'a Profile, b: &'a Profile) -> Vec<&'a RelPath> {
    let mut points: Vec<&RelPath> = Vec::new();
    for g in a.grants.iter().chain(&b.grants) {
        if !points.contains(&&g.path.0) {
            points.push(&g.path.0);
        }
    }
    points
}

fn limit_pairs(l: &Limits) -> [(&'static str, u64); 8] {
    [
        ("wall-clock-seconds", l.wall_clock_seconds),
        ("memory-mib", l.memory_mib),
        ("max-bytes-read", l.max_bytes_read),
        ("max-bytes-written", l.max_bytes_written),
        ("max-output-bytes", l.max_output_bytes),
        ("max-files-listed", l.max_files_listed),
        ("max-denials", l.max_denials),
        ("max-host-calls", l.max_host_calls),
    ]
}

/// Every numeric key of `[commands]`, as the profile writes it.
fn command_pairs(c: &CommandPolicy) -> [(&'static str, u64); 10] {
    [
        ("timeout-seconds", c.timeout_seconds),
        ("max-output-bytes", c.max_output_bytes),
        ("max-processes", c.limits.max_processes),
        ("memory-mib", c.limits.memory_mib),
        ("cpu-seconds", c.limits.cpu_seconds),
        ("max-file-mib", c.limits.max_file_mib),
        ("max-open-files", c.limits.max_open_files),
        ("tmp-mib", c.limits.tmp_mib),
        ("max-snapshot-mib", c.max_snapshot_mib),
        ("max-scratch-mib", c.max_scratch_mib),
    ]
}

fn budget_pairs(i: &InferencePolicy) -> [(&'static str, u64); 5] {
    [
        ("max-calls", i.max_calls),
        ("max-prompt-tokens", i.max_prompt_tokens),
        ("max-completion-tokens", i.max_completion_tokens),
        ("default-max-tokens", i.default_max_tokens),
        ("max-call-seconds", i.max_call_seconds),
    ]
}

/// Each way `profile` exceeds `ceiling`, naming the profile's key and the
/// ceiling's value; empty when it stays within.
pub(super) fn exceeded(profile: &Profile, ceiling: &Profile) -> Vec<String> {
    let mut over = Vec::new();

    let mut reported: Vec<usize> = Vec::new();
    for point in change_points(profile, ceiling) {
        let (mine, grant) = access_at(profile, point);
        let (theirs, ceiling_grant) = access_at(ceiling, point);
        let Some(i) = grant.filter(|i| mine > theirs && !reported.contains(i)) else {
            continue;
        };
        reported.push(i);
        let path = &profile.grants[i].path.0;
        over.push(match ceiling_grant {
            None => format!(
                "grant[{i}].path = \"{path}\" lies outside every grant of the ceiling (it grants {})",
                describe_grants(ceiling)
            ),
            Some(c) if point == path => format!(
                "grant[{i}].access = \"{}\" for \"{path}\", but the ceiling grants \"{}\" with access = \"{}\"",
                mine.word(),
                ceiling.grants[c].path.0,
                theirs.word()
            ),
            Some(_) => format!(
                "grant[{i}].access = \"{}\" for \"{path}\" covers \"{point}\", which the ceiling grants with access = \"{}\"",
                mine.word(),
                theirs.word()
            ),
        });
    }

    let missing: Vec<String> = ceiling
        .extra_deny
        .iter()
        .filter(|pattern| {
            !profile
                .extra_deny
                .iter()
                .any(|p| p.eq_ignore_ascii_case(pattern))
        })
        .cloned()
        .collect();
    if !missing.is_empty() {
        over.push(format!(
            "deny lacks {}, which the ceiling requires (its deny = {})",
            toml_list(&missing)
                .trim_start_matches('[')
                .trim_end_matches(']'),
            toml_list(&ceiling.extra_deny)
        ));
    }

    for ((key, mine), (_, theirs)) in limit_pairs(&profile.limits)
        .into_iter()
        .zip(limit_pairs(&ceiling.limits))
    {
        if mine > theirs {
            over.push(format!(
                "limits.{key} = {mine} is above the ceiling's {theirs}"
            ));
        }
    }

    // deny < ask < allow: a profile may ask where the ceiling allows, not
    // allow where the ceiling asks.
    if profile.allows_writes() && profile.edits.mode > ceiling.edits.mode {
        over.push(format!(
            "edits.mode = \"{}\" is looser than the ceiling's \"{}\"",
            profile.edits.mode.as_str(),
            ceiling.edits.mode.as_str()
        ));
    }

    for (program, mode) in &profile.commands.programs {
        match ceiling.commands.programs.get(program) {
            None => over.push(format!(
                "commands.programs lists `{program}`, which the ceiling does not"
            )),
            Some(theirs) if mode > theirs => over.push(format!(
                "commands.programs.{program} = \"{}\" is looser than the ceiling's \"{}\"",
                mode.as_str(),
                theirs.as_str()
            )),
            Some(_) => {}
        }
    }
    // The numbers only matter to a profile that lets a skill run anything.
    if !profile.commands.programs.is_empty() {
        for ((key, mine), (_, theirs)) in command_pairs(&profile.commands)
            .into_iter()
            .zip(command_pairs(&ceiling.commands))
        {
            if mine > theirs {
                over.push(format!(
                    "commands.{key} = {mine} is above the ceiling's {theirs}"
                ));
            }
        }
    }

    let (mine, theirs) = (&profile.inference, &ceiling.inference);
    for model in &mine.models {
        if !theirs.models.contains(model) {
            over.push(format!(
                "inference.models grants {model:?}, which the ceiling does not (its inference.models = {})",
                toml_list(&theirs.models)
            ));
        }
    }
    // A budget only matters to a profile that grants a model at all.
    if !mine.models.is_empty() {
        for ((key, m), (_, t)) in budget_pairs(mine).into_iter().zip(budget_pairs(theirs)) {
            if m > t {
                over.push(format!("inference.{key} = {m} is above the ceiling's {t}"));
            }
        }
    }
    over
}

fn describe_grants(profile: &Profile) -> String {
    if profile.grants.is_empty() {
        return "no paths".into();
    }
    let grants: Vec<String> = profile
        .grants
        .iter()
        .map(|g| {
            format!(
                "\"{}\" {}",
                g.path.0,
                if g.writable { "read-write" } else { "read" }
            )
        })
        .collect();
    grants.join(", ")
}

/// The ceiling no looser than `a` or `b` on any key: at every path the lesser
/// access, both deny-lists, the smaller of each limit and budget, the models
/// both grant. A profile is within it exactly when it is within both.
pub(super) fn meet(a: &Profile, b: &Profile) -> Result<Profile, String> {
    let mut deny = a.extra_deny.clone();
    for pattern in &b.extra_deny {
        if !deny.iter().any(|p| p.eq_ignore_ascii_case(pattern)) {
            deny.push(pattern.clone());
        }
    }
    let withheld = DenyList::new(&deny).map_err(|e| e.to_string())?;

    let mut grants = toml::value::Array::new();
    for point in change_points(a, b) {
        let access = access_at(a, point).0.min(access_at(b, point).0);
        // A path the combined deny-list withholds cannot be granted (and
        // nothing under it can be read anyway).
        if access == Access::None || withheld.matching_rule(&point.to_string()).is_some() {
            continue;
        }
        let mut grant = toml::Table::new();
        grant.insert("path".into(), point.to_string().into());
        grant.insert("access".into(), access.word().into());
        grants.push(grant.into());
    }

    let min = |x: u64, y: u64| x.min(y);
    let (la, lb) = (&a.limits, &b.limits);
    let limits = Limits {
        wall_clock_seconds: min(la.wall_clock_seconds, lb.wall_clock_seconds),
        memory_mib: min(la.memory_mib, lb.memory_mib),
        max_bytes_read: min(la.max_bytes_read, lb.max_bytes_read),
        max_bytes_written: min(la.max_bytes_written, lb.max_bytes_written),
        max_output_bytes: min(la.max_output_bytes, lb.max_output_bytes),
        max_files_listed: min(la.max_files_listed, lb.max_files_listed),
        max_denials: min(la.max_denials, lb.max_denials),
        max_host_calls: min(la.max_host_calls, lb.max_host_calls),
    };
    let (ia, ib) = (&a.inference, &b.inference);
    let inference = InferencePolicy {
        models: ia
            .models
            .iter()
            .filter(|m| ib.models.contains(m))
            .cloned()
            .collect(),
        max_calls: min(ia.max_calls, ib.max_calls),
        max_prompt_tokens: min(ia.max_prompt_tokens, ib.max_prompt_tokens),
        max_completion_tokens: min(ia.max_completion_tokens, ib.max_completion_tokens),
        default_max_tokens: min(ia.default_max_tokens, ib.default_max_tokens),
        max_call_seconds: min(ia.max_call_seconds, ib.max_call_seconds),
        // Roles choose among granted models; a ceiling bounds only which.
        ..InferencePolicy::default()
    };

    let mut table = toml::Table::new();
    let mut edits = toml::Table::new();
    edits.insert(
        "mode".into(),
        a.edits.mode.min(b.edits.mode).as_str().into(),
    );
    table.insert("edits".into(), edits.into());
    let mut commands = toml::Table::new();
    let mut programs = toml::Table::new();
    for (program, mode) in &a.commands.programs {
        if let Some(other) = b.commands.programs.get(program) {
            programs.insert(program.clone(), (*mode).min(*other).as_str().into());
        }
    }
    commands.insert("programs".into(), programs.into());
    let as_toml_int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    for ((key, x), (_, y)) in command_pairs(&a.commands)
        .into_iter()
        .zip(command_pairs(&b.commands))
    {
        commands.insert(key.into(), as_toml_int(x.min(y)).into());
    }
    table.insert("commands".into(), commands.into());
    table.insert("name".into(), format!("{}+{}", a.name, b.name).into());
    table.insert(
        "description".into(),
        format!(
            "The stricter of the ceilings `{}` ({}) and `{}` ({}) on every key.",
            a.name, a.source, b.name, b.source
        )
        .into(),
    );
    table.insert(
        "deny".into(),
        deny.into_iter()
            .map(toml::Value::from)
            .collect::<Vec<_>>()
            .into(),
    );
    table.insert("grant".into(), grants.into());
    let to_value = |v: Result<toml::Value, toml::ser::Error>| v.map_err(|e| e.to_string());
    table.insert("limits".into(), to_value(toml::Value::try_from(&limits))?);
    table.insert(
        "inference".into(),
        to_value(toml::Value::try_from(&inference))?,
    );
    let text = toml::to_string(&table).map_err(|e| e.to_string())?;
    let source = ProfileSource::File(PathBuf::from(format!(
        "(stricter of {} and {})",
        a.source, b.source
    )));
    Profile::parse(&text, source).map_err(|e| e.to_string())
}
