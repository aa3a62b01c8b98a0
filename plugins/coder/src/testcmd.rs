//! The project's test command, and what its output says: whether it
//! passed, a one-line summary for the user, and which project files a
//! failure points at (the file a traceback names, and the files a failing
//! test imports), so the first prompt can show them.

/// Where the test command was found, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command in backticks in the task.
    Task,
    /// A `Test:` line in the project's notes.
    Notes,
    /// A build file: `Makefile`, `Cargo.toml`, Python tests, ...
    Project(&'static str),
}

/// A test command and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestCommand {
    pub words: Vec<String>,
    pub source: Source,
}

impl TestCommand {
    pub fn line(&self) -> String {
        self.words.join(" ")
    }
}

/// What the finder looks at. `read` returns a project file's text.
pub struct Project<'a> {
    pub task: &'a str,
    pub notes: Option<&'a str>,
    pub files: &'a [String],
    pub programs: &'a [String],
    pub read: &'a dyn Fn(&str) -> Option<String>,
}

/// The test command, in this order: a command in backticks in the task
/// whose program this run may start, the notes' `Test:` line, a Makefile
/// `test` (or `check`) target, `cargo test`, Python tests (unittest or
/// pytest), `npm test`, `go test`. `None` when nothing says how.
pub fn find(p: &Project<'_>) -> Option<TestCommand> {
    let allowed = |words: &[String]| words.first().is_some_and(|w| p.programs.contains(w));
    if let Some(words) = in_backticks(p.task)
        .into_iter()
        .find(|w| allowed(w) && w.len() > 1)
    {
        return Some(TestCommand {
            words,
            source: Source::Task,
        });
    }
    if let Some(words) = p.notes.and_then(notes_command) {
        return Some(TestCommand {
            words,
            source: Source::Notes,
        });
    }
    let has = |name: &str| p.files.iter().any(|f| f == name);
    let mut found: Vec<(Vec<&str>, &'static str)> = Vec::new();
    if let Some(makefile) = ["Makefile", "makefile", "GNUmakefile"]
        .into_iter()
        .find(|m| has(m))
        && let Some(text) = (p.read)(makefile)
    {
        for target in ["test", "check"] {
            if text.lines().any(|l| is_target(l, target)) {
                found.push((vec!["make", target], "the Makefile"));
                break;
            }
        }
    }
    if has("Cargo.toml") {
        found.push((vec!["cargo", "test", "--offline"], "Cargo.toml"));
    }
    let python_tests: Vec<&String> = p
        .files
        .iter()
        .filter(|f| {
            let name = f.rsplit('/').next().unwrap_or(f);
            name.ends_with(".py") && (name.starts_with("test_") || name.ends_with("_test.py"))
        })
        .collect();
    if !python_tests.is_empty() {
        let unittest = python_tests.iter().any(|f| {
            (p.read)(f).is_some_and(|t| t.contains("import unittest") || t.contains("TestCase"))
        });
        if unittest {
            found.push((vec!["python3", "-m", "unittest"], "the Python tests"));
        } else if p.programs.iter().any(|n| n == "pytest") {
            found.push((vec!["pytest", "-q"], "the Python tests"));
        } else {
            found.push((vec!["python3", "-m", "pytest", "-q"], "the Python tests"));
        }
    }
    if has("package.json") {
        found.push((vec!["npm", "test"], "package.json"));
    }
    if has("go.mod") {
        found.push((vec!["go", "test", "./..."], "go.mod"));
    }
    found
        .into_iter()
        .map(|(w, from)| (w.into_iter().map(String::from).collect::<Vec<_>>(), from))
        .find(|(w, _)| allowed(w))
        .map(|(words, from)| TestCommand {
            words,
            source: Source::Project(from),
        })
}

fn is_target(line: &str, target: &str) -> bool {
    line.strip_prefix(target)
        .is_some_and(|rest| rest.starts_with(':') && !rest.starts_with(":="))
}

/// Commands written in backticks, split into words.
fn in_backticks(text: &str) -> Vec<Vec<String>> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(|c| c.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|w: &Vec<String>| !w.is_empty())
        .collect()
}

