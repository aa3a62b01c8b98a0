//! One module per subcommand.

mod audit;
mod inspect;
mod model;
mod plugin;
mod policy;
mod profile;
mod run;
mod trust;

use crate::cli::{Cli, Command};
use crate::exit::{Exit, Failure};
use airlock_runtime::Airlock;
use std::path::PathBuf;

pub fn dispatch(cli: Cli) -> Result<Exit, Failure> {
    let home = cli.home.clone().or_else(airlock_runtime::default_home);
    match cli.command {
        Command::Run(args) => run::run(args, home, cli.config.as_deref()),
        Command::Inspect(args) => inspect::inspect(args, home),
        Command::Profile(cmd) => profile::profile(cmd),
        Command::Model(cmd) => model::model(cmd, home, cli.config),
        Command::Plugin(cmd) => plugin::plugin(cmd, home),
        Command::Trust(cmd) => trust::trust(cmd, home),
        Command::Policy(cmd) => policy::policy(cmd),
        Command::Audit(cmd) => audit::audit(cmd, home, cli.config),
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
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
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
