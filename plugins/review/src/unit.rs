//! What the model is shown at once: a "unit" is consecutive numbered lines
//! of one file, and the lines a finding in it may point at.

use std::fmt::Write;

use crate::diff::{FileDiff, LineKind};

/// Longer lines are cut: one minified line would otherwise fill the context.
pub const MAX_LINE_CHARS: usize = 200;

/// One numbered line as shown to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    /// 1-based line number in the (new) file.
    pub line: u32,
    /// True for lines the review is about (every line of a file; the added
    /// lines of a diff). Other lines are context.
    pub reviewed: bool,
    /// The text.
    pub text: String,
}

/// A piece of one file to review in one model call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// Workspace-relative path (for a diff: the new file's path).
    pub path: String,
    /// Whether this comes from a diff (added lines are marked `+`).
    pub from_diff: bool,
    /// The lines, in order.
    pub lines: Vec<Shown>,
}

impl Unit {
    /// First and last line shown.
    pub fn span(&self) -> (u32, u32) {
        (
            self.lines.first().map_or(0, |l| l.line),
            self.lines.last().map_or(0, |l| l.line),
        )
    }

    /// Whether a finding may point at `line`: a line under review in this
    /// unit, so inside the file's real range. For a diff that is an added
    /// line; context lines are shown to the model but not reviewed.
    pub fn accepts(&self, line: i64) -> bool {
        self.lines
            .iter()
            .any(|l| l.reviewed && i64::from(l.line) == line)
    }

    /// The lines under review, as `a-b` ranges, for the report.
    pub fn reviewed_ranges(&self) -> Vec<(u32, u32)> {
        let mut out: Vec<(u32, u32)> = Vec::new();
        for l in self.lines.iter().filter(|l| l.reviewed) {
            match out.last_mut() {
                Some((_, end)) if *end + 1 == l.line => *end = l.line,
                _ => out.push((l.line, l.line)),
            }
        }
        out
    }

    /// The lines as the model sees them: `  12 | code`, added lines of a
    /// diff as `+ 12 | code`.
    pub fn numbered(&self) -> String {
        let width = self.span().1.to_string().len();
        let mut out = String::new();
        for l in &self.lines {
            let marker = match (self.from_diff, l.reviewed) {
                (false, _) => "",
                (true, true) => "+ ",
                (true, false) => "  ",
            };
            let _ = writeln!(out, "{marker}{:>width$} | {}", l.line, cut(&l.text));
        }
        out
    }

    /// This unit cut in two halves (for when it does not fit the context),
    /// or `None` when it is a single line.
    pub fn split(&self) -> Option<(Unit, Unit)> {
        if self.lines.len() < 2 {
            return None;
        }
        let mid = self.lines.len() / 2;
        let half = |lines: &[Shown]| Unit {
            path: self.path.clone(),
            from_diff: self.from_diff,
            lines: lines.to_vec(),
        };
        Some((half(&self.lines[..mid]), half(&self.lines[mid..])))
    }
}

fn cut(text: &str) -> String {
    if text.chars().count() <= MAX_LINE_CHARS {
        return text.to_string();
    }
    let mut s: String = text.chars().take(MAX_LINE_CHARS).collect();
    s.push('…');
    s
}

/// Units covering a whole file, each at most `max_chars` of numbered text.
pub fn of_file(path: &str, content: &str, max_chars: usize) -> Vec<Unit> {
    let lines: Vec<Shown> = content
        .lines()
        .enumerate()
        .map(|(i, text)| Shown {
            line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            reviewed: true,
            text: text.to_string(),
        })
        .collect();
    pack(path, false, lines, max_chars)
}

/// Units covering the added lines of a diff, with their hunks' context.
pub fn of_diff(file: &FileDiff, max_chars: usize) -> Vec<Unit> {
    let mut units = Vec::new();
    for hunk in &file.hunks {
        let lines: Vec<Shown> = hunk
            .lines
            .iter()
            .map(|l| Shown {
                line: l.line,
                reviewed: l.kind == LineKind::Added,
                text: l.text.clone(),
            })
            .collect();
        units.extend(pack(&file.path, true, lines, max_chars));
    }
    // Consecutive small hunks go to the model together: fewer calls.
    let mut merged: Vec<Unit> = Vec::new();
    for u in units {
        match merged.last_mut() {
            Some(last) if size(&last.lines) + size(&u.lines) <= max_chars => {
                last.lines.extend(u.lines);
            }
            _ => merged.push(u),
        }
    }
    merged.retain(|u| u.lines.iter().any(|l| l.reviewed));
    merged
}

/// Packs lines into units of at most `max_chars` (a single longer line
/// still gets a unit of its own).
fn pack(path: &str, from_diff: bool, lines: Vec<Shown>, max_chars: usize) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let mut current: Vec<Shown> = Vec::new();
    let mut used = 0;
    for l in lines {
        let cost = line_size(&l);
        if !current.is_empty() && used + cost > max_chars {
            units.push(Unit {
                path: path.to_string(),
                from_diff,
                lines: std::mem::take(&mut current),
            });
            used = 0;
        }
        used += cost;
        current.push(l);
    }
    if !current.is_empty() {
        units.push(Unit {
            path: path.to_string(),
            from_diff,
            lines: current,
        });
    }
    units
}

/// Characters a line takes in [`Unit::numbered`] (number and margin
/// estimated at 10).
fn line_size(l: &Shown) -> usize {
    l.text.chars().count().min(MAX_LINE_CHARS + 1) + 10
}

fn size(lines: &[Shown]) -> usize {
    lines.iter().map(line_size).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff;

    #[test]
    fn a_file_is_numbered_and_packed() {
        let content: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let units = of_file("a.py", &content, 100);
        assert!(units.len() > 1);
        assert_eq!(units[0].span().0, 1);
        assert_eq!(units.last().map(|u| u.span().1), Some(30));
        let all: usize = units.iter().map(|u| u.lines.len()).sum();
        assert_eq!(all, 30);
        let one = of_file("a.py", &content, 10_000);
        assert_eq!(one.len(), 1);
        assert!(one[0].numbered().starts_with(" 1 | line 1\n"));
        assert!(one[0].numbered().contains("\n30 | line 30\n"));
        assert!(one[0].accepts(30) && !one[0].accepts(31) && !one[0].accepts(0));
        assert_eq!(one[0].reviewed_ranges(), [(1, 30)]);
    }

    #[test]
    fn a_diff_marks_added_lines_and_reviews_only_them() {
        let d = diff::parse(
            "+++ b/x.rs\n@@ -1,3 +1,4 @@\n a\n+b\n+c\n d\n-e\n@@ -20,1 +21,2 @@\n f\n+g\n",
        )
        .expect("diff");
        let units = of_diff(&d[0], 10_000);
        assert_eq!(units.len(), 1, "small hunks go together");
        let u = &units[0];
        assert!(
            u.numbered().starts_with("   1 | a\n+  2 | b\n"),
            "{}",
            u.numbered()
        );
        assert_eq!(u.reviewed_ranges(), [(2, 3), (22, 22)]);
        assert!(u.accepts(2) && u.accepts(22) && !u.accepts(21) && !u.accepts(4) && !u.accepts(10));
    }

    #[test]
    fn split_halves_a_unit_and_long_lines_are_cut() {
        let u = of_file("a", &format!("{}\nshort\n", "x".repeat(500)), 100_000)
            .pop()
            .expect("unit");
        assert!(u.numbered().contains('…'));
        let (a, b) = u.split().expect("two lines");
        assert_eq!((a.span(), b.span()), ((1, 1), (2, 2)));
        assert!(a.split().is_none());
    }
}
