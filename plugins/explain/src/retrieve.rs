//! Which files answer a question, and which of their lines to show.
//!
//! Pure: the skill feeds in what the host's search found, and reads the
//! chosen files itself. Scores are simple keyword counts, which is what a
//! workspace without an embedding index can afford, and easy to explain.

use std::collections::{BTreeMap, BTreeSet};

/// A file named by the user (`file=`) outranks anything a search finds.
const PINNED: u32 = 1_000;
/// A file that defines the symbol asked about.
const DEFINES_SYMBOL: u32 = 40;
/// A term in the file's path: `sandbox` in `src/sandbox.rs` says a lot.
const TERM_IN_PATH: u32 = 6;
/// The first content match of a term.
const TERM_IN_CONTENT: u32 = 3;
/// Further matches of the same term count this much each, up to
/// [`MAX_REPEAT_MATCHES`], so one file that repeats a word does not win alone.
const REPEAT_MATCH: u32 = 1;
const MAX_REPEAT_MATCHES: u32 = 5;

/// Lines shown above and below a matching line.
pub const CONTEXT_LINES: u32 = 6;
/// Lines taken from a file without a matching line (one chosen by its name).
pub const HEAD_LINES: u32 = 40;
/// A pinned file this short is shown whole.
pub const WHOLE_FILE_LINES: u32 = 200;
/// Any chosen file this short is shown whole: its matches' windows would
/// cover most of it anyway, and the whole reads better.
pub const SMALL_FILE_LINES: u32 = 60;
/// The most lines taken from one file that is not shown whole.
pub const MAX_LINES_PER_FILE: u32 = 120;
/// Longer lines are cut: minified code would otherwise eat the context.
pub const MAX_LINE_CHARS: usize = 240;

#[derive(Clone, Debug, Default)]
struct FileScore {
    score: u32,
    pinned: bool,
    /// Matches per term index.
    matches: BTreeMap<usize, u32>,
    /// 1-based lines that matched, to centre excerpts on.
    lines: BTreeSet<u32>,
    /// Lines that define the symbol: shown first.
    definitions: BTreeSet<u32>,
}

/// A file chosen for the prompt, best first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Workspace-relative path.
    pub path: String,
    /// Its score (for the log).
    pub score: u32,
    /// Whether the user named it.
    pub pinned: bool,
    /// Lines to centre excerpts on: definitions first, then matches.
    pub lines: Vec<u32>,
}

/// Collects evidence about files, then ranks them.
#[derive(Clone, Debug, Default)]
pub struct Scorer {
    files: BTreeMap<String, FileScore>,
}

impl Scorer {
    /// The user named this file: it always comes first.
    pub fn pin(&mut self, path: &str) {
        let f = self.files.entry(path.to_string()).or_default();
        if !f.pinned {
            f.pinned = true;
            f.score += PINNED;
        }
    }

    /// Scores `path` by the terms that appear in it (case-insensitively).
    pub fn path_terms(&mut self, path: &str, terms: &[String]) {
        let lower = path.to_lowercase();
        let hits = terms
            .iter()
            .filter(|t| lower.contains(&t.to_lowercase()))
            .count();
        if hits > 0 {
            let f = self.files.entry(path.to_string()).or_default();
            f.score += TERM_IN_PATH * u32::try_from(hits).unwrap_or(u32::MAX);
        }
    }

    /// One line of `path` matched the search for the terms; `text` is the
    /// line, used to tell which terms matched.
    pub fn content_match(&mut self, path: &str, line: u32, text: &str, terms: &[String]) {
        let lower = text.to_lowercase();
        let f = self.files.entry(path.to_string()).or_default();
        let mut any = false;
        for (i, term) in terms.iter().enumerate() {
            if !lower.contains(&term.to_lowercase()) {
                continue;
            }
            any = true;
            let seen = f.matches.entry(i).or_insert(0);
            *seen += 1;
            if *seen == 1 {
                f.score += TERM_IN_CONTENT;
            } else if *seen <= MAX_REPEAT_MATCHES + 1 {
                f.score += REPEAT_MATCH;
            }
        }
        if any {
            f.lines.insert(line);
        }
    }

