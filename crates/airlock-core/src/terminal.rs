//! One renderer for text that a skill, a model or a file produced, on its
//! way to a terminal.
//!
//! A terminal obeys what it is sent: `\r` returns to the start of the line,
//! `ESC [ 2 K` erases it, `ESC [ 8 m` conceals what follows, a bidi override
//! (U+202E) reverses it, and a zero-width character hides in plain sight. A
//! skill that can put such characters into a diff, a path, a command line or
//! a log line can make an approval prompt or `airlock audit show` say
//! something other than what is true. Everything such a source produced is
//! therefore passed through this module before it is printed, and every
//! character that is not plainly visible is shown as what it is:
//!
//! | what                                    | shown as              |
//! |-----------------------------------------|-----------------------|
//! | ESC (the start of every escape sequence) | `\x1b`               |
//! | carriage return                         | `^M`                  |
//! | other C0 controls, DEL                  | `^@` … `^_`, `^?`     |
//! | line feed, tab (in [`line`] only)       | `^J`, `^I`            |
//! | C1 controls (U+0080–U+009F)             | `<U+009B>`            |
//! | format controls: bidi (U+202A–202E, U+2066–2069), zero-width (U+200B–200F), U+FEFF, tags … | `<U+202E>` |
//! | line and paragraph separators (U+2028, U+2029) | `<U+2028>`     |
//! | unassigned code points, invisible fillers | `<U+E0100>`         |
//! | a byte that is not UTF-8                | `\xff` (each byte)    |
//!
//! Line feeds and tabs stay as they are in [`text`] (a tab only moves the
//! cursor forward over empty cells, so it cannot hide anything once `\r` and
//! escapes are shown). An invalid byte is shown on its own and the rest of
//! the line stays readable: one bad byte does not turn a file into "binary
//! content".
//!
//! What this does not do: it is not injective — a file that contains the
//! four characters `\x1b` looks like one that contains ESC. Where that
//! matters (the approval prompt) the escapes are highlighted
//! ([`line_marked`]), and the exact bytes are always in `--json` output,
//! which is never passed through here.

use std::borrow::Cow;
use std::fmt::Write as _;
use unicode_general_category::{GeneralCategory, get_general_category};

/// Whether line feeds and tabs are kept (multi-line text) or shown (one line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    Line,
}

/// Text that may span lines: everything but `\n` and `\t` made visible.
pub fn text(s: &str) -> Cow<'_, str> {
    render_str(s, Mode::Text, None)
}

/// One line (a path, a program's argument, a name): `\n` and `\t` are shown
/// too, so the text cannot start a line of its own.
pub fn line(s: &str) -> Cow<'_, str> {
    render_str(s, Mode::Line, None)
}

/// [`text`] for bytes that may not be UTF-8.
pub fn text_bytes(b: &[u8]) -> Cow<'_, str> {
    render_bytes(b, Mode::Text, None)
}

/// [`line`] for bytes that may not be UTF-8.
pub fn line_bytes(b: &[u8]) -> Cow<'_, str> {
    render_bytes(b, Mode::Line, None)
}

/// [`line_bytes`] with every escape wrapped in `on` … `off` (the prompt
/// shows them in reverse video, so an escape cannot pass for the same
/// characters typed literally).
pub fn line_marked<'a>(b: &'a [u8], on: &str, off: &str) -> Cow<'a, str> {
    render_bytes(b, Mode::Line, Some((on, off)))
}

/// Whether `c` is shown as an escape in [`line`] (and, `\n` and `\t`
/// aside, in [`text`]).
pub fn is_escaped(c: char) -> bool {
    needs_escape(c, Mode::Line)
}

fn needs_escape(c: char, mode: Mode) -> bool {
    if c.is_ascii() {
        return match c {
            '\n' | '\t' => mode == Mode::Line,
            _ => c.is_ascii_control(),
        };
    }
    match get_general_category(c) {
        // C1 controls, bidi and zero-width format controls, tags, the
        // separators a terminal may treat as line breaks, and anything this
        // Unicode table does not know (a later version may make it a control).
        GeneralCategory::Control
        | GeneralCategory::Format
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator
        | GeneralCategory::Surrogate
        | GeneralCategory::Unassigned => true,
        _ => INVISIBLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&c)),
    }
}

/// Letters and marks that draw nothing, used to hide text in plain sight
/// (Hangul fillers, the combining grapheme joiner, variation selectors of
/// the supplement, which carry no meaning outside rare CJK variants).
const INVISIBLE: &[(char, char)] = &[
    ('\u{034F}', '\u{034F}'),
    ('\u{115F}', '\u{1160}'),
    ('\u{3164}', '\u{3164}'),
    ('\u{FFA0}', '\u{FFA0}'),
    ('\u{E0100}', '\u{E01EF}'),
];

fn push_escape(out: &mut String, c: char) {
    match c {
        '\x1b' => out.push_str("\\x1b"),
        '\x7f' => out.push_str("^?"),
        c if (c as u32) < 0x20 => {
            out.push('^');
            out.push(char::from(b'@' + c as u8));
        }
        c => {
            let _ = write!(out, "<U+{:04X}>", c as u32);
        }
    }
}

