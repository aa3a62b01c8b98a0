//! Java: classes, interfaces, enums, records and their methods.

use std::sync::LazyLock;

use super::Raw;
use super::line_rules::{LineRule, scan};

const MODIFIERS: &str = r"(?:(?:public|protected|private|static|final|abstract|sealed|non-sealed|strictfp|synchronized|native|default|transient)\s+)*";

/// Statements that look like `type name(` to the method pattern.
const NOT_METHODS: &[&str] = &[
    "if",
    "for",
    "while",
    "switch",
    "catch",
    "return",
    "new",
    "throw",
    "else",
    "case",
    "do",
    "try",
    "synchronized",
    "super",
    "this",
    "yield",
    "assert",
];

static RULES: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    let mut rules: Vec<LineRule> = ["class", "interface", "enum", "record", "@interface"]
        .into_iter()
        .map(|keyword| {
            LineRule::new(
                keyword,
                &format!(r"^\s*{MODIFIERS}{keyword}\s+(?P<name>\w+)"),
                true,
            )
        })
        .collect();
    // Indented, a return type (or, for constructors, the last modifier)
    // before the name, and no `;` on the line: a definition, not a call.
    rules.push(
        LineRule::new(
            "method",
            &format!(
                r"^\s+{MODIFIERS}(?:<[^>]*>\s+)?(?P<ty>[\w.$]+)(?:<[^()]*>)?(?:\[\])*\s+(?P<name>\w+)\s*\([^;]*$"
            ),
            false,
        )
        .rejecting(NOT_METHODS),
    );
    rules
});

pub(super) fn raw(text: &str) -> Vec<Raw> {
    scan(text, &RULES)
}
