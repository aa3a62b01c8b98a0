//! Command-line arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Examples:
  airlock run secret-scan --workspace ~/src/project      (an installed plugin)
  airlock run secret-scan -w . --arg format=sarif > findings.sarif
  airlock run my-skill.wasm --allow-unsigned -w . --profile locked-down --json
  airlock plugin install secret-scan-0.1.0.airlock --profile read-only
  airlock inspect some-skill.wasm
  airlock profile show read-only
  airlock model add ~/models/SmolLM2-135M-Instruct.Q4_1.gguf --name smollm2
  airlock model list
  airlock run my-fixer.wasm --allow-unsigned -w . --profile workspace-write
      (each change is shown as a diff and made only after your yes)
  airlock undo 3f9a1c2b44e0                     (put back what that run changed)
  airlock audit show --since 1h                 (what ran, read, asked and changed)
  airlock audit verify

Exit codes:
  0   success
  1   the skill ran and failed (returned an error or crashed)
  2   usage error: bad arguments, invalid profile, missing or unreadable file
  3   refused by policy before running (network import, unsupported import or WIT
      version, bad or untrusted signature, modified plugin, unsigned component,
      a model whose file drifted from its pin, a profile over the admin policy,
      a plugin whose reviewed profile changed since the install review)
  4   a limit stopped the skill (deadline, memory, output, bytes read or written)
  5   the skill reported findings at or above --fail-on
  6   the audit log could not be written: nothing ran, or the run was stopped
  70  internal error in Airlock
  130 the run was cancelled (Ctrl-C)

Skills never get network access. They see only the workspace paths their
sandbox profile grants, minus a deny-list of secrets (.env, keys, credentials)
that no profile can lift. Every run is recorded in a tamper-evident audit
log (`airlock audit show`). State (the compile cache, the audit log) lives in $AIRLOCK_HOME,
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
    /// Show the admin policy in force (/etc/airlock/policy.toml, tightened
    /// by $AIRLOCK_POLICY_FILE) and where each value came from.
    #[command(subcommand, after_help = POLICY_HELP)]
    Policy(PolicyCommand),
    /// Signed plugin packages: keygen, new, pack and sign (publishers);
    /// install, list, show, verify and remove (officers).
    #[command(subcommand, after_help = PLUGIN_HELP)]
    Plugin(PluginCommand),
    /// The publisher keys this machine trusts to sign plugins.
    #[command(subcommand, after_help = TRUST_HELP)]
    Trust(TrustCommand),
    /// Put back the files a run changed, exactly as they were before it.
    #[command(after_help = UNDO_HELP)]
    Undo(UndoArgs),
    /// The audit trail: show runs, verify the log, export records and
    /// checkpoints for safekeeping elsewhere.
    #[command(subcommand, after_help = AUDIT_HELP)]
    Audit(AuditCommand),
    /// Talk to the coding agent (the `coder` skill) in a workspace: it reads
    /// the code, answers, and makes and tests changes after your yes.
    #[command(after_help = crate::commands::chat::HELP)]
    Chat(crate::commands::chat::ChatArgs),
    /// Serve installed skills as MCP tools over stdio, for agent front-ends
    /// (Claude Code, Continue, Cline, goose, Codex): each call runs sandboxed
    /// and audited.
    #[command(after_help = crate::commands::mcp::HELP)]
    Mcp(crate::commands::mcp::McpArgs),
    /// Check this installation's posture: the command sandbox, the admin
    /// policy, proxies, the engine, the state directory, trusted keys,
    /// plugins, models and the audit log; each green, amber or red with its
    /// fix. Changes nothing.
    #[command(after_help = crate::commands::doctor::HELP)]
    Doctor(crate::commands::doctor::DoctorArgs),
    /// Carry a release across the air gap: create a signed bundle (binary,
    /// profiles, plugins, keys, models), verify it, install it all or nothing.
    #[command(subcommand, after_help = crate::commands::bundle::HELP)]
    Bundle(crate::commands::bundle::BundleCommand),
}

const UNDO_HELP: &str = "\
Before a run changes a file, Airlock keeps the file's prior content in
$AIRLOCK_HOME/undo/RUN/. `airlock undo RUN` restores every file the run
wrote or removed (newest change first) and removes the files it created.
If a file changed again after the run, nothing is touched unless --force.
The run id is printed at the end of each run and listed by `airlock audit show`.

