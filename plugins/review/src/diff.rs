//! Unified diffs (`git diff`, `diff -u`): which lines of which new files
//! were added, with their line numbers in the new file.

use airlock_sdk::Error;

/// What a line of a hunk is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// Unchanged, shown for context.
    Context,
    /// Added (or the new side of a change).
    Added,
}

/// One line of the new file inside a hunk. Removed lines are not kept: they
/// are not in the new file, so a finding cannot point at them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HunkLine {
    /// 1-based line number in the new file.
    pub line: u32,
    /// Context or added.
    pub kind: LineKind,
    /// The line's text, without the diff marker.
    pub text: String,
}

/// One `@@` hunk, new side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    /// The new-file lines of the hunk, in order.
    pub lines: Vec<HunkLine>,
}

impl Hunk {
    /// Whether any line was added.
    pub fn has_additions(&self) -> bool {
        self.lines.iter().any(|l| l.kind == LineKind::Added)
    }
}

/// The changes to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    /// The new file's path, without the `b/` prefix.
    pub path: String,
    /// Its hunks, in order.
    pub hunks: Vec<Hunk>,
}

/// Whether `text` looks like a unified diff at all.
pub fn looks_like_diff(text: &str) -> bool {
    text.lines().any(|l| l.starts_with("@@ "))
        && text
            .lines()
            .any(|l| l.starts_with("+++ ") || l.starts_with("diff --git "))
}

/// Where the lines being parsed go.
enum Target {
    /// Before the first `+++` header.
    Start,
    /// A deleted file (`+++ /dev/null`): its hunks are read and dropped.
    Deleted,
    /// A file with a new side.
    File(FileDiff),
}

/// Parses a unified diff. Files that are deleted (`+++ /dev/null`) or have
/// no added lines are left out: there is nothing new in them to review.
pub fn parse(text: &str) -> Result<Vec<FileDiff>, Error> {
    let mut files: Vec<FileDiff> = Vec::new();
    let mut target = Target::Start;
    // Lines of the current hunk still expected on each side.
    let mut old_left: u32 = 0;
    let mut new_left: u32 = 0;
    let mut next_line: u32 = 0;
    for (index, raw) in text.lines().enumerate() {
        if old_left > 0 || new_left > 0 {
            let (marker, body) = raw.split_at(raw.len().min(1));
            let kind = match marker {
                // An empty line inside a hunk is a context line whose
                // trailing space an editor stripped.
                " " | "" => {
                    old_left = old_left.saturating_sub(1);
                    new_left = new_left.saturating_sub(1);
                    Some(LineKind::Context)
                }
                "+" => {
                    new_left = new_left.saturating_sub(1);
                    Some(LineKind::Added)
                }
                "-" => {
                    old_left = old_left.saturating_sub(1);
                    None
                }
                "\\" => None, // "\ No newline at end of file"
                _ => return Err(bad(index, "a hunk ended before its line counts said")),
            };
            if let Some(kind) = kind {
                if let Target::File(f) = &mut target
                    && let Some(hunk) = f.hunks.last_mut()
                {
                    hunk.lines.push(HunkLine {
                        line: next_line,
                        kind,
                        text: body.to_string(),
                    });
                }
                next_line += 1;
            }
            continue;
        }
        if let Some(rest) = raw.strip_prefix("+++ ") {
            if let Target::File(done) = std::mem::replace(&mut target, Target::Start) {
                files.push(done);
            }
            let path = strip_prefix(rest);
            target = if path == "/dev/null" {
                Target::Deleted
            } else {
                Target::File(FileDiff {
                    path,
                    hunks: Vec::new(),
                })
            };
        } else if let Some(rest) = raw.strip_prefix("@@ ") {
            let (old_len, new_start, new_len) =
                hunk_header(rest).ok_or_else(|| bad(index, "a malformed @@ header"))?;
            match &mut target {
                Target::Start => return Err(bad(index, "a hunk before any `+++` file header")),
                Target::Deleted => {}
                Target::File(f) => f.hunks.push(Hunk { lines: Vec::new() }),
            }
            old_left = old_len;
            new_left = new_len;
            next_line = new_start.max(1);
        }
        // Anything else between hunks (`diff --git`, `index`, `---`, mode
        // lines, a commit message) is a header: skipped.
    }
    if let Target::File(done) = target {
        files.push(done);
    }
    if files.is_empty() && !looks_like_diff(text) {
        return Err(Error::InvalidInput(
            "the diff has no `+++` file header and no `@@` hunk: is it a unified diff \
             (`git diff`, `diff -u`)?"
                .to_string(),
        ));
    }
    for f in &mut files {
        f.hunks.retain(Hunk::has_additions);
    }
    files.retain(|f| !f.hunks.is_empty());
    Ok(files)
}

