//! One module per subcommand.

mod audit;
pub mod chat;
mod inspect;
mod launch;
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
use std::path::PathBuf;

pub fn dispatch(cli: Cli) -> Result<Exit, Failure> {
    let home = cli.home.clone().or_else(airlock_runtime::default_home);
    let admin = admin_action(&cli.command);
    let config = cli.config.clone();
    let result = run_command(cli, home.clone());
    match (admin, &result) {
        (Some((action, details)), Ok(Exit::Success)) => {
            record_admin(home.as_deref(), config.as_deref(), &action, details)?;
            result
        }
        _ => result,
    }
}

/// The changes to what this machine trusts and runs (plugins, publisher
/// keys, models), which the audit log records once they succeed.
fn admin_action(command: &Command) -> Option<(String, serde_json::Value)> {
    use crate::cli::{ModelCommand as M, PluginCommand as P, TrustCommand as T};
    use serde_json::json;
    let file_digest = |path: &std::path::Path| {
        std::fs::read(path)
            .ok()
            .map(|b| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&b)))
    };
    Some(match command {
        Command::Plugin(P::Install {
            package, profile, ..
        }) => (
            "plugin install".into(),
            json!({ "package": package, "package-sha256": file_digest(package), "profile": profile }),
        ),
        Command::Plugin(P::Remove { name }) => ("plugin remove".into(), json!({ "name": name })),
        Command::Trust(T::Add { name, key, .. }) => (
            "trust add".into(),
            json!({ "name": name, "key-file": key, "key-file-sha256": file_digest(key) }),
        ),
        Command::Trust(T::Remove { name }) => ("trust remove".into(), json!({ "name": name })),
        Command::Model(M::Add {
            file,
            name,
            replace,
            ..
        }) => (
            "model add".into(),
            json!({ "file": file, "name": name, "replace": replace }),
        ),
        Command::Model(M::Pin {
            name,
            ollama,
            replace,
            ..
        }) => (
            "model pin".into(),
            json!({ "name": name, "ollama": ollama, "replace": replace }),
        ),
        Command::Model(M::Remove { name }) => ("model remove".into(), json!({ "name": name })),
        _ => return None,
    })
}

fn record_admin(
    home: Option<&std::path::Path>,
    config: Option<&std::path::Path>,
    action: &str,
    details: serde_json::Value,
) -> Result<(), Failure> {
    let not_recorded = |why: String| {
        Failure::new(
            Exit::Audit,
            format!(
                "`airlock {action}` was done, but could not be recorded in the audit log: {why}; fix the cause and check the log with `airlock audit verify`"
            ),
        )
    };
    let home = home.ok_or_else(|| not_recorded("no Airlock home".into()))?;
    let options = airlock_runtime::config::Config::load(config)
        .map(|c| c.audit)
        .map_err(|e| not_recorded(e.to_string()))?;
    let log = airlock_runtime::audit::AuditLog::open(home, options)
        .map_err(|e| not_recorded(e.to_string()))?;
    log.admin(action, details)
        .map_err(|e| not_recorded(e.to_string()))
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
    let spinner = indicatif::ProgressBar::hidden();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let on_compile = |digest: &str| {
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
    };
    let on_warning = |w: &str| eprintln!("warning: {w}");
    let compiled = airlock.compile(path, &on_compile, &on_warning);
    spinner.finish_and_clear();
    Ok(compiled?)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot encode JSON: {e}")))
}
