//! The diff a person reads before saying yes to a change: line by line, of
//! the exact bytes (not of a lossy decoding), bounded in what it shows and
//! in the time it may take, and computed only when a person will see it.
//!
//! The lines are kept raw; [`super::render`] passes each through
//! [`airlock_core::terminal`] with its `+`/`-` marker outside, so an escape
//! sequence, a `\r` or an invalid byte in the file is shown, never obeyed,
//! and the other lines stay readable.

use serde::Serialize;
use similar::{Algorithm, DiffOp, DiffTag};
use std::time::{Duration, Instant};

/// The most diff lines shown (headers and hunk lines included); the rest are
/// counted in "… N more lines not shown". A person does not read more than
/// this at a prompt, and the terminal's scrollback keeps it all visible.
pub const MAX_SHOWN_LINES: usize = 400;
/// The most bytes of file content shown across all lines.
pub const MAX_SHOWN_BYTES: usize = 64 * 1024;
/// The most bytes of one line shown; a longer line says how much is cut.
pub const MAX_LINE_BYTES: usize = 2048;
/// How long the line matching may take. After it, the diff is still
/// correct (every changed line is shown) but may not be the smallest.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// The most lines per side compared line by line. A larger file is shown as
/// all of its old lines removed and all of its new lines added (bounded
/// like any other diff), so a 16 MiB file of one-byte lines cannot make the
/// host allocate a line table hundreds of megabytes large.
pub const MAX_COMPARED_LINES: usize = 200_000;

/// What a diff line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--- a/path` or `+++ b/path`.
    Header,
    /// `@@ -1,3 +1,4 @@`.
    Hunk,
    /// An unchanged line around a change.
    Context,
    /// A line only the old content has.
    Removed,
    /// A line only the new content has.
    Added,
    /// Airlock's own remark (`\ No newline at end of file`, a cut line).
    Note,
}

/// One line of the diff, as raw bytes (without its line feed).
#[derive(Debug, Clone)]
pub struct Line {
    /// What it is; decides its marker and colour.
    pub kind: Kind,
    /// The content, exactly as in the file (headers: the path).
    pub bytes: Vec<u8>,
    /// Bytes of this line that were not kept (over [`MAX_LINE_BYTES`]).
    pub cut: usize,
}

/// A bounded unified diff. Serialised (for the audit record) as its
/// counts only: what the person saw, not the content.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Diff {
    #[serde(skip)]
    lines: Vec<Line>,
    /// Lines the new content adds, in the whole diff.
    pub lines_added: usize,
    /// Lines the old content loses, in the whole diff.
    pub lines_removed: usize,
    /// Diff lines not shown (over [`MAX_SHOWN_LINES`] or [`MAX_SHOWN_BYTES`]).
    pub lines_not_shown: usize,
    /// The line matching stopped at [`DEADLINE`] or was skipped for size:
    /// every change is shown, perhaps with more lines than needed.
    pub approximate: bool,
}

impl Diff {
    /// The lines to show, in order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// The diff as plain, safe text (every line passed through
    /// [`airlock_core::terminal::line_bytes`]), for tests and plain output.
    pub fn plain(&self) -> String {
        let mut out = String::new();
        for line in &self.lines {
            out.push_str(marker(line.kind));
            out.push_str(&airlock_core::terminal::line_bytes(&line.bytes));
            if line.cut > 0 {
                out.push_str(&cut_note(line.cut));
            }
            out.push('\n');
        }
        if let Some(more) = self.more_note() {
            out.push_str(&more);
            out.push('\n');
        }
        out
    }

    /// "… N more lines not shown (+A -R in all)", when lines were left out.
    pub fn more_note(&self) -> Option<String> {
        (self.lines_not_shown > 0).then(|| {
            format!(
                "… {} more diff lines not shown (+{} -{} lines in all)",
                self.lines_not_shown, self.lines_added, self.lines_removed
            )
        })
    }
}

/// The text after a line that was cut.
pub fn cut_note(cut: usize) -> String {
    format!(" … ({cut} more bytes on this line)")
}

/// The marker a line is shown with (outside the rendered content).
pub fn marker(kind: Kind) -> &'static str {
    match kind {
        Kind::Header | Kind::Hunk | Kind::Note => "",
        Kind::Context => " ",
        Kind::Removed => "-",
        Kind::Added => "+",
    }
}

