//! The skill's arguments: `format`, `symbols`, `max-symbols-per-file`.

use airlock_sdk::{Error, Request};

/// How the map is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A language table and an indented file listing.
    Text,
    /// One JSON object.
    Json,
}

/// The parsed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// `format=text|json`, text by default.
    pub format: Format,
    /// `symbols=true|false`: whether to outline files, true by default.
    pub symbols: bool,
    /// `max-symbols-per-file=N`, 50 by default: keeps one generated file
    /// from drowning the map.
    pub max_symbols_per_file: usize,
    /// Argument keys this skill does not know, for a warning.
    pub unknown: Vec<String>,
}

/// The default of `max-symbols-per-file`.
pub const DEFAULT_MAX_SYMBOLS: usize = 50;

const KNOWN: &[&str] = &["format", "symbols", "max-symbols-per-file"];

impl Options {
    /// Reads the options from a request; a bad value is an error naming it.
    pub fn from_request(request: &Request) -> Result<Options, Error> {
        let format = match request.arg("format").map(|f| f.trim().to_ascii_lowercase()) {
            None => Format::Text,
            Some(f) if f == "text" => Format::Text,
            Some(f) if f == "json" => Format::Json,
            Some(f) => {
                return Err(Error::InvalidInput(format!(
                    "unknown format `{f}` (expected text or json)"
                )));
            }
        };
        let symbols = match request.arg("symbols") {
            None => true,
            Some(v) => parse_bool(v).ok_or_else(|| {
                Error::InvalidInput(format!("`symbols` must be true or false, not `{v}`"))
            })?,
        };
        let max_symbols_per_file = match request.arg("max-symbols-per-file") {
            None => DEFAULT_MAX_SYMBOLS,
            Some(v) => v.trim().parse().map_err(|_| {
                Error::InvalidInput(format!(
                    "`max-symbols-per-file` must be a whole number, not `{v}`"
                ))
            })?,
        };
        let mut unknown: Vec<String> = request
            .args
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .collect();
        unknown.dedup();
        Ok(Options {
            format,
            symbols,
            max_symbols_per_file,
            unknown,
        })
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(args: &[(&str, &str)]) -> Request {
        Request::with_args(args)
    }

    #[test]
    fn defaults() {
        let o = Options::from_request(&request(&[])).expect("no args is valid");
        assert_eq!(
            (o.format, o.symbols, o.max_symbols_per_file),
            (Format::Text, true, 50)
        );
    }

    #[test]
    fn parses_every_argument() {
        let o = Options::from_request(&request(&[
            ("format", "JSON"),
            ("symbols", "false"),
            ("max-symbols-per-file", "7"),
            ("colour", "yes"),
        ]))
        .expect("valid args");
        assert_eq!(
            (o.format, o.symbols, o.max_symbols_per_file),
            (Format::Json, false, 7)
        );
        assert_eq!(o.unknown, ["colour"]);
    }

    #[test]
    fn rejects_bad_values() {
        for args in [
            [("format", "sarif")],
            [("symbols", "maybe")],
            [("max-symbols-per-file", "-1")],
        ] {
            assert!(matches!(
                Options::from_request(&request(&args)),
                Err(Error::InvalidInput(_))
            ));
        }
    }
}
