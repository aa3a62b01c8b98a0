//! The agent's tools: what the model may ask for, the JSON Schema the engine
//! enforces while it decodes (so even a small model's reply is a valid tool
//! call), and how a reply is read back.
//!
//! Paths the model may read are an `enum` of the files that exist, and
//! programs it may run are an `enum` of the programs the profile lists, so
//! a call can only name things that are there.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Paths offered as an `enum` at most; a larger workspace gets a free string
/// (the host still checks every path).
pub const MAX_ENUM_PATHS: usize = 300;

/// The longest search pattern, edit text and argument the schema allows,
/// in characters: it bounds what one call can cost.
const MAX_PATTERN: usize = 80;
const MAX_ARG: usize = 120;
const MAX_ARGS: usize = 8;

/// One tool call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "tool", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// List a directory.
    ListFiles { dir: String },
    /// Show a file.
    ReadFile { path: String },
    /// Lines containing a text.
    Search { pattern: String },
    /// An outline of every source file (the repo-map skill).
    RepoMap {},
    /// Credentials committed to the project (the secret-scan skill).
    ScanSecrets {},
    /// Change a file: the next reply is SEARCH/REPLACE blocks (plain
    /// text, see `edit`), so no code is escaped inside JSON.
    Edit { path: String },
    /// Create a new file: the next reply is its content.
    WriteFile { path: String },
    /// Run a listed program.
    RunCommand { program: String, args: Vec<String> },
    /// Done: write the answer.
    Answer {},
}

impl Action {
    /// A short description for logs and the run's summary.
    pub fn describe(&self) -> String {
        match self {
            Action::ListFiles { dir } => format!("list_files {dir}"),
            Action::ReadFile { path } => format!("read_file {path}"),
            Action::Search { pattern } => format!("search {pattern:?}"),
            Action::RepoMap {} => "repo_map".into(),
            Action::ScanSecrets {} => "scan_secrets".into(),
            Action::Edit { path } => format!("edit {path}"),
            Action::WriteFile { path } => format!("write_file {path}"),
            Action::RunCommand { program, args } => {
                let mut line = program.clone();
                for a in args {
                    line.push(' ');
                    line.push_str(a);
                }
                format!("run_command {line}")
            }
            Action::Answer {} => "answer".into(),
        }
    }

    /// The call as the model wrote it (compact JSON), to put back in the
    /// conversation.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| self.describe())
    }
}

/// What the agent can do in this run.
#[derive(Debug, Clone, Default)]
pub struct Toolbox {
    /// Readable files (workspace-relative), sorted.
    pub files: Vec<String>,
    /// Directories that hold them, `.` first.
    pub dirs: Vec<String>,
    /// Whether this run may change files: a writable grant, and a task
    /// that asks for a change.
    pub can_write: bool,
    /// Programs the profile lists, with whether each asks first.
    pub programs: Vec<(String, bool)>,
    /// Whether test files are kept out of `edit` (the task does not ask to
    /// change tests: the code is what gets fixed).
    pub tests_locked: bool,
}

