//! `airlock profile list|show|check`.

use super::to_json;
use crate::cli::ProfileCommand;
use crate::exit::{Exit, Failure};
use airlock_runtime::Profile;
use airlock_runtime::profile::{ProfileSource, admin_names, builtin_names};

pub fn profile(cmd: ProfileCommand) -> Result<Exit, Failure> {
    match cmd {
        ProfileCommand::List { json } => {
            let mut profiles = builtin_names()
                .into_iter()
                .map(Profile::builtin)
                .collect::<Result<Vec<_>, _>>()?;
            // Admin-installed profiles, each as a bare name selects it (an
            // untrusted file is an error here too, not a silent omission).
            for name in admin_names() {
                profiles.push(Profile::load(&name)?);
            }
            if json {
                println!("{}", to_json(&profiles)?);
            } else {
                for p in &profiles {
                    // The name `--profile` takes, which for an admin profile
                    // is its file's, whatever its `name` key says.
                    let name = p.source.argument();
                    let note = match &p.source {
                        ProfileSource::Admin(path) => format!(" (admin: {})", path.display()),
                        _ if name == airlock_runtime::profile::DEFAULT_PROFILE => {
                            " (default)".into()
                        }
                        _ => String::new(),
                    };
                    println!("{name:<16} {}{note}", p.description);
                }
            }
            Ok(Exit::Success)
        }
        ProfileCommand::Show { profile, json } => {
            let p = Profile::load(&profile)?;
            if json {
                let mut value = serde_json::to_value(&p)
                    .map_err(|e| Failure::new(Exit::Internal, e.to_string()))?;
                if let Some(obj) = value.as_object_mut() {
                    obj.insert("deny-list".into(), p.deny_list().patterns().into());
                }
                println!("{}", to_json(&value)?);
                return Ok(Exit::Success);
            }
            print_profile(&p);
            Ok(Exit::Success)
        }
        ProfileCommand::Check { files } => {
            let mut bad = 0;
            for file in &files {
                match Profile::from_file(file) {
                    Ok(p) => println!("ok: {} (profile `{}`)", file.display(), p.name),
                    Err(e) => {
                        bad += 1;
                        eprintln!("error: {e}");
                    }
                }
            }
            if bad > 0 {
                Err(Failure::usage(format!(
                    "{bad} of {} profile(s) invalid",
                    files.len()
                )))
            } else {
                Ok(Exit::Success)
            }
        }
    }
}

/// A profile's effective settings, as `profile show` and chat's `/profile`
/// print them.
pub(super) fn print_profile(p: &Profile) {
    println!("profile  {}", p.name);
    println!("source   {}", p.source);
    println!("sha256   {}", p.digest);
    if !p.description.is_empty() {
        println!("about    {}", p.description);
    }
    println!("grants:");
    if p.grants.is_empty() {
        println!("  (none: the skill sees no files)");
    }
    for g in &p.grants {
        println!(
            "  {:<24} {}",
            g.path.0.to_string(),
            if g.writable { "read-write" } else { "read" }
        );
    }
    let l = &p.limits;
    println!("limits:");
    println!("  wall-clock-seconds  {}", l.wall_clock_seconds);
    println!("  memory-mib          {}", l.memory_mib);
    println!("  max-bytes-read      {}", l.max_bytes_read);
    println!("  max-bytes-written   {}", l.max_bytes_written);
    println!("  max-output-bytes    {}", l.max_output_bytes);
    println!("  max-files-listed    {}", l.max_files_listed);
    println!("  max-denials         {}", l.max_denials);
    println!("  max-host-calls      {}", l.max_host_calls);
    if p.allows_writes() {
        println!("edits: {} (every change to a file)", p.edits.mode.as_str());
    }
    if p.commands.programs.is_empty() {
        println!("commands: none");
    } else {
        println!(
            "commands (no network; timeout {} s, output {} bytes):",
            p.commands.timeout_seconds, p.commands.max_output_bytes
        );
        for (program, mode) in &p.commands.programs {
            println!("  {program:<22} {}", mode.as_str());
        }
        let c = &p.commands;
        println!("  limits of one command:");
        println!("    max-processes        {}", c.limits.max_processes);
        println!("    memory-mib           {}", c.limits.memory_mib);
        println!("    cpu-seconds          {}", c.limits.cpu_seconds);
        println!("    max-file-mib         {}", c.limits.max_file_mib);
        println!("    max-open-files       {}", c.limits.max_open_files);
        println!("    tmp-mib              {}", c.limits.tmp_mib);
        println!("    max-snapshot-mib     {}", c.max_snapshot_mib);
        println!("    max-scratch-mib      {}", c.max_scratch_mib);
        if c.scratch.is_empty() {
            println!("    scratch              none");
        } else {
            println!(
                "    scratch              {}",
                c.scratch.patterns().join(" ")
            );
        }
    }
    let i = &p.inference;
    if i.models.is_empty() {
        println!("inference: none");
    } else {
        println!("inference (per run):");
        println!("  models                 {}", i.models.join(", "));
        for (role, model) in &i.roles {
            println!("  roles.{role:<16} {model}");
        }
        println!("  max-calls              {}", i.max_calls);
        println!("  max-prompt-tokens      {}", i.max_prompt_tokens);
        println!("  max-completion-tokens  {}", i.max_completion_tokens);
        println!("  default-max-tokens     {}", i.default_max_tokens);
        println!("  max-call-seconds       {}", i.max_call_seconds);
    }
    println!("deny-list (built-in, then the profile's):");
    println!("  {}", p.deny_list().patterns().join(" "));
    println!("never writable: .git/, .airlock/, Airlock's state directory");
    println!("network: never");
}
