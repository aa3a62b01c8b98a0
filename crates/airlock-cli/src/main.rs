//! The `airlock` command. Parses arguments, runs one subcommand, prints errors
//! with their context and exits with a code that means something (see
//! `airlock --help`).

use clap::Parser;
use std::process::ExitCode;

mod cli;
mod commands;
mod exit;
mod tty_approver;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_tracing(args.verbose);
    match commands::dispatch(args) {
        Ok(code) => code.into(),
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.code().into()
        }
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("AIRLOCK_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("airlock={level},airlock_runtime={level}"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}
