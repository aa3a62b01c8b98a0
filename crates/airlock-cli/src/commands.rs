//! One module per subcommand.

// Ambient std::fs allowed: files the user names (covers every commands/* module).
#![allow(clippy::disallowed_methods)]

mod audit;
pub mod bundle;
pub mod chat;
pub mod doctor;
mod inspect;
mod live;
pub mod mcp;
mod model;
mod plugin;
mod policy;
mod profile;
mod run;
mod trust;
mod undo;

use crate::cli::{Cli, Command};
use crate::exit::{Exit, Failure};
use airlock_runtime::Airlock;
use airlock_session::admin::{self, AdminAction};
use airlock_session::launch::{self, CompileProgress, Launcher};
use std::path::PathBuf;

pub fn dispatch(cli: Cli) -> Result<Exit, Failure> {
    let home = cli.home.clone().or_else(airlock_runtime::default_home);
    let admin = admin_action(&cli.command);
    let config = cli.config.clone();
    let result = run_command(cli, home.clone());
    match (admin, &result) {
        (Some(action), Ok(Exit::Success)) => {
            admin::record(home.as_deref(), config.as_deref(), &action)?;
            result
        }
        _ => result,
    }
}

/// The changes to what this machine trusts and runs (plugins, publisher
/// keys, models), which the audit log records once they succeed.
fn admin_action(command: &Command) -> Option<AdminAction> {
    use crate::cli::{ModelCommand as M, PluginCommand as P, TrustCommand as T};
    use serde_json::json;
    let file_digest = |path: &std::path::Path| {
        std::fs::read(path)
            .ok()
            .map(|b| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b)))
    };
    let (action, details) = match command {
        Command::Plugin(P::Install {
            package, profile, ..
        }) => (
            "plugin install",
            json!({ "package": package, "package-sha256": file_digest(package), "profile": profile }),
        ),
        Command::Plugin(P::Remove { name }) => ("plugin remove", json!({ "name": name })),
        Command::Trust(T::Add { name, key, .. }) => (
            "trust add",
            json!({ "name": name, "key-file": key, "key-file-sha256": file_digest(key) }),
        ),
        Command::Trust(T::Remove { name }) => ("trust remove", json!({ "name": name })),
        Command::Model(M::Add {
            file,
            name,
            replace,
            ..
        }) => (
            "model add",
            json!({ "file": file, "name": name, "replace": replace }),
        ),
        Command::Model(M::Pin {
            name,
            ollama,
            replace,
            ..
        }) => (
            "model pin",
            json!({ "name": name, "ollama": ollama, "replace": replace }),
        ),
        Command::Model(M::Remove { name }) => ("model remove", json!({ "name": name })),
        _ => return None,
    };
    Some(AdminAction {
        action: action.to_string(),
        details,
    })
}

/// Record an admin action the command records itself, before it changes
/// anything (a publisher transfer): one that cannot be recorded is not done.
fn record_admin(
    home: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
    action: &str,
    details: serde_json::Value,
) -> Result<(), Failure> {
    let action = AdminAction {
        action: action.to_string(),
        details,
    };
    Ok(admin::record(home, config, &action)?)
}

fn run_command(cli: Cli, home: Option<PathBuf>) -> Result<Exit, Failure> {
    match cli.command {
        Command::Run(args) => run::run(args, home, cli.config.as_deref()),
        Command::Inspect(args) => inspect::inspect(args, home),
        Command::Profile(cmd) => profile::profile(cmd),
        Command::Model(cmd) => model::model(cmd, home, cli.config),
        Command::Plugin(cmd) => plugin::plugin(cmd, home, cli.config.as_deref()),
        Command::Trust(cmd) => trust::trust(cmd, home),
        Command::Policy(cmd) => policy::policy(cmd),
        Command::Audit(cmd) => audit::audit(cmd, home, cli.config),
        Command::Undo(args) => undo::undo(args, home, cli.config),
        Command::Chat(args) => chat::chat(args, home, cli.config.as_deref()),
        Command::Mcp(args) => mcp::mcp(args, home, cli.config.as_deref()),
        Command::Bundle(cmd) => bundle::bundle(cmd, home, cli.config.as_deref()),
        Command::Doctor(args) => doctor::doctor(&args, home.as_deref(), cli.config.as_deref()),
    }
}

/// Start the host, with its cache in `home` when there is one.
fn start(home: Option<&PathBuf>) -> Result<Airlock, Failure> {
    if home.is_none() {
        tracing::warn!(
            "no home directory ($AIRLOCK_HOME or $HOME): running without a compile cache"
        );
    }
    Ok(Airlock::new(home.map(PathBuf::as_path))?)
}

/// A single-threaded async runtime for one command.
fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    started(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    )
}

/// An async runtime with two workers, for sessions that watch something
/// (Ctrl-C, a client's messages) while a skill runs.
fn session_runtime() -> Result<tokio::runtime::Runtime, Failure> {
    started(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build(),
    )
}

fn started(
    rt: std::io::Result<tokio::runtime::Runtime>,
) -> Result<tokio::runtime::Runtime, Failure> {
    rt.map_err(|e| {
        Failure::new(
            Exit::Internal,
            format!("cannot start the async runtime: {e}"),
        )
    })
}

/// Compile with a spinner on a terminal while a new component is compiled.
fn compile(
    airlock: &Airlock,
    path: &std::path::Path,
) -> Result<airlock_runtime::skill::Compiled, Failure> {
    Ok(launch::compile(airlock, path, &Spinner::new())?)
}

/// A spinner on stderr while a component compiles; nothing when the compile
/// cache has it.
struct Spinner(indicatif::ProgressBar);

impl Spinner {
    fn new() -> Self {
        Self(indicatif::ProgressBar::hidden())
    }
}

impl CompileProgress for Spinner {
    fn compiling(&self, path: &std::path::Path, digest: &str) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let spinner = &self.0;
        spinner.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        spinner.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        spinner.set_message(format!(
            "compiling {name} (sha256 {}…) for this machine; the result is cached",
            &digest[..12.min(digest.len())]
        ));
        spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    }

    fn warning(&self, warning: &str) {
        eprintln!("warning: {warning}");
    }

    fn done(&self) {
        self.0.finish_and_clear();
    }
}

/// Record a refusal the command itself made (exit 3, such as the admin
/// policy's `[mcp]` gate) in the audit log, as the session records its own;
/// other failures pass. A refusal that cannot be recorded is exit 6.
fn refused(launcher: &Launcher, skill: &str, failure: Failure) -> Failure {
    if failure.code() != Exit::Refused {
        return failure;
    }
    match launcher.record_refusal(skill, &failure.to_string()) {
        Ok(()) => failure,
        Err(e) => launch::LaunchError::Audit(e).into(),
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot encode JSON: {e}")))
}
