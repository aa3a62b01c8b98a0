//! Rust: fn, struct, enum, union, trait, impl, mod, const, static, type,
//! macro_rules, at item level (inside impls, traits and modules too, but not
//! inside function bodies).

use std::sync::LazyLock;

use super::Raw;
use super::line_rules::{LineRule, scan};

/// `pub`, `pub(crate)`, `pub(in path)`, or nothing.
const VIS: &str = r"^\s*(?:pub(?:\s*\([^)]*\))?\s+)?";

static RULES: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    vec![
        LineRule::new(
            "fn",
            &format!(
                r#"{VIS}(?:default\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(?:extern\s+(?:"[^"]*"\s+)?)?fn\s+(?P<name>\w+)"#
            ),
            false,
        ),
        LineRule::new("struct", &format!(r"{VIS}struct\s+(?P<name>\w+)"), false),
        LineRule::new("enum", &format!(r"{VIS}enum\s+(?P<name>\w+)"), false),
        LineRule::new("union", &format!(r"{VIS}union\s+(?P<name>\w+)"), false),
        LineRule::new(
            "trait",
            &format!(r"{VIS}(?:unsafe\s+)?(?:auto\s+)?trait\s+(?P<name>\w+)"),
            true,
        ),
        // The name of an impl is its header: `Display for Config`.
        LineRule::new(
            "impl",
            r"^\s*(?:unsafe\s+)?impl(?:\s*<[^{]*?>)?\s+(?P<name>[^{]+?)\s*(?:\{.*|\bwhere\b.*)?$",
            true,
        ),
        LineRule::new("mod", &format!(r"{VIS}mod\s+(?P<name>\w+)"), true),
        LineRule::new("const", &format!(r"{VIS}const\s+(?P<name>\w+)\s*:"), false),
        LineRule::new(
            "static",
            &format!(r"{VIS}static\s+(?:mut\s+)?(?P<name>\w+)\s*:"),
            false,
        ),
        LineRule::new("type", &format!(r"{VIS}type\s+(?P<name>\w+)"), false),
        LineRule::new("macro", r"^\s*macro_rules!\s*(?P<name>\w+)", false),
    ]
});

pub(super) fn raw(text: &str) -> Vec<Raw> {
    scan(text, &RULES)
}
