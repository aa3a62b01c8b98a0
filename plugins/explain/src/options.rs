//! The skill's arguments: the question (`--input`), `file`, `symbol`,
//! `max-tokens`, `model` and `max-files`.

use airlock_sdk::{Error, Request};

/// The default of `max-tokens`: a few paragraphs, and small enough that a
/// 2048-token model keeps most of its context for the excerpts.
pub const DEFAULT_MAX_TOKENS: u32 = 384;

/// The default of `max-files`: enough context for most questions, few
/// enough that each file gets room in a small model's window.
pub const DEFAULT_MAX_FILES: usize = 4;

/// The most files `max-files` may ask for.
pub const MAX_FILES_LIMIT: usize = 20;

const KNOWN: &[&str] = &["file", "symbol", "max-tokens", "model", "max-files"];

/// The parsed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The user's question (`--input`), trimmed; `None` when not given.
    pub input: Option<String>,
    /// `file=PATH`: the file to explain (workspace-relative).
    pub file: Option<String>,
    /// `symbol=NAME`: the symbol to explain.
    pub symbol: Option<String>,
    /// `max-tokens=N`: the most tokens the answer may take.
    pub max_tokens: u32,
    /// `model=NAME`: which granted model to ask; the profile's first by default.
    pub model: Option<String>,
    /// `max-files=N`: how many files to take excerpts from.
    pub max_files: usize,
    /// Argument keys this skill does not know, for a warning.
    pub unknown: Vec<String>,
}

impl Options {
    /// Reads the options; a bad value, or nothing to explain, is an error
    /// that says what to pass.
    pub fn from_request(request: &Request) -> Result<Options, Error> {
        let nonempty = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let input = nonempty(request.input.as_deref());
        let file = nonempty(request.arg("file")).map(|f| normalize_path(&f));
        let symbol = nonempty(request.arg("symbol"));
        if input.is_none() && file.is_none() && symbol.is_none() {
            return Err(Error::InvalidInput(
                "nothing to explain: ask a question with --input \"…\", or name a file \
                 (--arg file=PATH) or a symbol (--arg symbol=NAME)"
                    .to_string(),
            ));
        }
        if let Some(s) = &symbol
            && s.chars().any(char::is_whitespace)
        {
            return Err(Error::InvalidInput(format!(
                "`symbol` must be one identifier, not `{s}`"
            )));
        }
        let max_tokens = match request.arg("max-tokens") {
            None => DEFAULT_MAX_TOKENS,
            Some(v) => match v.trim().parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "`max-tokens` must be a whole number above 0, not `{v}`"
                    )));
                }
            },
        };
        let max_files = match request.arg("max-files") {
            None => DEFAULT_MAX_FILES,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_FILES_LIMIT).contains(&n) => n,
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "`max-files` must be a whole number from 1 to {MAX_FILES_LIMIT}, not `{v}`"
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
            input,
            file,
            symbol,
            max_tokens,
            model: nonempty(request.arg("model")),
            max_files,
            unknown,
        })
    }

    /// The question to put to the model: the user's, or one made from the
    /// file or symbol asked about.
    pub fn question(&self) -> String {
        if let Some(q) = &self.input {
            return q.clone();
        }
        match (&self.symbol, &self.file) {
            (Some(s), Some(f)) => format!("What is `{s}` in {f}, and how is it used?"),
            (Some(s), None) => format!("What is `{s}`, and how is it used?"),
            (None, Some(f)) => format!("What does the file {f} do?"),
            (None, None) => String::new(),
        }
    }

    /// Argument keys this skill knows, for the warning about unknown ones.
    pub fn known() -> &'static [&'static str] {
        KNOWN
    }
}

/// `./src/a.rs` and `src/a.rs` name the same file.
fn normalize_path(path: &str) -> String {
    let mut p = path.trim();
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
    fn a_question_alone_is_enough() {
        let o =
            Options::from_request(&request(Some(" How are paths checked? "), &[])).expect("valid");
        assert_eq!(o.question(), "How are paths checked?");
        assert_eq!(
            (o.max_tokens, o.max_files),
            (DEFAULT_MAX_TOKENS, DEFAULT_MAX_FILES)
        );
        assert_eq!((o.file, o.symbol, o.model), (None, None, None));
    }

    #[test]
    fn file_and_symbol_make_their_own_question() {
        let o = Options::from_request(&request(None, &[("file", "./src/lib.rs")])).expect("ok");
        assert_eq!(o.file.as_deref(), Some("src/lib.rs"));
        assert_eq!(o.question(), "What does the file src/lib.rs do?");
        let o = Options::from_request(&request(None, &[("symbol", "Sandbox")])).expect("ok");
        assert_eq!(o.question(), "What is `Sandbox`, and how is it used?");
    }

    #[test]
    fn nothing_to_explain_says_what_to_pass() {
        let err = Options::from_request(&request(Some("  "), &[])).expect_err("empty");
        assert!(err.to_string().contains("--input"), "{err}");
        assert!(err.to_string().contains("file=PATH"), "{err}");
    }

    #[test]
    fn bad_numbers_are_refused_and_unknown_keys_reported() {
        let q = Some("q");
        assert!(Options::from_request(&request(q, &[("max-tokens", "0")])).is_err());
        assert!(Options::from_request(&request(q, &[("max-tokens", "lots")])).is_err());
        assert!(Options::from_request(&request(q, &[("max-files", "99")])).is_err());
        assert!(Options::from_request(&request(q, &[("symbol", "a b")])).is_err());
        let o = Options::from_request(&request(
            q,
            &[("max-tokens", "100"), ("model", "smollm2"), ("fiel", "x")],
        ))
        .expect("valid");
        assert_eq!(o.max_tokens, 100);
        assert_eq!(o.model.as_deref(), Some("smollm2"));
        assert_eq!(o.unknown, ["fiel"]);
    }
}