impl Toolbox {
    /// A toolbox for these files (directories are derived).
    pub fn new(files: Vec<String>, can_write: bool, programs: Vec<(String, bool)>) -> Self {
        let mut dirs = vec![".".to_string()];
        for file in &files {
            let mut at = file.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                if !dirs.iter().any(|d| d == parent) {
                    dirs.push(parent.to_string());
                }
                at = parent;
            }
        }
        dirs[1..].sort();
        Self {
            files,
            dirs,
            can_write,
            programs,
            tests_locked: false,
        }
    }

    /// The files `edit` offers: every file, or the non-test files when
    /// tests are locked (all of them if that leaves none).
    pub fn editable(&self) -> Vec<String> {
        let code: Vec<String> = self
            .files
            .iter()
            .filter(|f| !crate::testcmd::is_test_file(f))
            .cloned()
            .collect();
        if self.tests_locked && !code.is_empty() {
            code
        } else {
            self.files.clone()
        }
    }

    /// The tools this run offers, as (name, signature, what it does), in the
    /// order the model sees them.
    pub fn catalogue(&self) -> Vec<(&'static str, &'static str, String)> {
        let mut tools = vec![
            (
                "read_file",
                "{\"path\"}",
                "show a file's content".to_string(),
            ),
            ("list_files", "{\"dir\"}", "list a folder".to_string()),
            (
                "search",
                "{\"pattern\"}",
                "find the lines that contain a text".to_string(),
            ),
            (
                "repo_map",
                "{}",
                "outline of every source file (functions, types)".to_string(),
            ),
            (
                "scan_secrets",
                "{}",
                "find passwords and keys committed to the project".to_string(),
            ),
        ];
        if self.can_write {
            tools.push((
                "edit",
                "{\"path\"}",
                "change a file: then write SEARCH/REPLACE blocks".to_string(),
            ));
            tools.push((
                "write_file",
                "{\"path\"}",
                "create a new file: then write its content".to_string(),
            ));
        }
        if !self.programs.is_empty() {
            let names: Vec<&str> = self.programs.iter().map(|(n, _)| n.as_str()).collect();
            tools.push((
                "run_command",
                "{\"program\",\"args\"}",
                format!(
                    "run one of these programs, no shell: {} (offline; the user may be asked)",
                    names.join(", ")
                ),
            ));
        }
        tools.push((
            "answer",
            "{}",
            "you know enough (or cannot do more): stop and write the answer".to_string(),
        ));
        tools
    }

    /// The JSON Schema of one tool call, for the engine to enforce. `answer`
    /// is offered only when `may_answer` (the agent decides: something was
    /// looked at, and for a change request, a change was tried). Calls
    /// in `done` that would only show the same thing again (a file already
    /// read, a folder already listed, the map or the scan already made) are
    /// not offered: the engine, not the model, rules out going in circles.
    pub fn schema(&self, done: &[Action], may_answer: bool) -> String {
        let read: Vec<String> = unseen(&self.files, done, |a| match a {
            Action::ReadFile { path } => Some(path),
            _ => None,
        });
        let listed: Vec<String> = unseen(&self.dirs, done, |a| match a {
            Action::ListFiles { dir } => Some(dir),
            _ => None,
        });
        let mut variants = Vec::new();
        if !read.is_empty() || self.files.len() > MAX_ENUM_PATHS {
            variants.push(variant("read_file", &[("path", path_schema(&read))]));
        }
        if !listed.is_empty() {
            variants.push(variant("list_files", &[("dir", path_schema(&listed))]));
        }
        variants.push(variant(
            "search",
            &[("pattern", string_schema(MAX_PATTERN))],
        ));
        if !done.contains(&Action::RepoMap {}) {
            variants.push(variant("repo_map", &[]));
        }
        if !done.contains(&Action::ScanSecrets {}) {
            variants.push(variant("scan_secrets", &[]));
        }
        if self.can_write {
            if !self.files.is_empty() {
                variants.push(variant("edit", &[("path", path_schema(&self.editable()))]));
            }
            variants.push(variant("write_file", &[("path", string_schema(MAX_ARG))]));
        }
        if !self.programs.is_empty() {
            let names: Vec<Value> = self
                .programs
                .iter()
                .map(|(n, _)| Value::String(n.clone()))
                .collect();
            variants.push(variant(
                "run_command",
                &[
                    ("program", format!("{{\"enum\":{}}}", Value::Array(names))),
                    (
                        "args",
                        format!(
                            "{{\"type\":\"array\",\"items\":{},\"maxItems\":{MAX_ARGS}}}",
                            string_schema(MAX_ARG)
                        ),
                    ),
                ],
            ));
        }
        if may_answer {
            variants.push(variant("answer", &[]));
        }
        format!("{{\"oneOf\":[{}]}}", variants.join(","))
    }
}

/// The entries of `all` that no call in `done` names (through `named`).
fn unseen(
    all: &[String],
    done: &[Action],
    named: impl Fn(&Action) -> Option<&String>,
) -> Vec<String> {
    all.iter()
        .filter(|p| !done.iter().any(|a| named(a) == Some(*p)))
        .cloned()
        .collect()
}