fn bad(index: usize, what: &str) -> Error {
    Error::InvalidInput(format!("line {} of the diff: {what}", index + 1))
}

/// `b/src/a.rs\t2024-01-01` → `src/a.rs`.
fn strip_prefix(header: &str) -> String {
    let path = header.split('\t').next().unwrap_or(header).trim_end();
    let path = path.trim_matches('"');
    if path == "/dev/null" {
        return path.to_string();
    }
    path.strip_prefix("b/").unwrap_or(path).to_string()
}

/// `-12,3 +14,5 @@ fn x()` → (old length 3, new start 14, new length 5).
fn hunk_header(rest: &str) -> Option<(u32, u32, u32)> {
    let mut parts = rest.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    Some((old_len, new_start, new_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIT_DIFF: &str = "\
diff --git a/src/calc.py b/src/calc.py
index 1111111..2222222 100644
--- a/src/calc.py
+++ b/src/calc.py
@@ -1,4 +1,5 @@
 def mean(xs):
-    return sum(xs) / len(xs)
+    total = sum(xs)
+    return total / len(xs)
 
 def first(xs):
@@ -10,2 +11,3 @@ def last(xs):
     return xs[-1]
+print(mean([]))
 # end
diff --git a/old.txt b/old.txt
deleted file mode 100644
--- a/old.txt
+++ /dev/null
@@ -1,2 +0,0 @@
-gone
-too
diff --git a/docs/a.md b/docs/a.md
--- a/docs/a.md
+++ b/docs/a.md
@@ -3,2 +3,1 @@
 keep
-drop
";

    #[test]
    fn added_lines_get_new_file_numbers() {
        let files = parse(GIT_DIFF).expect("parses");
        assert_eq!(
            files.len(),
            1,
            "deleted and removal-only files are left out"
        );
        let f = &files[0];
        assert_eq!(f.path, "src/calc.py");
        assert_eq!(f.hunks.len(), 2);
        let added: Vec<(u32, &str)> = f
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.kind == LineKind::Added)
            .map(|l| (l.line, l.text.as_str()))
            .collect();
        assert_eq!(
            added,
            [
                (2, "    total = sum(xs)"),
                (3, "    return total / len(xs)"),
                (12, "print(mean([]))")
            ]
        );
        let first: Vec<u32> = f.hunks[0].lines.iter().map(|l| l.line).collect();
        assert_eq!(first, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn plain_diff_u_and_single_line_ranges() {
        let text = "--- a.c\t2024-01-01\n+++ a.c\t2024-01-02\n@@ -5 +5 @@\n-int x;\n+int y;\n";
        let files = parse(text).expect("parses");
        assert_eq!(files[0].path, "a.c");
        assert_eq!(files[0].hunks[0].lines[0].line, 5);
        assert!(looks_like_diff(text));
    }

    #[test]
    fn no_newline_marker_and_stripped_blank_context() {
        let text = "+++ b/x\n@@ -1,2 +1,3 @@\n a\n\n+b\n\\ No newline at end of file\n";
        let files = parse(text).expect("parses");
        let lines: Vec<(u32, LineKind)> = files[0].hunks[0]
            .lines
            .iter()
            .map(|l| (l.line, l.kind))
            .collect();
        assert_eq!(
            lines,
            [
                (1, LineKind::Context),
                (2, LineKind::Context),
                (3, LineKind::Added)
            ]
        );
    }

    #[test]
    fn text_that_is_not_a_diff_is_refused() {
        assert!(!looks_like_diff("fn main() {}\n"));
        let err = parse("just some words\n").expect_err("not a diff");
        assert!(err.to_string().contains("unified diff"), "{err}");
        assert!(parse("+++ b/x\n@@ nonsense @@\n").is_err());
        assert!(parse("@@ -1 +1 @@\n+x\n").is_err(), "hunk without a file");
    }
}
