//! Model roles: what a plugin asks for instead of a model's name. A plugin's
//! signed manifest asks for a role (`capabilities.model-roles = ["code"]`);
//! the officer's profile maps the role to a model it grants
//! (`[inference.roles] code = "qwen2.5-coder-1.5b"`), and the admin policy
//! may map it system-wide (`[models.roles]`), which then decides. Changing
//! the model a plugin runs on is a change to the profile (and a new review),
//! never to the signed package.

use std::fmt;

/// The roles Airlock documents, with what each is for. Other names are
/// allowed: a plugin and an officer may agree on their own.
pub const WELL_KNOWN_ROLES: &[(&str, &str)] = &[
    (
        "chat",
        "conversation: answers and explanations in plain language",
    ),
    (
        "code",
        "a coding model: reads, edits and explains source code",
    ),
];

/// The most bytes a role name may have.
pub const MAX_ROLE_NAME: usize = 64;

/// How role names are written, for messages.
pub const ROLE_RULE: &str = "roles are lowercase letters, digits, `_` and `-`, starting with a letter (at most 64 characters), such as `chat` or `code`";

/// A role name that breaks [`ROLE_RULE`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct RoleNameError(pub String);

impl fmt::Display for RoleNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a role name: {ROLE_RULE}", self.0)
    }
}

/// Check a role name: `[a-z][a-z0-9_-]*`, at most [`MAX_ROLE_NAME`] bytes.
pub fn check(name: &str) -> Result<(), RoleNameError> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if first_ok && rest_ok && name.len() <= MAX_ROLE_NAME {
        Ok(())
    } else {
        Err(RoleNameError(name.to_string()))
    }
}

/// The largest `capabilities.min-context` a manifest may ask for, in
/// tokens: beyond any model's context today, small enough to stay a
/// meaningful number in messages.
pub const MAX_MIN_CONTEXT: u32 = 1 << 24;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn role_names_follow_the_rule() {
        for good in ["chat", "code", "code-review", "c2", "long_context"] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        let long = "a".repeat(MAX_ROLE_NAME + 1);
        for bad in ["", "Code", "2code", "-x", "co de", "code.x", long.as_str()] {
            let err = check(bad).unwrap_err().to_string();
            assert!(
                err.contains("is not a role name: roles are"),
                "{bad:?}: {err}"
            );
        }
        assert!(WELL_KNOWN_ROLES.iter().all(|(r, _)| check(r).is_ok()));
    }
}
