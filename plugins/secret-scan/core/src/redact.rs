//! Showing enough of a secret to find it, never enough to use it.

/// Characters of a secret shown before the ellipsis.
const SHOWN: usize = 4;

/// The first four characters of `secret` and `…`.
///
/// A short secret shows at most half its characters, so that no secret is
/// ever shown whole (a four-letter password would otherwise be printed
/// entirely).
pub fn redact(secret: &str) -> String {
    let len = secret.chars().count();
    let shown = SHOWN.min(len / 2);
    let mut out: String = secret.chars().take(shown).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_secrets_show_four_characters() {
        let key = format!("AKIA{}", "Q".repeat(16));
        assert_eq!(redact(&key), "AKIA…");
        assert!(!redact(&key).contains(&key));
    }

    #[test]
    fn short_secrets_show_at_most_half() {
        assert_eq!(redact("pw"), "p…");
        assert_eq!(redact("abcdef"), "abc…");
        assert_eq!(redact("x"), "…");
        assert_eq!(redact(""), "…");
    }

    #[test]
    fn multibyte_secrets_are_cut_on_characters() {
        assert_eq!(redact("ééééééééé"), "éééé…");
    }
}