/// The test command the project's notes name, as a line `test: COMMAND`
/// (any case, in a list or not, the command in backticks or not), split
/// into program and arguments.
pub fn notes_command(notes: &str) -> Option<Vec<String>> {
    notes.lines().find_map(|line| {
        let line = line.trim().trim_start_matches(['-', '*']).trim();
        let (key, rest) = line.split_once(':')?;
        if !matches!(key.trim().to_ascii_lowercase().as_str(), "test" | "tests") {
            return None;
        }
        let words: Vec<String> = rest
            .trim()
            .trim_matches('`')
            .split_whitespace()
            .map(String::from)
            .collect();
        (!words.is_empty()).then_some(words)
    })
}

/// One line on how a test run went, from its output: the test runner's own
/// count when it prints one.
/// Whether a Python runner's output says it found no tests (unittest's
/// "Ran 0 tests", pytest's "no tests ran"): a run that tests nothing is not
/// a pass. (`cargo test` prints "running 0 tests" for every binary without
/// tests, even when others ran some, so it is not read this way.)
pub fn ran_no_tests(output: &str) -> bool {
    output.lines().any(|line| {
        let line = line.trim();
        line.starts_with("Ran 0 tests") || line.contains("no tests ran")
    })
}

pub fn summary(passed: bool, output: &str) -> String {
    let verdict = if passed { "passed" } else { "failed" };
    let detail = output.lines().rev().find_map(|l| {
        let t = l.trim();
        let lower = t.to_ascii_lowercase();
        let counted = (lower.contains(" failed") || lower.contains(" passed"))
            && t.chars().any(|c| c.is_ascii_digit());
        let unittest = t.starts_with("FAILED (") || t.starts_with("Ran ");
        let cargo = t.starts_with("test result:");
        (counted || unittest || cargo).then(|| t.trim_matches('=').trim().to_string())
    });
    match detail {
        Some(d) if d.len() <= 80 => format!("{verdict} ({d})"),
        _ => verdict.to_string(),
    }
}

/// The lines of a failing run that say what is wrong (assertions, errors,
/// `FAIL` lines), at most a few, or none when no line stands out.
pub fn key_lines(output: &str) -> Option<String> {
    const MAX: usize = 4;
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim_end)
        .filter(|l| {
            let t = l.trim_start();
            let lower = t.to_ascii_lowercase();
            // Indented lines are code quoted by a traceback (often the
            // test's own line, which a model then tries to edit).
            !t.is_empty()
                && !l.starts_with([' ', '\t'])
                && !t.starts_with("make: ***")
                && !t.starts_with("FAILED (")
                && (lower.starts_with("fail")
                    || lower.contains("error")
                    || lower.contains("assert")
                    || lower.contains("expected")
                    || lower.contains("panicked"))
        })
        .collect();
    let start = lines.len().saturating_sub(MAX);
    (!lines.is_empty()).then(|| lines[start..].join("\n"))
}

/// Project files a test run's output points at, most telling first: files
/// the output names (the deepest traceback frame first), then project files
/// that the named test files import. Only files in `files`.
pub fn implicated(
    output: &str,
    files: &[String],
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    // Where in the output each file is last named.
    let mut named: Vec<(usize, &String)> = files
        .iter()
        .filter_map(|f| last_mention(output, f).map(|at| (at, f)))
        .collect();
    named.sort_by_key(|n| std::cmp::Reverse(n.0));
    let mut out: Vec<String> = Vec::new();
    let push = |out: &mut Vec<String>, f: &str| {
        if !out.iter().any(|o| o == f) {
            out.push(f.to_string());
        }
    };
    // Source files before tests: the fix is usually in the code under test.
    for (_, f) in named.iter().filter(|(_, f)| !is_test_file(f)) {
        push(&mut out, f);
    }
    for (_, f) in named.iter().filter(|(_, f)| is_test_file(f)) {
        if let Some(text) = read(f) {
            for dep in imports(&text, f, files) {
                if !is_test_file(&dep) {
                    push(&mut out, &dep);
                }
            }
        }
    }
    for (_, f) in named.iter().filter(|(_, f)| is_test_file(f)) {
        push(&mut out, f);
    }
    out
}

