//! The agent's arguments.

use airlock_sdk::{Error, Request};

use crate::context::Turn;

/// Tool calls per task, by default.
pub const DEFAULT_MAX_STEPS: u32 = 6;
/// The most tool calls a task may ask for.
const MAX_MAX_STEPS: u32 = 32;
/// Tokens for the answer, by default.
pub const DEFAULT_ANSWER_TOKENS: u32 = 384;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// The task.
    pub task: String,
    /// Earlier turns of a chat session (`history`, JSON).
    pub history: Vec<Turn>,
    /// The model (`model`); none for the profile's first.
    pub model: Option<String>,
    /// Tool calls at most (`max-steps`).
    pub max_steps: u32,
    /// Tokens for the answer (`max-tokens`).
    pub answer_tokens: u32,
    /// Whether each edit starts with a one-sentence plan (`plan`, on by
    /// default): the model says what must change, then writes the blocks.
    pub plan: bool,
    /// Arguments this skill does not know.
    pub unknown: Vec<String>,
}

impl Options {
    /// The argument names this skill knows.
    pub fn known() -> [&'static str; 5] {
        ["history", "model", "max-steps", "max-tokens", "plan"]
    }

    /// Read the request.
    pub fn from_request(request: &Request) -> Result<Self, Error> {
        let task = request
            .input
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::InvalidInput(
                    "coder needs a task: pass it with --input \"...\" (for example \
                     --input \"Why does the parser reject empty lines?\")"
                        .into(),
                )
            })?
            .to_string();
        let mut options = Options {
            task,
            history: Vec::new(),
            model: None,
            max_steps: DEFAULT_MAX_STEPS,
            answer_tokens: DEFAULT_ANSWER_TOKENS,
            plan: true,
            unknown: Vec::new(),
        };
        for (key, value) in &request.args {
            match key.as_str() {
                "history" => {
                    options.history = serde_json::from_str(value).map_err(|e| {
                        Error::InvalidInput(format!(
                            "argument `history` must be a JSON array of {{\"user\": ..., \
                             \"assistant\": ...}} objects: {e}"
                        ))
                    })?;
                }
                "model" => options.model = Some(value.clone()),
                "max-steps" => {
                    options.max_steps = number(key, value)?.clamp(1, MAX_MAX_STEPS);
                }
                "max-tokens" => options.answer_tokens = number(key, value)?.max(16),
                "plan" => {
                    options.plan = match value.as_str() {
                        "on" | "true" | "yes" => true,
                        "off" | "false" | "no" => false,
                        _ => {
                            return Err(Error::InvalidInput(format!(
                                "argument `plan` must be on or off, not `{value}`"
                            )));
                        }
                    }
                }
                _ => options.unknown.push(key.clone()),
            }
        }
        Ok(options)
    }
}

fn number(key: &str, value: &str) -> Result<u32, Error> {
    value.parse().map_err(|_| {
        Error::InvalidInput(format!(
            "argument `{key}` must be a whole number, not `{value}`"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(input: Option<&str>, args: &[(&str, &str)]) -> Request {
        let mut r = Request::with_args(args);
        r.input = input.map(String::from);
        r
    }

    #[test]
    fn history_and_settings_are_read() {
        let o = Options::from_request(&request(
            Some("  add a test "),
            &[
                ("history", r#"[{"user":"hi","assistant":"hello"}]"#),
                ("max-steps", "3"),
                ("model", "smollm2"),
                ("colour", "blue"),
            ],
        ))
        .expect("valid");
        assert_eq!(o.task, "add a test");
        assert_eq!(o.history.len(), 1);
        assert_eq!(o.history[0].assistant, "hello");
        assert_eq!(o.max_steps, 3);
        assert_eq!(o.model.as_deref(), Some("smollm2"));
        assert_eq!(o.unknown, vec!["colour"]);
    }

    #[test]
    fn bad_input_names_the_argument() {
        let err = Options::from_request(&request(None, &[])).expect_err("no task");
        assert!(err.to_string().contains("--input"), "{err}");
        let err = Options::from_request(&request(Some("x"), &[("history", "[1,")]))
            .expect_err("bad json");
        assert!(err.to_string().contains("`history`"), "{err}");
        let err = Options::from_request(&request(Some("x"), &[("max-steps", "many")]))
            .expect_err("bad number");
        assert!(err.to_string().contains("`max-steps`"), "{err}");
        let err = Options::from_request(&request(Some("x"), &[("plan", "maybe")]))
            .expect_err("bad switch");
        assert!(
            err.to_string().contains("`plan` must be on or off"),
            "{err}"
        );
    }

    #[test]
    fn the_plan_before_an_edit_is_on_unless_turned_off() {
        let on = Options::from_request(&request(Some("fix it"), &[])).expect("valid");
        assert!(on.plan);
        let off =
            Options::from_request(&request(Some("fix it"), &[("plan", "off")])).expect("valid");
        assert!(!off.plan);
    }
}