    /// `path` uses the symbol at `line`; `definition` when it defines it there.
    pub fn symbol_match(&mut self, path: &str, line: u32, definition: bool) {
        let f = self.files.entry(path.to_string()).or_default();
        if definition {
            if f.definitions.is_empty() {
                f.score += DEFINES_SYMBOL;
            }
            f.definitions.insert(line);
        } else {
            if f.lines.len() < MAX_REPEAT_MATCHES as usize {
                f.score += REPEAT_MATCH;
            }
            f.lines.insert(line);
        }
    }

    /// The best `n` files that scored at all, best first; ties go to the
    /// shorter path (usually the more central file), then alphabetical.
    pub fn ranked(&self, n: usize) -> Vec<Candidate> {
        let mut all: Vec<(&String, &FileScore)> = self
            .files
            .iter()
            .filter(|(path, f)| f.score > 0 && (f.pinned || !is_noise(path)))
            .collect();
        all.sort_by(|(pa, a), (pb, b)| {
            b.score
                .cmp(&a.score)
                .then(pa.len().cmp(&pb.len()))
                .then(pa.cmp(pb))
        });
        all.into_iter()
            .take(n)
            .map(|(path, f)| Candidate {
                path: path.clone(),
                score: f.score,
                pinned: f.pinned,
                lines: f
                    .definitions
                    .iter()
                    .chain(f.lines.iter().filter(|l| !f.definitions.contains(l)))
                    .copied()
                    .collect(),
            })
            .collect()
    }
}

/// Files that match many words but explain nothing: lock files, minified or
/// generated bundles, build output.
pub fn is_noise(path: &str) -> bool {
    let lower = path.to_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    let in_dir = |d: &str| lower.split('/').any(|c| c == d);
    name.ends_with(".lock")
        || name.ends_with("-lock.json")
        || name.ends_with("-lock.yaml")
        || name.ends_with(".min.js")
        || name.ends_with(".min.css")
        || name.ends_with(".map")
        || name.ends_with(".svg")
        || in_dir(".git")
        || in_dir("node_modules")
        || in_dir("target")
}

/// Consecutive lines of one file, as shown to the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// Workspace-relative path.
    pub path: String,
    /// First line, 1-based.
    pub start: u32,
    /// Last line, inclusive.
    pub end: u32,
    /// The lines, each cut to [`MAX_LINE_CHARS`], joined with `\n`.
    pub text: String,
}

impl Excerpt {
    /// How many lines it holds.
    pub fn line_count(&self) -> u32 {
        self.end + 1 - self.start
    }

    /// The first `n` lines of this excerpt (`n` ≥ 1).
    pub fn first_lines(&self, n: u32) -> Excerpt {
        let n = n.clamp(1, self.line_count());
        let text: Vec<&str> = self.text.split('\n').take(n as usize).collect();
        Excerpt {
            path: self.path.clone(),
            start: self.start,
            end: self.start + n - 1,
            text: text.join("\n"),
        }
    }
}

/// The excerpts of one candidate file, in line order.
///
/// A file of up to [`SMALL_FILE_LINES`] lines, or a pinned one of up to
/// [`WHOLE_FILE_LINES`], is taken whole. Else
/// windows of [`CONTEXT_LINES`] around the candidate's lines (in its order of
/// importance) are merged until [`MAX_LINES_PER_FILE`]; a file without lines
/// to centre on gives its first [`HEAD_LINES`].
pub fn excerpts(candidate: &Candidate, content: &str) -> Vec<Excerpt> {
    let lines: Vec<&str> = content.lines().collect();
    let total = u32::try_from(lines.len()).unwrap_or(u32::MAX);
    if total == 0 {
        return Vec::new();
    }
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    if total <= SMALL_FILE_LINES || (candidate.pinned && total <= WHOLE_FILE_LINES) {
        ranges.push((1, total));
    } else {
        let mut taken = 0;
        for &line in candidate.lines.iter().filter(|l| (1..=total).contains(*l)) {
            let (start, end) = (
                line.saturating_sub(CONTEXT_LINES).max(1),
                (line + CONTEXT_LINES).min(total),
            );
            let fresh = (start..=end)
                .filter(|l| !ranges.iter().any(|(s, e)| (s..=e).contains(&l)))
                .count();
            let fresh = u32::try_from(fresh).unwrap_or(u32::MAX);
            if fresh == 0 {
                continue;
            }
            if taken + fresh > MAX_LINES_PER_FILE {
                break;
            }
            taken += fresh;
            ranges.push((start, end));
        }
        if ranges.is_empty() {
            let head = if candidate.pinned {
                MAX_LINES_PER_FILE
            } else {
                HEAD_LINES
            };
            ranges.push((1, total.min(head)));
        }
    }
    merge(&mut ranges);
    ranges
        .into_iter()
        .map(|(start, end)| Excerpt {
            path: candidate.path.clone(),
            start,
            end,
            text: lines[(start - 1) as usize..end as usize]
                .iter()
                .map(|l| cut(l))
                .collect::<Vec<_>>()
                .join("\n"),
        })
        .collect()
}

