//! `airlock policy show`, and loading the policy for the commands that run skills.

use super::to_json;
use crate::cli::PolicyCommand;
use crate::exit::{Exit, Failure};
use airlock_runtime::policy::{
    Origin, POLICY_FILE_ENV, Policy, SYSTEM_POLICY_PATH, ServerUid, Setting,
};

pub fn policy(cmd: PolicyCommand) -> Result<Exit, Failure> {
    match cmd {
        PolicyCommand::Show { json } => show(json),
    }
}

/// The admin policy in force. A malformed file is exit 2 (the message names
/// file:line:column and key); an untrusted or unreadable one is exit 3.
/// Either way nothing runs.
pub(super) fn load() -> Result<Policy, Failure> {
    Ok(airlock_session::admin::policy()?)
}

/// The admin policy for `airlock mcp`, after its `[mcp]` gate: refused
/// (exit 3) when the policy forbids `airlock mcp`.
pub(super) fn load_for_mcp() -> Result<Policy, Failure> {
    let policy = load()?;
    policy
        .check_mcp()
        .map_err(|message| Failure::new(Exit::Refused, message))?;
    Ok(policy)
}

/// The plugins `airlock mcp` may serve out of `names`: with `[mcp] plugins`
/// set, a plugin `--skill` named (`explicit`) that is not listed refuses the
/// session (exit 3); of every installed plugin, the unlisted ones are left
/// out with a note on stderr, and none left refuses the session.
pub(super) fn mcp_plugins(
    policy: &Policy,
    names: Vec<String>,
    explicit: bool,
) -> Result<Vec<String>, Failure> {
    let (kept, left_out): (Vec<String>, Vec<String>) =
        names.into_iter().partition(|n| policy.mcp_allows_plugin(n));
    if let Some(first) = left_out.first() {
        if explicit || kept.is_empty() {
            return Err(Failure::new(
                Exit::Refused,
                format!(
                    "{}; serve only those (`--skill NAME`), or ask the administrator",
                    policy.mcp_plugin_refusal(first)
                ),
            ));
        }
        for name in &left_out {
            eprintln!(
                "airlock mcp: not serving `{name}`: {}",
                policy.mcp_plugin_refusal(name)
            );
        }
    }
    Ok(kept)
}

fn show(json: bool) -> Result<Exit, Failure> {
    let policy = load()?;
    let system_present = policy
        .sources
        .files
        .iter()
        .any(|f| matches!(f, Origin::System(_)));
    let env_file = policy.sources.files.iter().find_map(|f| match f {
        Origin::Env(p) => Some(p.clone()),
        Origin::System(_) | Origin::Revocations(_) => None,
    });
    let s = &policy.sources;
    if json {
        let key = |value: serde_json::Value, from: &[Setting]| serde_json::json!({ "value": value, "default": from.is_empty(), "from": from });
        let value = serde_json::json!({
            "files": {
                "system": { "path": SYSTEM_POLICY_PATH, "present": system_present },
                "env": { "variable": POLICY_FILE_ENV, "path": env_file },
            },
            "allow-unsigned": key(policy.allow_unsigned.into(), &s.allow_unsigned),
            "trusted-publishers": key(serde_json::json!(policy.trusted_publishers), &s.trusted_publishers),
            "profile-ceiling": key(serde_json::json!(policy.profile_ceiling), &s.profile_ceiling),
            "models": {
                "allowed": key(serde_json::json!(policy.models.allowed), &s.models_allowed),
                "conflicts": policy.models.conflicts,
                "server-uid": key(serde_json::json!(policy.models.server_uid), &s.models_server_uid),
                "roles": key(serde_json::json!(policy.models.roles), &s.models_roles),
                "role-conflicts": policy.models.role_conflicts,
            },
            "revoked": policy.revoked.entries,
            "mcp": {
                "allowed": key(policy.mcp.allowed.into(), &s.mcp_allowed),
                "plugins": key(serde_json::json!(policy.mcp.plugins), &s.mcp_plugins),
                "profiles": key(serde_json::json!(policy.mcp.profiles), &s.mcp_profiles),
            },
        });
        println!("{}", to_json(&value)?);
        return Ok(Exit::Success);
    }

    println!(
        "admin policy in force (each key: the stricter value of the files below; see docs/policy.md)"
    );
    println!("files:");
    println!(
        "  {:<22} {SYSTEM_POLICY_PATH}{}",
        "system",
        if system_present {
            ""
        } else {
            " (not present: built-in defaults)"
        }
    );
    match &env_file {
        Some(path) => println!("  {:<22} {}", format!("${POLICY_FILE_ENV}"), path.display()),
        None => println!("  {:<22} (not set)", format!("${POLICY_FILE_ENV}")),
    }
    println!();

    println!("{:<20} {}", "allow-unsigned", policy.allow_unsigned);
    from(&s.allow_unsigned);

    let publishers = match &policy.trusted_publishers {
        None => "any key in the trust store (`airlock trust list`)".to_string(),
        Some(keys) if keys.is_empty() => "none: no publisher may be trusted".to_string(),
        Some(keys) => keys.join(", "),
    };
    println!("{:<20} {publishers}", "trusted-publishers");
    from(&s.trusted_publishers);

    match &policy.profile_ceiling {
        None => println!("{:<20} none: any valid profile", "profile-ceiling"),
        Some(c) => {
            println!("{:<20} {} ({})", "profile-ceiling", c.name, c.source);
            from(&s.profile_ceiling);
            let grants: Vec<String> = c
                .grants
                .iter()
                .map(|g| {
                    format!(
                        "{} {}",
                        g.path.0,
                        if g.writable { "read-write" } else { "read" }
                    )
                })
                .collect();
            let grants = if grants.is_empty() {
                "none".to_string()
            } else {
                grants.join(", ")
            };
            println!("  {:<18} {grants}", "grants");
            let l = &c.limits;
            println!(
                "  {:<18} wall-clock-seconds {}, memory-mib {}, max-bytes-read {}, max-bytes-written {}, max-output-bytes {}, max-files-listed {}, max-denials {}, max-host-calls {}",
                "limits",
                l.wall_clock_seconds,
                l.memory_mib,
                l.max_bytes_read,
                l.max_bytes_written,
                l.max_output_bytes,
                l.max_files_listed,
                l.max_denials,
                l.max_host_calls
            );
            if !c.extra_deny.is_empty() {
                println!("  {:<18} {}", "deny (required)", c.extra_deny.join(" "));
            }
            let i = &c.inference;
            if i.models.is_empty() {
                println!("  {:<18} none", "models");
            } else {
                println!(
                    "  {:<18} {} (max-calls {}, max-prompt-tokens {}, max-completion-tokens {}, default-max-tokens {}, max-call-seconds {})",
                    "models",
                    i.models.join(", "),
                    i.max_calls,
                    i.max_prompt_tokens,
                    i.max_completion_tokens,
                    i.default_max_tokens,
                    i.max_call_seconds
                );
            }
        }
    }
    if policy.profile_ceiling.is_none() {
        from(&s.profile_ceiling);
    }

    show_models(&policy);
    show_mcp(&policy);
    show_revoked(&policy);
    Ok(Exit::Success)
}

