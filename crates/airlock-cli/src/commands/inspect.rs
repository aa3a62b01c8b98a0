//! `airlock inspect`.

use super::{compile, runtime, start, to_json};
use crate::cli::InspectArgs;
use crate::exit::{Exit, Failure};
use std::path::PathBuf;

pub fn inspect(args: InspectArgs, home: Option<PathBuf>) -> Result<Exit, Failure> {
    let airlock = start(home.as_ref())?;
    let compiled = compile(&airlock, &args.skill)?;
    let interface = compiled.interface(airlock.engine());
    let path = compiled.path.display().to_string();
    let digest = compiled.digest.clone();
    let size = compiled.size;
    let (verdict, description, code) = match airlock.prepare(compiled) {
        Err(e) => (Err(e.to_string()), None, Exit::from(&e)),
        Ok(skill) => match runtime()?.block_on(airlock.describe(&skill)) {
            Ok(desc) => (Ok(()), Some(desc), Exit::Success),
            Err(e) => (
                Err(format!("describe() failed: {e}")),
                None,
                Exit::SkillFailed,
            ),
        },
    };
    if args.json {
        let value = serde_json::json!({
            "path": path,
            "sha256": digest,
            "size": size,
            "imports": interface.imports,
            "exports": interface.exports,
            "runnable": verdict.is_ok(),
            "refusal": verdict.as_ref().err(),
            "describe": description,
        });
        println!("{}", to_json(&value)?);
        return Ok(code);
    }
    println!("{path}");
    println!("  sha256  {digest}");
    println!("  size    {size} bytes");
    println!("Imports:");
    for import in &interface.imports {
        let mark = if import.starts_with("wasi:sockets/") || import.starts_with("wasi:http/") {
            "  <- network: never granted"
        } else {
            ""
        };
        println!("  {import}{mark}");
    }
    println!("Exports:");
    for export in &interface.exports {
        println!("  {export}");
    }
    if let Some(desc) = &description {
        println!("Describes itself as (describe() called with no grants):");
        // All of it is the skill's own word: shown, never obeyed.
        let line = airlock_runtime::terminal::line;
        println!("  name     {} {}", line(&desc.name), line(&desc.version));
        println!("  summary  {}", line(&desc.summary));
        println!("  built for airlock:skill@{}", line(&desc.wit_version));
        println!(
            "  requests {}",
            if desc.capabilities.is_empty() {
                "nothing".into()
            } else {
                line(&desc.capabilities.join(", ")).into_owned()
            }
        );
    }
    match &verdict {
        Ok(()) => println!("Verdict: runnable"),
        Err(why) => println!("Verdict: REFUSED\n  {why}"),
    }
    Ok(code)
}
