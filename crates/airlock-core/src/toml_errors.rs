//! Error positions and messages for the strict TOML files Airlock reads
//! (profiles, configuration, the model lock, the admin policy): one way to
//! say `FILE:LINE:COLUMN: message (in `the line`)` everywhere.

use std::ops::Range;

/// `file:line:column` for a byte span of `text` (1-based), or just the file.
pub fn location(origin: &str, text: &str, span: Option<Range<usize>>) -> String {
    let Some(span) = span else {
        return origin.to_string();
    };
    let start = span.start.min(text.len());
    let before = text.get(..start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before[before.rfind('\n').map_or(0, |i| i + 1)..]
        .chars()
        .count()
        + 1;
    format!("{origin}:{line}:{column}")
}

/// toml's message on one line, quoting the offending line and pointing to
/// the documentation.
pub fn toml_message(e: &toml::de::Error, text: &str, docs: &str) -> String {
    let message = e.message().trim().replace('\n', " ");
    let quoted = e
        .span()
        .and_then(|span| {
            let start = span.start.min(text.len());
            let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
            text.get(line_start..)?.lines().next()
        })
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| format!(" (in `{line}`)"))
        .unwrap_or_default();
    format!("{message}{quoted}; see {docs} for every key and its allowed values")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_characters() {
        assert_eq!(location("f", "ab\ncdé", Some(7..8)), "f:2:4");
        assert_eq!(location("f", "x", None), "f");
        assert_eq!(location("f", "x", Some(10..11)), "f:1:2");
    }
}
