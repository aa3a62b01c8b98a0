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

mod git;
mod script;
mod words;
mod wrappers;

use git::git;
use script::{SHELLS, shell};
use wrappers::{WRAPPERS, unwrap};

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

#[cfg(test)]
mod tests;