/// One alternative of the schema: `tool` first (so the model commits to a
/// tool before its arguments), then the arguments, all required.
fn variant(tool: &str, args: &[(&str, String)]) -> String {
    let mut props = format!("\"tool\":{{\"const\":{}}}", quote(tool));
    let mut required = vec![quote("tool")];
    for (name, schema) in args {
        props.push_str(&format!(",{}:{schema}", quote(name)));
        required.push(quote(name));
    }
    format!(
        "{{\"type\":\"object\",\"properties\":{{{props}}},\"required\":[{}],\"additionalProperties\":false}}",
        required.join(",")
    )
}

fn path_schema(paths: &[String]) -> String {
    if paths.is_empty() || paths.len() > MAX_ENUM_PATHS {
        return string_schema(MAX_ARG);
    }
    let values: Vec<Value> = paths.iter().map(|p| Value::String(p.clone())).collect();
    format!("{{\"enum\":{}}}", Value::Array(values))
}

fn string_schema(max: usize) -> String {
    format!("{{\"type\":\"string\",\"maxLength\":{max}}}")
}

fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Build output, caches and dependencies: not worth the model's attention,
/// so not offered (a model can still search them).
pub fn is_noise(path: &str) -> bool {
    const DIRS: [&str; 7] = [
        "__pycache__",
        "node_modules",
        "target",
        ".git",
        ".venv",
        ".mypy_cache",
        ".pytest_cache",
    ];
    const EXTENSIONS: [&str; 7] = ["pyc", "o", "so", "a", "class", "exe", "wasm"];
    let mut parts = path.split('/');
    let name = parts.next_back().unwrap_or(path);
    if path.split('/').any(|part| DIRS.contains(&part)) {
        return true;
    }
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| EXTENSIONS.contains(&ext))
}

