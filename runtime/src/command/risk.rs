//! Why a command is risky. A risky command always asks a person, whatever
//! the profile says.
//!
//! It reads the program and its arguments the way the system would run
//! them, so that a different spelling of a risky command is still seen:
//!
//! - git's global options (`git -C . clean`, `git -c k=v push`,
//!   `git --git-dir=x reset --hard`) are skipped to find the subcommand, and
//!   aliases or command-running settings given with `-c` are read;
//! - a shell given a script (`bash -lc '…'`, `sh -ec '…'`,
//!   `busybox sh -c '…'`) has the script read;
//! - wrappers that run another program (`env`, `nice`, `timeout`, `xargs`,
//!   `nohup`, `stdbuf`, `ionice`, `command`, `exec`, `time`, `chrt`,
//!   `taskset`, `setsid`, `sudo`, …) are stripped, with their own options,
//!   and what they run is read, however deeply they nest (up to
//!   [`MAX_DEPTH`] levels; a deeper line is itself reported);
//! - a program given by path is named by its file name (`/tmp/git` is
//!   `git`), and [`assess_resolved`] also names it by the file it really
//!   is, after symlinks;
//! - inside scripts, quotes, escapes, `$( )`, backticks, `{ }`, `&&`, `||`,
//!   redirections and leading `NAME=value` assignments are understood well
//!   enough to find each program the script runs.
//!
//! It is best effort and cannot see everything: not what a build script,
//! a Makefile or a test does once it runs, not a program named through a
//! variable (`$CMD push`) or a glob, and not a script read from a file. That
//! is why every command also runs without network and with writes confined
//! to the workspace.

use std::ffi::OsStr;
use std::fmt;
use std::path::Path;

/// The kind of risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RiskKind {
    /// Deletes or overwrites data.
    Destructive,
    /// Would talk to a network if it could.
    Outbound,
    /// Rewrites version-control history or discards work.
    HistoryRewrite,
    /// A force flag.
    ForceFlag,
    /// Installs or publishes packages.
    PackageInstall,
    /// Tries to gain privileges.
    PrivilegeEscalation,
}

/// One reason a command is risky.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Risk {
    /// The kind.
    pub kind: RiskKind,
    /// A sentence for the person deciding.
    pub why: String,
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.why)
    }
}

fn risk(kind: RiskKind, why: impl Into<String>) -> Risk {
    Risk {
        kind,
        why: why.into(),
    }
}

/// Adds `r` to `out` unless an equal risk is already there.
fn add(out: &mut Vec<Risk>, r: Risk) {
    if !out.contains(&r) {
        out.push(r);
    }
}

/// How many wrappers, shells and command substitutions may nest before the
/// reading stops. Real commands nest three or four levels at most
/// (`sudo env bash -c 'timeout 5 git push'`); a deeper line is crafted, so
/// it is reported as a risk instead of being followed.
pub const MAX_DEPTH: usize = 10;

/// Programs that talk to other machines.
const NETWORK_TOOLS: &[&str] = &[
    "curl", "wget", "ssh", "scp", "sftp", "rsync", "nc", "ncat", "netcat", "telnet", "ftp",
    "socat", "aria2c",
];

/// Interpreters and package managers installed under versioned names
/// (`python3.11`, `pip3`, `bash5`). The digits and dots after one of these
/// stems are dropped before the name is compared: `python3.11`, `python3`
/// and `python` are all `python`. Other names are compared as spelled.
const VERSIONED: &[&str] = &[
    "python", "pip", "bash", "zsh", "ksh", "gem", "ruby", "perl", "node",
];

/// Multi-call binaries, one file for many programs, which pick the program
/// from the name they were started under. When a program resolves to one
/// of these, the spelled name is the program, so the file name adds nothing.
const MULTI_CALL: &[&str] = &["busybox", "toybox"];

/// POSIX-style shells: `-c` anywhere in a short-option cluster (`-c`,
/// `-lc`, `-ec`) makes the first operand a script.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh",
];

/// Letters of those shells' short options that take the next word as their
/// value (`-o pipefail`, `-O extglob`, also as `+o`); the value is not the
/// script.
const SHELL_SHORT_VALUES: &str = "oO";

/// Those shells' long options that take the next word as their value.
const SHELL_LONG_VALUES: &[&str] = &["--rcfile", "--init-file", "--emulate"];

/// Words that may come before the program of a simple command in a script
/// without being the program (`if git push; then …`).
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "esac", "!",
];

/// What a wrapper does with the words after its own options.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// Runs them as a program and its arguments.
    Program,
    /// Joins them with spaces and runs the result as a shell script.
    Script,
    /// Nothing: only the values of its script options run.
    Nothing,
}

/// What stands between a wrapper's options and the program it runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    /// The program comes straight after the options.
    Nothing,
    /// One word (`timeout`'s duration, `taskset`'s mask).
    OneWord,
    /// A priority, which some policies let one leave out (`chrt`): skipped
    /// only when it reads as a number, as `chrt` would read it.
    Priority,
}

/// A program that runs another program named on its command line.
struct Wrapper {
    /// Its name.
    name: &'static str,
    /// Letters of short options that take a value, attached (`-n5`) or as
    /// the next word (`-n 5`).
    short_values: &'static str,
    /// Long options that take a value, as `--opt=v` or `--opt v`. GNU tools
    /// accept any unambiguous prefix, so a prefix of one of these counts.
    long_values: &'static [&'static str],
    /// Options whose value is itself run as a shell script (`su -c`).
    scripts: &'static [&'static str],
    /// Whether its options may come after operands (GNU argument
    /// permutation), so every word is scanned for options.
    permutes: bool,
    /// Whether `NAME=value` words before the program set variables.
    assignments: bool,
    /// What comes between the options and the program.
    before: Before,
    /// What it does with the rest.
    runs: Runs,
}

/// A wrapper with no options of note, which runs the words after it.
const PLAIN: Wrapper = Wrapper {
    name: "",
    short_values: "",
    long_values: &[],
    scripts: &[],
    permutes: false,
    assignments: false,
    before: Before::Nothing,
    runs: Runs::Program,
};

