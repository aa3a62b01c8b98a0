//! Which source file a task is about, when neither the task names one nor a
//! failing test points at one: the file that holds most of the task's code
//! terms (names in backticks, identifiers, numbers, quoted strings). "The
//! app listens on port 8000 … make the default 8080" is about the file that
//! says 8000, not the README that says 8080.

use crate::testcmd::is_test_file;

/// Extensions of source files (code the tests run); documentation and data
/// are never the place a behaviour is fixed.
const SOURCE: [&str; 22] = [
    "py", "c", "h", "cc", "cpp", "hpp", "rs", "go", "js", "mjs", "ts", "java", "rb", "sh", "bash",
    "adb", "ads", "pl", "php", "lua", "swift", "kt",
];

/// Whether `path` is a source file by its extension (or a script with no
/// extension at the top of `bin/`).
pub fn is_source(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    match name.rsplit_once('.') {
        Some((_, ext)) => SOURCE.contains(&ext),
        None => path.starts_with("bin/"),
    }
}

/// The task's code terms: what is in backticks or quotes (split into its
/// identifiers), and identifiers that look like code outside them (with `_`,
/// a digit, camelCase, or followed by `(`); numbers of two digits or
/// more. Plain English words are left out: every file has them.
pub fn terms(task: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |t: &str| {
        let t = t.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        if t.chars().count() >= 2 && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    };
    for (i, part) in task.split(['`', '"']).enumerate() {
        // Odd parts are inside backticks or quotes.
        let quoted = i % 2 == 1;
        for (token, next) in &split_tokens(part) {
            let digits = token.chars().all(|c| c.is_ascii_digit());
            let code_like = token.contains('_')
                || (token.chars().skip(1).any(|c| c.is_ascii_uppercase())
                    && token.chars().any(|c| c.is_ascii_lowercase()))
                || (token.chars().any(|c| c.is_ascii_digit()) && !digits)
                || *next == Some('(');
            if (quoted && !digits) || code_like || (digits && token.len() >= 2) {
                push(token);
            }
        }
    }
    out
}

/// Identifiers and numbers of `text`, each with the character right after.
fn split_tokens(text: &str) -> Vec<(String, Option<char>)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() || c == '_' {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push((std::mem::take(&mut cur), Some(c)));
        }
    }
    if !cur.is_empty() {
        out.push((cur, None));
    }
    out
}

/// Source files (not tests) holding the task's terms, best first: most
/// distinct terms, then most occurrences. Files with none are left out.
pub fn candidates(
    task: &str,
    files: &[String],
    read: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let terms = terms(task);
    if terms.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, usize, &String)> = files
        .iter()
        .filter(|f| is_source(f) && !is_test_file(f))
        .filter_map(|f| {
            let text = read(f)?;
            let words = split_tokens(&text);
            let mut distinct = 0;
            let mut total = 0;
            for t in &terms {
                let n = words.iter().filter(|(w, _)| w == t).count();
                if n > 0 {
                    distinct += 1;
                    total += n;
                }
            }
            (distinct > 0).then_some((distinct, total, f))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
    scored.into_iter().map(|(_, _, f)| f.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_terms_are_picked_out_of_prose() {
        let t = terms(
            "When no port is configured the app listens on port 8000, but the README says \
             the default port is 8080. Make the default 8080.",
        );
        assert_eq!(t, ["8000", "8080"]);
        let t = terms(
            "Add an optional `sep` parameter to `slugify()`, e.g. `slugify(\"Hello World\", \
             sep=\"_\")` returns `\"hello_world\"`.",
        );
        for want in ["sep", "slugify", "hello_world"] {
            assert!(t.iter().any(|x| x == want), "{want} in {t:?}");
        }
        assert!(
            !t.iter().any(|x| x == "parameter" || x == "optional"),
            "{t:?}"
        );
        let t = terms("count_words returns 1 instead of 2 for parseLine(x)");
        assert_eq!(t, ["count_words", "parseLine"]);
    }

    #[test]
    fn the_source_file_with_the_terms_is_found_not_the_docs_or_tests() {
        let files: Vec<String> = [
            "README.md",
            "app/config.py",
            "app/server.py",
            "tests/test_config.py",
        ]
        .map(String::from)
        .to_vec();
        let read = |p: &str| -> Option<String> {
            Some(
                match p {
                    "README.md" => "The default port is 8080.\n",
                    "app/config.py" => "PORT = int(os.environ.get('PORT', 8000))\n",
                    "app/server.py" => "from app.config import PORT\n",
                    "tests/test_config.py" => "assert PORT == 8000\n",
                    _ => return None,
                }
                .to_string(),
            )
        };
        let task = "When no port is configured the app listens on port 8000, but the README \
                    says the default port is 8080. Make the default 8080.";
        assert_eq!(candidates(task, &files, &read), ["app/config.py"]);
        assert!(candidates("Make it faster", &files, &read).is_empty());
    }

    #[test]
    fn sources_are_told_by_extension() {
        assert!(is_source("src/lib.rs"));
        assert!(is_source("stack.h"));
        assert!(is_source("backup.sh"));
        assert!(is_source("src/stats.adb"));
        assert!(!is_source("README.md"));
        assert!(!is_source("Makefile"));
        assert!(!is_source("data/orders.json"));
    }
}
