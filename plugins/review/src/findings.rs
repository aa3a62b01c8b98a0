//! What the model is asked for and what its answer becomes: the JSON
//! schema the engine enforces, the prompt, and the checks that turn the
//! model's JSON into Airlock findings.

use airlock_sdk::{Finding, Severity};
use serde_json::Value;

use crate::unit::Unit;

/// The rule id of every finding this skill reports.
pub const RULE_ID: &str = "review/llm";

/// The most findings one model call may return. Small on purpose: a tiny
/// model asked for more repeats itself until the token limit.
pub const MAX_FINDINGS_PER_CALL: usize = 8;

/// The JSON schema the engine enforces while the model writes its answer.
/// Kept small so that small models cope; `maxItems` stops a model that would
/// otherwise list findings until the token limit. (No `maxLength`: llama.cpp
/// turns it into a grammar that makes decoding many times slower; long
/// messages are cut after parsing instead, see [`MAX_MESSAGE_CHARS`].)
pub const SCHEMA: &str = r#"{"type":"object","properties":{"findings":{"type":"array","maxItems":8,"items":{"type":"object","properties":{"line":{"type":"integer"},"severity":{"enum":["note","low","medium","high","critical"]},"message":{"type":"string"}},"required":["line","severity","message"]}}},"required":["findings"]}"#;

/// What the model is told to do.
pub const SYSTEM: &str = "You are a careful code reviewer. Find real problems in the code: \
bugs, crashes, wrong logic, security holes, resource leaks. Each line starts with its line \
number; give that number for each finding. Severity: critical or high for bugs that break \
the program or its security, medium for likely bugs, low or note for small issues. Reply \
only with JSON. If the code has no problem, reply {\"findings\":[]}.";

/// A worked example, sent as an earlier turn of the conversation: small
/// models follow an example far better than a description of the format.
pub const EXAMPLE_CODE: &str = "Review this code from example.py (lines 1-3):\n```\n1 | def ratio(a, b):\n2 |     # a over b\n3 |     return a / b\n```";

/// The answer to [`EXAMPLE_CODE`].
pub const EXAMPLE_REPLY: &str =
    r#"{"findings":[{"line":3,"severity":"medium","message":"Division by zero when b is 0."}]}"#;

/// The user message for one unit.
pub fn user_message(unit: &Unit) -> String {
    let (first, last) = unit.span();
    let what = if unit.from_diff {
        "Review the lines marked + (they were added; the others are context)"
    } else {
        "Review this code"
    };
    format!(
        "{what} from {} (lines {first}-{last}):\n```\n{}```",
        unit.path,
        unit.numbered()
    )
}

/// The findings of one answer, and what was wrong with the rest of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Findings that point at a line of the unit.
    pub findings: Vec<Finding>,
    /// Findings dropped because their line was outside the unit, as
    /// `(line, message)`.
    pub dropped: Vec<(i64, String)>,
    /// Set when the answer was not valid JSON even after repair: why.
    pub unparsed: Option<String>,
    /// True when the JSON was cut off and repaired by closing it.
    pub repaired: bool,
}

/// The longest message kept; a small model that repeats itself is cut here.
pub const MAX_MESSAGE_CHARS: usize = 300;