/// Whether a path is a test file by its name or folder.
pub fn is_test_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("test_")
        || name.starts_with("test.")
        || name.contains("_test.")
        || name.contains("_spec.")
        || path.split('/').any(|p| p == "tests" || p == "test")
}

/// Where `file` is last named in `output` as a whole path (after a quote,
/// a slash, a space or the line start), byte offset.
fn last_mention(output: &str, file: &str) -> Option<usize> {
    output.rmatch_indices(file).map(|(i, _)| i).find(|&i| {
        let before = output[..i].chars().next_back();
        let after = output[i + file.len()..].chars().next();
        let starts = before.is_none_or(|c| "\"'/ \t\n(:".contains(c));
        let ends = after.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'))
            || after == Some('.') && output[i + file.len()..].starts_with(". ");
        starts && ends
    })
}

/// Project files that `text` (the file at `path`) imports: Python
/// `import x` / `from x import`, C `#include "x.h"` (and its `x.c`), Rust
/// `use crate::x` / `mod x`.
fn imports(text: &str, path: &str, files: &[String]) -> Vec<String> {
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let mut candidates: Vec<String> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("from ") {
            if let Some(module) = rest.split_whitespace().next() {
                candidates.extend(python_module(module));
            }
        } else if let Some(rest) = t.strip_prefix("import ") {
            for module in rest.split(',') {
                if let Some(m) = module.split_whitespace().next() {
                    candidates.extend(python_module(m));
                }
            }
        } else if let Some(rest) = t.strip_prefix("#include \"") {
            if let Some(header) = rest.split('"').next() {
                candidates.push(header.to_string());
                if let Some(stem) = header.strip_suffix(".h") {
                    candidates.push(format!("{stem}.c"));
                    candidates.push(format!("{stem}.cpp"));
                }
            }
        } else if let Some(rest) = t.strip_prefix("use crate::") {
            let module = rest.split([':', ';', '{']).next().unwrap_or("");
            candidates.push(format!("src/{module}.rs"));
            candidates.push(format!("src/{module}/mod.rs"));
        }
    }
    let mut out = Vec::new();
    for c in candidates {
        let local = if dir.is_empty() {
            c.clone()
        } else {
            format!("{dir}/{c}")
        };
        for f in files {
            let hit = *f == c || *f == local || f.ends_with(&format!("/{c}"));
            if hit && !out.contains(f) {
                out.push(f.clone());
            }
        }
    }
    out
}

