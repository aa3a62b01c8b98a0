//! `airlock chat`: an interactive session with the coding agent.
//!
//! Each message is one turn: one audited run of the skill in a fresh
//! sandbox ([`Launcher::execute`]), with the message as its input and the
//! conversation so far as its `history` argument. The session keeps the
//! turns (for `history`), the run ids (for `/undo` and `/audit`) and the
//! chosen model; the skill keeps nothing between turns. The turns' model
//! calls share one inference session ([`Session::inference`]), so the
//! embedded engine reads only what each turn's prompt adds to the last; the
//! session ends (and the engine frees its context) with `/clear` and when
//! the chat ends.

mod input;
mod slash;
mod turn;

use crate::exit::{Exit, Failure};
use airlock_runtime::inference::SessionKey;
use airlock_session::{Launcher, Prepared, SkillSpec};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub const HELP: &str = "\
Each message you type is one turn: Airlock runs the skill once, in a fresh
sandbox, with your message as its input and the conversation so far as its
`history` argument (a JSON array of {\"user\", \"assistant\"} turns, oldest
first), and records the run in the audit log. The answer streams as the model
writes it. A change to a file is shown as a diff and made only after your yes
(the profile's [edits] mode decides); so is a command. After each turn a dim
line gives the turn's run id, its time and the model tokens it used.

Typing:
  Enter                send the message
  ... \\                a line ending in a backslash continues on the next line
  \"\"\"                  on a line of its own: starts a block, ended by another \"\"\"
  Up, Down             earlier lines of this session
  Ctrl-C               at the prompt: clears the line; during a turn: cancels
                       the turn (the model's answer is dropped; the session
                       goes on, and the cancelled run is in the audit log)
  Ctrl-D, /exit        ends the session
  //text               sends \"/text\" as a message

Commands:
  /help                these commands
  /model [NAME]        the models the profile grants; with NAME, use that one
                       from the next turn on (passed to the skill as model=NAME)
  /profile             the profile in use: grants, edits, commands, inference budget
  /undo [--force]      undo the last turn that changed files, as `airlock undo`
                       does: refused if a file changed since, unless --force
  /audit [--full]      the audit trail of the last turn's run
                       (as `airlock audit show --run ID`)
  /history             the conversation so far
  /clear               forget the conversation: the next turn starts afresh
  /exit                end the session

Examples:
  airlock chat -w ~/src/project
  airlock chat -w . --profile coder --model smollm2
  # a component you are building, unsigned:
  airlock chat -w . --skill target/wasm32-wasip2/release/coder.wasm --allow-unsigned

Exit codes:
  0   the session ended (Ctrl-D or /exit), whatever its turns did
  2   usage: a bad argument, workspace, profile or model; `coder` not installed
  3   refused at start (signature, trust, admin policy, incompatible skill), or
      the plugin was removed, replaced or distrusted during the session
  6   the audit log could not be written: no turn runs unrecorded";

/// The skill `airlock chat` talks to unless told otherwise.
const DEFAULT_SKILL: &str = "coder";

/// Argument keys the session sets on every turn itself.
const RESERVED_ARGS: &[&str] = &["history", "model"];

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The workspace the agent works on.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub workspace: PathBuf,
    /// The skill to talk to: an installed plugin's name, or a component's
    /// path (with --allow-unsigned).
    #[arg(long, value_name = "NAME|PATH", default_value = DEFAULT_SKILL)]
    pub skill: PathBuf,
    /// Run a component from a path although no signature vouches for it
    /// (while developing it).
    #[arg(long)]
    pub allow_unsigned: bool,
    /// The sandbox profile: a built-in or admin-installed profile's name,
    /// or a file's path such as ./p.toml (a bare name is never read from the
    /// current directory) [default: the plugin's reviewed profile].
    #[arg(short, long, value_name = "NAME|PATH")]
    pub profile: Option<String>,
    /// The model to use, one the profile grants [default: the profile's
    /// first]; `/model` changes it during the session.
    #[arg(short, long, value_name = "NAME")]
    pub model: Option<String>,
    /// A further argument passed to the skill on every turn (repeatable),
    /// e.g. --arg max-tokens=256.
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,
}

fn parse_key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((k, _)) if RESERVED_ARGS.contains(&k) => Err(format!(
            "`{k}` is set by the session itself (use --model or /model for the model)"
        )),
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "`{raw}` is not KEY=VALUE (for example --arg max-tokens=256)"
        )),
    }
}

/// One turn of the conversation, as the skill sees it next time.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// What the user typed.
    pub user: String,
    /// The turn's output text, or a short note when it failed or was
    /// cancelled.
    pub assistant: String,
    /// The turn's run.
    pub run_id: String,
}

/// Everything one session holds.
pub(crate) struct Session {
    pub launcher: Launcher,
    pub prepared: Prepared,
    pub rt: tokio::runtime::Runtime,
    /// The model chosen with --model or /model (sent as `model=NAME`).
    pub model: Option<String>,
    /// `--arg` pairs, sent on every turn before the session's own.
    pub extra_args: Vec<(String, String)>,
    /// The conversation (what `/clear` forgets).
    pub exchanges: Vec<Exchange>,
    /// Every run of this session, oldest first (what `/undo` and `/audit`
    /// reach, also after `/clear`).
    pub runs: Vec<String>,
    /// Turns run so far (numbering goes on after `/clear`).
    pub turns: usize,
    /// Whether a person can be asked (stdin is a terminal).
    pub interactive: bool,
    /// Ctrl-C during a turn.
    pub interrupts: turn::Interrupts,
    /// The inference session every turn's run continues.
    pub inference: SessionKey,
}

