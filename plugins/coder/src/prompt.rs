//! What the model is told: who it is, which tools it has, what it cannot do
//! (no network, only the listed programs), the project's files and its
//! `AIRLOCK.md` notes; and how results are framed so that the model does
//! not copy the frame into files (a path line, then a fenced block).

use crate::testcmd::TestCommand;
use crate::tools::Toolbox;

/// The project notes file read as standing context, when granted.
pub const NOTES_FILE: &str = "AIRLOCK.md";

/// Files named in the prompt at most (the schema still offers every one).
const FILES_SHOWN: usize = 60;

/// The system prompt. `notes` is the project's AIRLOCK.md, already cut to
/// fit; `tests` the command run after each change.
pub fn system(toolbox: &Toolbox, notes: Option<&str>, tests: Option<&TestCommand>) -> String {
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
         - Do not repeat a call: its result is already above.\n",
    );
    if toolbox.can_write {
        p.push_str(
            "- Make the change the task asks for: call edit, then write the change as \
             SEARCH/REPLACE blocks, like this:\n\
             path/of/the/file\n\
             <<<<<<< SEARCH\n\
             the lines to change, copied exactly from the file\n\
             =======\n\
             the new lines\n\
             >>>>>>> REPLACE\n\
             \x20 Change the code, not the tests.\n",
        );
        match tests {
            Some(t) => p.push_str(&format!(
                "- After each change the tests run (`{}`); fix what they report.\n",
                t.line()
            )),
            None => p.push_str("- Call answer when the change is made.\n"),
        }
    } else {
        p.push_str("- Call answer as soon as you know enough.\n");
        p.push_str("- You cannot change files in this session.\n");
    }
    p.push_str("- There is no network: no internet, no downloads, no package installs.\n");
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
    if !toolbox.can_write {
        p.push_str(
            "\nExample:\nTask: What does load() in app/config.py return?\n\
             {\"tool\":\"read_file\",\"path\":\"app/config.py\"}\n\
             Result: the file's content\n\
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

/// The fence language for a file, by its extension.
fn language(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("py") => "python",
        Some("c" | "h") => "c",
        Some("cc" | "cpp" | "hpp") => "cpp",
        Some("rs") => "rust",
        Some("js" | "mjs") => "javascript",
        Some("ts") => "typescript",
        Some("go") => "go",
        Some("sh") => "bash",
        Some("md") => "markdown",
        Some("toml") => "toml",
        Some("adb" | "ads") => "ada",
        _ => "",
    }
}

/// A fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// A file's content as the model sees it: its path on a line of its own,
/// then the content in a fenced block (nothing the model would copy into
/// the file by mistake sits inside the fence).
pub fn framed(path: &str, content: &str, cut: bool) -> String {
    let f = fence(content);
    let mut out = format!("{path}\n{f}{}\n{content}", language(path));
    if !content.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&f);
    if cut {
        out.push_str(&format!(
            "\n(cut here: {path} is longer than the room for one result)"
        ));
    }
    out
}

/// A command's result: its line and status, then its output fenced.
pub fn command_result(line: &str, verdict: &str, output: &str) -> String {
    let f = fence(output);
    format!("`{line}` {verdict}:\n{f}\n{}\n{f}", output.trim_end())
}

/// The message that asks for SEARCH/REPLACE blocks for `path`; `content`
/// when the model has not seen the file as it is now.
pub fn edit_request(path: &str, content: Option<&str>) -> String {
    let mut p = String::new();
    if let Some(text) = content {
        p.push_str(&framed(path, text, false));
        p.push_str("\n\n");
    }
    p.push_str(&format!(
        "Write the change to {path} as SEARCH/REPLACE blocks: SEARCH copied exactly from \
         {path}, only the lines that change and one or two around them."
    ));
    p
}

/// The message that asks, before an edit, what must change in `path`:
/// one sentence in the model's own words, which the edit then follows.
/// `content` when the model has not seen the file as it is now; `failing`
/// when a test failure is shown just above (the plan explains it).
pub fn plan_request(path: &str, content: Option<&str>, failing: bool) -> String {
    let mut p = String::new();
    if let Some(text) = content {
        p.push_str(&framed(path, text, false));
        p.push_str("\n\n");
    }
    p.push_str(&if failing {
        format!(
            "Before you change {path}: what in its code causes this, and how should that \
             code be changed? Answer in one sentence, without a code block."
        )
    } else {
        format!(
            "Before you change {path}: what exactly must be added or changed in it for the \
             task, and where? Answer in one sentence, without a code block."
        )
    });
    p
}

