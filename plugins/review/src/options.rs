//! The skill's arguments: what to review (`file`, `diff`, or a diff as
//! `--input`), `format`, `stream`, `model`, `max-tokens`.

use std::str::FromStr;

use airlock_sdk::{Error, Request};

/// How the findings are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One line per finding, then a summary.
    Text,
    /// One JSON object.
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            "sarif" => Ok(Format::Sarif),
            _ => Err(Error::InvalidInput(format!(
                "unknown format `{s}` (expected text, json or sarif)"
            ))),
        }
    }
}

/// What to review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A whole file of the workspace (`file=PATH`).
    File(String),
    /// A `.diff`/`.patch` file of the workspace (`diff=PATH`).
    DiffFile(String),
    /// A diff given as `--input`.
    DiffText(String),
}

/// The default of `max-tokens` per model call: room for the schema's eight
/// findings of up to 200 characters each.
pub const DEFAULT_MAX_TOKENS: u32 = 512;

const KNOWN: &[&str] = &["file", "diff", "format", "stream", "model", "max-tokens"];

/// The parsed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// What to review.
    pub target: Target,
    /// `format=text|json|sarif`, text by default.
    pub format: Format,
    /// `stream=true`: print the model's raw JSON as it is generated.
    pub stream: bool,
    /// `model=NAME`: which granted model; the profile's first by default.
    pub model: Option<String>,
    /// `max-tokens=N`: the most tokens each model call may generate.
    pub max_tokens: u32,
    /// Argument keys this skill does not know, for a warning.
    pub unknown: Vec<String>,
}

impl Options {
    /// Reads the options; a bad value, or nothing to review, is an error
    /// that says what to pass.
    pub fn from_request(request: &Request) -> Result<Options, Error> {
        let arg = |k: &str| request.arg(k).map(str::trim).filter(|v| !v.is_empty());
        let input = request.input.as_deref().filter(|i| !i.trim().is_empty());
        let target = match (arg("file"), arg("diff"), input) {
            (Some(_), Some(_), _) => {
                return Err(Error::InvalidInput(
                    "give either `file` or `diff`, not both".to_string(),
                ));
            }
            (Some(f), None, _) => Target::File(normalize_path(f)),
            (None, Some(d), _) => {
                let lower = d.to_ascii_lowercase();
                if !(lower.ends_with(".diff") || lower.ends_with(".patch")) {
                    return Err(Error::InvalidInput(format!(
                        "`diff` must name a .diff or .patch file, not `{d}` \
                         (to review a source file use --arg file=PATH)"
                    )));
                }
                Target::DiffFile(normalize_path(d))
            }
            (None, None, Some(text)) => Target::DiffText(text.to_string()),
            (None, None, None) => {
                return Err(Error::InvalidInput(
                    "nothing to review: pass --arg file=PATH, --arg diff=PATH (a .diff or \
                     .patch file in the workspace), or a unified diff as --input"
                        .to_string(),
                ));
            }
        };
        let format = arg("format")
            .map(str::parse)
            .transpose()?
            .unwrap_or(Format::Text);
        let stream = match arg("stream").map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "no" | "0") => false,
            Some("true" | "yes" | "1") => true,
            Some(other) => {
                return Err(Error::InvalidInput(format!(
                    "`stream` must be true or false, not `{other}`"
                )));
            }
        };
        let max_tokens = match arg("max-tokens") {
            None => DEFAULT_MAX_TOKENS,
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "`max-tokens` must be a whole number above 0, not `{v}`"
                    )));
                }
            },
        };
        let mut unknown: Vec<String> = request
            .args
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .collect();
        unknown.sort();
        unknown.dedup();
        Ok(Options {
            target,
            format,
            stream,
            model: arg("model").map(str::to_string),
            max_tokens,
            unknown,
        })
    }

    /// Argument keys this skill knows.
    pub fn known() -> &'static [&'static str] {
        KNOWN
    }
}

fn normalize_path(path: &str) -> String {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(input: Option<&str>, args: &[(&str, &str)]) -> Request {
        let mut r = Request::with_args(args);
        r.input = input.map(str::to_string);
        r
    }

    #[test]
    fn a_file_with_defaults() {
        let o = Options::from_request(&request(None, &[("file", "./src/a.py")])).expect("ok");
        assert_eq!(o.target, Target::File("src/a.py".into()));
        assert_eq!(
            (o.format, o.stream, o.max_tokens),
            (Format::Text, false, 512)
        );
    }

    #[test]
    fn a_diff_file_or_a_diff_as_input() {
        let o = Options::from_request(&request(None, &[("diff", "change.PATCH")])).expect("ok");
        assert_eq!(o.target, Target::DiffFile("change.PATCH".into()));
        let o =
            Options::from_request(&request(Some("+++ b/x\n"), &[("format", "sarif")])).expect("ok");
        assert_eq!(o.target, Target::DiffText("+++ b/x\n".into()));
        assert_eq!(o.format, Format::Sarif);
    }

    #[test]
    fn mistakes_are_explained() {
        let err = |args: &[(&str, &str)]| {
            Options::from_request(&request(None, args))
                .expect_err("invalid")
                .to_string()
        };
        assert!(err(&[]).contains("nothing to review"));
        assert!(err(&[("diff", "src/a.py")]).contains(".diff or .patch"));
        assert!(err(&[("file", "a"), ("diff", "b.diff")]).contains("not both"));
        assert!(err(&[("file", "a"), ("format", "xml")]).contains("`xml`"));
        assert!(err(&[("file", "a"), ("stream", "maybe")]).contains("`stream`"));
        assert!(err(&[("file", "a"), ("max-tokens", "0")]).contains("max-tokens"));
        let o = Options::from_request(&request(
            None,
            &[("file", "a"), ("stream", "TRUE"), ("x", "1")],
        ))
        .expect("ok");
        assert!(o.stream);
        assert_eq!(o.unknown, ["x"]);
    }
}
