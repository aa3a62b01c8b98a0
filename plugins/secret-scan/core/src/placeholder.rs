//! Values that look like a secret's place, not a secret: `changeme`,
//! `${DB_PASSWORD}`, `<your-token>`, `xxxxxxxx`.
//!
//! Only the loose rules consult this; a real credential is rarely a
//! dictionary word, and a missed placeholder costs a reader a second, while a
//! report full of `${VAR}` teaches people to ignore the scanner.

/// Substrings that mark a value as a stand-in.
const MARKERS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "example",
    "your_",
    "your-",
    "yourpassword",
    "yoursecret",
    "yourtoken",
    "dummy",
    "redacted",
    "replace",
    "fixme",
    "todo",
    "xxxx",
    "****",
    "....",
    "…",
    "getenv",
    "environ",
    "process.env",
    "secrets.",
];

/// Whole values that are words, not secrets.
const WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "empty",
    "default",
    "required",
    "optional",
    "notset",
    "not-set",
    "unset",
];

/// Whether `value` is a placeholder, a reference to somewhere else (an
/// environment variable, a template), or a word rather than a secret.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    is_reference(v)
        || WORDS.contains(&lower.as_str())
        || MARKERS.iter().any(|m| lower.contains(m))
        || is_one_repeated_char(v)
}

/// `${VAR}`, `$VAR`, `{{ var }}`, `<value>`, `%VAR%`, `@token@`, `{password}`:
/// the value is filled in elsewhere (by a shell, a template, a format string).
fn is_reference(v: &str) -> bool {
    let wrapped = |open: &str, close: &str| v.starts_with(open) && v.ends_with(close);
    v.starts_with('$')
        || v.contains("${")
        || v.contains("{{")
        || v.contains("#{")
        || wrapped("<", ">")
        || wrapped("%", "%")
        || wrapped("@", "@")
        || wrapped("[", "]")
        || wrapped("{", "}")
}

fn is_one_repeated_char(v: &str) -> bool {
    let mut chars = v.chars();
    chars.next().is_some_and(|first| chars.all(|c| c == first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for v in [
            "changeme",
            "CHANGEME",
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "{{ vault_password }}",
            "<your-token-here>",
            "xxxxxxxxxxxx",
            "XXXX-XXXX",
            "********",
            "%API_KEY%",
            "@db.password@",
            "your_api_key_here",
            "password",
            "example-secret-value",
            "aaaaaaaaaa",
            "",
            "os.environ['X']",
            "{password}",
            "[REDACTED]",
        ] {
            assert!(is_placeholder(v), "{v:?} should be a placeholder");
        }
    }

    #[test]
    fn real_looking_values_are_not_placeholders() {
        for v in ["hunter2hunter2", "s3cr3t-Pa55w0rd!", "q8Zk2vLp0aW9"] {
            assert!(!is_placeholder(v), "{v:?} should not be a placeholder");
        }
    }
}