/// The wrappers seen through. A wrapper missing here is read as an
/// ordinary program: its own risks only.
const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        name: "env",
        short_values: "uCSa",
        long_values: &["--unset", "--chdir", "--split-string", "--argv0"],
        assignments: true,
        ..PLAIN
    },
    Wrapper {
        name: "nice",
        short_values: "n",
        long_values: &["--adjustment"],
        ..PLAIN
    },
    Wrapper {
        name: "timeout",
        short_values: "sk",
        long_values: &["--signal", "--kill-after"],
        before: Before::OneWord,
        ..PLAIN
    },
    Wrapper {
        name: "xargs",
        short_values: "adEILnPs",
        long_values: &[
            "--arg-file",
            "--delimiter",
            "--max-args",
            "--max-procs",
            "--max-chars",
            "--process-slot-var",
        ],
        ..PLAIN
    },
    Wrapper {
        name: "nohup",
        ..PLAIN
    },
    Wrapper {
        name: "stdbuf",
        short_values: "ioe",
        long_values: &["--input", "--output", "--error"],
        ..PLAIN
    },
    Wrapper {
        name: "ionice",
        short_values: "cnpPu",
        long_values: &["--class", "--classdata", "--pid", "--pgid", "--uid"],
        ..PLAIN
    },
    Wrapper {
        name: "command",
        ..PLAIN
    },
    Wrapper {
        name: "exec",
        short_values: "a",
        ..PLAIN
    },
    Wrapper {
        name: "time",
        short_values: "fo",
        long_values: &["--format", "--output"],
        ..PLAIN
    },
    Wrapper {
        name: "chrt",
        short_values: "TPD",
        long_values: &["--sched-runtime", "--sched-period", "--sched-deadline"],
        before: Before::Priority,
        ..PLAIN
    },
    Wrapper {
        name: "taskset",
        before: Before::OneWord,
        ..PLAIN
    },
    Wrapper {
        name: "setsid",
        ..PLAIN
    },
    Wrapper {
        name: "unbuffer",
        ..PLAIN
    },
    Wrapper {
        name: "busybox",
        ..PLAIN
    },
    Wrapper {
        name: "toybox",
        ..PLAIN
    },
    Wrapper {
        name: "sudo",
        short_values: "CDgpRrTtUu",
        long_values: &[
            "--close-from",
            "--chdir",
            "--group",
            "--prompt",
            "--chroot",
            "--role",
            "--command-timeout",
            "--type",
            "--other-user",
            "--user",
        ],
        assignments: true,
        ..PLAIN
    },
    Wrapper {
        name: "doas",
        short_values: "uC",
        ..PLAIN
    },
    Wrapper {
        name: "pkexec",
        long_values: &["--user"],
        ..PLAIN
    },
    Wrapper {
        name: "su",
        short_values: "cgGsw",
        long_values: &[
            "--command",
            "--session-command",
            "--group",
            "--supp-group",
            "--shell",
            "--whitelist-environment",
        ],
        scripts: &["-c", "--command", "--session-command"],
        permutes: true,
        runs: Runs::Nothing,
        ..PLAIN
    },
    Wrapper {
        name: "fish",
        short_values: "cCdDfop",
        long_values: &[
            "--command",
            "--init-command",
            "--debug",
            "--debug-output",
            "--debug-stack-frames",
            "--features",
            "--profile",
            "--profile-startup",
        ],
        scripts: &["-c", "--command", "-C", "--init-command"],
        runs: Runs::Nothing,
        ..PLAIN
    },
    Wrapper {
        name: "eval",
        runs: Runs::Script,
        ..PLAIN
    },
    Wrapper {
        name: "watch",
        short_values: "nq",
        long_values: &["--interval", "--equexit"],
        runs: Runs::Script,
        ..PLAIN
    },
];

/// git's global options that take a value, as the next word (`-C dir`) or,
/// for the long ones, attached (`--git-dir=dir`). `--exec-path` is not here
/// on purpose: git takes its value only attached (`--exec-path=dir`); bare,
/// it prints a path and exits.
const GIT_VALUE_OPTIONS: &[&str] = &[
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "--config-env",
    "--attr-source",
    "--super-prefix",
];

/// git settings (lower case) whose value is a command git runs during
/// ordinary subcommands; given with `-c`, their value is read as a script.
const GIT_COMMAND_SETTINGS: &[&str] = &[
    "core.sshcommand",
    "core.pager",
    "core.editor",
    "core.fsmonitor",
    "core.askpass",
    "credential.helper",
    "sequence.editor",
    "gpg.program",
    "diff.external",
    "uploadpack.packobjectshook",
];

/// The same, for settings with a name in the middle: `(prefix, suffix)`,
/// as in `filter.<name>.clean` or `pager.<command>`.
const GIT_COMMAND_SETTING_PATTERNS: &[(&str, &str)] = &[
    ("pager.", ""),
    ("filter.", ".clean"),
    ("filter.", ".smudge"),
    ("filter.", ".process"),
    ("diff.", ".textconv"),
    ("diff.", ".command"),
    ("merge.", ".driver"),
];

/// The risks of running `program` with `args`. The program is named by its
/// file name (`/tmp/git` is `git`); see [`assess_resolved`] to name it also
/// by the file it really is.
pub fn assess(program: &str, args: &[String]) -> Vec<Risk> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    command(program, &args, 0, &mut out);
    out
}

/// The risks of running `program` with `args`, where `real` is the file
/// the program really is (its resolved path, after symlinks, found by the
/// caller): the union, without duplicates, of the risks read from the
/// spelled name and from the real file's name. So a listed program that is
/// really a symlink to `rm` is classified as `rm`.
pub fn assess_resolved(program: &str, real: Option<&Path>, args: &[String]) -> Vec<Risk> {
    let mut out = assess(program, args);
    let real_name = real.and_then(Path::file_name).and_then(OsStr::to_str);
    if let Some(name) = real_name
        && !MULTI_CALL.contains(&canonical(name))
    {
        for r in assess(name, args) {
            add(&mut out, r);
        }
    }
    out
}

/// The file name of a program given by path: the directory does not
/// decide what runs, the file does.
fn file_name(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// The name compared against the known programs: versioned interpreter
/// names lose their version (see [`VERSIONED`]).
fn canonical(name: &str) -> &str {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    if stem.len() < name.len() && VERSIONED.contains(&stem) {
        stem
    } else {
        name
    }
}

/// The risk reported when a line nests deeper than [`MAX_DEPTH`].
fn too_deep() -> Risk {
    risk(
        RiskKind::Destructive,
        format!(
            "nests programs more than {MAX_DEPTH} levels deep, too deep to read, \
             so it could run anything"
        ),
    )
}

/// Adds the risks of running `program` with `args`, `depth` levels inside
/// wrappers and scripts.
fn command(program: &str, args: &[&str], depth: usize, out: &mut Vec<Risk>) {
    if depth > MAX_DEPTH {
        add(out, too_deep());
        return;
    }
    let name = canonical(file_name(program));
    direct(name, args, out);
    nested(name, args, depth, out);
}

/// The risks a program has by itself, from its name and arguments.
fn direct(name: &str, a: &[&str], out: &mut Vec<Risk>) {
    let has = |flag: &str| a.contains(&flag);
    let short_flags = |letter: char| {
        a.iter()
            .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains(letter))
    };
    match name {
        "rm" if short_flags('r') || short_flags('R') || has("--recursive") => {
            add(
                out,
                risk(RiskKind::Destructive, "deletes files recursively"),
            );
        }
        "rm" | "unlink" | "shred" | "truncate" => add(
            out,
            risk(RiskKind::Destructive, "deletes or destroys file contents"),
        ),
        "dd" | "mkfs" | "wipefs" | "mke2fs" => add(
            out,
            risk(
                RiskKind::Destructive,
                "writes raw data over files or devices",
            ),
        ),
        n if n.starts_with("mkfs.") => add(
            out,
            risk(
                RiskKind::Destructive,
                "makes a file system, wiping the device",
            ),
        ),
        "find"
            if ["-delete", "-exec", "-execdir", "-ok", "-okdir"]
                .iter()
                .any(|f| has(f)) =>
        {
            add(
                out,
                risk(
                    RiskKind::Destructive,
                    "find with -delete/-exec/-execdir/-ok can remove or change many files",
                ),
            );
        }
        "sudo" | "su" | "doas" | "pkexec" => add(
            out,
            risk(
                RiskKind::PrivilegeEscalation,
                "runs something as another user",
            ),
        ),
        n if NETWORK_TOOLS.contains(&n) => {
            add(
                out,
                risk(
                    RiskKind::Outbound,
                    format!("`{n}` talks to other machines (it has no network here, but it tried)"),
                ),
            );
            if n == "rsync" {
                rsync(a, out);
            }
        }
        _ => packages(name, a, out),
    }
}

