//! Table-driven outlining: each line is tried against a list of patterns,
//! and the first that matches names the declaration.

use regex::Regex;

use super::{Raw, indent_of, numbered};

/// One pattern. It has a `name` group, and may have an `of` group whose text
/// is appended (`rtl of top` for a VHDL architecture) and a `ty` group (a
/// return type) that is checked against `reject` like the name.
pub struct LineRule {
    pub kind: &'static str,
    pub pattern: Regex,
    pub container: bool,
    /// Words that, as name or type, mean the match was a statement rather
    /// than a declaration (`if`, `return` in Java).
    pub reject: &'static [&'static str],
}

impl LineRule {
    pub fn new(kind: &'static str, pattern: &str, container: bool) -> Self {
        LineRule {
            kind,
            // The patterns are constants of this crate; a unit test
            // exercises each language's table.
            pattern: Regex::new(pattern).expect("built-in outline pattern compiles"),
            container,
            reject: &[],
        }
    }

    pub fn rejecting(mut self, names: &'static [&'static str]) -> Self {
        self.reject = names;
        self
    }

    /// The declaration on `line`, if this rule matches it.
    pub fn apply(&self, line: &str) -> Option<String> {
        let caps = self.pattern.captures(line)?;
        let name = squeeze(caps.name("name")?.as_str());
        if name.is_empty() || self.reject.contains(&name.as_str()) {
            return None;
        }
        if caps
            .name("ty")
            .is_some_and(|ty| self.reject.contains(&ty.as_str()))
        {
            return None;
        }
        Some(match caps.name("of") {
            Some(of) => format!("{name} of {}", of.as_str()),
            None => name,
        })
    }
}

/// Runs `rules` over every line, first match wins.
pub fn scan(text: &str, rules: &[LineRule]) -> Vec<Raw> {
    let mut out = Vec::new();
    for (line_no, line) in numbered(text) {
        for rule in rules {
            if let Some(name) = rule.apply(line) {
                out.push(Raw {
                    indent: indent_of(line),
                    kind: rule.kind,
                    name,
                    line: line_no,
                    container: rule.container,
                });
                break;
            }
        }
    }
    out
}

/// Collapses runs of whitespace, so a name spanning `impl<T>   Foo` reads well.
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
