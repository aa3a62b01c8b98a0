//! The tools that look at the project and run programs, through the host:
//! each returns what the model sees (framed, see `prompt`) and is cut to
//! the room one result may take.

use airlock_sdk::workspace::{self, EntryKind, SearchQuery};
use airlock_sdk::{Error, Request, Skill, exec};

use crate::prompt;

/// `text` cut to `max` characters (at a line end where possible), and
/// whether it was cut.
pub fn cut(text: &str, max: usize) -> (String, bool) {
    if text.chars().count() <= max {
        return (text.to_string(), false);
    }
    let head: String = text.chars().take(max).collect();
    let head = match head.rfind('\n') {
        Some(at) if at > max / 2 => head[..at + 1].to_string(),
        _ => head,
    };
    (head, true)
}

/// A file, framed.
pub fn read_file(path: &str, max: usize) -> Result<(String, String), Error> {
    let text = workspace::read_to_string(path)?;
    let (shown, was_cut) = cut(&text, max);
    Ok((prompt::framed(path, &shown, was_cut), text))
}

pub fn list_files(dir: &str, max: usize) -> Result<String, Error> {
    let entries = workspace::list_dir(dir)?;
    let mut out = format!("{dir} holds {} entries:\n", entries.len());
    for e in entries {
        let mark = match (e.kind, &e.withheld) {
            (_, Some(rule)) => format!("  (withheld by the deny-list rule `{rule}`)"),
            (EntryKind::Directory, _) => "/".into(),
            _ => format!("  {} bytes", e.size),
        };
        out.push_str(&format!("{}{mark}\n", e.path));
    }
    Ok(cut(&out, max).0)
}

pub fn search(pattern: &str, max: usize) -> Result<String, Error> {
    if pattern.trim().is_empty() {
        return Err(Error::InvalidInput("the search pattern is empty".into()));
    }
    let result = workspace::search(
        &SearchQuery::new(pattern)
            .literal()
            .case_insensitive()
            .max_matches(40),
    )?;
    if result.matches.is_empty() {
        return Ok(format!("No line contains {pattern:?}."));
    }
    let mut out = format!("Lines containing {pattern:?}:\n");
    for m in &result.matches {
        out.push_str(&format!("{}:{}: {}\n", m.path, m.line, m.text.trim()));
    }
    if result.truncated {
        out.push_str("(more matches not shown)\n");
    }
    Ok(cut(&out, max).0)
}

/// Another skill's logic, run in this sandbox with this run's grants.
pub fn skill<S: Skill>(args: &[(&str, &str)], max: usize) -> Result<String, Error> {
    let output = S::run(Request::with_args(args))?;
    Ok(cut(&output.text, max).0)
}

/// A finished command.
#[derive(Debug, Clone)]
pub struct Ran {
    /// The command line.
    pub line: String,
    /// `exit code 1`, `timed out`, ...
    pub status: String,
    pub passed: bool,
    /// Standard output and error together, the end kept.
    pub output: String,
}

impl Ran {
    /// The result as the model sees it.
    pub fn message(&self) -> String {
        let verdict = if self.passed {
            "passed".to_string()
        } else {
            format!("failed ({})", self.status)
        };
        prompt::command_result(&self.line, &verdict, &self.output)
    }
}

/// Run a program (the host asks the user when the profile says so).
pub fn run_command(program: &str, args: &[String], max: usize) -> Result<Ran, Error> {
    let result = exec::Command::new(program).args(args).run()?;
    let mut line = program.to_string();
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let status = match (result.exit_code, result.signal, result.timed_out) {
        (_, _, true) => "timed out".to_string(),
        (Some(code), _, _) => format!("exit code {code}"),
        (None, Some(sig), _) => format!("killed by signal {sig}"),
        (None, None, _) => "ended".to_string(),
    };
    let mut output = result.stdout.trim_end().to_string();
    // The host's own note on how the command ended is for the user, not
    // the model.
    let stderr: Vec<&str> = result
        .stderr
        .lines()
        .filter(|l| !l.starts_with("[airlock]"))
        .collect();
    let stderr = stderr.join("\n");
    if !stderr.trim().is_empty() {
        if !output.is_empty() {
            output.push('\n');
        }
        output.push_str(stderr.trim_end());
    }
    // Python's position markers under a traceback's source line are noise
    // a small model copies into its edits.
    if output.lines().any(crate::edit::is_position_marker) {
        output = output
            .lines()
            .filter(|l| !crate::edit::is_position_marker(l))
            .collect::<Vec<_>>()
            .join("\n");
    }
    if output.is_empty() {
        output = "(no output)".into();
    }
    Ok(Ran {
        line,
        passed: result.success(),
        status,
        output: tail(&output, max),
    })
}

/// The last `max` characters of `text` (where test failures are).
pub fn tail(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let rest: String = text.chars().skip(n - max).collect();
    let rest = match rest.find('\n') {
        Some(at) if at < max / 4 => rest[at + 1..].to_string(),
        _ => rest,
    };
    format!("(… earlier output left out)\n{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_prefers_a_line_end_and_says_so() {
        let text = "line one\nline two\nline three\n";
        assert_eq!(cut(text, 100), (text.to_string(), false));
        let (head, was_cut) = cut(text, 14);
        assert!(was_cut);
        assert_eq!(head, "line one\n");
    }

    #[test]
    fn tail_keeps_the_end_of_command_output() {
        let t = tail(&"x".repeat(50), 10);
        assert!(t.starts_with("(… earlier output left out)"));
        assert!(t.ends_with("xxxxxxxxxx"));
        let t = tail("first line\nsecond line\nthird line\n", 25);
        assert!(t.ends_with("third line\n"), "{t}");
        assert!(!t.contains("first"));
    }
}