/// `rsync --delete` (and its relatives) deletes files at the destination,
/// which may be local.
fn rsync(a: &[&str], out: &mut Vec<Risk>) {
    if a.iter()
        .any(|w| w.starts_with("--del") || *w == "--remove-source-files")
    {
        add(
            out,
            risk(
                RiskKind::Destructive,
                "rsync --delete removes files that are not in the source",
            ),
        );
    }
}

/// Package managers asked to install or publish.
fn packages(name: &str, a: &[&str], out: &mut Vec<Risk>) {
    let first = a.first().copied().unwrap_or("");
    let why = match name {
        "pip" | "pip3" | "gem" | "apt" | "apt-get" | "dnf" | "yum" | "brew"
            if matches!(first, "install" | "download") =>
        {
            "installs packages, which needs a network"
        }
        "npm" | "yarn" | "pnpm" if matches!(first, "install" | "i" | "add" | "publish" | "ci") => {
            "installs or publishes packages, which needs a network"
        }
        "cargo"
            if matches!(
                first,
                "install" | "publish" | "add" | "login" | "owner" | "yank"
            ) =>
        {
            "installs, adds or publishes crates, which needs a network"
        }
        "go" if matches!(first, "get" | "install") => "fetches modules, which needs a network",
        _ => return,
    };
    add(out, risk(RiskKind::PackageInstall, why));
}

/// The risks of what a program runs in turn: a wrapper's program, a
/// shell's script, git's subcommand, `python -m pip`.
fn nested(name: &str, a: &[&str], depth: usize, out: &mut Vec<Risk>) {
    if let Some(w) = WRAPPERS.iter().find(|w| w.name == name) {
        unwrap(w, a, depth, out);
    } else if SHELLS.contains(&name) {
        shell(a, depth, out);
    } else if name == "git" {
        git(a, &[], depth, out);
    } else if let Some(sub) = name.strip_prefix("git-") {
        // git's own programs, such as /usr/lib/git-core/git-clean.
        let words: Vec<&str> = std::iter::once(sub).chain(a.iter().copied()).collect();
        git(&words, &[], depth, out);
    } else if name == "python" {
        python(a, depth, out);
    }
}

/// The options a program was given, as read by [`parse_options`].
#[derive(Default)]
struct Parsed<'a> {
    /// Each option that took a value, as `-x` or `--name`, with the value.
    values: Vec<(String, &'a str)>,
    /// Each option without a value, as `-x` or `--name`.
    flags: Vec<String>,
    /// The words that are not options, in order.
    operands: Vec<&'a str>,
}

/// Whether `opt` (as given, perhaps an abbreviation `--adj`) is one of
/// `names`.
fn is_option(opt: &str, names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| *n == opt || (opt.starts_with("--") && opt.len() > 2 && n.starts_with(opt)))
}

/// Reads getopt-style options from `a`. Without `permutes`, the first
/// operand ends the options and it and every word after it are operands;
/// with it, options are looked for in every word before a `--`.
fn parse_options<'a>(
    a: &[&'a str],
    short_values: &str,
    long_values: &[&str],
    permutes: bool,
) -> Parsed<'a> {
    let mut p = Parsed::default();
    let mut i = 0;
    while let Some(&w) = a.get(i) {
        i += 1;
        if w == "--" {
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            let opt = format!("--{name}");
            match attached {
                Some(value) => p.values.push((opt, value)),
                None if is_option(&opt, long_values) => {
                    if let Some(&value) = a.get(i) {
                        p.values.push((opt, value));
                        i += 1;
                    }
                }
                None => p.flags.push(opt),
            }
        } else if let Some(cluster) = w.strip_prefix('-') {
            short_cluster(cluster, a, &mut i, short_values, &mut p);
        } else if permutes {
            p.operands.push(w);
        } else {
            i -= 1;
            break;
        }
    }
    p.operands.extend(a.get(i..).unwrap_or_default());
    p
}

/// Reads one short-option cluster (`-0n1`, `-oL`). The first letter that
/// takes a value takes the rest of the cluster, or else the next word.
fn short_cluster<'a>(
    cluster: &'a str,
    a: &[&'a str],
    i: &mut usize,
    short_values: &str,
    p: &mut Parsed<'a>,
) {
    for (at, letter) in cluster.char_indices() {
        if short_values.contains(letter) {
            let attached = cluster.get(at + letter.len_utf8()..).unwrap_or("");
            let value = if attached.is_empty() {
                let next = a.get(*i).copied();
                *i += usize::from(next.is_some());
                next
            } else {
                Some(attached)
            };
            if let Some(value) = value {
                p.values.push((format!("-{letter}"), value));
            }
            return;
        }
        p.flags.push(format!("-{letter}"));
    }
}

/// Whether a word before a wrapper's program sets a variable. Like `env`,
/// any word with `=` counts, unless a `/` comes before the `=`: then it
/// may be a path to the program.
fn sets_variable(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| !name.contains('/'))
}

/// Whether a word reads as the priority `chrt` expects: a decimal number,
/// perhaps signed, perhaps after spaces.
fn is_priority(word: &str) -> bool {
    let digits = word.trim_start();
    let digits = digits.strip_prefix(['+', '-']).unwrap_or(digits);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
}

/// Strips wrapper `w` (and its options) from `a` and adds the risks of what
/// it runs.
fn unwrap(w: &Wrapper, a: &[&str], depth: usize, out: &mut Vec<Risk>) {
    let p = parse_options(a, w.short_values, w.long_values, w.permutes);
    for (opt, value) in &p.values {
        if is_option(opt, w.scripts) {
            script(value, depth + 1, out);
        }
    }
    if w.name == "command" && p.flags.iter().any(|f| f == "-v" || f == "-V") {
        // `command -v git` only says where git is.
        return;
    }
    if w.name == "env"
        && let Some((_, split)) = p
            .values
            .iter()
            .find(|(opt, _)| is_option(opt, &["-S", "--split-string"]))
    {
        // `env -S 'a b' c` runs as `env a b c`.
        let words = split_words(split);
        let again: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .chain(p.operands.iter().copied())
            .collect();
        command("env", &again, depth + 1, out);
        return;
    }
    let mut rest = p.operands.as_slice();
    if w.assignments {
        let set = rest.iter().take_while(|w| sets_variable(w)).count();
        rest = rest.get(set..).unwrap_or_default();
    }
    let skip = match (w.before, rest.first()) {
        (Before::OneWord, _) => 1,
        (Before::Priority, Some(first)) if is_priority(first) => 1,
        _ => 0,
    };
    rest = rest.get(skip..).unwrap_or_default();
    match w.runs {
        Runs::Program => {
            if let Some((program, args)) = rest.split_first() {
                command(program, args, depth + 1, out);
            }
        }
        Runs::Script => script(&rest.join(" "), depth + 1, out),
        Runs::Nothing => {}
    }
}