/// Turns the model's answer for `unit` into findings. A finding at a line
/// not under review (outside the file; for a diff, not an added line) is
/// dropped, not moved: a made-up line would send the reader to the wrong code.
pub fn parse(answer: &str, unit: &Unit) -> Parsed {
    let mut out = Parsed::default();
    let (value, cut_string) = match serde_json::from_str::<Value>(answer.trim()) {
        Ok(v) => (v, false),
        Err(first_error) => match repair(answer) {
            Some((v, cut_string)) => {
                out.repaired = true;
                (v, cut_string)
            }
            None => {
                out.unparsed = Some(format!("the answer is not valid JSON: {first_error}"));
                return out;
            }
        },
    };
    let Some(items) = value.get("findings").and_then(Value::as_array) else {
        out.unparsed = Some("the answer has no `findings` list".to_string());
        return out;
    };
    let items: Vec<&Value> = items.iter().take(MAX_FINDINGS_PER_CALL).collect();
    for (index, item) in items.iter().enumerate() {
        // The last item of a repaired answer is where the model was cut off.
        let cut_here = out.repaired && index + 1 == items.len();
        let mut message = item
            .get("message")
            .and_then(Value::as_str)
            .map(clean)
            .unwrap_or_default();
        if cut_here && cut_string && !message.is_empty() && !message.ends_with('…') {
            message.push('…');
        }
        let severity = item
            .get("severity")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<Severity>().ok());
        let line = item.get("line").and_then(Value::as_i64);
        let (Some(severity), Some(line)) = (severity, line) else {
            if !cut_here {
                out.dropped.push((line.unwrap_or(0), message));
            }
            continue;
        };
        if message.is_empty() {
            continue;
        }
        if !unit.accepts(line) {
            out.dropped.push((line, message));
            continue;
        }
        let line = u32::try_from(line).unwrap_or(1);
        let mut finding = Finding::new(RULE_ID, severity, message).in_file(&unit.path);
        finding.line = Some(line);
        if out.findings.iter().any(|f| same(f, &finding)) {
            continue;
        }
        out.findings.push(finding);
    }
    out
}

/// A model that ran out of tokens leaves the JSON open. Close it: first by
/// ending the string, object and list it was in (keeping the finding whose
/// message was cut), else by cutting after the last complete object. Returns
/// the value and whether a string was cut.
fn repair(answer: &str) -> Option<(Value, bool)> {
    let text = answer.trim();
    for (suffix, cut_string) in [
        ("\"}]}", true),
        ("}]}", false),
        ("]}", false),
        ("\"]}", true),
    ] {
        if let Ok(v) = serde_json::from_str::<Value>(&format!("{text}{suffix}")) {
            return Some((v, cut_string));
        }
    }
    let mut ends: Vec<usize> = text.match_indices('}').map(|(i, _)| i).collect();
    ends.reverse();
    for end in ends.into_iter().take(64) {
        if let Ok(v) = serde_json::from_str::<Value>(&format!("{}]}}", &text[..=end])) {
            return Some((v, false));
        }
    }
    None
}

/// The message the model is writing now: the text after the last
/// `"message":"` when its string is still open. A small model that loops
/// does so inside a message; a list of findings that look alike is bounded
/// by the schema's `maxItems` and is not a loop.
pub fn open_message(answer: &str) -> Option<&str> {
    let key = answer.rfind("\"message\"")?;
    let rest = answer[key + "\"message\"".len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    let body = rest.strip_prefix('"')?;
    let mut escaped = false;
    for c in body.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return None,
            _ => {}
        }
    }
    Some(body)
}

/// One line, no control characters, each sentence once (small models
/// repeat themselves), at most [`MAX_MESSAGE_CHARS`].
fn clean(message: &str) -> String {
    let flat: String = message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let mut sentences: Vec<&str> = Vec::new();
    for s in flat.split_inclusive(". ") {
        let key = s.trim().trim_end_matches('.');
        if !sentences
            .iter()
            .any(|seen| seen.trim().trim_end_matches('.') == key)
        {
            sentences.push(s);
        }
    }
    let joined = sentences.concat().trim().to_string();
    if joined.chars().count() <= MAX_MESSAGE_CHARS {
        return joined;
    }
    let mut cut: String = joined.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push('…');
    cut
}

