//! The shipped skills that ask a model (`explain`, `review`), end to end
//! through the real host with the real test model (SmolLM2-135M on the
//! embedded engine). A model this small answers weakly, so the tests check
//! what the skills guarantee whatever the model says: what they read and
//! cite, the shape and range of their findings, and their errors.

use airlock_runtime::{Profile, Request, RunReport};
use airlock_tests::{embedded_models, guests, profile, run_request, workspace};
use serde_json::Value;

/// Grants `src` and `docs` (not `private`), withholds any `secrets`
/// directory, and grants the test model.
const ASSISTANT: &str = r#"
name = "assistant-test"
deny = ["secrets"]
[[grant]]
path = "src"
[[grant]]
path = "docs"
[limits]
wall-clock-seconds = 300
[inference]
models = ["smollm2"]
"#;

/// The whole workspace and the test model.
const ASSISTANT_ALL: &str = r#"
name = "assistant-all"
[[grant]]
path = "."
[limits]
wall-clock-seconds = 300
[inference]
models = ["smollm2"]
"#;

/// The whole workspace without any model.
const NO_MODEL: &str = r#"
name = "no-model"
[[grant]]
path = "."
[limits]
wall-clock-seconds = 60
"#;

fn run(
    skill: &str,
    profile_toml: &str,
    ws: &std::path::Path,
    input: Option<&str>,
    args: &[(&str, &str)],
) -> RunReport {
    let request = Request {
        input: input.map(str::to_string),
        args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let profile: Profile = profile(profile_toml);
    run_request(skill, &profile, ws, request, Some(embedded_models()))
        .unwrap_or_else(|e| panic!("the run did not complete: {e}"))
}

fn ok(report: &RunReport) -> &str {
    assert_eq!(report.error, None, "the skill failed");
    report.output.as_deref().expect("output")
}

/// The `path:ranges` lines under `Sources:`.
fn sources(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .skip_while(|l| !l.starts_with("Sources:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(p, r)| (p.to_string(), r.to_string()))
        .collect()
}

fn sandbox_workspace() -> tempfile::TempDir {
    workspace(&[
        (
            "src/sandbox.rs",
            "//! Resolves workspace paths.\n\n\
             /// Resolves a path beneath the root; a symlink that leads outside is refused.\n\
             pub fn resolve(root: &Dir, path: &str) -> Result<PathBuf, Denied> {\n\
             \x20   if path.starts_with('/') {\n\
             \x20       return Err(Denied::Absolute);\n\
             \x20   }\n\
             \x20   let target = root.canonicalize(path)?; // follows the symlink\n\
             \x20   if !target.starts_with(root.path()) {\n\
             \x20       return Err(Denied::Outside);\n\
             \x20   }\n\
             \x20   Ok(target)\n\
             }\n",
        ),
        ("src/main.rs", "fn main() {\n    println!(\"hello\");\n}\n"),
        (
            "docs/sandbox.md",
            "# The sandbox\n\nEvery path is resolved beneath the workspace root. A symlink \
             that leads outside the root is refused.\n",
        ),
        (".env", "SANDBOX_SYMLINK_TOKEN=never-read-env\n"),
        (
            "src/secrets/sandbox_keys.txt",
            "sandbox symlink never-read-denied\n",
        ),
        (
            "private/sandbox-plan.md",
            "sandbox symlink never-read-ungranted\n",
        ),
    ])
}

#[test]
fn explain_streams_an_answer_and_cites_only_granted_files() {
    let ws = sandbox_workspace();
    let report = run(
        guests::EXPLAIN,
        ASSISTANT,
        ws.path(),
        Some("How does the sandbox resolve a symlink?"),
        &[("max-tokens", "120")],
    );
    let output = ok(&report);
    let printed = &output[..report.printed_bytes];
    assert!(
        !printed.trim().is_empty(),
        "the answer was streamed with log::print:\n{output}"
    );
    let cited = sources(output);
    assert!(!cited.is_empty(), "no sources:\n{output}");
    assert!(
        cited.iter().any(|(p, _)| p == "src/sandbox.rs"),
        "the file that answers is cited:\n{output}"
    );
    for (path, ranges) in &cited {
        assert!(ws.path().join(path).is_file(), "{path} does not exist");
        assert!(
            path.starts_with("src/") || path.starts_with("docs/"),
            "{path} is not granted"
        );
        assert!(
            !path.contains(".env") && !path.contains("secrets/"),
            "{path} is withheld"
        );
        let lines = std::fs::read_to_string(ws.path().join(path))
            .unwrap()
            .lines()
            .count();
        for range in ranges.split(", ") {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
            assert!(
                1 <= a && a <= b && b <= lines,
                "{path}:{range} of {lines} lines"
            );
        }
    }
    for secret in [
        "never-read-env",
        "never-read-denied",
        "never-read-ungranted",
    ] {
        assert!(!output.contains(secret), "{secret} leaked:\n{output}");
    }
    assert!(
        report.denials().next().is_none(),
        "explain never asked for a withheld file"
    );
    assert!(report.inference.calls == 1, "{:?}", report.inference);
}

#[test]
fn explain_about_a_file_cites_that_file_and_refuses_a_withheld_one() {
    let ws = sandbox_workspace();
    let report = run(
        guests::EXPLAIN,
        ASSISTANT,
        ws.path(),
        None,
        &[("file", "src/main.rs"), ("max-tokens", "60")],
    );
    let output = ok(&report);
    assert_eq!(
        sources(output).first(),
        Some(&("src/main.rs".to_string(), "1-3".to_string())),
        "{output}"
    );

    let report = run(
        guests::EXPLAIN,
        ASSISTANT,
        ws.path(),
        None,
        &[("file", ".env")],
    );
    let error = report.error.expect("a withheld file cannot be explained");
    assert!(error.contains("withheld"), "{error}");
    assert_eq!(report.inference.calls, 0, "the model was never asked");
}

/// A planted, obvious bug: division by zero on an empty list, and `eval` of
/// a file's contents.
const BUGGY: &str = "\
def average(values):
    total = 0
    for v in values:
        total += v
    return total / len(values)


def load_config(path):
    f = open(path)
    return eval(f.read())
";

fn check_findings(report: &RunReport, path: &str, lines: std::ops::RangeInclusive<u32>) {
    for f in &report.findings {
        assert_eq!(f.rule_id, "review/llm");
        assert_eq!(f.path.as_deref(), Some(path));
        let line = f.line.expect("every finding has a line");
        assert!(lines.contains(&line), "line {line} outside {lines:?}");
        assert!(
            ["note", "low", "medium", "high", "critical"].contains(&f.severity.as_str()),
            "{:?}",
            f.severity
        );
    }
}

#[test]
fn review_reports_findings_within_the_file_in_every_format() {
    let ws = workspace(&[("src/stats.py", BUGGY), (".env", "KEY=never-read\n")]);
    let lines = 1..=u32::try_from(BUGGY.lines().count()).unwrap();

    let report = run(
        guests::REVIEW,
        ASSISTANT_ALL,
        ws.path(),
        None,
        &[
            ("file", "src/stats.py"),
            ("format", "json"),
            ("max-tokens", "160"),
        ],
    );
    let json: Value = serde_json::from_str(ok(&report)).expect("JSON output");
    check_findings(&report, "src/stats.py", lines.clone());
    let listed = json["findings"].as_array().expect("findings list");
    assert_eq!(listed.len(), report.findings.len());
    assert_eq!(json["reviewed"][0]["path"], "src/stats.py");
    assert_eq!(json["reviewed"][0]["lines"][0], serde_json::json!([1, 10]));
    assert_eq!(json["model"]["name"], "smollm2");
    assert_eq!(report.inference.calls, 1);

    let report = run(
        guests::REVIEW,
        ASSISTANT_ALL,
        ws.path(),
        None,
        &[
            ("file", "src/stats.py"),
            ("format", "sarif"),
            ("max-tokens", "160"),
        ],
    );
    let sarif: Value = serde_json::from_str(ok(&report)).expect("SARIF is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), report.findings.len());
    for r in results {
        let line = &r["locations"][0]["physicalLocation"]["region"]["startLine"];
        assert!(lines.contains(&u32::try_from(line.as_u64().unwrap()).unwrap()));
    }
    check_findings(&report, "src/stats.py", lines.clone());

    let report = run(
        guests::REVIEW,
        ASSISTANT_ALL,
        ws.path(),
        None,
        &[
            ("file", "src/stats.py"),
            ("stream", "true"),
            ("max-tokens", "160"),
        ],
    );
    let output = ok(&report);
    check_findings(&report, "src/stats.py", lines);
    let printed = &output[..report.printed_bytes];
    // The raw JSON as the model wrote it: cut off, perhaps, at the token
    // limit or where it began repeating itself, so not always complete.
    assert!(
        printed.trim_start().starts_with('{') && printed.contains("\"findings\""),
        "the streamed text is the model's JSON:\n{printed}"
    );
    assert!(
        output[report.printed_bytes..].contains("Reviewed src/stats.py (lines 1-10) with smollm2"),
        "{output}"
    );
    assert!(!output.contains("never-read"));
}

#[test]
fn review_of_a_diff_reports_only_on_added_lines() {
    let diff = "\
diff --git a/src/stats.py b/src/stats.py
--- a/src/stats.py
+++ b/src/stats.py
@@ -3,3 +3,4 @@ def average(values):
     for v in values:
         total += v
-    return total / max(len(values), 1)
+    count = len(values)
+    return total / count
@@ -8,2 +9,3 @@ def load_config(path):
     f = open(path)
-    return json.load(f)
+    data = f.read()
+    return eval(data)
";
    let ws = workspace(&[("change.diff", diff)]);
    let report = run(
        guests::REVIEW,
        ASSISTANT_ALL,
        ws.path(),
        None,
        &[
            ("diff", "change.diff"),
            ("format", "json"),
            ("max-tokens", "160"),
        ],
    );
    let json: Value = serde_json::from_str(ok(&report)).expect("JSON output");
    assert_eq!(
        json["reviewed"][0]["lines"],
        serde_json::json!([[5, 6], [10, 11]]),
        "the added lines, numbered in the new file: {json}"
    );
    for f in &report.findings {
        let line = f.line.unwrap();
        assert!(
            (5..=6).contains(&line) || (10..=11).contains(&line),
            "line {line} is not an added line"
        );
        assert_eq!(f.path.as_deref(), Some("src/stats.py"));
    }
}

#[test]
fn a_profile_without_the_model_fails_both_skills_naming_the_profile_key() {
    let ws = workspace(&[("src/a.py", "x = 1\n")]);
    for (skill, input, args) in [
        (guests::EXPLAIN, Some("What is x?"), vec![]),
        (guests::REVIEW, None, vec![("file", "src/a.py")]),
    ] {
        let report = run(skill, NO_MODEL, ws.path(), input, &args);
        let error = report.error.expect("the skill fails without a model");
        assert!(error.contains("model not allowed"), "{error}");
        assert!(
            error.contains("[inference]"),
            "names the profile key: {error}"
        );
        assert_eq!(report.inference.calls, 0);
    }
}