/// A POSIX shell: with `-c` in a short-option cluster, the first operand is
/// a script, which is read.
fn shell(a: &[&str], depth: usize, out: &mut Vec<Risk>) {
    let mut runs_script = false;
    let mut i = 0;
    while let Some(&w) = a.get(i) {
        i += 1;
        if w == "--" || w == "-" {
            break;
        }
        if w.starts_with("--") {
            i += usize::from(SHELL_LONG_VALUES.contains(&w));
            continue;
        }
        let Some(cluster) = w.strip_prefix('-').or_else(|| w.strip_prefix('+')) else {
            i -= 1;
            break;
        };
        runs_script |= w.starts_with('-') && cluster.contains('c');
        i += cluster
            .chars()
            .filter(|c| SHELL_SHORT_VALUES.contains(*c))
            .count();
    }
    if runs_script && let Some(text) = a.get(i) {
        script(text, depth + 1, out);
    }
}

/// `python -m pip …` is `pip …`. Other Python is not read.
fn python(a: &[&str], depth: usize, out: &mut Vec<Risk>) {
    let mut i = 0;
    while let Some(&w) = a.get(i) {
        i += 1;
        let Some(cluster) = w.strip_prefix('-').filter(|c| !c.is_empty()) else {
            return; // a script file, `-` or `--`: what runs is not on the line
        };
        if cluster.starts_with('-') {
            i += usize::from(w == "--check-hash-based-pycs");
            continue;
        }
        for (at, letter) in cluster.char_indices() {
            let attached = cluster.get(at + letter.len_utf8()..).unwrap_or("");
            match letter {
                'c' => return,
                'm' => {
                    let module = if attached.is_empty() {
                        i += 1;
                        a.get(i - 1).copied()
                    } else {
                        Some(attached)
                    };
                    if module == Some("pip") {
                        command("pip", a.get(i..).unwrap_or_default(), depth + 1, out);
                    }
                    return;
                }
                'W' | 'X' => {
                    i += usize::from(attached.is_empty());
                    break;
                }
                _ => {}
            }
        }
    }
}

/// git: global options are skipped to find the subcommand; aliases and
/// command-running settings given with `-c` are read. `config` holds the
/// `-c` values of the git line this one was expanded from.
fn git(a: &[&str], config: &[&str], depth: usize, out: &mut Vec<Risk>) {
    if depth > MAX_DEPTH {
        add(out, too_deep());
        return;
    }
    let mut config = config.to_vec();
    let inherited = config.len();
    let mut i = 0;
    while let Some(&w) = a.get(i).filter(|w| w.starts_with('-')) {
        i += 1;
        if GIT_VALUE_OPTIONS.contains(&w) {
            if w == "-c"
                && let Some(&value) = a.get(i)
            {
                config.push(value);
            }
            i += 1;
        }
    }
    // Settings inherited from an alias's git line were read there already.
    for setting in config.get(inherited..).unwrap_or_default() {
        git_setting(setting, depth, out);
    }
    let Some(&sub) = a.get(i) else {
        return;
    };
    let rest = a.get(i + 1..).unwrap_or_default();
    if let Some(alias) = git_alias(&config, sub) {
        if let Some(shell_line) = alias.strip_prefix('!') {
            let line = std::iter::once(shell_line)
                .chain(rest.iter().copied())
                .collect::<Vec<_>>()
                .join(" ");
            script(&line, depth + 1, out);
        } else {
            let words = split_words(alias);
            let again: Vec<&str> = words
                .iter()
                .map(String::as_str)
                .chain(rest.iter().copied())
                .collect();
            git(&again, &config, depth + 1, out);
        }
        return;
    }
    git_subcommand(sub, rest, depth, out);
}

/// Splits a `-c` setting into its lower-case key and its value.
fn git_key_value(setting: &str) -> (String, &str) {
    let (key, value) = setting.split_once('=').unwrap_or((setting, ""));
    (key.to_ascii_lowercase(), value)
}

/// The alias `sub` is defined as with `-c alias.<sub>=…`, if any.
fn git_alias<'a>(config: &[&'a str], sub: &str) -> Option<&'a str> {
    let wanted = format!("alias.{}", sub.to_ascii_lowercase());
    config.iter().rev().find_map(|setting| {
        let (key, value) = setting.split_once('=')?;
        (key.to_ascii_lowercase() == wanted).then_some(value)
    })
}

/// A `-c` setting whose value is a command git runs: the command is read.
fn git_setting(setting: &str, depth: usize, out: &mut Vec<Risk>) {
    let (key, value) = git_key_value(setting);
    let runs = GIT_COMMAND_SETTINGS.contains(&key.as_str())
        || GIT_COMMAND_SETTING_PATTERNS.iter().any(|(prefix, suffix)| {
            key.len() > prefix.len() + suffix.len()
                && key.starts_with(prefix)
                && key.ends_with(suffix)
        });
    if runs {
        script(value.strip_prefix('!').unwrap_or(value), depth + 1, out);
    }
}

/// The risks of git subcommand `sub` with the words after it.
fn git_subcommand(sub: &str, rest: &[&str], depth: usize, out: &mut Vec<Risk>) {
    let has = |flag: &str| rest.contains(&flag);
    match sub {
        "push" | "pull" | "fetch" | "clone" | "ls-remote" => add(
            out,
            risk(
                RiskKind::Outbound,
                format!("`git {sub}` talks to a remote repository"),
            ),
        ),
        "remote" if has("add") || has("set-url") => add(
            out,
            risk(RiskKind::Outbound, "changes where git sends and fetches"),
        ),
        "submodule" if has("update") || has("add") => add(
            out,
            risk(
                RiskKind::Outbound,
                "git submodule update/add fetches from remotes",
            ),
        ),
        "submodule" => git_foreach(rest, depth, out),
        "reset" if has("--hard") => add(
            out,
            risk(
                RiskKind::HistoryRewrite,
                "git reset --hard discards uncommitted work",
            ),
        ),
        "clean" => add(
            out,
            risk(RiskKind::Destructive, "git clean deletes untracked files"),
        ),
        "checkout" | "restore" if has("--") || has(".") => add(
            out,
            risk(RiskKind::Destructive, "discards changes to files"),
        ),
        "rebase" | "filter-branch" | "filter-repo" => add(
            out,
            risk(
                RiskKind::HistoryRewrite,
                format!("git {sub} rewrites history"),
            ),
        ),
        "commit" if has("--amend") => add(
            out,
            risk(
                RiskKind::HistoryRewrite,
                "git commit --amend rewrites the last commit",
            ),
        ),
        "branch" if has("-D") => add(out, risk(RiskKind::Destructive, "deletes a branch")),
        _ => {}
    }
    if rest.iter().any(|w| *w == "-f" || w.starts_with("--force")) {
        add(out, risk(RiskKind::ForceFlag, "uses a force flag"));
    }
}

