//! The install review as `airlock plugin install` and `plugin show` print
//! it: each requested capability next to what the profile grants, and the
//! models a run gets (for each model role, the model the admin policy or the
//! profile maps it to).

use airlock_runtime::Profile;
use airlock_runtime::policy::Policy;
use airlock_trust::admit::Reviewed;
use airlock_trust::caps;
use airlock_trust::manifest::Capabilities;
use airlock_trust::store::Installed;
use std::io::Write;

/// The review: each requested capability and what `profile` grants of it
/// under `policy`, and the models a run gets (the first is the skill's
/// default). `Err` when a model role the plugin asks for is filled by no
/// model: every run would be refused.
pub(super) fn print_review(
    out: &mut dyn Write,
    requested: &Capabilities,
    profile: &Profile,
    policy: &Policy,
) -> Result<(), caps::RoleError> {
    let lines = caps::review(requested, profile, policy);
    let _ = writeln!(
        out,
        "Requested capabilities, and what profile `{}` grants (the skill gets the overlap):",
        profile.name
    );
    if lines.is_empty() {
        let _ = writeln!(out, "  (none: no workspace access, no models, no programs)");
    }
    for line in &lines {
        let granted = match &line.granted {
            Some(g) => format!("granted: {g}"),
            None if line.capability == "model-role" => "NOT mapped to a model".into(),
            None => "NOT granted".into(),
        };
        let _ = writeln!(
            out,
            "  {:<16} {:<20} {granted}",
            line.capability, line.requested
        );
    }
    if let Some(limits) = &requested.limits {
        let _ = writeln!(
            out,
            "  limits           {}  (a run gets the lower of these and the profile's)",
            toml::to_string(limits)
                .unwrap_or_default()
                .trim()
                .replace('\n', ", ")
        );
    }
    let narrowed = caps::narrow(profile, requested, policy);
    if let Ok(narrowed) = &narrowed
        && !(requested.models.is_empty() && requested.model_roles.is_empty())
    {
        let models = &narrowed.inference.models;
        let shown: Vec<String> = models
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let roles: Vec<String> = narrowed
                    .inference
                    .roles
                    .iter()
                    .filter(|(_, model)| *model == m)
                    .map(|(role, _)| format!("role `{role}`"))
                    .collect();
                let mut notes = roles;
                if i == 0 {
                    notes.insert(0, "default".into());
                }
                if notes.is_empty() {
                    m.clone()
                } else {
                    format!("{m} ({})", notes.join(", "))
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "Models a run gets: {}",
            if shown.is_empty() {
                "none".to_string()
            } else {
                shown.join(", ")
            }
        );
    }
    let refused: Vec<_> = lines
        .iter()
        .filter(|l| l.granted.is_none() && l.capability != "model-role")
        .collect();
    if !refused.is_empty() {
        let _ = writeln!(
            out,
            "Requested but not granted by `{}` (the skill runs without them):",
            profile.name
        );
        for line in refused {
            let _ = writeln!(out, "  {} {}", line.capability, line.requested);
        }
    }
    narrowed.map(|_| ())
}

/// `plugin show --json`'s `models`: what a run by name gets under the
/// reviewed profile (`run-gets`, default first; `roles`, each role's model
/// and who mapped it), or why runs are refused (`error`).
pub(super) fn run_models_json(installed: &Installed, policy: &Policy) -> serde_json::Value {
    let profile = match Reviewed::of(installed).load() {
        Ok(profile) => profile,
        Err(e) => return serde_json::json!({ "error": e.to_string() }),
    };
    let requested = &installed.manifest.capabilities;
    let resolved = caps::role_models(&profile, requested, policy)
        .and_then(|roles| Ok((roles, caps::narrow(&profile, requested, policy)?)));
    match resolved {
        Ok((roles, narrowed)) => serde_json::json!({
            "run-gets": narrowed.inference.models,
            "roles": roles,
            "min-context": requested.min_context,
        }),
        Err(e) => serde_json::json!({ "error": format!("refused: {e}") }),
    }
}
