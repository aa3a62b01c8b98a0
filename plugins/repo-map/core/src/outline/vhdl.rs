//! VHDL: entities, architectures, packages, components, labelled
//! processes, and subprograms. VHDL keywords are case-insensitive.

use std::sync::LazyLock;

use super::Raw;
use super::line_rules::{LineRule, scan};

static RULES: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    vec![
        LineRule::new("entity", r"(?i)^\s*entity\s+(?P<name>\w+)\s+is\b", true),
        LineRule::new(
            "architecture",
            r"(?i)^\s*architecture\s+(?P<name>\w+)\s+of\s+(?P<of>\w+)",
            true,
        ),
        LineRule::new(
            "package body",
            r"(?i)^\s*package\s+body\s+(?P<name>\w+)",
            true,
        ),
        LineRule::new("package", r"(?i)^\s*package\s+(?P<name>\w+)\s+is\b", true),
        LineRule::new("component", r"(?i)^\s*component\s+(?P<name>\w+)", true),
        LineRule::new(
            "process",
            r"(?i)^\s*(?P<name>\w+)\s*:\s*(?:postponed\s+)?process\b",
            true,
        ),
        LineRule::new(
            "function",
            r"(?i)^\s*(?:pure\s+|impure\s+)?function\s+(?P<name>\w+)",
            true,
        ),
        LineRule::new("procedure", r"(?i)^\s*procedure\s+(?P<name>\w+)", true),
    ]
});

pub(super) fn raw(text: &str) -> Vec<Raw> {
    scan(text, &RULES)
}