/// `git submodule foreach [--recursive] <command>` runs the command through
/// the shell in every submodule.
fn git_foreach(rest: &[&str], depth: usize, out: &mut Vec<Risk>) {
    let Some(at) = rest.iter().position(|w| *w == "foreach") else {
        return;
    };
    let line: Vec<&str> = rest
        .get(at + 1..)
        .unwrap_or_default()
        .iter()
        .copied()
        .skip_while(|w| w.starts_with("--"))
        .collect();
    script(&line.join(" "), depth + 1, out);
}

/// Adds the risks of a shell script: of every simple command in it and of
/// every command substitution.
fn script(text: &str, depth: usize, out: &mut Vec<Risk>) {
    if depth > MAX_DEPTH {
        add(out, too_deep());
        return;
    }
    let lexed = Lexer::new(text).run();
    for words in &lexed.commands {
        simple_command(words, depth, out);
    }
    for inner in &lexed.inner {
        script(inner, depth + 1, out);
    }
    if (text.contains("/dev/tcp/") || text.contains("/dev/udp/"))
        && !out.iter().any(|r| r.kind == RiskKind::Outbound)
    {
        add(
            out,
            risk(RiskKind::Outbound, "the script opens a network connection"),
        );
    }
}

/// Whether a word at the start of a simple command assigns a shell
/// variable (`X=1`, `PATH+=:/x`) rather than naming the program.
fn is_assignment(word: &str) -> bool {
    let Some((name, _)) = word.split_once('=') else {
        return false;
    };
    let name = name.strip_suffix('+').unwrap_or(name);
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Adds the risks of one simple command of a script: reserved words and
/// assignments before the program are skipped.
fn simple_command(words: &[String], depth: usize, out: &mut Vec<Risk>) {
    let Some(start) = words
        .iter()
        .position(|w| !RESERVED.contains(&w.as_str()) && !is_assignment(w))
    else {
        return;
    };
    let rest: Vec<&str> = words
        .get(start + 1..)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    if let Some(program) = words.get(start) {
        command(program, &rest, depth, out);
    }
}

/// The unquoted words of a line, as a shell would split it (separators
/// between commands count as spaces).
fn split_words(text: &str) -> Vec<String> {
    Lexer::new(text).run().commands.concat()
}

/// A script cut into simple commands.
#[derive(Default)]
struct Lexed {
    /// Each simple command, as its unquoted words.
    commands: Vec<Vec<String>>,
    /// The bodies of command substitutions found inside double quotes,
    /// which run as scripts of their own.
    inner: Vec<String>,
}

/// What becomes of the word after a redirection operator.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// An argument: no redirection is pending.
    Argument,
    /// It names a file, not an argument: dropped.
    File,
    /// It is a here-string (`<<< 'text'`), which may feed a shell: read as
    /// a script.
    Text,
}

/// Cuts a shell script into simple commands of unquoted words: an
/// approximation of the shell's grammar, good enough to find the programs a
/// script runs. It reads any input to the end and never fails.
struct Lexer {
    /// The script.
    chars: Vec<char>,
    /// The next character to read.
    pos: usize,
    /// The word being read.
    word: String,
    /// Whether a word is being read (it may be empty: `''`).
    in_word: bool,
    /// The words of the command being read.
    words: Vec<String>,
    /// What the next word is, after a redirection.
    target: Target,
    /// How many brace expansions (`{a,b}`) are open.
    braces: usize,
    /// What has been read.
    lexed: Lexed,
}

impl Lexer {
    fn new(text: &str) -> Self {
        Self {
            chars: text.chars().collect(),
            pos: 0,
            word: String::new(),
            in_word: false,
            words: Vec::new(),
            target: Target::Argument,
            braces: 0,
            lexed: Lexed::default(),
        }
    }

    fn run(mut self) -> Lexed {
        while let Some(c) = self.bump() {
            self.step(c);
        }
        self.end_command();
        self.lexed
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += usize::from(c.is_some());
        c
    }

