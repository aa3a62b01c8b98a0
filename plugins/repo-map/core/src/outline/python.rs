//! Python: classes and functions, nested by indentation (methods under their
//! class, closures under their function).

use std::sync::LazyLock;

use super::Raw;
use super::line_rules::{LineRule, scan};

static RULES: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    vec![
        LineRule::new("class", r"^\s*class\s+(?P<name>\w+)", true),
        LineRule::new("def", r"^\s*(?:async\s+)?def\s+(?P<name>\w+)", true),
    ]
});

pub(super) fn raw(text: &str) -> Vec<Raw> {
    scan(text, &RULES)
}
