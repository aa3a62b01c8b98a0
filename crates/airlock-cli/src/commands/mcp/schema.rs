//! What a skill looks like as an MCP tool: its input schema, derived from
//! what the skill describes, and a tool call's arguments as a run request.
//!
//! Skills list their arguments in their `describe()` summary as
//! `Args: key=VALUE, key2=a|b.` (the convention of every shipped plugin);
//! those become named properties of `args`, with the value hint as their
//! description. Any other `args` key is still accepted as a string.

use airlock_runtime::Request;
use rmcp::model::Tool;
use serde_json::{Map, Value, json};

/// The tool for skill `name`.
pub fn tool(name: &str, manifest: &str, summary: &str, profile: &str) -> Tool {
    let mut description = String::new();
    if !manifest.is_empty() {
        description.push_str(manifest.trim());
        description.push(' ');
    }
    description.push_str(summary.trim());
    description.push_str(&format!(
        " Runs sandboxed under Airlock profile `{profile}`: offline, only the granted workspace, \
         audited."
    ));
    let mut args = Map::new();
    for (key, hint) in described_args(summary) {
        args.insert(
            key,
            json!({ "type": "string", "description": format!("value: {hint}") }),
        );
    }
    let schema = json!({
        "type": "object",
        "properties": {
            "input": {
                "type": "string",
                "description": "Free-text input for the skill (what `airlock run --input` passes)."
            },
            "args": {
                "type": "object",
                "description": "Arguments for the skill (what `airlock run --arg KEY=VALUE` passes), as strings.",
                "properties": args,
                "additionalProperties": { "type": "string" }
            }
        },
        "additionalProperties": false
    });
    let object = match schema {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Tool::new(name.to_string(), description, object)
}

/// `key=VALUE` pairs from the `Args:` sentence of a summary.
pub fn described_args(summary: &str) -> Vec<(String, String)> {
    let Some((_, rest)) = summary.split_once("Args:") else {
        return Vec::new();
    };
    let sentence = rest.trim().split(". ").next().unwrap_or_default();
    sentence
        .trim_end_matches('.')
        .split(',')
        // `file=PATH or diff=PATH`: two arguments.
        .flat_map(|item| item.split(" or "))
        .filter_map(|item| {
            let (key, hint) = item.trim().split_once('=')?;
            let key = key.trim();
            let valid = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            valid.then(|| (key.to_string(), hint.trim().to_string()))
        })
        .collect()
}

/// A tool call's arguments as a run request: `input` a string, `args` an
/// object whose values are strings (numbers and booleans are accepted as
/// their text).
pub fn request(arguments: Option<&Map<String, Value>>) -> Result<Request, String> {
    let mut request = Request::default();
    let Some(arguments) = arguments else {
        return Ok(request);
    };
    for (key, value) in arguments {
        match (key.as_str(), value) {
            ("input", Value::String(s)) => request.input = Some(s.clone()),
            ("input", Value::Null) => {}
            ("input", other) => {
                return Err(format!("`input` must be a string, not {other}"));
            }
            ("args", Value::Object(map)) => {
                for (k, v) in map {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => {
                            return Err(format!(
                                "`args.{k}` must be a string, number or boolean, not {other}"
                            ));
                        }
                    };
                    request.args.push((k.clone(), v));
                }
            }
            ("args", Value::Null) => {}
            ("args", other) => return Err(format!("`args` must be an object, not {other}")),
            (other, _) => {
                return Err(format!(
                    "unknown argument `{other}`: a tool takes `input` (text) and `args` (an object)"
                ));
            }
        }
    }
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_are_read_from_the_summary() {
        let summary = "Finds credentials in the workspace; shows them redacted. \
                       Args: format=text|json|sarif, min-severity=low|medium|high|critical.";
        assert_eq!(
            described_args(summary),
            [
                ("format".to_string(), "text|json|sarif".to_string()),
                (
                    "min-severity".to_string(),
                    "low|medium|high|critical".to_string()
                )
            ]
        );
        let coder = "The agent. Input: the task. Args: history=JSON, model=NAME, max-steps=N.";
        assert_eq!(described_args(coder).len(), 3);
        assert!(described_args("No arguments here.").is_empty());
        let review = "Reviews a file. Args: file=PATH or diff=PATH (or a diff as input), \
                      format=text|json|sarif, max-tokens=N.";
        let keys: Vec<String> = described_args(review).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["file", "diff", "format", "max-tokens"]);
        assert_eq!(
            described_args(review)[1].1,
            "PATH (or a diff as input)",
            "the hint keeps its note"
        );
    }

    #[test]
    fn the_schema_names_the_described_args() {
        let t = tool(
            "secret-scan",
            "Finds credentials.",
            "Scans. Args: format=text|json.",
            "read-only",
        );
        let schema = Value::Object((*t.input_schema).clone());
        assert_eq!(
            schema["properties"]["args"]["properties"]["format"]["description"],
            "value: text|json"
        );
        assert_eq!(schema["additionalProperties"], false);
        let description = t.description.unwrap_or_default();
        assert!(description.starts_with("Finds credentials. Scans."));
        assert!(description.contains("profile `read-only`"));
    }

    #[test]
    fn arguments_become_a_request_and_bad_ones_say_why() {
        let args = json!({ "input": "hi", "args": { "format": "json", "max": 3, "x": true } });
        let r = request(args.as_object()).expect("valid");
        assert_eq!(r.input.as_deref(), Some("hi"));
        assert_eq!(
            r.args,
            [
                ("format".to_string(), "json".to_string()),
                ("max".to_string(), "3".to_string()),
                ("x".to_string(), "true".to_string())
            ]
        );
        let bad = json!({ "input": 3 });
        assert!(
            request(bad.as_object())
                .expect_err("refused")
                .contains("`input` must be a string")
        );
        let bad = json!({ "path": "/etc" });
        assert!(
            request(bad.as_object())
                .expect_err("refused")
                .contains("unknown argument `path`")
        );
        let bad = json!({ "args": { "a": [1] } });
        assert!(
            request(bad.as_object())
                .expect_err("refused")
                .contains("`args.a`")
        );
        assert_eq!(request(None).expect("empty").args, []);
    }
}