    fn push(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn end_word(&mut self) {
        if self.in_word {
            let word = std::mem::take(&mut self.word);
            match std::mem::replace(&mut self.target, Target::Argument) {
                Target::Argument => self.words.push(word),
                Target::File => {}
                Target::Text => self.lexed.inner.push(word),
            }
        }
        self.in_word = false;
    }

    fn end_command(&mut self) {
        self.end_word();
        self.target = Target::Argument;
        self.braces = 0;
        if !self.words.is_empty() {
            self.lexed.commands.push(std::mem::take(&mut self.words));
        }
    }

    fn step(&mut self, c: char) {
        match c {
            ' ' | '\t' | '\r' => self.end_word(),
            '\n' | ';' | '&' | '|' | '(' | ')' | '`' => self.end_command(),
            '{' => self.open_brace(),
            '}' => self.close_brace(),
            ',' if self.braces > 0 => self.end_word(),
            '\\' => self.escaped(),
            '\'' => self.single_quoted(),
            '"' => self.double_quoted(),
            '$' => self.dollar(),
            '<' | '>' => self.redirect(c),
            _ => self.push(c),
        }
    }

    /// `{ …; }` groups commands; `{a,b}` expands to words.
    fn open_brace(&mut self) {
        if self.peek().is_none_or(char::is_whitespace) {
            self.end_command();
        } else {
            self.end_word();
            self.braces += 1;
        }
    }

    fn close_brace(&mut self) {
        if self.braces > 0 {
            self.braces -= 1;
            self.end_word();
        } else {
            self.end_command();
        }
    }

    fn escaped(&mut self) {
        match self.bump() {
            Some('\n') | None => {}
            Some(c) => self.push(c),
        }
    }

    fn single_quoted(&mut self) {
        self.in_word = true;
        while let Some(c) = self.bump() {
            if c == '\'' {
                return;
            }
            self.word.push(c);
        }
    }

    fn double_quoted(&mut self) {
        self.in_word = true;
        while let Some(c) = self.bump() {
            match c {
                '"' => return,
                '\\' => match self.peek() {
                    Some(n @ ('"' | '\\' | '$' | '`')) => {
                        self.pos += 1;
                        self.word.push(n);
                    }
                    Some('\n') => self.pos += 1,
                    _ => self.word.push('\\'),
                },
                '$' if self.peek() == Some('(') => {
                    self.pos += 1;
                    let body = self.parenthesised();
                    self.lexed.inner.push(body);
                }
                '`' => {
                    let body = self.backquoted();
                    self.lexed.inner.push(body);
                }
                _ => self.word.push(c),
            }
        }
    }

    /// The text up to the `)` that closes an opened `(`.
    fn parenthesised(&mut self) -> String {
        let mut body = String::new();
        let mut open = 1_usize;
        while let Some(c) = self.bump() {
            match c {
                '(' => open += 1,
                ')' => {
                    open -= 1;
                    if open == 0 {
                        break;
                    }
                }
                _ => {}
            }
            body.push(c);
        }
        body
    }

    /// The text up to the closing backquote.
    fn backquoted(&mut self) -> String {
        let mut body = String::new();
        while let Some(c) = self.bump() {
            match c {
                '`' => break,
                '\\' => body.extend(self.bump()),
                _ => body.push(c),
            }
        }
        body
    }

    /// Whether `IFS` (and not a longer name) comes next.
    fn at_ifs(&self) -> bool {
        let after = self.chars.get(self.pos + 3).copied();
        self.chars.get(self.pos..self.pos + 3) == Some(&['I', 'F', 'S'][..])
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    /// `$'…'`, `$(`, `${IFS}`, `$IFS`; other expansions stay as written.
    fn dollar(&mut self) {
        match self.peek() {
            Some('\'') => {
                self.pos += 1;
                self.ansi_c_quoted();
            }
            Some('"') => {} // `$"…"` is a translated string: a plain one here.
            Some('(') => {
                self.pos += 1;
                self.end_command();
            }
            Some('{') => {
                self.pos += 1;
                let mut name = String::new();
                while let Some(c) = self.bump().filter(|c| *c != '}') {
                    name.push(c);
                }
                if name == "IFS" {
                    self.end_word();
                } else {
                    self.word.push_str("${");
                    self.word.push_str(&name);
                    self.push('}');
                }
            }
            _ if self.at_ifs() => {
                self.pos += 3;
                self.end_word();
            }
            _ => self.push('$'),
        }
    }

    /// `$'…'`, with its backslash escapes decoded (`$'\x67it'` is `git`).
    fn ansi_c_quoted(&mut self) {
        self.in_word = true;
        while let Some(c) = self.bump() {
            match c {
                '\'' => return,
                '\\' => self.ansi_c_escape(),
                _ => self.word.push(c),
            }
        }
    }

    fn ansi_c_escape(&mut self) {
        let Some(c) = self.bump() else {
            return;
        };
        let simple = match c {
            'a' => Some('\x07'),
            'b' => Some('\x08'),
            'e' | 'E' => Some('\x1b'),
            'f' => Some('\x0c'),
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'v' => Some('\x0b'),
            '\\' | '\'' | '"' | '?' => Some(c),
            _ => None,
        };
        if let Some(decoded) = simple {
            self.word.push(decoded);
            return;
        }
        let number = match c {
            'x' => self.digits(16, 2),
            'u' => self.digits(16, 4),
            'U' => self.digits(16, 8),
            '0'..='7' => {
                self.pos -= 1;
                self.digits(8, 3)
            }
            'c' => self.bump().map(|n| u32::from(n) & 0x1f),
            _ => None,
        };
        match number {
            Some(n) => self.word.extend(char::from_u32(n)),
            None => {
                self.word.push('\\');
                self.word.push(c);
            }
        }
    }

    /// Up to `max` digits in `radix`, as a number; `None` if there are none.
    fn digits(&mut self, radix: u32, max: usize) -> Option<u32> {
        let mut value: Option<u32> = None;
        for _ in 0..max {
            let Some(d) = self.peek().and_then(|c| c.to_digit(radix)) else {
                break;
            };
            self.pos += 1;
            value = Some(value.unwrap_or(0).wrapping_mul(radix).wrapping_add(d));
        }
        value
    }

    /// `<`, `>`, `>>`, `2>&1`, `<<EOF`, `<<<`: the file descriptor number
    /// before and the target after are not words of the command.
    fn redirect(&mut self, first: char) {
        if self.in_word && self.word.chars().all(|c| c.is_ascii_digit()) {
            self.word.clear();
            self.in_word = false;
        } else {
            self.end_word();
        }
        let mut operator = String::from(first);
        while let Some(c) = self.peek().filter(|c| matches!(c, '<' | '>' | '&' | '|')) {
            self.pos += 1;
            operator.push(c);
        }
        self.target = if operator == "<<<" {
            Target::Text
        } else {
            Target::File
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RiskKind::*;

    fn kinds(cmd: &str) -> Vec<RiskKind> {
        let words: Vec<String> = cmd.split(' ').map(str::to_string).collect();
        assess(&words[0], &words[1..])
            .iter()
            .map(|r| r.kind)
            .collect()
    }

    /// The kinds for a command given as separate words (for quoted scripts).
    fn kinds_of(words: &[&str]) -> Vec<RiskKind> {
        let args: Vec<String> = words[1..].iter().map(|w| (*w).to_string()).collect();
        assess(words[0], &args).iter().map(|r| r.kind).collect()
    }

    #[test]
    fn each_family_of_risky_command_is_named() {
        assert_eq!(kinds("rm -rf build"), [Destructive]);
        assert_eq!(kinds("rm old.txt"), [Destructive]);
        assert_eq!(kinds("find . -name x -delete"), [Destructive]);
        assert_eq!(kinds("git push origin main"), [Outbound]);
        assert_eq!(kinds("git push --force origin main"), [Outbound, ForceFlag]);
        assert_eq!(kinds("git reset --hard HEAD~1"), [HistoryRewrite]);
        assert_eq!(kinds("git clean -fdx"), [Destructive]);
        assert_eq!(kinds("git rebase -i main"), [HistoryRewrite]);
        assert_eq!(kinds("git commit --amend"), [HistoryRewrite]);
        assert_eq!(kinds("curl https://example.invalid"), [Outbound]);
        assert_eq!(kinds("ssh host"), [Outbound]);
        assert_eq!(kinds("pip install requests"), [PackageInstall]);
        assert_eq!(kinds("npm install"), [PackageInstall]);
        assert_eq!(kinds("cargo install ripgrep"), [PackageInstall]);
        assert_eq!(kinds("sudo make install"), [PrivilegeEscalation]);
        let script = vec!["-c".to_string(), "make && git push".to_string()];
        assert_eq!(
            assess("sh", &script)
                .iter()
                .map(|r| r.kind)
                .collect::<Vec<_>>(),
            [Outbound]
        );
    }

    #[test]
    fn everyday_build_and_test_commands_are_not_risky() {
        for cmd in [
            "cargo test",
            "cargo build --release",
            "make",
            "make check",
            "pytest -q",
            "ls -la",
            "git status",
            "git diff",
            "git log --oneline",
            "git -C sub log",
            "git --no-pager diff",
            "python3 -B test_x.py",
            "python3.11 -m pytest -q",
            "env",
            "env LANG=C make",
            "nice make",
            "timeout 60 cargo test",
            "command -v git",
            "xargs",
            "gnatmake main.adb",
            "ghdl -a top.vhd",
            "mv a b",
            "cp -r a b",
        ] {
            assert!(kinds(cmd).is_empty(), "{cmd}");
        }
        for words in [
            &["bash", "-c", "make && cargo test 2>&1 | tee log.txt"][..],
            &["sh", "-ec", "cd sub; X=1 make check"],
            &["bash", "-lc", "for f in *.py; do python3 -B \"$f\"; done"],
        ] {
            assert!(kinds_of(words).is_empty(), "{words:?}");
        }
    }

    #[test]
    fn git_global_options_are_skipped_to_find_the_subcommand() {
        assert_eq!(kinds("git -C . clean -fdx"), [Destructive]);
        assert_eq!(kinds("git -c k=v push"), [Outbound]);
        assert_eq!(
            kinds("git --git-dir=x --work-tree=y reset --hard"),
            [HistoryRewrite]
        );
        assert_eq!(
            kinds("git --git-dir x --work-tree y reset --hard"),
            [HistoryRewrite]
        );
        assert_eq!(kinds("git --no-pager push"), [Outbound]);
        assert_eq!(kinds("git --namespace ns push"), [Outbound]);
        assert_eq!(kinds("git --namespace=ns push"), [Outbound]);
        assert_eq!(kinds("git --exec-path=/x push"), [Outbound]);
        assert_eq!(kinds("git --config-env k=ENV push"), [Outbound]);
        assert_eq!(kinds("git --config-env=k=ENV push"), [Outbound]);
        assert_eq!(
            kinds("git -C a -C b -c x=y --bare push -f"),
            [Outbound, ForceFlag]
        );
        assert!(
            kinds("git -C push log").is_empty(),
            "-C's value is not the subcommand"
        );
    }

    #[test]
    fn git_aliases_and_command_settings_given_with_dash_c_are_read() {
        assert_eq!(kinds("git -c alias.st=push st"), [Outbound]);
        assert_eq!(kinds("git -c alias.a=b -c alias.b=push a"), [Outbound]);
        assert_eq!(
            kinds_of(&["git", "-c", "alias.x=!rm -rf ~", "x"]),
            [Destructive]
        );
        assert_eq!(
            kinds_of(&["git", "-c", "core.pager=rm -rf ~", "log"]),
            [Destructive]
        );
        assert_eq!(
            kinds_of(&["git", "-c", "filter.x.smudge=curl evil", "status"]),
            [Outbound]
        );
        assert_eq!(
            kinds_of(&["git", "submodule", "foreach", "--recursive", "git push"]),
            [Outbound]
        );
        assert_eq!(
            kinds("/usr/lib/git-core/git-clean -fdx"),
            [Destructive],
            "git's own programs are git subcommands"
        );
        assert!(kinds("git -c core.pager=less log").is_empty());
        assert_eq!(
            kinds("git -c alias.a=a a"),
            [Destructive],
            "an alias loop is followed only to the depth bound, then reported"
        );
    }

    #[test]
    fn shells_with_c_in_an_option_cluster_run_their_script() {
        for words in [
            &["bash", "-lc", "git push"][..],
            &["sh", "-ec", "git push"],
            &["bash", "--login", "-c", "git push"],
            &["bash", "-c", "--", "git push"],
            &["bash", "-o", "pipefail", "-c", "git push"],
            &["bash", "-eo", "pipefail", "-c", "git push"],
            &["bash", "+O", "extglob", "-xc", "git push"],
            &["zsh", "-c", "git push"],
            &["dash", "-c", "git push"],
            &["ksh", "-c", "git push"],
            &["/bin/bash5.2", "-c", "git push"],
            &["busybox", "sh", "-c", "git push"],
            &["fish", "-c", "git push"],
            &["fish", "--init-command=git push"],
            &["su", "-", "root", "-c", "git push"],
        ] {
            assert!(kinds_of(words).contains(&Outbound), "{words:?}");
        }
        assert!(
            kinds_of(&["bash", "script.sh", "-c", "git push"]).is_empty(),
            "after the script file, -c is the script's argument"
        );
    }

    #[test]
    fn wrappers_are_stripped_to_find_the_real_program() {
        for cmd in [
            "env X=1 git push",
            "env -u VAR -- git push",
            "env -i PATH=/x git push",
            "env - git push",
            "env --unset VAR git push",
            "env --uns=VAR git push",
            "nice -n 5 git push",
            "nice -n5 git push",
            "nice --adj 5 git push",
            "nice -10 git push",
            "timeout 10 git push",
            "timeout -s KILL -k 5 10 git push",
            "timeout --signal=KILL 10 git push",
            "xargs git push",
            "xargs -0 -n1 git push",
            "xargs -I {} git push {}",
            "nohup git push",
            "stdbuf -oL git push",
            "stdbuf -o L -e0 git push",
            "ionice -c3 git push",
            "ionice -c 2 -n 7 git push",
            "command git push",
            "exec git push",
            "exec -a name git push",
            "time git push",
            "time -p git push",
            "chrt 10 git push",
            "chrt -f 10 git push",
            "chrt --other git push",
            "taskset 0x3 git push",
            "taskset -c 0,1 git push",
            "setsid git push",
            "setsid -f -w git push",
            "sudo -u bob git push",
            "doas -u bob git push",
            "eval git push",
            "watch -n 5 git push",
        ] {
            assert!(kinds(cmd).contains(&Outbound), "{cmd}");
        }
        assert_eq!(kinds("env -i PATH=/x rm -rf /"), [Destructive]);
        assert_eq!(kinds("nice -n 5 rm -rf x"), [Destructive]);
        assert_eq!(kinds("nice rm -rf x"), [Destructive]);
        assert_eq!(kinds("xargs rm"), [Destructive]);
        assert_eq!(kinds("xargs -0 -n1 rm -f"), [Destructive]);
        assert_eq!(kinds("sudo rm -rf /"), [PrivilegeEscalation, Destructive]);
        assert_eq!(kinds_of(&["env", "-S", "git push"]), [Outbound]);
        assert_eq!(kinds_of(&["env", "-S", "git", "push"]), [Outbound]);
        assert!(kinds("command -v rm").is_empty());
    }

    #[test]
    fn wrappers_nest_and_a_crafted_depth_is_reported_not_followed() {
        assert_eq!(
            kinds_of(&["env", "nice", "timeout", "5", "bash", "-c", "git push"]),
            [Outbound]
        );
        assert_eq!(
            kinds_of(&[
                "sudo",
                "env",
                "A=1",
                "bash",
                "-lc",
                "timeout 5 nice git push"
            ]),
            [PrivilegeEscalation, Outbound]
        );
        let deep = format!("{}make", "env ".repeat(MAX_DEPTH + 1));
        assert_eq!(kinds(&deep), [Destructive], "{deep}");
        let very_deep = format!("{}make", "nice ".repeat(100_000));
        assert_eq!(kinds(&very_deep), [Destructive]);
        let mut nested = "git push".to_string();
        for _ in 0..50 {
            nested = format!("echo \"$({nested})\"");
        }
        assert!(kinds_of(&["sh", "-c", &nested]).contains(&Destructive));
    }

    #[test]
    fn a_program_given_by_path_is_named_by_its_file_name() {
        assert_eq!(kinds("/tmp/git push"), [Outbound]);
        assert_eq!(kinds("./bin/rm -rf x"), [Destructive]);
        assert_eq!(kinds("../../usr/bin/git push"), [Outbound]);
        assert_eq!(kinds("/usr/bin/env /tmp/git push"), [Outbound]);
        assert_eq!(kinds_of(&["sh", "-c", "/bin/rm -rf x"]), [Destructive]);
    }

    #[test]
    fn the_real_path_decides_not_the_spelling() {
        let kinds_resolved = |program: &str, real: Option<&str>, a: &[&str]| -> Vec<RiskKind> {
            let args: Vec<String> = a.iter().map(|w| (*w).to_string()).collect();
            assess_resolved(program, real.map(Path::new), &args)
                .iter()
                .map(|r| r.kind)
                .collect()
        };
        assert_eq!(
            kinds_resolved("cleanup", Some("/usr/bin/rm"), &["-rf", "build"]),
            [Destructive]
        );
        assert_eq!(
            kinds_resolved("tool", Some("/usr/lib/git-core/git"), &["push"]),
            [Outbound]
        );
        assert_eq!(
            kinds_resolved("rm", Some("/usr/bin/rm"), &["-rf", "build"]),
            [Destructive],
            "no duplicates"
        );
        assert_eq!(
            kinds_resolved(
                "py",
                Some("/usr/bin/python3.11"),
                &["-m", "pip", "install", "x"]
            ),
            [PackageInstall]
        );
        assert_eq!(
            kinds_resolved("sh", Some("/bin/busybox"), &["-c", "git push"]),
            [Outbound],
            "a multi-call binary is what it is spelled"
        );
        assert!(
            kinds_resolved("ls", Some("/bin/busybox"), &["rm"]).is_empty(),
            "busybox run as ls lists a file named rm"
        );
        assert!(kinds_resolved("make", Some("/usr/bin/make"), &["check"]).is_empty());
        assert!(kinds_resolved("make", None, &["check"]).is_empty());
        assert_eq!(kinds_resolved("rm", None, &["x"]), [Destructive]);
    }

    #[test]
    fn versioned_interpreter_names_are_read_as_their_stem() {
        assert_eq!(canonical("python3.11"), "python");
        assert_eq!(canonical("python3"), "python");
        assert_eq!(canonical("pip3.12"), "pip");
        assert_eq!(canonical("bash5"), "bash");
        assert_eq!(canonical("git2.47"), "git2.47", "only interpreters");
        assert_eq!(canonical("3"), "3");
        assert_eq!(kinds("pip3.11 install x"), [PackageInstall]);
        assert_eq!(kinds("python3.11 -m pip install x"), [PackageInstall]);
        assert_eq!(kinds("python3 -B -mpip install x"), [PackageInstall]);
        assert!(kinds("python3 -c import_pip -m pip install").is_empty());
    }

    #[test]
    fn scripts_see_through_quotes_substitutions_and_operators() {
        for text in [
            "echo $(git push)",
            "echo \"$(git push)\"",
            "echo \"`git push`\"",
            "echo `git push`",
            "{ git push; }",
            "make && git push",
            "make || git push",
            "make&&git push",
            "X=1 Y=2 git push",
            "if git push; then :; fi",
            "! git push",
            "'git' push",
            "\"git\" \"push\"",
            "g'i't push",
            "gi\\t push",
            "$'\\x67it' push",
            "$'\\147it' push",
            "git${IFS}push",
            "git$IFS'push'",
            "{git,push}",
            "2>/dev/null git push",
            "git push >/dev/null 2>&1",
            ">&2 git push",
            "cat <(git push)",
            "bash <<< 'git push'",
            "env X=1 nice git push",
            "exec git push",
            "(cd sub && git push)",
            "a | b | git push",
            "true\ngit push",
        ] {
            assert!(
                kinds_of(&["sh", "-c", text]).contains(&Outbound),
                "{text:?}"
            );
        }
        assert!(kinds_of(&["sh", "-c", "echo 'git push'"]).is_empty());
        assert!(kinds_of(&["sh", "-c", "echo '$(git push)'"]).is_empty());
        assert_eq!(
            kinds_of(&["sh", "-c", "find . -name x -exec rm {} \\;"]),
            [Destructive]
        );
        assert_eq!(
            kinds_of(&["bash", "-c", "exec 3<>/dev/tcp/example.invalid/80"]),
            [Outbound]
        );
    }

    #[test]
    fn the_splitter_never_panics_on_odd_input() {
        let long = "a".repeat(200_000);
        let many_ops = "&&|;(){}`$(".repeat(10_000);
        let deep_parens = format!("\"{}", "$(".repeat(10_000));
        for text in [
            "",
            "\\",
            "'",
            "\"",
            "$",
            "$'",
            "$'\\",
            "$'\\x",
            "$'\\u{",
            "$'\\U",
            "$'\\c",
            "$'\\777'",
            "$'\\UFFFFFFFF'",
            "${",
            "${IFS",
            "$IF",
            "\"$(",
            "\"`",
            "\"\\",
            "{",
            "}",
            "}}}}{{{",
            ",,,",
            "<",
            ">&",
            "<<<",
            "2>",
            "héllo wörld — ünïcödé 🦀 'ąę' \"日本\"",
            "\u{0}\u{7f}\u{feff}",
            long.as_str(),
            many_ops.as_str(),
            deep_parens.as_str(),
        ] {
            let _ = Lexer::new(text).run();
            let _ = kinds_of(&["sh", "-c", text]);
            let _ = kinds_of(&["env", "-S", text]);
            let _ = kinds_of(&["git", "-c", &format!("alias.x={text}"), "x"]);
            let _ = kinds_of(&["git", "-c", &format!("alias.x=!{text}"), "x"]);
        }
        for words in [
            &["git"][..],
            &["git", "-c"],
            &["git", "-C"],
            &["env", "-u"],
            &["env", "-S"],
            &["timeout"],
            &["chrt"],
            &["python3", "-m"],
            &["python3", "-W"],
            &["bash", "-c"],
            &["bash", "-o"],
            &["su", "-c"],
            &["nice", "-"],
            &["-"],
            &[""],
        ] {
            let _ = kinds_of(words);
        }
    }

    #[test]
    fn find_exec_variants_and_rsync_delete_are_flagged() {
        assert_eq!(kinds("find . -execdir rm {} ;"), [Destructive]);
        assert_eq!(kinds("find . -ok rm {} ;"), [Destructive]);
        assert_eq!(kinds("find . -okdir rm {} ;"), [Destructive]);
        assert!(kinds("find . -name x -print").is_empty());
        assert_eq!(
            kinds("rsync -a --delete src/ dst/"),
            [Outbound, Destructive]
        );
        assert_eq!(
            kinds("rsync -a --delete-after src/ dst/"),
            [Outbound, Destructive]
        );
        assert_eq!(kinds("rsync -a src/ dst/"), [Outbound]);
        assert_eq!(kinds("/sbin/mkfs.ext4 /dev/sdb1"), [Destructive]);
    }
}
