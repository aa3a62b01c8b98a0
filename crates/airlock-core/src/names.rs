//! The one rule for the names Airlock stores and prints: models, plugins,
//! publishers, trusted keys and installed profiles. A name is
//! `[a-z0-9][a-z0-9._-]*`, so it is safe as a file name; models may be
//! longer than the rest because their default name is a file's stem.

use std::fmt;

/// What a name names; it decides the length limit and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A model in the store (`airlock model add … --name`).
    Model,
    /// An installed plugin.
    Plugin,
    /// A plugin's publisher.
    Publisher,
    /// A key in the trust store.
    Key,
    /// An admin-installed profile.
    Profile,
}

impl NameKind {
    /// The word for messages (`model`, `plugin`, …).
    pub fn word(self) -> &'static str {
        match self {
            Self::Model => "model",
            Self::Plugin => "plugin",
            Self::Publisher => "publisher",
            Self::Key => "key",
            Self::Profile => "profile",
        }
    }

    /// The most bytes a name of this kind may have.
    pub fn max_len(self) -> usize {
        match self {
            Self::Model => MAX_MODEL_NAME,
            _ => MAX_NAME,
        }
    }
}

/// How model names are written, for messages.
pub const NAME_RULE: &str = "names are lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit (at most 128 characters)";

const MAX_MODEL_NAME: usize = 128;
const MAX_NAME: usize = 64;

/// A name broke the rule; the message says what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct NameError {
    /// What the name was for.
    pub kind: NameKind,
    /// The name as given.
    pub name: String,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = &self.name;
        match self.kind {
            NameKind::Model if name.is_empty() => write!(f, "the name is empty: {NAME_RULE}"),
            NameKind::Model => write!(f, "`{name}` is not a valid model name: {NAME_RULE}"),
            kind => write!(
                f,
                "`{name}` is not a valid {} name: use lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most {MAX_NAME} characters",
                kind.word()
            ),
        }
    }
}

/// Check a name of `kind`: `[a-z0-9][a-z0-9._-]*`, at most
/// [`NameKind::max_len`] bytes.
pub fn check(kind: NameKind, name: &str) -> Result<(), NameError> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok = bytes
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'));
    if first_ok && rest_ok && name.len() <= kind.max_len() {
        Ok(())
    } else {
        Err(NameError {
            kind,
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_and_its_limits() {
        for ok in ["smollm2", "a", "0x", "qwen2.5-coder_1.5b"] {
            assert!(check(NameKind::Model, ok).is_ok(), "{ok}");
            assert!(check(NameKind::Plugin, ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", ".x", "A", "a b", "a/b", "é", "x\0"] {
            assert!(check(NameKind::Model, bad).is_err(), "{bad:?}");
            assert!(check(NameKind::Key, bad).is_err(), "{bad:?}");
        }
        let long = "a".repeat(100);
        assert!(check(NameKind::Model, &long).is_ok());
        assert!(check(NameKind::Publisher, &long).is_err());
        assert!(check(NameKind::Model, &"a".repeat(129)).is_err());
    }

    #[test]
    fn messages_name_the_kind_and_the_rule() {
        let e = check(NameKind::Model, "").unwrap_err().to_string();
        assert_eq!(e, format!("the name is empty: {NAME_RULE}"));
        let e = check(NameKind::Model, "A").unwrap_err().to_string();
        assert_eq!(e, format!("`A` is not a valid model name: {NAME_RULE}"));
        let e = check(NameKind::Publisher, "A").unwrap_err().to_string();
        assert!(
            e.starts_with("`A` is not a valid publisher name: use lowercase"),
            "{e}"
        );
        assert!(e.ends_with("at most 64 characters"), "{e}");
    }
}
