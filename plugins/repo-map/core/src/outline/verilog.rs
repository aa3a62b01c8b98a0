//! Verilog and SystemVerilog: modules, interfaces, packages, classes,
//! functions and tasks.

use std::sync::LazyLock;

use super::Raw;
use super::line_rules::{LineRule, scan};

/// Qualifiers that may precede `function` or `task` in SystemVerilog.
const QUALIFIERS: &str = r"(?:(?:virtual|static|protected|local|extern|pure|export|import)\s+)*";

static RULES: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    vec![
        LineRule::new(
            "module",
            r"^\s*(?:macro)?module\s+(?:(?:automatic|static)\s+)?(?P<name>\w+)",
            true,
        ),
        LineRule::new(
            "interface",
            r"^\s*interface\s+(?:class\s+)?(?P<name>\w+)",
            true,
        ),
        LineRule::new("package", r"^\s*package\s+(?P<name>\w+)\s*;", true),
        LineRule::new("class", r"^\s*(?:virtual\s+)?class\s+(?P<name>\w+)", true),
        // The name is the last word before `(` or `;`, after any return type
        // (`function [7:0] add(`, `function automatic int f;`).
        LineRule::new(
            "function",
            &format!(r"^\s*{QUALIFIERS}function\b[^(;]*?(?P<name>[\w:]+)\s*[(;]"),
            true,
        ),
        LineRule::new(
            "task",
            &format!(r"^\s*{QUALIFIERS}task\b[^(;]*?(?P<name>[\w:]+)\s*[(;]"),
            true,
        ),
    ]
});

pub(super) fn raw(text: &str) -> Vec<Raw> {
    scan(text, &RULES)
}