/// The lines of `bytes`, each without its line feed; the flag says whether
/// the last line ended with one.
fn split_lines(bytes: &[u8]) -> (Vec<&[u8]>, bool) {
    if bytes.is_empty() {
        return (Vec::new(), true);
    }
    let ends = bytes.ends_with(b"\n");
    let body = if ends {
        &bytes[..bytes.len() - 1]
    } else {
        bytes
    };
    (body.split(|&b| b == b'\n').collect(), ends)
}

/// The number of lines in `bytes` (a final line without a line feed counts).
fn count_lines(bytes: &[u8]) -> usize {
    let feeds = bytes.iter().filter(|&&b| b == b'\n').count();
    feeds + usize::from(!bytes.is_empty() && !bytes.ends_with(b"\n"))
}

/// Collects lines up to the bounds, counting the rest.
struct Builder {
    diff: Diff,
    shown_bytes: usize,
}

impl Builder {
    fn push(&mut self, kind: Kind, bytes: &[u8]) {
        if self.diff.lines.len() >= MAX_SHOWN_LINES || self.shown_bytes >= MAX_SHOWN_BYTES {
            self.diff.lines_not_shown += 1;
            return;
        }
        let room = MAX_LINE_BYTES.min(MAX_SHOWN_BYTES - self.shown_bytes);
        let kept = bytes.len().min(room);
        self.shown_bytes += kept;
        self.diff.lines.push(Line {
            kind,
            bytes: bytes[..kept].to_vec(),
            cut: bytes.len() - kept,
        });
    }
}

/// The unified diff of `before` → `after` for `path` (`None`: the file does
/// not exist on that side), with three lines of context.
pub fn diff(path: &str, before: Option<&[u8]>, after: Option<&[u8]>) -> Diff {
    let mut b = Builder {
        diff: Diff::default(),
        shown_bytes: 0,
    };
    let old = before.unwrap_or_default();
    let new = after.unwrap_or_default();
    let from = match before {
        Some(_) => format!("--- a/{path}"),
        None => "--- /dev/null".into(),
    };
    let to = match after {
        Some(_) => format!("+++ b/{path}"),
        None => "+++ /dev/null".into(),
    };
    b.push(Kind::Header, from.as_bytes());
    b.push(Kind::Header, to.as_bytes());

    let too_many = count_lines(old) > MAX_COMPARED_LINES || count_lines(new) > MAX_COMPARED_LINES;
    let (old_lines, old_ends) = split_lines(old);
    let (new_lines, new_ends) = split_lines(new);
    let ops = if too_many {
        b.diff.approximate = true;
        replace_all(old_lines.len(), new_lines.len())
    } else {
        let deadline = Instant::now() + DEADLINE;
        let ops = similar::capture_diff_slices_deadline(
            Algorithm::Myers,
            &old_lines,
            &new_lines,
            Some(deadline),
        );
        b.diff.approximate = Instant::now() >= deadline;
        ops
    };
    for op in &ops {
        match op.tag() {
            DiffTag::Delete => b.diff.lines_removed += op.old_range().len(),
            DiffTag::Insert => b.diff.lines_added += op.new_range().len(),
            DiffTag::Replace => {
                b.diff.lines_removed += op.old_range().len();
                b.diff.lines_added += op.new_range().len();
            }
            DiffTag::Equal => {}
        }
    }
    // Whether the last line of a side lacks its line feed (and is shown).
    let old_open = |i: usize| !old_ends && i + 1 == old_lines.len();
    let new_open = |i: usize| !new_ends && i + 1 == new_lines.len();
    const NO_NEWLINE: &[u8] = b"\\ No newline at end of file";
    for group in similar::group_diff_ops(ops, 3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        b.push(
            Kind::Hunk,
            format!(
                "@@ -{} +{} @@",
                hunk_range(&old_range),
                hunk_range(&new_range)
            )
            .as_bytes(),
        );
        for op in &group {
            let (tag, olds, news) = op.as_tag_tuple();
            match tag {
                DiffTag::Equal => {
                    for i in olds {
                        b.push(Kind::Context, old_lines[i]);
                        if old_open(i) {
                            b.push(Kind::Note, NO_NEWLINE);
                        }
                    }
                }
                DiffTag::Delete | DiffTag::Insert | DiffTag::Replace => {
                    for i in olds {
                        b.push(Kind::Removed, old_lines[i]);
                        if old_open(i) {
                            b.push(Kind::Note, NO_NEWLINE);
                        }
                    }
                    for i in news {
                        b.push(Kind::Added, new_lines[i]);
                        if new_open(i) {
                            b.push(Kind::Note, NO_NEWLINE);
                        }
                    }
                }
            }
        }
    }
    b.diff
}