/// The files a Python module path could be.
fn python_module(module: &str) -> Vec<String> {
    let module = module.trim_start_matches('.').trim_end_matches(',');
    if module.is_empty() {
        return Vec::new();
    }
    let base = module.replace('.', "/");
    vec![format!("{base}.py"), format!("{base}/__init__.py")]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn no_read(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn the_task_then_the_notes_then_the_project_say_how_to_test() {
        let fs = files(&["Makefile", "test_x.py", "x.py"]);
        let programs = files(&["make", "python3"]);
        let read = |p: &str| match p {
            "Makefile" => Some("all:\n\tcc x.c\n\ntest: all\n\t./t\n".to_string()),
            "test_x.py" => Some("import unittest\n".to_string()),
            _ => None,
        };
        let mut p = Project {
            task: "`python3 -B test_x.py` fails; fix it",
            notes: Some("Test: `make check`"),
            files: &fs,
            programs: &programs,
            read: &read,
        };
        let t = find(&p).expect("from the task");
        assert_eq!(
            (t.line(), t.source),
            ("python3 -B test_x.py".into(), Source::Task)
        );
        p.task = "fix `x.py`";
        assert_eq!(find(&p).expect("notes").line(), "make check");
        p.notes = None;
        let t = find(&p).expect("makefile");
        assert_eq!(t.line(), "make test");
        assert_eq!(t.source, Source::Project("the Makefile"));
        let only_python = files(&["python3"]);
        p.programs = &only_python;
        assert_eq!(find(&p).expect("python").line(), "python3 -m unittest");
        let nothing: Vec<String> = Vec::new();
        p.programs = &nothing;
        assert_eq!(find(&p), None, "no program may run");
    }

    #[test]
    fn the_notes_test_line_is_read_in_any_form() {
        assert_eq!(
            notes_command("# Notes\nBuild: make\n- Test: `python3 -m pytest -q`\n"),
            Some(files(&["python3", "-m", "pytest", "-q"]))
        );
        assert_eq!(
            notes_command("tests: make check"),
            Some(files(&["make", "check"]))
        );
        assert_eq!(notes_command("Testing is manual."), None);
        assert_eq!(notes_command("test: ``"), None);
    }

    #[test]
    fn a_run_that_found_no_tests_is_seen() {
        assert!(ran_no_tests(
            "\n----------------------------------------------------------------------\nRan 0 tests in 0.000s\n\nOK\n"
        ));
        assert!(ran_no_tests(
            "============ no tests ran in 0.01s ============\n"
        ));
        assert!(!ran_no_tests("Ran 3 tests in 0.001s\n\nOK\n"));
        assert!(!ran_no_tests(
            "running 0 tests\n\ntest result: ok. 0 passed\n"
        ));
    }

    #[test]
    fn summaries_use_the_runners_own_count() {
        assert_eq!(
            summary(
                false,
                "....F\nRan 5 tests in 0.001s\n\nFAILED (failures=1)\n"
            ),
            "failed (FAILED (failures=1))"
        );
        assert_eq!(
            summary(false, "===== 2 failed, 3 passed in 0.1s =====\n"),
            "failed (2 failed, 3 passed in 0.1s)"
        );
        assert_eq!(summary(true, "ok\n"), "passed");
        assert_eq!(
            summary(
                false,
                "FAIL clamp(42): got 42\n1 failed\nmake: *** Error 1\n"
            ),
            "failed (1 failed)"
        );
    }

    #[test]
    fn the_key_lines_of_a_failure_are_picked_out() {
        let out = "./test_clamp\nFAIL clamp(42, 0, 10): got 42, want 10\n1 failed\nmake: *** [Makefile:7: test] Error 1\n";
        assert_eq!(
            key_lines(out).as_deref(),
            Some("FAIL clamp(42, 0, 10): got 42, want 10")
        );
        let py = "F.\n======\nFAIL: test_last_two (test_window.WindowTest)\nTraceback (most recent call last):\n  File \"/w/test_window.py\", line 8\nAssertionError: Lists differ: [4] != [3, 4]\n\nFAILED (failures=1)\n";
        assert_eq!(
            key_lines(py).as_deref(),
            Some(
                "FAIL: test_last_two (test_window.WindowTest)\nAssertionError: Lists differ: [4] != [3, 4]"
            )
        );
        assert_eq!(key_lines("all good\n"), None);
    }

    #[test]
    fn a_traceback_points_at_the_code_under_test_first() {
        let fs = files(&[
            "shop/__init__.py",
            "shop/cart.py",
            "shop/prices.py",
            "tests/test_cart.py",
        ]);
        let out = "Traceback (most recent call last):\n  File \"/ws/tests/test_cart.py\", line 11, in test_total\n    self.assertEqual(cart.total(discount=10), 36)\nAssertionError: 32.4 != 36\n";
        let read = |p: &str| {
            (p == "tests/test_cart.py")
                .then(|| "import unittest\n\nfrom shop.cart import Cart\n".to_string())
        };
        assert_eq!(
            implicated(out, &fs, &read),
            ["shop/cart.py", "tests/test_cart.py"]
        );
        let deep = "  File \"/ws/tests/test_cart.py\", line 3\n  File \"/ws/shop/prices.py\", line 3, in apply\nZeroDivisionError";
        assert_eq!(implicated(deep, &fs, &read)[0], "shop/prices.py");
    }

    #[test]
    fn c_includes_lead_from_the_test_to_the_source() {
        let fs = files(&["Makefile", "clamp.c", "clamp.h", "test_clamp.c"]);
        let read = |p: &str| {
            (p == "test_clamp.c").then(|| "#include <stdio.h>\n#include \"clamp.h\"\n".to_string())
        };
        let out = "cc -Wall -o test_clamp clamp.c test_clamp.c\n./test_clamp\nFAIL clamp(42)\n";
        assert_eq!(
            implicated(out, &fs, &read),
            ["clamp.c", "clamp.h", "test_clamp.c"]
        );
        assert!(implicated("nothing here", &fs, &no_read).is_empty());
    }
}
