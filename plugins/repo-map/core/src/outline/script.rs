//! JavaScript/TypeScript and shell: the top-level functions and classes a
//! reader would look for.

use std::sync::LazyLock;

use super::Raw;
use super::line_rules::{LineRule, scan};

static JAVASCRIPT: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    const EXPORT: &str = r"^\s*(?:export\s+)?(?:default\s+)?(?:declare\s+)?";
    vec![
        LineRule::new(
            "function",
            &format!(r"{EXPORT}(?:async\s+)?function\s*\*?\s*(?P<name>[\w$]+)"),
            false,
        ),
        LineRule::new(
            "class",
            &format!(r"{EXPORT}(?:abstract\s+)?class\s+(?P<name>[\w$]+)"),
            true,
        ),
        LineRule::new(
            "interface",
            &format!(r"{EXPORT}interface\s+(?P<name>[\w$]+)"),
            false,
        ),
        LineRule::new(
            "type",
            &format!(r"{EXPORT}type\s+(?P<name>[\w$]+)\s*(?:<[^=]*>)?\s*="),
            false,
        ),
        // `const f = (a) => …` and `const f = async x => …`: a function by
        // any other name.
        LineRule::new(
            "function",
            r"^(?:export\s+)?(?:const|let|var)\s+(?P<name>[\w$]+)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:\([^)]*\)|[\w$]+)\s*(?::[^=]+)?=>",
            false,
        ),
    ]
});

static SHELL: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    vec![
        LineRule::new(
            "function",
            r"^\s*function\s+(?P<name>[A-Za-z_][\w:.-]*)",
            false,
        ),
        LineRule::new("function", r"^\s*(?P<name>[A-Za-z_][\w:.-]*)\s*\(\)", false),
    ]
});

pub(super) fn raw_javascript(text: &str) -> Vec<Raw> {
    scan(text, &JAVASCRIPT)
}

pub(super) fn raw_shell(text: &str) -> Vec<Raw> {
    scan(text, &SHELL)
}
