//! Shell scripts: a shell given one with `-c`, and the simple commands and
//! command substitutions a script runs.

use super::words::Lexer;
use super::{MAX_DEPTH, Risk, RiskKind, add, command, risk, too_deep};

/// POSIX-style shells: `-c` anywhere in a short-option cluster (`-c`,
/// `-lc`, `-ec`) makes the first operand a script.
pub(super) const SHELLS: &[&str] = &[
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

/// A POSIX shell: with `-c` in a short-option cluster, the first operand is
/// a script, which is read.
pub(super) fn shell(a: &[&str], depth: usize, out: &mut Vec<Risk>) {
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

/// Adds the risks of a shell script: of every simple command in it and of
/// every command substitution.
pub(super) fn script(text: &str, depth: usize, out: &mut Vec<Risk>) {
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