/// Read a reply as a tool call. The engine enforces the schema, so this
/// fails only when the reply was cut off (the token limit) or an engine
/// without schema support answered.
pub fn parse(reply: &str) -> Result<Action, String> {
    let text = reply.trim();
    // Tolerate a fenced block from engines that do not enforce the schema.
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .map_or(text, |t| t.trim_end_matches('`').trim());
    serde_json::from_str::<Action>(text).map_err(|e| {
        let shown: String = text.chars().take(120).collect();
        format!("not a valid tool call ({e}): {shown}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toolbox() -> Toolbox {
        Toolbox::new(
            vec![
                "README.md".into(),
                "src/lib.rs".into(),
                "src/util/io.rs".into(),
            ],
            true,
            vec![("cargo".into(), true)],
        )
    }

    #[test]
    fn directories_are_derived_from_files() {
        assert_eq!(toolbox().dirs, vec![".", "src", "src/util"]);
    }

    #[test]
    fn the_schema_is_json_and_lists_existing_paths_and_programs() {
        let schema: Value =
            serde_json::from_str(&toolbox().schema(&[], false)).expect("valid JSON");
        let variants = schema["oneOf"].as_array().expect("oneOf");
        let read = &variants[0]["properties"];
        assert_eq!(read["tool"]["const"], "read_file");
        assert_eq!(
            read["path"]["enum"],
            serde_json::json!(["README.md", "src/lib.rs", "src/util/io.rs"])
        );
        let run = variants
            .iter()
            .find(|v| v["properties"]["tool"]["const"] == "run_command")
            .expect("run_command offered");
        assert_eq!(
            run["properties"]["program"]["enum"],
            serde_json::json!(["cargo"])
        );
    }

    #[test]
    fn calls_already_made_are_not_offered_again() {
        let tb = toolbox();
        let done = vec![
            Action::ReadFile {
                path: "src/lib.rs".into(),
            },
            Action::ListFiles { dir: ".".into() },
            Action::ListFiles { dir: "src".into() },
            Action::ListFiles {
                dir: "src/util".into(),
            },
            Action::RepoMap {},
        ];
        let schema: Value = serde_json::from_str(&tb.schema(&done, true)).expect("valid JSON");
        let tools: Vec<&str> = schema["oneOf"]
            .as_array()
            .expect("oneOf")
            .iter()
            .filter_map(|v| v["properties"]["tool"]["const"].as_str())
            .collect();
        assert!(!tools.contains(&"list_files"), "{tools:?}");
        assert!(!tools.contains(&"repo_map"));
        assert!(tools.contains(&"scan_secrets") && tools.contains(&"answer"));
        assert!(
            !tb.schema(&[], false).contains("\"answer\""),
            "answer is offered only when the agent allows it"
        );
        assert_eq!(
            schema["oneOf"][0]["properties"]["path"]["enum"],
            serde_json::json!(["README.md", "src/util/io.rs"])
        );
    }

    #[test]
    fn build_output_and_caches_are_not_offered() {
        assert!(is_noise("src/__pycache__/calc.cpython-311.pyc"));
        assert!(is_noise("target/debug/app"));
        assert!(is_noise("lib/util.o"));
        assert!(!is_noise("src/calc.py"));
        assert!(!is_noise("docs/targets.md"));
    }

    #[test]
    fn read_only_runs_offer_no_edit_or_command_tools() {
        let tb = Toolbox::new(vec!["a.txt".into()], false, vec![]);
        let schema = tb.schema(&[], true);
        assert!(!schema.contains("write_file"));
        assert!(!schema.contains("\"edit\""));
        assert!(!schema.contains("run_command"));
        let names: Vec<&str> = tb.catalogue().iter().map(|t| t.0).collect();
        assert_eq!(
            names,
            [
                "read_file",
                "list_files",
                "search",
                "repo_map",
                "scan_secrets",
                "answer"
            ]
        );
    }

    #[test]
    fn locked_tests_are_not_offered_for_edit() {
        let files = vec!["src/text.py".to_string(), "tests/test_text.py".to_string()];
        let mut tb = Toolbox::new(files.clone(), true, vec![]);
        let edit_paths = |tb: &Toolbox| -> Vec<Value> {
            let schema: Value = serde_json::from_str(&tb.schema(&[], false)).expect("valid JSON");
            let edit = schema["oneOf"]
                .as_array()
                .expect("variants")
                .iter()
                .find(|v| v["properties"]["tool"]["const"] == "edit")
                .expect("an edit variant")
                .clone();
            edit["properties"]["path"]["enum"]
                .as_array()
                .expect("enumerated paths")
                .clone()
        };
        assert_eq!(edit_paths(&tb).len(), 2);
        tb.tests_locked = true;
        assert_eq!(edit_paths(&tb), vec![Value::from("src/text.py")]);
        // Reading tests is still offered.
        assert!(tb.schema(&[], false).contains("tests/test_text.py"));
        // A project of only tests keeps them editable.
        let mut only = Toolbox::new(vec!["tests/test_a.py".into()], true, vec![]);
        only.tests_locked = true;
        assert_eq!(edit_paths(&only), vec![Value::from("tests/test_a.py")]);
    }

    #[test]
    fn a_huge_workspace_gets_free_string_paths() {
        let files = (0..=MAX_ENUM_PATHS).map(|i| format!("f{i}.txt")).collect();
        let tb = Toolbox::new(files, false, vec![]);
        let schema: Value = serde_json::from_str(&tb.schema(&[], false)).expect("valid JSON");
        assert_eq!(schema["oneOf"][0]["properties"]["path"]["type"], "string");
    }

    #[test]
    fn replies_parse_into_actions_and_back() {
        let a = parse(r#"{"tool":"read_file","path":"src/lib.rs"}"#).expect("parses");
        assert_eq!(
            a,
            Action::ReadFile {
                path: "src/lib.rs".into()
            }
        );
        assert_eq!(parse(&a.to_json()), Ok(a));
        assert_eq!(
            parse("```json\n{\"tool\":\"answer\"}\n```"),
            Ok(Action::Answer {})
        );
        let run =
            parse(r#"{"tool":"run_command","program":"cargo","args":["test"]}"#).expect("parses");
        assert_eq!(run.describe(), "run_command cargo test");
    }

    #[test]
    fn cut_off_or_unknown_replies_are_errors_that_say_why() {
        let err = parse(r#"{"tool":"read_file","pa"#).expect_err("cut off");
        assert!(err.contains("not a valid tool call"), "{err}");
        assert!(parse(r#"{"tool":"rm_rf"}"#).is_err());
        assert!(parse(r#"{"tool":"answer","extra":1}"#).is_err());
    }
}