/// After the plan: the request for its SEARCH/REPLACE blocks.
pub fn plan_edit_request(path: &str) -> String {
    format!(
        "Now make exactly that change: write it as SEARCH/REPLACE blocks for {path}, SEARCH \
         copied exactly from {path}, REPLACE with the new lines."
    )
}

/// The message that asks for a new file's content.
pub fn new_file_request(path: &str) -> String {
    format!("Write the whole content of the new file {path} in one fenced block.")
}

/// The message that asks for the answer to a question, after the steps.
pub fn answer_request(task: &str) -> String {
    format!(
        "Now answer the task for the user in a few plain sentences, from what you found \
         above (no JSON, no tool calls). Task: {task}"
    )
}

/// Files of the project the task names, by path or by file name, for a
/// hint next to the task.
pub fn named_files<'a>(task: &str, files: &'a [String]) -> Vec<&'a str> {
    let words = words(task);
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

/// A path the task names that is not a project file, when the task asks
/// for a new file ("a new file notes.txt", "create src/util.py").
pub fn new_file_named(task: &str, files: &[String]) -> Option<String> {
    let lower = task.to_ascii_lowercase();
    if !(lower.contains("new file") || lower.contains("create")) {
        return None;
    }
    words(task)
        .into_iter()
        .find(|w| {
            w.contains('.')
                && !w.starts_with('.')
                && !w.ends_with('.')
                && w.chars().all(|c| c.is_alphanumeric() || "._-/".contains(c))
                && w.rsplit('.').next().is_some_and(|e| {
                    !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric())
                })
                && !files.iter().any(|f| f == w)
        })
        .map(String::from)
}

fn words(task: &str) -> Vec<&str> {
    task.split(|c: char| c.is_whitespace() || "`'\"(),;:?!".contains(c))
        .map(|w| w.trim_end_matches('.'))
        .filter(|w| !w.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testcmd::Source;

    #[test]
    fn the_prompt_says_truthfully_what_the_agent_can_do() {
        let tb = Toolbox::new(
            vec!["src/main.rs".into()],
            true,
            vec![("cargo".into(), true), ("make".into(), false)],
        );
        let tests = TestCommand {
            words: vec!["make".into(), "test".into()],
            source: Source::Project("the Makefile"),
        };
        let p = system(
            &tb,
            Some("Run `make test` before you finish."),
            Some(&tests),
        );
        assert!(p.contains("no network"));
        assert!(p.contains("cargo (the user approves each run), make"));
        assert!(p.contains("- edit {\"path\"}"));
        assert!(p.contains("<<<<<<< SEARCH"));
        assert!(p.contains("the tests run (`make test`)"));
        assert!(p.contains("Project files: src/main.rs"));
        assert!(p.contains("Run `make test` before you finish."));
    }

    #[test]
    fn without_grants_the_prompt_says_what_is_not_possible() {
        let tb = Toolbox::new(vec!["a.py".into()], false, vec![]);
        let p = system(&tb, None, None);
        assert!(p.contains("You cannot change files"));
        assert!(p.contains("You cannot run programs"));
        assert!(!p.contains("edit"));
        assert!(!p.contains("SEARCH"));
        assert!(!p.contains(NOTES_FILE));
    }

    #[test]
    fn files_are_framed_outside_their_content() {
        let f = framed("src/calc.py", "x = 1\n", false);
        assert_eq!(f, "src/calc.py\n```python\nx = 1\n```");
        let md = framed("README.md", "```sh\nmake\n```\n", false);
        assert!(md.starts_with("README.md\n````markdown\n```sh"), "{md}");
        assert!(md.ends_with("```\n````"), "{md}");
        assert!(framed("a.txt", "x", true).contains("(cut here"));
        let r = command_result("make test", "failed", "1 failed\n");
        assert_eq!(r, "`make test` failed:\n```\n1 failed\n```");
        assert!(edit_request("a.py", Some("x\n")).starts_with("a.py\n```python\nx\n```\n\n"));
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
    fn a_new_file_the_task_asks_for_is_found() {
        let files = vec!["src/calc.py".to_string()];
        assert_eq!(
            new_file_named("Write the word done into a new file done.txt", &files).as_deref(),
            Some("done.txt")
        );
        assert_eq!(
            new_file_named("Create src/util.py with a helper.", &files).as_deref(),
            Some("src/util.py")
        );
        assert_eq!(
            new_file_named("Create a helper in src/calc.py.", &files),
            None
        );
        assert_eq!(new_file_named("Fix add in src/calc.py", &files), None);
    }
}
