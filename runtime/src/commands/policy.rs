//! `airlock policy show`, and loading the policy for the commands that run skills.

use super::to_json;
use crate::cli::PolicyCommand;
use crate::exit::{Exit, Failure};
use airlock_runtime::policy::{
    Origin, POLICY_FILE_ENV, Policy, PolicyError, SYSTEM_POLICY_PATH, Setting,
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
    Policy::load().map_err(|e| {
        let code = match e {
            PolicyError::Invalid { .. } => Exit::Usage,
            PolicyError::Untrusted { .. } | PolicyError::Read { .. } => Exit::Refused,
        };
        Failure::new(code, e.to_string())
    })
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
        Origin::System(_) => None,
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
            "allowed-models": key(serde_json::json!(policy.allowed_models), &s.allowed_models),
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
                "  {:<18} wall-clock-seconds {}, memory-mib {}, max-bytes-read {}, max-bytes-written {}, max-output-bytes {}, max-files-listed {}",
                "limits",
                l.wall_clock_seconds,
                l.memory_mib,
                l.max_bytes_read,
                l.max_bytes_written,
                l.max_output_bytes,
                l.max_files_listed
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

    let models = match &policy.allowed_models {
        None => "any model the profile grants".to_string(),
        Some(m) if m.is_empty() => "none: no profile may grant a model".to_string(),
        Some(m) => m.join(", "),
    };
    println!("{:<20} {models}", "allowed-models");
    from(&s.allowed_models);
    Ok(Exit::Success)
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
