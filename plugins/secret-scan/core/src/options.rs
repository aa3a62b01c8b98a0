//! The skill's arguments: `format` and `min-severity`.

use std::str::FromStr;

use airlock_sdk::{Error, Request, Severity};

/// How the report is written.
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

/// The parsed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Output format (`format=`), text by default.
    pub format: Format,
    /// Findings below this are dropped (`min-severity=`); all are kept by default.
    pub min_severity: Severity,
    /// Argument keys this skill does not know, for a warning: a typo should
    /// not silently change nothing.
    pub unknown: Vec<String>,
}

impl Options {
    /// Reads the options from a request; a bad value is an error naming it.
    pub fn from_request(request: &Request) -> Result<Options, Error> {
        let format = request
            .arg("format")
            .map(str::parse)
            .transpose()?
            .unwrap_or(Format::Text);
        let min_severity = request
            .arg("min-severity")
            .map(str::parse)
            .transpose()?
            .unwrap_or(Severity::Note);
        let mut unknown: Vec<String> = request
            .args
            .iter()
            .map(|(k, _)| k.clone())
            .filter(|k| k != "format" && k != "min-severity")
            .collect();
        unknown.dedup();
        Ok(Options {
            format,
            min_severity,
            unknown,
        })
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
        assert_eq!((o.format, o.min_severity), (Format::Text, Severity::Note));
    }

    #[test]
    fn parses_format_and_min_severity() {
        let o = Options::from_request(&request(&[("format", "SARIF"), ("min-severity", "high")]))
            .expect("valid args");
        assert_eq!((o.format, o.min_severity), (Format::Sarif, Severity::High));
    }

    #[test]
    fn rejects_bad_values_and_reports_unknown_keys() {
        assert!(matches!(
            Options::from_request(&request(&[("format", "xml")])),
            Err(Error::InvalidInput(m)) if m.contains("`xml`")
        ));
        assert!(Options::from_request(&request(&[("min-severity", "huge")])).is_err());
        let o = Options::from_request(&request(&[("fromat", "json")])).expect("valid");
        assert_eq!(o.unknown, ["fromat"]);
    }
}
