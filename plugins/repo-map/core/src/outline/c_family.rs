//! C and C++: function definitions at column 0, struct/class/union/enum/
//! namespace definitions, and `#define` macros.
//!
//! Function definitions are told from prototypes and calls by what follows
//! the parameter list: a `{` (on the line or within a few lines) before any
//! `;`.

use std::sync::LazyLock;

use regex::Regex;

use super::line_rules::LineRule;
use super::{Raw, indent_of};

/// How far below a signature its opening brace may be (parameters split over
/// lines, GNU style braces).
const BRACE_LOOKAHEAD_LINES: usize = 8;

static TYPES: LazyLock<Vec<LineRule>> = LazyLock::new(|| {
    let mut rules = vec![LineRule::new(
        "macro",
        r"^\s*#\s*define\s+(?P<name>\w+)",
        false,
    )];
    for keyword in ["namespace", "class", "struct", "union", "enum"] {
        // A definition: a `{` follows the name, or at least no `;` (a
        // forward declaration, a variable) does; and no `(` (a function
        // returning `struct foo *`). An optional all-caps word before the
        // name is an export macro.
        rules.push(LineRule::new(
            keyword,
            &format!(
                r"^\s*(?:typedef\s+)?(?:template\s*<[^>]*>\s*)?{keyword}(?:\s+(?:class|struct))?\s+(?:[A-Z_][A-Z0-9_]*\s+)?(?P<name>[A-Za-z_]\w*(?:::\w+)*)(?:[^;({{]*\{{|[^;(]*$)"
            ),
            true,
        ));
    }
    rules
});

/// A column-0 line that could start a function definition: an optional
/// return type, then a (possibly qualified) name and `(`.
static SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:(?P<ty>[A-Za-z_][\w\s*&:<>,]*?)[\s*&]+)?(?P<name>(?:[A-Za-z_]\w*::)*~?[A-Za-z_]\w*)\s*\(",
    )
    .expect("built-in C signature pattern compiles")
});

/// Words that start statements or declarations that are not function
/// definitions, even when followed by `(`.
const NOT_FUNCTIONS: &[&str] = &[
    "if",
    "else",
    "for",
    "while",
    "do",
    "switch",
    "return",
    "case",
    "goto",
    "sizeof",
    "typedef",
    "using",
    "static_assert",
    "_Static_assert",
    "decltype",
    "alignof",
    "defined",
];

pub(super) fn raw(text: &str) -> Vec<Raw> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let line_no = u32::try_from(index + 1).unwrap_or(u32::MAX);
        if let Some((rule, name)) = TYPES.iter().find_map(|r| r.apply(line).map(|n| (r, n))) {
            out.push(Raw {
                indent: indent_of(line),
                kind: rule.kind,
                name,
                line: line_no,
                container: rule.container,
            });
            continue;
        }
        if let Some(name) = function_name(&lines, index) {
            out.push(Raw {
                indent: 0,
                kind: "function",
                name,
                line: line_no,
                container: false,
            });
        }
    }
    out
}

/// The name of the function defined at `lines[index]`, if one is.
fn function_name(lines: &[&str], index: usize) -> Option<String> {
    let line = lines.get(index)?;
    let caps = SIGNATURE.captures(line)?;
    let name = caps.name("name")?.as_str();
    let first_word = line
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()?;
    if NOT_FUNCTIONS.contains(&name) || NOT_FUNCTIONS.contains(&first_word) {
        return None;
    }
    let after_name = &line[caps.get(0)?.end()..];
    let continuation = lines.iter().skip(index + 1).take(BRACE_LOOKAHEAD_LINES);
    let body_follows = std::iter::once(after_name)
        .chain(continuation.copied())
        .find_map(|l| {
            let brace = l.find('{');
            let semi = l.find(';');
            match (brace, semi) {
                (Some(b), Some(s)) => Some(b < s),
                (Some(_), None) => Some(true),
                (None, Some(_)) => Some(false),
                (None, None) => None,
            }
        })
        .unwrap_or(false);
    body_follows.then(|| name.to_string())
}