fn push_str(out: &mut String, s: &str, mode: Mode, mark: Option<(&str, &str)>) {
    for c in s.chars() {
        if needs_escape(c, mode) {
            match mark {
                Some((on, off)) => {
                    out.push_str(on);
                    push_escape(out, c);
                    out.push_str(off);
                }
                None => push_escape(out, c),
            }
        } else {
            out.push(c);
        }
    }
}

fn render_str<'a>(s: &'a str, mode: Mode, mark: Option<(&str, &str)>) -> Cow<'a, str> {
    if !s.chars().any(|c| needs_escape(c, mode)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    push_str(&mut out, s, mode, mark);
    Cow::Owned(out)
}

fn render_bytes<'a>(b: &'a [u8], mode: Mode, mark: Option<(&str, &str)>) -> Cow<'a, str> {
    if let Ok(s) = std::str::from_utf8(b) {
        return render_str(s, mode, mark);
    }
    let mut out = String::with_capacity(b.len() + 16);
    for chunk in b.utf8_chunks() {
        push_str(&mut out, chunk.valid(), mode, mark);
        for byte in chunk.invalid() {
            if let Some((on, _)) = mark {
                out.push_str(on);
            }
            let _ = write!(out, "\\x{byte:02x}");
            if let Some((_, off)) = mark {
                out.push_str(off);
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let s = "fn main() {\n\tprintln!(\"héllo, 世界 👋\");\n}\n";
        assert!(matches!(text(s), Cow::Borrowed(_)));
        assert_eq!(text(s), s);
        assert_eq!(line("src/main.rs"), "src/main.rs");
    }

    #[test]
    fn escape_sequences_and_carriage_returns_are_shown() {
        assert_eq!(text("ok\x1b[2K\rforged"), "ok\\x1b[2K^Mforged");
        assert_eq!(text("\x1b[8mhidden\x1b[0m"), "\\x1b[8mhidden\\x1b[0m");
        assert_eq!(
            text("bell\x07 bs\x08 nul\0 del\x7f"),
            "bell^G bs^H nul^@ del^?"
        );
        assert_eq!(text("a\u{9b}31m"), "a<U+009B>31m", "C1 CSI");
    }

    #[test]
    fn newlines_and_tabs_stay_in_text_and_are_shown_in_a_line() {
        assert_eq!(text("a\n\tb"), "a\n\tb");
        assert_eq!(line("a\n\tb"), "a^J^Ib");
        assert_eq!(line("name\r\n"), "name^M^J");
    }

    #[test]
    fn bidi_and_invisible_format_controls_are_shown() {
        assert_eq!(line("\u{202E}txt.exe"), "<U+202E>txt.exe");
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{200C}',
            '\u{200D}',
            '\u{200E}',
            '\u{200F}',
            '\u{2028}',
            '\u{2029}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{E0041}',
            '\u{E0100}',
            '\u{3164}',
        ] {
            let shown = text(&c.to_string()).into_owned();
            assert_eq!(shown, format!("<U+{:04X}>", c as u32), "{c:?}");
        }
    }

    #[test]
    fn an_invalid_byte_is_shown_alone_and_the_rest_stays_readable() {
        assert_eq!(text_bytes(b"caf\xe9 ok\n"), "caf\\xe9 ok\n");
        assert_eq!(line_bytes(b"\xff\xfe"), "\\xff\\xfe");
        // A truncated sequence, then valid text.
        assert_eq!(
            text_bytes(b"\xe2\x82 euro \xe2\x82\xac"),
            "\\xe2\\x82 euro €"
        );
        assert_eq!(text_bytes(b"\x9b2J"), "\\x9b2J", "8-bit CSI as a byte");
    }

    #[test]
    fn marked_escapes_are_wrapped() {
        assert_eq!(line_marked(b"a\x1bb\xff", "[", "]"), "a[\\x1b]b[\\xff]");
        assert!(matches!(line_marked(b"plain", "[", "]"), Cow::Borrowed(_)));
    }

    /// What a terminal would obey: any control character (C0, C1, DEL)
    /// other than the newline and tab that [`text`] keeps.
    fn obeyed(s: &str, keep: &[char]) -> Option<char> {
        s.chars().find(|&c| {
            (c.is_control() && !keep.contains(&c)) || (is_escaped(c) && !keep.contains(&c))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn nothing_a_terminal_obeys_survives(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let t = text_bytes(&bytes);
            prop_assert_eq!(obeyed(&t, &['\n', '\t']), None, "text: {:?}", t);
            let l = line_bytes(&bytes);
            prop_assert_eq!(obeyed(&l, &[]), None, "line: {:?}", l);
            // Newlines are kept one for one: a diff stays line for line.
            prop_assert_eq!(
                t.matches('\n').count(),
                bytes.iter().filter(|&&b| b == b'\n').count()
            );
        }

        #[test]
        fn any_unicode_is_made_safe(s in "\\PC*|[\\x00-\\x20\\u{80}-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}a-z]*") {
            let l = line(&s);
            prop_assert_eq!(obeyed(&l, &[]), None, "line: {:?}", l);
            // Text without anything to show is returned as it was.
            if !s.chars().any(is_escaped) {
                prop_assert_eq!(l.as_ref(), s.as_str());
            }
        }
    }
}
