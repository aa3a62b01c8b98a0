//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  airlock run plugins/secret-scan.wasm --workspace ~/src/project
  airlock run secret-scan.wasm -w . --arg format=sarif > findings.sarif
  airlock run repo-map.wasm -w . --profile locked-down --json | jq .output
  airlock inspect some-skill.wasm
  airlock profile show read-only

Exit codes:
  0   success
  1   the skill ran and failed (returned an error or crashed)
  2   usage error: bad arguments, invalid profile, missing or unreadable file
  3   refused by policy before running (network import, unsupported import or WIT version)
  4   a limit stopped the skill (deadline, memory, output, bytes read or written)
  5   the skill reported findings at or above --fail-on
  70  internal error in Airlock

Skills never get network access. They see only the workspace paths their
sandbox profile grants, minus a deny-list of secrets (.env, keys, credentials)
that no profile can lift. State (the compile cache) lives in $AIRLOCK_HOME,
else $XDG_STATE_HOME/airlock, else ~/.local/state/airlock.";

/// Airlock runs agent skills as sandboxed WebAssembly components on an
/// air-gapped machine: no network, only the files a profile grants.
#[derive(Debug, Parser)]
#[command(name = "airlock", version, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// More diagnostics on stderr (-v, -vv, -vvv). AIRLOCK_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Airlock's state directory [env: AIRLOCK_HOME].
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a skill component over a workspace, under a sandbox profile.
    #[command(
        after_help = "The skill's output goes to stdout; progress, denials and the summary go to stderr.\n\
With --json, one JSON object (the run report, or the failure) goes to stdout."
    )]
    Run(RunArgs),
    /// Show what a component imports and exports and what it asks for, and
    /// whether Airlock would run it. Never calls the skill's `run`.
    Inspect(InspectArgs),
    /// List, show and check sandbox profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The skill: a path to a WebAssembly component (.wasm).
    #[arg(value_name = "SKILL")]
    pub skill: PathBuf,

    /// The workspace the skill works on.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub workspace: PathBuf,

    /// A built-in profile name (read-only, workspace-write, locked-down) or a
    /// path to a profile .toml file.
    #[arg(short, long, value_name = "NAME|FILE", default_value = "read-only")]
    pub profile: String,

    /// Free-text input for the skill.
    #[arg(short, long, value_name = "TEXT")]
    pub input: Option<String>,

    /// A structured argument for the skill (repeatable), e.g. --arg format=sarif.
    #[arg(short, long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,

    /// Print one JSON object (the run report) on stdout instead of text.
    #[arg(long)]
    pub json: bool,

    /// Exit with code 5 when the skill reports a finding at or above this severity.
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,

    /// Print only the skill's output: no live events, no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The component to inspect.
    #[arg(value_name = "SKILL")]
    pub skill: PathBuf,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the built-in profiles.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show a profile's effective settings, defaults filled in.
    Show {
        /// A built-in name or a .toml file.
        #[arg(value_name = "NAME|FILE")]
        profile: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check profile files; report every error with file, line and key.
    Check {
        /// Profile files to check.
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum SeverityArg {
    Note,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityArg {
    pub fn rank_of(severity: &str) -> Option<Self> {
        Self::from_str(severity, true).ok()
    }
}

fn parse_key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "`{raw}` is not KEY=VALUE (for example --arg format=json)"
        )),
    }
}
