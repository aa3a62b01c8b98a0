//! The slash commands: `/help`, `/model`, `/profile`, `/undo`, `/audit`,
//! `/history`, `/clear`, `/exit`.

use super::{Session, check_model};
use crate::cli::{AuditFilter, AuditShowArgs};
use crate::exit::Failure;
use airlock_runtime::undo::{self, UndoError};

/// What the session does after a command.
pub enum Next {
    Continue,
    Exit,
}

/// The commands, for `/help` and for an unknown one.
const COMMANDS: &[(&str, &str)] = &[
    ("/help", "these commands"),
    (
        "/model [NAME]",
        "the models the profile grants; with NAME, use it from the next turn",
    ),
    (
        "/profile",
        "the profile in use: grants, edits, commands, inference budget",
    ),
    (
        "/undo [--force]",
        "undo the last turn that changed files (refused if a file changed since)",
    ),
    ("/audit [--full]", "the audit trail of the last turn's run"),
    ("/history", "the conversation so far"),
    (
        "/clear",
        "forget the conversation: the next turn starts afresh",
    ),
    ("/exit", "end the session (or Ctrl-D)"),
];

fn list_commands() {
    for (name, what) in COMMANDS {
        println!("  {name:<17} {what}");
    }
}

/// Run the slash command `text` (without its `/`). Only an audit failure
/// ends the session with an error.
pub fn run(session: &mut Session, text: &str) -> Result<Next, Failure> {
    let mut words = text.split_whitespace();
    let name = words.next().unwrap_or_default();
    let rest: Vec<&str> = words.collect();
    match (name, rest.as_slice()) {
        ("help" | "?", []) => {
            println!("Type a message to run a turn. Commands:");
            list_commands();
            println!(
                "A line ending in \\ continues the message; \"\"\" on its own line starts and ends a block.\n\
                 Ctrl-C cancels a running turn (at the prompt it clears the line); //text sends \"/text\".\n\
                 More: `airlock chat --help`."
            );
        }
        ("exit" | "quit", []) => return Ok(Next::Exit),
        ("model", []) => show_models(session),
        ("model", [model]) => match check_model(model, session.granted_models()) {
            Ok(()) => {
                session.model = Some((*model).to_string());
                println!("The next turns use the model `{model}`.");
            }
            Err(e) => eprintln!("error: {e}"),
        },
        ("profile", []) => show_profile(session),
        ("undo", []) => undo_last(session, false)?,
        ("undo", ["--force"]) => undo_last(session, true)?,
        ("audit", []) => show_audit(session, false),
        ("audit", ["--full"]) => show_audit(session, true),
        ("history", []) => show_history(session),
        ("clear", []) => {
            let n = session.exchanges.len();
            session.exchanges.clear();
            session.restart_inference();
            println!(
                "Forgot {n} turn(s): the next message starts a new conversation. (/undo and /audit still reach this session's runs.)"
            );
        }
        (
            "help" | "?" | "exit" | "quit" | "model" | "profile" | "undo" | "audit" | "history"
            | "clear",
            _,
        ) => {
            eprintln!("`/{text}`: unexpected arguments. The commands are:");
            list_commands();
        }
        _ => {
            eprintln!(
                "unknown command `/{name}`. The commands are (//text sends \"/text\" as a message):"
            );
            list_commands();
        }
    }
    Ok(Next::Continue)
}

fn show_models(session: &Session) {
    let granted = session.granted_models();
    if granted.is_empty() {
        println!(
            "The profile `{}` grants no model.",
            session.prepared.profile.name
        );
        return;
    }
    let current = session.model.as_deref().unwrap_or(&granted[0]);
    let digests = session.prepared.models.as_ref().map(|m| &m.models);
    println!(
        "Models the profile `{}` grants:",
        session.prepared.profile.name
    );
    for (i, name) in granted.iter().enumerate() {
        let digest = digests
            .and_then(|specs| specs.iter().find(|s| &s.name == name))
            .map(|s| format!("  ({}…)", s.digest.get(..19).unwrap_or(&s.digest)))
            .unwrap_or_default();
        let marker = if name == current { "*" } else { " " };
        let default = if i == 0 { "  default" } else { "" };
        println!("{marker} {name}{digest}{default}");
    }
    println!("`/model NAME` picks one for the next turns.");
}

fn show_profile(session: &Session) {
    // Each turn is one run under this profile, so its limits are per turn.
    super::super::profile::print_profile(&session.prepared.profile);
}

fn show_history(session: &Session) {
    if session.exchanges.is_empty() {
        println!("No turns yet.");
        return;
    }
    for (i, e) in session.exchanges.iter().enumerate() {
        // The answer is the model's, and what the user pasted may hold
        // escapes too: both are shown, not obeyed.
        let head = format!("[{}] you: ", i + 1);
        println!(
            "{head}{}",
            indent(&airlock_runtime::terminal::text(&e.user), head.len())
        );
        println!(
            "    agent: {}",
            indent(&airlock_runtime::terminal::text(e.assistant.trim_end()), 11)
        );
        println!("    (run {})", e.run_id);
    }
}

/// `text`'s second and later lines indented by `width` (blank ones left blank).
fn indent(text: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 || line.trim().is_empty() {
                line.trim_end().to_string()
            } else {
                format!("{pad}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn show_audit(session: &Session, full: bool) {
    let Some(run) = session.runs.last() else {
        println!("No turn has run yet in this session.");
        return;
    };
    let args = AuditShowArgs {
        filter: AuditFilter {
            run: Some(run.clone()),
            since: None,
            skill: None,
        },
        full,
        limit: 0,
        json: false,
    };
    let dir = airlock_runtime::audit::audit_dir(&session.launcher.home);
    if let Err(e) = super::super::audit::show(&dir, &args) {
        eprintln!("error: {e}");
    }
}

/// Undo the newest run of this session that changed files and is not
/// undone yet; nothing is touched if a file changed since (unless `force`).
fn undo_last(session: &Session, force: bool) -> Result<(), Failure> {
    let home = &session.launcher.home;
    for run in session.runs.iter().rev() {
        // A run with no undo record changed nothing.
        if undo::find(home, run).is_err() {
            continue;
        }
        let restored = match undo::undo(home, run, force) {
            Ok(restored) => restored,
            Err(UndoError::AlreadyUndone(_) | UndoError::Unknown(_)) => continue,
            Err(UndoError::Conflict { run, path }) => {
                eprintln!(
                    "error: {path} has changed since run {run} wrote it; nothing was undone (`/undo --force` puts the old content back anyway)"
                );
                return Ok(());
            }
            Err(e) => {
                eprintln!("error: cannot undo run {run}: {e}");
                return Ok(());
            }
        };
        super::super::undo::record(&session.launcher.audit, run, force, &restored)?;
        for r in &restored {
            println!(
                "{:<9} {}",
                r.action,
                airlock_runtime::terminal::line(&r.path)
            );
        }
        println!("Undid run {run}: {} change(s).", restored.len());
        return Ok(());
    }
    println!("No turn of this session changed a file that is not undone already.");
    Ok(())
}