/// Small models repeat themselves; a finding already reported at the same
/// line with the same message is not reported twice.
fn same(a: &Finding, b: &Finding) -> bool {
    a.line == b.line && a.message.eq_ignore_ascii_case(&b.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unit;

    fn unit_of(lines: u32) -> Unit {
        let content: String = (1..=lines).map(|i| format!("x = {i}\n")).collect();
        unit::of_file("src/a.py", &content, 100_000).remove(0)
    }

    #[test]
    fn the_schema_is_valid_json_with_max_items() {
        let v: Value = serde_json::from_str(SCHEMA).expect("schema parses");
        assert_eq!(
            v["properties"]["findings"]["maxItems"],
            MAX_FINDINGS_PER_CALL
        );
        let sev = v["properties"]["findings"]["items"]["properties"]["severity"]["enum"]
            .as_array()
            .expect("enum");
        let names: Vec<&str> = sev.iter().filter_map(Value::as_str).collect();
        let all: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, all);
    }

    #[test]
    fn findings_inside_the_file_are_kept_and_outside_dropped() {
        let answer = r#"{"findings":[
            {"line":3,"severity":"high","message":"division by zero\nwhen empty"},
            {"line":99,"severity":"low","message":"made up"},
            {"line":0,"severity":"low","message":"zero"},
            {"line":3,"severity":"high","message":"Division by zero when empty"},
            {"line":2,"severity":"severe","message":"bad severity"}
        ]}"#;
        let p = parse(answer, &unit_of(10));
        assert_eq!(p.findings.len(), 1);
        let f = &p.findings[0];
        assert_eq!(
            (
                f.path.as_deref(),
                f.line,
                f.column,
                f.severity,
                f.message.as_str()
            ),
            (
                Some("src/a.py"),
                Some(3),
                None,
                Severity::High,
                "division by zero when empty"
            )
        );
        assert_eq!(f.rule_id, RULE_ID);
        let dropped: Vec<i64> = p.dropped.iter().map(|(l, _)| *l).collect();
        assert_eq!(dropped, [99, 0, 2]);
        assert!(!p.repaired && p.unparsed.is_none());
    }

    #[test]
    fn a_cut_off_answer_keeps_its_complete_findings() {
        let answer =
            r#"{"findings":[{"line":1,"severity":"low","message":"a"},{"line":2,"severity":"me"#;
        let p = parse(answer, &unit_of(5));
        assert!(p.repaired);
        assert_eq!(p.findings.len(), 1);
        assert_eq!(p.findings[0].line, Some(1));
        assert!(
            p.dropped.is_empty(),
            "the cut item is not a dropped finding"
        );
        let p = parse(r#"{"findings":["#, &unit_of(5));
        assert!(p.findings.is_empty());
        let p = parse(
            r#"{"findings":[{"line":1,"severity":"low","message":"a"},"#,
            &unit_of(5),
        );
        assert_eq!(p.findings.len(), 1);
    }

    #[test]
    fn a_message_cut_off_is_kept_and_marked() {
        let answer = r#"{
  "findings":[{"line":2,"severity":"high","message":"Not a function. It is a function. It is a function. It is"#;
        let p = parse(answer, &unit_of(5));
        assert!(p.repaired);
        assert_eq!(p.findings.len(), 1);
        assert_eq!(
            p.findings[0].message,
            "Not a function. It is a function. It is…"
        );
        assert_eq!(p.findings[0].severity, Severity::High);
    }

    #[test]
    fn the_open_message_is_the_unterminated_one() {
        assert_eq!(
            open_message(r#"{"findings":[{"line":1,"severity":"low","message": "abc"#),
            Some("abc")
        );
        assert_eq!(
            open_message(r#"{"findings":[{"line":1,"severity":"low","message":"a \"q\" b"#),
            Some(r#"a \"q\" b"#)
        );
        assert_eq!(
            open_message(r#"{"findings":[{"line":1,"severity":"low","message":"done"},{"line":"#),
            None
        );
        assert_eq!(open_message(r#"{"findings":["#), None);
    }

    #[test]
    fn messages_are_one_line_without_repeats_and_bounded() {
        assert_eq!(clean("a b.\n\tc d. a b. c d."), "a b. c d.");
        assert_eq!(clean("  x  "), "x");
        let long = "word ".repeat(200);
        assert_eq!(clean(&long).chars().count(), MAX_MESSAGE_CHARS + 1);
    }

    #[test]
    fn garbage_is_reported_not_fatal() {
        let p = parse("I think the code is fine.", &unit_of(5));
        assert!(p.unparsed.is_some_and(|m| m.contains("not valid JSON")));
        let p = parse(r#"{"issues":[]}"#, &unit_of(5));
        assert!(p.unparsed.is_some_and(|m| m.contains("`findings`")));
        assert_eq!(parse(r#"{"findings":[]}"#, &unit_of(5)), Parsed::default());
    }

    #[test]
    fn the_prompt_shows_numbered_lines() {
        let m = user_message(&unit_of(3));
        assert!(m.starts_with("Review this code from src/a.py (lines 1-3):\n```\n1 | x = 1\n"));
        assert!(m.ends_with("3 | x = 3\n```"));
    }
}