impl Session {
    /// End the inference session (the engine frees what it kept) and start
    /// a new one for the next turns.
    pub fn restart_inference(&mut self) {
        let ended = std::mem::replace(&mut self.inference, SessionKey::new());
        self.end_inference(&ended);
    }

    fn end_inference(&self, key: &SessionKey) {
        if let Some(models) = &self.prepared.models {
            models.backend.end_session(key);
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.end_inference(&self.inference);
    }
}

impl Session {
    /// The history argument: the previous turns, oldest first.
    pub fn history_json(&self) -> String {
        let turns: Vec<serde_json::Value> = self
            .exchanges
            .iter()
            .map(|e| serde_json::json!({ "user": e.user, "assistant": e.assistant }))
            .collect();
        serde_json::Value::Array(turns).to_string()
    }

    /// The models this session may pick, in the profile's order.
    pub fn granted_models(&self) -> &[String] {
        &self.prepared.profile.inference.models
    }
}

pub fn chat(args: ChatArgs, home: Option<PathBuf>, config: Option<&Path>) -> Result<Exit, Failure> {
    let launcher = Launcher::open(home.as_deref(), config)?;
    if args.skill == Path::new(DEFAULT_SKILL) && !args.skill.is_file() {
        let store = airlock_trust::store::PluginStore::open(&launcher.home);
        if store.versions(DEFAULT_SKILL).is_empty() {
            return Err(Failure::usage(format!(
                "the coding agent `{DEFAULT_SKILL}` is not installed. Install its signed package \
                 (as an officer would, after reviewing what it requests) with\n  \
                 airlock plugin install {DEFAULT_SKILL}-0.1.0.airlock --profile {DEFAULT_SKILL}\n\
                 (see `airlock plugin list`), or talk to a component you are building with\n  \
                 airlock chat --skill PATH/TO/{DEFAULT_SKILL}.wasm --allow-unsigned"
            )));
        }
    }
    let spec = SkillSpec {
        skill: args.skill.clone(),
        allow_unsigned: args.allow_unsigned,
        profile: args.profile.clone(),
        workspace: args.workspace.clone(),
    };
    // Several threads: the skill runs on one while Ctrl-C is watched.
    let rt = super::session_runtime()?;
    let prepared = rt.block_on(launcher.prepare(&spec, &super::Spinner::new()))?;
    let granted = &prepared.profile.inference.models;
    if let Some(model) = &args.model {
        check_model(model, granted)?;
    }
    let interactive = std::io::stdin().is_terminal();
    let interrupts = turn::Interrupts::install(interactive);
    let mut session = Session {
        launcher,
        prepared,
        rt,
        model: args.model.clone(),
        extra_args: args.args.clone(),
        exchanges: Vec::new(),
        runs: Vec::new(),
        turns: 0,
        interactive,
        interrupts,
        inference: SessionKey::new(),
    };
    banner(&session);
    let mut reader = input::Reader::new().map_err(|e| {
        Failure::new(
            Exit::Internal,
            format!("cannot read from the terminal: {e}"),
        )
    })?;
    loop {
        let entry = reader.next().map_err(|e| {
            Failure::new(
                Exit::Internal,
                format!("cannot read from the terminal: {e}"),
            )
        })?;
        match entry {
            input::Entry::Nothing => {}
            input::Entry::End => break,
            input::Entry::Slash(text) => match slash::run(&mut session, &text)? {
                slash::Next::Continue => {}
                slash::Next::Exit => break,
            },
            input::Entry::Message(message) => turn::run(&mut session, message)?,
        }
    }
    Ok(Exit::Success)
}

/// A model name the profile grants, or a usage error listing those it does.
pub(crate) fn check_model(model: &str, granted: &[String]) -> Result<(), Failure> {
    if granted.iter().any(|m| m == model) {
        return Ok(());
    }
    Err(Failure::usage(if granted.is_empty() {
        format!("the profile grants no model, so `{model}` cannot be used")
    } else {
        format!(
            "the profile does not grant a model named `{model}`; it grants {}",
            granted.join(", ")
        )
    }))
}

fn banner(session: &Session) {
    let p = &session.prepared;
    let signed = match &p.target.signer {
        Some(s) => format!("signed by {}", s.trusted_as),
        None => "unsigned".into(),
    };
    let model = session
        .model
        .as_deref()
        .or(p.profile.inference.models.first().map(String::as_str))
        .map(|m| format!(" · model {m}"))
        .unwrap_or_default();
    eprintln!(
        "airlock chat: {} ({signed}) · profile {} · workspace {}{model}",
        airlock_runtime::terminal::line(&p.name),
        airlock_runtime::terminal::line(&p.profile.name),
        airlock_runtime::terminal::line(&p.workspace.display().to_string())
    );
    eprintln!(
        "Each message is one audited run. /help lists the commands; Ctrl-C cancels a turn; Ctrl-D or /exit ends the session."
    );
}

/// Dim text for a terminal; plain elsewhere.
pub(crate) fn dim(text: &str) -> String {
    if std::io::stderr().is_terminal() {
        format!("\x1b[2m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_args_are_refused_and_others_parsed() {
        assert!(parse_key_value("history=[]").is_err());
        assert!(parse_key_value("model=x").is_err());
        assert!(parse_key_value("novalue").is_err());
        assert!(parse_key_value("=v").is_err());
        assert_eq!(
            parse_key_value("max-tokens=256=x"),
            Ok(("max-tokens".into(), "256=x".into()))
        );
    }

    #[test]
    fn a_model_must_be_granted() {
        let granted = vec!["smollm2".to_string()];
        assert!(check_model("smollm2", &granted).is_ok());
        let e = check_model("other", &granted).expect_err("not granted");
        assert_eq!(e.code(), Exit::Usage);
        assert!(e.to_string().contains("smollm2"), "{e}");
        assert!(check_model("x", &[]).is_err());
    }
}
