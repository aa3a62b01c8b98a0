//! git: its global options, aliases and command-running settings given
//! with `-c`, and the risks of its subcommands.

use super::script::script;
use super::words::split_words;
use super::{MAX_DEPTH, Risk, RiskKind, add, risk, too_deep};

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

/// git: global options are skipped to find the subcommand; aliases and
/// command-running settings given with `-c` are read. `config` holds the
/// `-c` values of the git line this one was expanded from.
pub(super) fn git(a: &[&str], config: &[&str], depth: usize, out: &mut Vec<Risk>) {
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
