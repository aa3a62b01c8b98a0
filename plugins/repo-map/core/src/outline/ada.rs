//! Ada and SPARK: packages and package bodies, subprograms, tasks,
//! protected objects and types. Ada keywords are case-insensitive.

use std::sync::LazyLock;

use super::Raw;
use super::line_rules::{LineRule, scan};

/// `overriding` / `not overriding` before a subprogram.
const OVERRIDING: &str = r"(?:(?:not\s+)?overriding\s+)?";

static RULES: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    vec![
        LineRule::new(
            "package body",
            r"(?i)^\s*package\s+body\s+(?P<name>[\w.]+)",
            true,
        ),
        LineRule::new(
            "package",
            r"(?i)^\s*(?:private\s+)?(?:generic\s+)?package\s+(?P<name>[\w.]+)",
            true,
        ),
        LineRule::new(
            "procedure",
            &format!(r"(?i)^\s*{OVERRIDING}procedure\s+(?P<name>[\w.]+)"),
            true,
        ),
        LineRule::new(
            "function",
            &format!(r#"(?i)^\s*{OVERRIDING}function\s+(?P<name>[\w.]+|"[^"]+")"#),
            true,
        ),
        LineRule::new("task body", r"(?i)^\s*task\s+body\s+(?P<name>\w+)", true),
        LineRule::new("task", r"(?i)^\s*task\s+(?:type\s+)?(?P<name>\w+)", true),
        LineRule::new(
            "protected body",
            r"(?i)^\s*protected\s+body\s+(?P<name>\w+)",
            true,
        ),
        LineRule::new(
            "protected",
            r"(?i)^\s*protected\s+(?:type\s+)?(?P<name>\w+)",
            true,
        ),
        LineRule::new("type", r"(?i)^\s*type\s+(?P<name>\w+)", false),
        LineRule::new("subtype", r"(?i)^\s*subtype\s+(?P<name>\w+)", false),
    ]
});

pub(super) fn raw(text: &str) -> Vec<Raw> {
    scan(text, &RULES)
}