/// The excerpts of several files (best file first) in the order they
/// should claim the prompt: each file's first excerpt, then each file's
/// second, and so on, so that one long file cannot crowd out the rest.
pub fn interleave(per_file: Vec<Vec<Excerpt>>) -> Vec<Excerpt> {
    let mut iters: Vec<std::vec::IntoIter<Excerpt>> =
        per_file.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::new();
    loop {
        let before = out.len();
        for it in &mut iters {
            if let Some(e) = it.next() {
                out.push(e);
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// Sorts ranges and merges those that overlap or touch.
fn merge(ranges: &mut Vec<(u32, u32)>) {
    ranges.sort();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for &(s, e) in ranges.iter() {
        match merged.last_mut() {
            Some((_, last_end)) if s <= *last_end + 1 => *last_end = (*last_end).max(e),
            _ => merged.push((s, e)),
        }
    }
    *ranges = merged;
}

fn cut(line: &str) -> String {
    if line.chars().count() <= MAX_LINE_CHARS {
        return line.to_string();
    }
    let mut s: String = line.chars().take(MAX_LINE_CHARS).collect();
    s.push('…');
    s
}

/// Whether the bytes look like text worth showing a model: UTF-8 without
/// NUL bytes near the start.
pub fn looks_like_text(bytes: &[u8]) -> Option<&str> {
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    fn numbered(n: u32) -> String {
        (1..=n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn content_and_path_matches_rank_files() {
        let t = terms(&["sandbox", "symlink"]);
        let mut s = Scorer::default();
        s.path_terms("src/sandbox.rs", &t);
        s.content_match("src/sandbox.rs", 10, "fn resolve_symlink()", &t);
        s.content_match("docs/notes.md", 3, "the sandbox follows no symlink", &t);
        s.content_match("Cargo.lock", 1, "sandbox sandbox symlink", &t);
        s.path_terms("README.md", &t);
        let ranked = s.ranked(5);
        let paths: Vec<&str> = ranked.iter().map(|c| c.path.as_str()).collect();
        // sandbox.rs: path 6 + symlink 3 = 9; notes.md: 3 + 3 = 6; the lock file is noise.
        assert_eq!(paths, ["src/sandbox.rs", "docs/notes.md"]);
        assert_eq!(ranked[0].lines, [10]);
    }

    #[test]
    fn repeated_matches_count_less_and_stop_counting() {
        let t = terms(&["parse"]);
        let mut s = Scorer::default();
        for line in 1..=50 {
            s.content_match("a.rs", line, "parse parse", &t);
        }
        s.content_match("b.rs", 1, "parse", &t);
        let ranked = s.ranked(2);
        assert_eq!(
            ranked[0].score,
            TERM_IN_CONTENT + MAX_REPEAT_MATCHES * REPEAT_MATCH
        );
        assert_eq!(ranked[1].score, TERM_IN_CONTENT);
    }

    #[test]
    fn pinned_files_and_definitions_come_first() {
        let t = terms(&["engine"]);
        let mut s = Scorer::default();
        for line in 1..=9 {
            s.content_match("busy.rs", line, "engine", &t);
        }
        s.symbol_match("def.rs", 42, true);
        s.symbol_match("def.rs", 7, false);
        s.pin("Cargo.lock");
        let ranked = s.ranked(3);
        let paths: Vec<&str> = ranked.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["Cargo.lock", "def.rs", "busy.rs"], "{ranked:?}");
        assert_eq!(ranked[1].lines, [42, 7], "the definition is shown first");
        assert!(s.ranked(1).len() == 1);
    }

    #[test]
    fn excerpts_are_windows_around_matches_merged() {
        let c = Candidate {
            path: "a.rs".into(),
            score: 1,
            pinned: false,
            lines: vec![20, 24, 100],
        };
        let ex = excerpts(&c, &numbered(300));
        let ranges: Vec<(u32, u32)> = ex.iter().map(|e| (e.start, e.end)).collect();
        assert_eq!(ranges, [(14, 30), (94, 106)]);
        assert!(ex[0].text.starts_with("line 14\n"));
        assert!(ex[0].text.ends_with("line 30"));
        assert_eq!(ex[0].line_count(), 17);
    }

    #[test]
    fn excerpts_stop_at_the_per_file_cap_and_file_edges() {
        let lines: Vec<u32> = (0..40).map(|i| 1 + i * 20).collect();
        let c = Candidate {
            path: "big.rs".into(),
            score: 1,
            pinned: false,
            lines,
        };
        let ex = excerpts(&c, &numbered(1000));
        let total: u32 = ex.iter().map(Excerpt::line_count).sum();
        assert!(total <= MAX_LINES_PER_FILE, "{total}");
        assert_eq!(ex[0].start, 1);
    }

    #[test]
    fn a_small_pinned_file_is_whole_and_a_file_without_matches_gives_its_head() {
        let pinned = Candidate {
            path: "a.rs".into(),
            score: PINNED,
            pinned: true,
            lines: vec![],
        };
        let ex = excerpts(&pinned, &numbered(150));
        assert_eq!((ex.len(), ex[0].start, ex[0].end), (1, 1, 150));
        let named = Candidate {
            pinned: false,
            ..pinned
        };
        let ex = excerpts(&named, &numbered(150));
        assert_eq!((ex[0].start, ex[0].end), (1, HEAD_LINES));
        assert!(excerpts(&named, "").is_empty());
        let small = Candidate {
            lines: vec![30],
            ..named
        };
        let ex = excerpts(&small, &numbered(SMALL_FILE_LINES));
        assert_eq!((ex.len(), ex[0].start, ex[0].end), (1, 1, SMALL_FILE_LINES));
    }

    #[test]
    fn long_lines_are_cut_and_binary_is_refused() {
        let c = Candidate {
            path: "min.js".into(),
            score: 1,
            pinned: true,
            lines: vec![],
        };
        let ex = excerpts(&c, &"x".repeat(1000));
        assert_eq!(ex[0].text.chars().count(), MAX_LINE_CHARS + 1);
        assert_eq!(looks_like_text(b"fn main() {}"), Some("fn main() {}"));
        assert_eq!(looks_like_text(b"\x7fELF\0\0"), None);
        assert_eq!(looks_like_text(&[0xff, 0xfe]), None);
    }

    #[test]
    fn interleaving_gives_every_file_a_turn() {
        let e = |path: &str, start| Excerpt {
            path: path.into(),
            start,
            end: start,
            text: String::new(),
        };
        let order: Vec<(String, u32)> = interleave(vec![
            vec![e("a", 1), e("a", 9), e("a", 20)],
            vec![e("b", 5)],
            vec![],
            vec![e("c", 2), e("c", 3)],
        ])
        .into_iter()
        .map(|x| (x.path, x.start))
        .collect();
        let expect = [("a", 1), ("b", 5), ("c", 2), ("a", 9), ("c", 3), ("a", 20)];
        assert_eq!(order, expect.map(|(p, l)| (p.to_string(), l)).to_vec());
    }

    #[test]
    fn first_lines_shortens_an_excerpt() {
        let e = Excerpt {
            path: "a".into(),
            start: 5,
            end: 8,
            text: "a\nb\nc\nd".into(),
        };
        let short = e.first_lines(2);
        assert_eq!(
            (short.start, short.end, short.text.as_str()),
            (5, 6, "a\nb")
        );
        assert_eq!(e.first_lines(0).line_count(), 1);
    }
}