/// The revocation lists in force.
fn show_revoked(policy: &Policy) {
    use airlock_policy::admin::{REVOKED_DIR, REVOKED_FILE_ENV, RevokedKind};
    let entries = &policy.revoked.entries;
    if entries.is_empty() {
        println!(
            "{:<20} none ({}/*.toml, ${})",
            "revoked", REVOKED_DIR, REVOKED_FILE_ENV
        );
        return;
    }
    println!("{:<20} {} revocation(s)", "revoked", entries.len());
    for r in entries {
        let kind = match r.kind {
            RevokedKind::PublisherKey => "publisher key",
            RevokedKind::Plugin => "plugin package",
            RevokedKind::ReleaseKey => "release key",
        };
        println!(
            "  {kind:<18} {}: {} ({})",
            r.id,
            airlock_core::terminal::line(&r.reason),
            r.file.display()
        );
    }
}

/// `[models]`: the pinned models, any conflicts, the server's user.
fn show_models(policy: &Policy) {
    let (m, s) = (&policy.models, &policy.sources);
    let allowed = match &m.allowed {
        None => "any model the profile grants, as the user pinned it".to_string(),
        Some(pins) if pins.is_empty() => "none: no profile may grant a model".to_string(),
        Some(pins) => pins
            .iter()
            .map(|p| format!("{} ({})", p.name, p.sha256))
            .collect::<Vec<_>>()
            .join(", "),
    };
    println!("{:<20} {allowed}", "models.allowed");
    from(&s.models_allowed);
    for c in &m.conflicts {
        println!(
            "  {:<18} {} is allowed by neither file: they pin different digests",
            "conflict", c.name
        );
        for pin in &c.pins {
            println!("  {:<18} {}: {}", "", pin.from, pin.value);
        }
    }
    let uid = match &m.server_uid {
        None => "not set: engine.server-uid, else the user running airlock".to_string(),
        Some(ServerUid::Uid(uid)) => uid.to_string(),
        Some(ServerUid::Conflict(_)) => {
            "conflict: the files name different users, so no server is trusted".to_string()
        }
    };
    println!("{:<20} {uid}", "models.server-uid");
    from(&s.models_server_uid);
    let roles = if m.roles.is_empty() {
        "not set: each profile's [inference.roles] maps them".to_string()
    } else {
        m.roles
            .iter()
            .map(|(role, model)| format!("{role} = {model}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("{:<20} {roles}", "models.roles");
    from(&s.models_roles);
    for c in &m.role_conflicts {
        println!(
            "  {:<18} role `{}` is filled by no model: the files map it differently",
            "conflict", c.role
        );
        for map in &c.maps {
            println!("  {:<18} {}: {}", "", map.from, map.value);
        }
    }
}

/// `[mcp]`: whether `airlock mcp` may run, and what it may serve.
fn show_mcp(policy: &Policy) {
    let (m, s) = (&policy.mcp, &policy.sources);
    println!(
        "{:<20} {}",
        "mcp.allowed",
        if m.allowed {
            "true"
        } else {
            "false: `airlock mcp` is refused"
        }
    );
    from(&s.mcp_allowed);
    let list = |items: &Option<Vec<String>>, any: &str| match items {
        None => any.to_string(),
        Some(items) if items.is_empty() => "none".to_string(),
        Some(items) => items.join(", "),
    };
    println!(
        "{:<20} {}",
        "mcp.plugins",
        list(&m.plugins, "any installed plugin")
    );
    from(&s.mcp_plugins);
    println!(
        "{:<20} {}",
        "mcp.profiles",
        list(&m.profiles, "any profile")
    );
    from(&s.mcp_profiles);
}

/// The `from` lines of one key.
fn from(settings: &[Setting]) {
    if settings.is_empty() {
        println!("  {:<18} built-in default", "from");
        return;
    }
    for s in settings {
        println!("  {:<18} {}: {}", "from", s.from, s.value);
    }
    if settings.len() > 1 {
        println!("  {:<18} the stricter of these", "");
    }
}
