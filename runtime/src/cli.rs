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
  airlock model add ~/models/SmolLM2-135M-Instruct.Q4_1.gguf --name smollm2
  airlock model list

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

    /// Airlock's configuration file: inference engine, endpoint, per-model
    /// settings [default: $XDG_CONFIG_HOME/airlock/config.toml, else
    /// ~/.config/airlock/config.toml; a missing default file means the
    /// embedded engine with default settings].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

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
    /// Manage the local model store: add GGUF files, pin Ollama models,
    /// list, show, verify and remove them. Nothing is ever downloaded.
    #[command(subcommand, after_help = MODEL_HELP)]
    Model(ModelCommand),
}

const MODEL_HELP: &str = "\
Skills reach only models pinned here, by sha256. GGUF files are copied into
the store, $AIRLOCK_HOME/models/ (owner-only, files read-only), and pinned in
$AIRLOCK_HOME/models.lock. Airlock never downloads a model: bring the file
across the air gap yourself (check its sha256 against the publisher's), then
add it. Before each run the stored file is checked against the lock; a file
that changed is refused. docs/models.md has the details.

Examples:
  airlock model add /media/usb/SmolLM2-135M-Instruct.Q4_1.gguf --name smollm2
  airlock model list
  airlock model show smollm2
  airlock model verify
  airlock model pin llama3.2 --ollama llama3.2:1b
  airlock model remove smollm2

Exit codes:
  0   success
  2   usage error: bad name, unknown model, not a GGUF file, unreadable file
      or configuration
  3   `verify`: a model drifted or its file is missing (a run would refuse it)
  70  internal error in Airlock";

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Copy a GGUF file into the store and pin it by sha256.
    #[command(after_help = "\
The file must be GGUF (llama.cpp's format) and readable by Airlock's
llama.cpp. It is copied (never moved) into $AIRLOCK_HOME/models/ under its
digest, made read-only, and pinned in $AIRLOCK_HOME/models.lock. Nothing is
downloaded: copy the file onto this machine first. Adding the same file under
the same name again changes nothing.

Examples:
  airlock model add SmolLM2-135M-Instruct.Q4_1.gguf
      (name: smollm2-135m-instruct.q4_1, the file name lower-cased)
  airlock model add /media/usb/qwen2.5-coder-1.5b-q4_k_m.gguf --name coder
  airlock model add new-build.gguf --name coder --replace")]
    Add {
        /// The GGUF file to add.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// The name skills and the configuration use [default: the file
        /// name without .gguf, lower-cased]. Lowercase letters, digits, `.`,
        /// `_` and `-`.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Replace a different model already pinned under this name (its
        /// stored file is deleted if no other name uses it).
        #[arg(long)]
        replace: bool,
        /// Print the new lock entry as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pin a model that Ollama serves, by the digest Ollama reports now.
    #[command(after_help = "\
Asks the Ollama server on this machine (engine.endpoint in the configuration
when engine.backend = \"ollama\", else http://127.0.0.1:11434) for the
model's digest and pins it. Before each run with the ollama engine, Airlock
checks that Ollama still has exactly that digest. Pull the model into Ollama
first (`ollama pull` on a connected machine, or copy Ollama's model folder).

Example:
  airlock model pin llama3.2 --ollama llama3.2:1b")]
    Pin {
        /// Airlock's name for the model.
        #[arg(value_name = "NAME")]
        name: String,
        /// Ollama's name for it (`llama3.2:1b`; without a tag, `:latest`).
        #[arg(long, value_name = "MODEL", required = true)]
        ollama: String,
        /// Replace a different model already pinned under this name.
        #[arg(long)]
        replace: bool,
        /// Print the new lock entry as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the pinned models: name, kind, size and sha256.
    #[command(after_help = "Example:\n  airlock model list --json | jq -r '.[].name'")]
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show a model: architecture, parameters, quantization, context length,
    /// license, chat template and every GGUF metadata key.
    #[command(after_help = "\
Reads only the stored file's header (the weights are not loaded). The file is
checked against the lock first; a drifted file is refused, not read.

Example:
  airlock model show smollm2")]
    Show {
        /// The model's name (see `airlock model list`).
        #[arg(value_name = "NAME")]
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Hash stored models again and compare them with the lock.
    #[command(after_help = MODEL_VERIFY_HELP)]
    Verify {
        /// Only this model [default: every model].
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Unpin a model and delete its stored file (unless another name uses it).
    #[command(after_help = "Example:\n  airlock model remove smollm2")]
    Remove {
        /// The model's name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

const MODEL_VERIFY_HELP: &str = "\
Every run already checks its model cheaply (the file's size, times and inode
against the lock) and hashes it in full when any of them changed. `verify`
hashes every stored GGUF file in full regardless. Ollama models are checked
against Ollama at run time, not here.

Examples:
  airlock model verify
  airlock model verify smollm2 --json

Exit codes:
  0   every model checked is intact
  2   usage error (unknown model, unreadable lock)
  3   a model drifted (its file's sha256 differs from the lock) or its file is
      missing or unreadable: a run would refuse it";

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