/// One op replacing everything (for inputs too large to compare).
fn replace_all(old: usize, new: usize) -> Vec<DiffOp> {
    match (old, new) {
        (0, 0) => Vec::new(),
        (0, n) => vec![DiffOp::Insert {
            old_index: 0,
            new_index: 0,
            new_len: n,
        }],
        (o, 0) => vec![DiffOp::Delete {
            old_index: 0,
            old_len: o,
            new_index: 0,
        }],
        (o, n) => vec![DiffOp::Replace {
            old_index: 0,
            old_len: o,
            new_index: 0,
            new_len: n,
        }],
    }
}

/// A hunk's range as unified diffs write it (1-based; an empty range names
/// the line before it).
fn hunk_range(range: &std::ops::Range<usize>) -> String {
    let len = range.len();
    match len {
        1 => format!("{}", range.start + 1),
        0 => format!("{},0", range.start),
        _ => format!("{},{len}", range.start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_and_added_lines_are_shown_with_context() {
        let d = diff("src/a.txt", Some(b"one\ntwo\n"), Some(b"one\nthree\n"));
        let text = d.plain();
        assert_eq!(
            text,
            "--- a/src/a.txt\n+++ b/src/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n"
        );
        assert_eq!(
            (d.lines_added, d.lines_removed, d.lines_not_shown),
            (1, 1, 0)
        );
        let new = diff("n.txt", None, Some(b"hi\n")).plain();
        assert_eq!(new, "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1 @@\n+hi\n");
        let gone = diff("n.txt", Some(b"bye"), None).plain();
        assert_eq!(
            gone,
            "--- a/n.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn an_invalid_byte_shows_on_its_line_and_the_rest_is_a_normal_diff() {
        let d = diff("a.txt", Some(b"keep\nold\n"), Some(b"keep\nnew \xff\n"));
        let text = d.plain();
        assert!(text.contains("-old\n"), "{text}");
        assert!(text.contains("+new \\xff\n"), "{text}");
        assert!(!text.contains("binary"), "{text}");
    }

    #[test]
    fn escapes_are_shown_inside_their_line() {
        let d = diff(
            "a.txt",
            Some(b"x\n"),
            Some(b"x\nsafe\x1b[2K\rforged\n\x1b[8mhidden\n"),
        );
        let text = d.plain();
        assert!(text.contains("+safe\\x1b[2K^Mforged\n"), "{text}");
        assert!(text.contains("+\\x1b[8mhidden\n"), "{text}");
        assert_eq!(d.lines_added, 2);
    }

    #[test]
    fn a_large_change_is_bounded_and_says_how_much_is_not_shown() {
        let old: Vec<u8> = Vec::new();
        let new: Vec<u8> = (0..5000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let d = diff("big.txt", Some(&old), Some(&new));
        assert_eq!(d.lines().len(), MAX_SHOWN_LINES);
        assert_eq!(d.lines_added, 5000);
        // Two headers and a hunk header are shown too.
        assert_eq!(d.lines_not_shown, 5000 + 3 - MAX_SHOWN_LINES);
        let text = d.plain();
        assert!(
            text.ends_with(&format!(
                "… {} more diff lines not shown (+5000 -0 lines in all)\n",
                d.lines_not_shown
            )),
            "{}",
            &text[text.len() - 200..]
        );
        // One enormous line is cut, saying by how much.
        let long = vec![b'a'; MAX_LINE_BYTES + 10];
        let d = diff("long.txt", None, Some(&long));
        assert!(d.plain().contains(&cut_note(10)));
    }

    #[test]
    fn too_many_lines_are_not_compared_but_still_counted() {
        let new = vec![b'\n'; MAX_COMPARED_LINES + 1];
        let d = diff("many.txt", Some(b"a\n"), Some(&new));
        assert!(d.approximate);
        assert_eq!(d.lines_added, MAX_COMPARED_LINES + 1);
        assert_eq!(d.lines_removed, 1);
        assert!(d.lines().len() <= MAX_SHOWN_LINES);
    }

    #[test]
    fn the_audit_sees_counts_not_content() {
        let d = diff("a", Some(b"secret-old\n"), Some(b"secret-new\n"));
        let json = serde_json::to_string(&d).expect("serialise");
        assert!(!json.contains("secret"), "{json}");
        assert!(json.contains("\"lines-added\":1"), "{json}");
    }
}