Examples:
  airlock undo 3f9a1c2b44e0
  airlock undo 3f9a --json

Exit codes:
  0   every change was undone
  2   unknown run, already undone, or a file changed since (nothing touched)
  6   the undo could not be recorded in the audit log";

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The run (its id, or a unique prefix of it).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Restore even files that changed after the run.
    #[arg(long)]
    pub force: bool,
    /// Print what was restored as JSON.
    #[arg(long)]
    pub json: bool,
}

const AUDIT_HELP: &str = "\
Every run is recorded in $AIRLOCK_HOME/audit/: who ran which skill (by
digest and signer) on which model (by digest), under which profile and
limits, every prompt and answer, every file read or changed, every denial,
log message and outcome. Records are hash-chained JSON Lines; a checkpoint
signed with an audit key (separate from plugin keys, replaced at every
checkpoint) seals the chain at the end of each run. If the log cannot be
written, the run stops. docs/audit.md has the schema and the guarantees.

Keep a copy of a checkpoint somewhere the workstation cannot write (another
machine, removable media): `airlock audit verify --checkpoint FILE` then also
detects a log rewritten or cut short by someone who held the audit key.

Examples:
  airlock audit show                          (the latest runs, folded)
  airlock audit show --run 3f9a1c --full      (one run, prompts expanded)
  airlock audit show --since 2h --skill explain --json
  airlock audit verify
  airlock audit checkpoint --export /media/usb/airlock-checkpoint.json
  airlock audit verify --checkpoint /media/usb/airlock-checkpoint.json
  airlock audit export --since 2026-11-01 -o november.jsonl
  airlock audit verify --export november.jsonl

