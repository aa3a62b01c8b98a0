//! Wrappers: programs that run another program named on their command
//! line (`env`, `nice`, `timeout`, `xargs`, `sudo`, …), stripped with
//! their own options to find what they run.

use super::script::script;
use super::words::split_words;
use super::{Risk, command};

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
pub(super) struct Wrapper {
    /// Its name.
    pub(super) name: &'static str,
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
pub(super) const WRAPPERS: &[Wrapper] = &[
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
pub(super) fn unwrap(w: &Wrapper, a: &[&str], depth: usize, out: &mut Vec<Risk>) {
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
