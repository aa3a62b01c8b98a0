//! What the model is told: who it is, which tools it has, what it cannot do
//! (no network, only the listed programs), the project's files and its
//! `AIRLOCK.md` notes.

use crate::tools::Toolbox;

/// The project notes file read as standing context, when granted.
pub const NOTES_FILE: &str = "AIRLOCK.md";

/// Files named in the prompt at most (the schema still offers every one).
const FILES_SHOWN: usize = 60;

/// The system prompt. `notes` is the project's AIRLOCK.md, already cut to
/// fit.
pub fn system(toolbox: &Toolbox, notes: Option<&str>) -> String {
    let mut p = String::from(
        "You are a careful coding agent working in a software project on an offline \
         machine. You act by calling one tool per reply, written as JSON.\n\nTools:\n",
    );
    for (name, args, what) in toolbox.catalogue() {
        p.push_str(&format!("- {name} {args}: {what}\n"));
    }
    p.push_str(
        "\nRules:\n\
         - Read the files a task is about before you answer; never guess what a file says.\n\
         - Do not repeat a call: its result is already above.\n\
         - Call answer as soon as you know enough.\n\
         - There is no network: no internet, no downloads, no package installs.\n",
    );
    if !toolbox.can_write {
        p.push_str("- You cannot change files in this session.\n");
    }
    if toolbox.programs.is_empty() {
        p.push_str("- You cannot run programs in this session.\n");
    } else {
        let listed: Vec<String> = toolbox
            .programs
            .iter()
            .map(|(n, ask)| {
                if *ask {
                    format!("{n} (the user approves each run)")
                } else {
                    n.clone()
                }
            })
            .collect();
        p.push_str(&format!(
            "- The only programs you can run are: {}.\n",
            listed.join(", ")
        ));
    }
    let shown: Vec<&str> = toolbox
        .files
        .iter()
        .take(FILES_SHOWN)
        .map(String::as_str)
        .collect();
    p.push_str(&format!("\nProject files: {}", shown.join(", ")));
    if toolbox.files.len() > FILES_SHOWN {
        p.push_str(&format!(" and {} more", toolbox.files.len() - FILES_SHOWN));
    }
    p.push('\n');
    p.push_str(
        "\nExample:\nTask: What does load() in app/config.py return?\n\
         {\"tool\":\"read_file\",\"path\":\"app/config.py\"}\n\
         Result: app/config.py (12 lines): ...\n\
         {\"tool\":\"answer\"}\n",
    );
    if toolbox.can_write {
        p.push_str(
            "\nExample:\nTask: Add a line \"done\" to todo.txt.\n\
             {\"tool\":\"read_file\",\"path\":\"todo.txt\"}\n\
             Result: todo.txt (1 lines):\nbuy milk\n\
             {\"tool\":\"write_file\",\"path\":\"todo.txt\",\"content\":\"buy milk\\ndone\\n\"}\n\
             Result: Wrote todo.txt (14 bytes).\n\
             {\"tool\":\"answer\"}\n",
        );
    }
    if let Some(notes) = notes {
        p.push_str(&format!(
            "\nThe project's notes for agents ({NOTES_FILE}); follow them:\n{notes}\n"
        ));
    }
    p
}

/// The test command the project's notes name, as a line `test: COMMAND`
/// (any case, in a list or not, the command in backticks or not), split
/// into program and arguments.
pub fn test_command(notes: &str) -> Option<Vec<String>> {
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

/// Files of the project the task names, by path or by file name, for a
/// hint next to the task.
pub fn named_files<'a>(task: &str, files: &'a [String]) -> Vec<&'a str> {
    let words: Vec<&str> = task
        .split(|c: char| c.is_whitespace() || "`'\"(),;:?!".contains(c))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect();
    files
        .iter()
        .filter(|f| {
            let name = f.rsplit('/').next().unwrap_or(f);
            words.iter().any(|w| *w == f.as_str() || *w == name)
        })
        .map(String::as_str)
        .take(8)
        .collect()
}

/// The request for the answer, with what the tools showed written out as
/// plain text (a small model answers better from notes than from a list of
/// tool calls, which it tends to imitate).
pub fn answer_request(
    task: &str,
    findings: &[String],
    changed: &[String],
    ran: &[String],
) -> String {
    let mut p = String::new();
    if findings.is_empty() {
        p.push_str("You looked at nothing in the project.\n");
    } else {
        p.push_str("What you found in the project:\n\n");
        for f in findings {
            p.push_str(f);
            p.push_str("\n\n");
        }
    }
    // Stated plainly, so the answer cannot claim work that was not done.
    if changed.is_empty() {
        p.push_str("You did not change any file.\n");
    } else {
        p.push_str(&format!("You changed: {}.\n", changed.join(", ")));
    }
    if ran.is_empty() {
        p.push_str("You did not run any program.\n");
    } else {
        p.push_str(&format!("You ran: {}.\n", ran.join("; ")));
    }
    p.push_str(&format!("Task: {task}"));
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_says_truthfully_what_the_agent_can_do() {
        let tb = Toolbox::new(
            vec!["src/main.rs".into()],
            true,
            vec![("cargo".into(), true), ("make".into(), false)],
        );
        let p = system(&tb, Some("Run `make test` before you finish."));
        assert!(p.contains("no network"));
        assert!(p.contains("cargo (the user approves each run), make"));
        assert!(p.contains("- write_file"));
        assert!(p.contains("Project files: src/main.rs"));
        assert!(p.contains("Run `make test` before you finish."));
    }

    #[test]
    fn the_test_command_comes_from_a_test_line_in_the_notes() {
        let notes = "# Notes\nBuild: make\n- Test: `python3 -m pytest -q`\n";
        assert_eq!(
            test_command(notes),
            Some(vec![
                "python3".into(),
                "-m".into(),
                "pytest".into(),
                "-q".into()
            ])
        );
        assert_eq!(
            test_command("tests: make check"),
            Some(vec!["make".into(), "check".into()])
        );
        assert_eq!(test_command("Testing is manual."), None);
        assert_eq!(test_command("test: ``"), None);
    }

    #[test]
    fn files_named_in_the_task_are_found_by_path_or_name() {
        let files = vec![
            "src/calc.py".to_string(),
            "README.md".into(),
            "calc.rs".into(),
        ];
        assert_eq!(
            named_files("What does scale() in src/calc.py do?", &files),
            ["src/calc.py"]
        );
        assert_eq!(
            named_files("Fix the typo in `README.md`.", &files),
            ["README.md"]
        );
        assert!(named_files("Explain the calculator", &files).is_empty());
    }

    #[test]
    fn the_answer_request_carries_the_findings_as_text() {
        let p = answer_request("why?", &["src/a.py (2 lines):\nx = 1".into()], &[], &[]);
        assert!(p.contains("x = 1"));
        assert!(p.contains("You did not change any file."));
        assert!(p.ends_with("Task: why?"));
        assert!(answer_request("why?", &[], &[], &[]).contains("looked at nothing"));
        let p = answer_request(
            "fix",
            &[],
            &["a.py".into()],
            &["make test (exit code 0)".into()],
        );
        assert!(p.contains("You changed: a.py."));
        assert!(p.contains("You ran: make test (exit code 0)."));
    }

    #[test]
    fn without_grants_the_prompt_says_what_is_not_possible() {
        let tb = Toolbox::new(vec!["a.py".into()], false, vec![]);
        let p = system(&tb, None);
        assert!(p.contains("You cannot change files"));
        assert!(p.contains("You cannot run programs"));
        assert!(!p.contains("write_file"));
        assert!(!p.contains(NOTES_FILE));
    }
}
