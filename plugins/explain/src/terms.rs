//! The words of a question worth searching for.

/// The most terms searched for: the rest of a long question adds noise, not
/// signal, and each term makes the search pattern longer.
pub const MAX_TERMS: usize = 8;

/// Shorter words are almost never what a question is about.
const MIN_TERM_CHARS: usize = 3;

/// Words that say how the question is asked, not what it is about.
const STOPWORDS: &[&str] = &[
    "about", "all", "also", "and", "any", "are", "can", "code", "could", "describe", "did", "does",
    "doing", "done", "each", "explain", "file", "files", "for", "from", "get", "gets", "give",
    "has", "have", "how", "into", "its", "let", "like", "made", "make", "many", "mean", "means",
    "more", "most", "much", "not", "one", "our", "out", "please", "project", "repo", "should",
    "show", "some", "src", "tell", "than", "that", "the", "their", "them", "then", "there",
    "these", "they", "this", "those", "use", "used", "uses", "using", "was", "way", "what", "when",
    "where", "which", "who", "why", "will", "with", "work", "works", "would", "you", "your",
];

/// The distinct search terms of a question, in the order they appear:
/// identifier-like words of at least three characters that are not
/// stopwords, at most [`MAX_TERMS`]. Case is kept (the search ignores it).
pub fn terms(question: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for word in question.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        let word = word.trim_matches('_');
        if word.chars().count() < MIN_TERM_CHARS
            || word.chars().all(|c| c.is_ascii_digit())
            || STOPWORDS.contains(&word.to_lowercase().as_str())
        {
            continue;
        }
        if out.iter().any(|t| t.eq_ignore_ascii_case(word)) {
            continue;
        }
        out.push(word.to_string());
        if out.len() == MAX_TERMS {
            break;
        }
    }
    out
}

/// Escapes `text` for a Rust `regex` pattern.
pub fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A case-insensitive search pattern matching any of `terms`.
pub fn any_of(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| regex_escape(t))
        .collect::<Vec<_>>()
        .join("|")
}

/// The keywords that introduce a definition in the languages this workspace
/// is likely to hold (Rust, C family, Python, Go, JS/TS, Ada, VHDL, Verilog).
const DEFINITION_KEYWORDS: &[&str] = &[
    "fn",
    "struct",
    "enum",
    "trait",
    "type",
    "impl",
    "mod",
    "const",
    "static",
    "union",
    "class",
    "def",
    "func",
    "function",
    "interface",
    "module",
    "package",
    "procedure",
    "entity",
    "architecture",
    "record",
    "define",
    "let",
    "var",
    "macro_rules!",
    "typedef",
];

/// Whether `line` defines `symbol`: the word before it is a definition
/// keyword (`fn parse`, `class Parser`, `#define MAX`, `procedure Read`).
pub fn is_definition(line: &str, symbol: &str) -> bool {
    let mut search_from = 0;
    while let Some(pos) = line[search_from..].find(symbol) {
        let start = search_from + pos;
        let end = start + symbol.len();
        let before_ok = line[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after_ok = line[end..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        if before_ok && after_ok {
            let previous = line[..start]
                .trim_end()
                .rsplit(|c: char| c.is_whitespace() || c == '#')
                .next()
                .unwrap_or("");
            if DEFINITION_KEYWORDS
                .iter()
                .any(|k| previous.eq_ignore_ascii_case(k))
            {
                return true;
            }
        }
        search_from = end;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_words_that_matter() {
        assert_eq!(
            terms("How does the sandbox resolve symlinks in Sandbox::resolve?"),
            ["sandbox", "resolve", "symlinks"]
        );
        assert_eq!(terms("What is parse_config for?"), ["parse_config"]);
        assert_eq!(terms("what is it"), Vec::<String>::new());
        assert_eq!(terms("explain 2048 and 404"), Vec::<String>::new());
    }

    #[test]
    fn caps_the_number_of_terms() {
        let q = "alpha beta gamma delta epsilon zeta theta iota kappa lambda";
        assert_eq!(terms(q).len(), MAX_TERMS);
    }

    #[test]
    fn escapes_regex_syntax() {
        assert_eq!(regex_escape("a.b(c)*"), "a\\.b\\(c\\)\\*");
        assert_eq!(any_of(&["x.y".to_string(), "z".to_string()]), "x\\.y|z");
    }

    #[test]
    fn recognises_definitions_not_uses() {
        assert!(is_definition("pub fn resolve(path: &str) {", "resolve"));
        assert!(is_definition("class Parser:", "Parser"));
        assert!(is_definition("#define MAX_LEN 10", "MAX_LEN"));
        assert!(is_definition("   procedure Read_All;", "Read_All"));
        assert!(is_definition("pub struct Engine;", "Engine"));
        assert!(!is_definition("let x = resolve(p);", "resolve"));
        assert!(!is_definition("fn resolve_all() {}", "resolve"));
        assert!(!is_definition("// calls resolve", "resolve"));
    }
}