Exit codes:
  0   success (verify: every record, link and checkpoint checked out)
  2   usage error: bad time, unknown run, unreadable file
  6   verify: the log (or export) failed verification; the first bad
      record is named. checkpoint: the log could not be written";

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Show recorded runs as a readable timeline (prompts and outputs
    /// folded; --full expands them).
    Show(AuditShowArgs),
    /// Check every record, the hash chain, every checkpoint signature (each
    /// against the key of its time) and the tail; report the first bad record.
    #[command(after_help = "\
Detects a modified, deleted, inserted or reordered record, a tail cut off
after the last checkpoint (against the head file and the audit key, and
against any checkpoint passed with --checkpoint), and a chain re-sealed with
a stolen current key. A record left unfinished by a crash is reported as a
warning, not tampering.

Examples:
  airlock audit verify
  airlock audit verify --checkpoint /media/usb/airlock-checkpoint.json --json
  airlock audit verify --export november.jsonl")]
    Verify {
        /// A checkpoint exported earlier with `audit checkpoint --export`;
        /// the log must still contain it, byte for byte. Repeatable.
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<std::path::PathBuf>,
        /// Verify an export file (from `audit export`) instead of the log.
        #[arg(long, value_name = "FILE")]
        export: Option<std::path::PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write records (JSON Lines, with the checkpoints that seal them) for a
    /// compliance system; `audit verify --export FILE` checks them offline.
    Export(AuditExportArgs),
    /// Seal a checkpoint now; with --export, write it to a file to keep
    /// elsewhere.
    Checkpoint {
        /// Write the checkpoint to FILE (refuses to overwrite).
        #[arg(long, value_name = "FILE")]
        export: Option<std::path::PathBuf>,
        /// Print the checkpoint as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Which runs: shared by `show` and `export`.
#[derive(Debug, Args)]
pub struct AuditFilter {
    /// Only this run (its id, or a unique prefix of it).
    #[arg(long, value_name = "ID")]
    pub run: Option<String>,
    /// Only runs that started at or after TIME: an RFC 3339 time or date
    /// (2026-11-26, 2026-11-26T09:00:00Z) or an age (30m, 2h, 7days).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only runs of this skill.
    #[arg(long, value_name = "NAME")]
    pub skill: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditShowArgs {
    #[command(flatten)]
    pub filter: AuditFilter,
    /// Show prompts, outputs and log messages in full.
    #[arg(long)]
    pub full: bool,
    /// Show at most this many runs (the latest) [default: 20; 0: all].
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Print the selected records as JSON Lines instead.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AuditExportArgs {
    #[command(flatten)]
    pub filter: AuditFilter,
    /// Write to FILE instead of stdout (refuses to overwrite).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<std::path::PathBuf>,
}

const POLICY_HELP: &str = "\
The admin policy is set by the machine's administrator in
/etc/airlock/policy.toml (owned by root, mode 644, in a directory only root
can write). User and project settings cannot loosen it. Its keys:
  allow-unsigned       whether unsigned components may run at all (default true)
  trusted-publishers   the only publisher key fingerprints that may be trusted
                       (default: any key in the trust store)
  profile-ceiling      the most any run's profile may grant: a built-in profile
                       or an absolute path (default: no ceiling)
  [models] allowed     the only models a profile may use, each pinned by
                       sha256: [{ name = \"coder\", sha256 = \"…\" }] (default: any)
  [models] server-uid  the user that must run a loopback model server
                       (default: engine.server-uid, else the user running airlock)
  [mcp] allowed        whether `airlock mcp` may run at all (default true)
  [mcp] plugins        the only plugins it may serve (default: any installed)
  [mcp] profiles       the only profiles it may serve them under (default: any)
$AIRLOCK_POLICY_FILE may name one more file, checked the same way; each key
takes the stricter of the two values, so it can only tighten the policy.
With no policy file the defaults above apply. A policy file that someone
other than root could change refuses every run. docs/policy.md has the details.

Examples:
  airlock policy show
  airlock policy show --json | jq '.\"profile-ceiling\"'
  AIRLOCK_POLICY_FILE=/etc/airlock/ci.toml airlock policy show

Exit codes:
  0   success
  2   a policy file is malformed (the message names file:line:column and key)
  3   a policy file is untrusted or unreadable: every run is refused";

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the effective admin policy and, for each key, the file that set
    /// it or that it is the built-in default.
    #[command(after_help = "\
Example:
  airlock policy show --json")]
    Show {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
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
    /// The skill: the name of an installed plugin, or (with
    /// --allow-unsigned) a path to a WebAssembly component (.wasm).
    #[arg(value_name = "NAME|SKILL.wasm")]
    pub skill: PathBuf,

    /// Run a component from a path, which no signature vouches for (for
    /// developing skills). The admin policy can forbid it.
    #[arg(long)]
    pub allow_unsigned: bool,

    /// The workspace the skill works on.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub workspace: PathBuf,

    /// A built-in profile's name (read-only, workspace-write, locked-down,
    /// assistant, coder), an admin-installed one's (/etc/airlock/profiles),
    /// or a file's path: ./p.toml, /abs/p.toml (a bare name is never read
    /// from the current directory) [default: for an installed plugin, the
    /// profile reviewed at install; else read-only].
    #[arg(short, long, value_name = "NAME|PATH")]
    pub profile: Option<String>,

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
    /// Never prompt: anything the profile says to ask about (edits.mode =
    /// "ask") is denied, with a message naming the profile key. Implied
    /// when stdin is not a terminal.
    #[arg(long)]
    pub non_interactive: bool,
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
        /// A built-in or admin-installed profile's name, or a file's path
        /// (./p.toml).
        #[arg(value_name = "NAME|PATH")]
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

fn parse_key_value(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!(
            "`{raw}` is not KEY=VALUE (for example --arg format=json)"
        )),
    }
}

const PLUGIN_HELP: &str = "\
A plugin package (.airlock) holds a skill component and its manifest (name,
version, publisher, requested capabilities), signed with the publisher's
Ed25519 key over the manifest, which carries the component's sha256.
docs/plugins.md has the format and both workflows.

Publisher:
  airlock plugin keygen --publisher acme            (acme.key, acme.pub)
  airlock plugin new hello-skill
  airlock plugin pack target/wasm32-wasip2/release/hello_skill.wasm \\
      --manifest manifest.toml --key acme.key -o hello-skill-0.1.0.airlock

Officer:
  airlock trust add acme /media/usb/acme.pub
  airlock plugin install hello-skill-0.1.0.airlock --profile read-only
  airlock run hello-skill -w .

Exit codes:
  0   success
  2   usage error: bad arguments, unreadable file, invalid manifest or key
  3   refused: bad or untrusted signature, modified package, downgrade,
      requested capabilities short of the component's imports
  70  internal error in Airlock";

const TRUST_HELP: &str = "\
Keys live in $AIRLOCK_HOME/trust/ (owner-only). Nothing is fetched: carry the
publisher's .pub file across the air gap and compare the fingerprint that
`trust add` prints with the one the publisher gave you by another channel.
Removing a key stops every installed plugin it signed from running.

Examples:
  airlock trust add acme /media/usb/acme.pub
  airlock trust list
  airlock trust remove acme";

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Create a publisher key pair: PREFIX.key (secret, mode 0600) and
    /// PREFIX.pub (to hand to officers).
    Keygen {
        /// The publisher name written into the key and every manifest it signs.
        #[arg(long, value_name = "NAME")]
        publisher: String,
        /// Where to write the files [default: ./PUBLISHER].
        #[arg(long, value_name = "PREFIX")]
        out: Option<PathBuf>,
        /// Encrypt the secret key with a passphrase (asked on the terminal,
        /// or taken from $AIRLOCK_KEY_PASSPHRASE); pack and sign ask for it.
        #[arg(long)]
        passphrase: bool,
    },
    /// Create a new skill crate from the template.
    New {
        /// The skill's name (lowercase letters, digits, `-`, `_`).
        #[arg(value_name = "NAME")]
        name: String,
        /// The directory to create [default: ./NAME].
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The airlock-sdk crate to depend on [default: the SDK a bundle
        /// installed beside this binary (PREFIX/share/airlock/src/sdk, with
        /// its crates vendored: the project builds offline), else the SDK of
        /// the Airlock source tree this binary was built from].
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
        /// The publisher name for manifest.toml.
        #[arg(long, value_name = "NAME", default_value = "me")]
        publisher: String,
    },
    /// Build a package from a component and a manifest; checks that the
    /// manifest requests every capability the component imports.
    Pack {
        /// The component (.wasm).
        #[arg(value_name = "COMPONENT")]
        component: PathBuf,
        /// The manifest.
        #[arg(long, value_name = "FILE", default_value = "manifest.toml")]
        manifest: PathBuf,
        /// Sign with this secret key too.
        #[arg(long, value_name = "KEY")]
        key: Option<PathBuf>,
        /// The package to write [default: NAME-VERSION.airlock].
        #[arg(short, long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Sign a package (again) with a secret key, in place.
    Sign {
        /// The package.
        #[arg(value_name = "PACKAGE")]
        package: PathBuf,
        /// The secret key (.key).
        #[arg(long, value_name = "KEY")]
        key: PathBuf,
    },
    /// Verify a package against the trust store, review what it requests
    /// against a profile, and install it.
    Install {
        /// The package (.airlock).
        #[arg(value_name = "PACKAGE")]
        package: PathBuf,
        /// The profile to review against: a built-in or admin-installed
        /// profile's name, or a file's path (./p.toml). Runs by name use it
        /// unless --profile says otherwise, and are refused once its text
        /// changes. Installing an installed package again records a new review.
        #[arg(short, long, value_name = "NAME|PATH", default_value = "read-only")]
        profile: String,
        /// Install without asking (required when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
        /// Allow an upgrade signed by another publisher key than the
        /// installed plugin's (the plugin moved to a new publisher); the
        /// audit log records the transfer.
        #[arg(long)]
        transfer_publisher: bool,
    },
    /// List installed plugins.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show an installed plugin: manifest, signer, digests.
    Show {
        /// The plugin's name.
        #[arg(value_name = "NAME")]
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Hash installed plugins in full and check their signatures against
    /// the trust store now.
    Verify {
        /// Only this plugin [default: every plugin].
        #[arg(value_name = "NAME")]
        name: Option<String>,
    },
    /// Remove an installed plugin (every version).
    Remove {
        /// The plugin's name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust a publisher key under a name.
    Add {
        /// The name to trust it under.
        #[arg(value_name = "NAME")]
        name: String,
        /// The publisher's public key file (.pub).
        #[arg(value_name = "KEYFILE")]
        key: PathBuf,
    },
    /// List trusted keys with their fingerprints.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a key.
    Remove {
        /// The key's name.
        #[arg(value_name = "NAME")]
        name: String,
    },
}
