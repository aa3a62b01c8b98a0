//! Edits as plain text: SEARCH/REPLACE blocks, the format small coding
//! models write best (no code escaped inside JSON).
//!
//! ```text
//! src/stats.py
//! <<<<<<< SEARCH
//!     return total / (len(values) - 1)
//! =======
//!     return total / len(values)
//! >>>>>>> REPLACE
//! ```
//!
//! A block is applied only when its SEARCH text is found exactly once:
//! first as written, then ignoring spaces at line ends, then ignoring
//! indentation (the replacement is re-indented by the same amount). No
//! match, or several, is an error that says what to do, showing the
//! closest lines; a block cut off before its `>>>>>>> REPLACE` line is
//! never applied. Whole files are written only when they are new.

/// One SEARCH/REPLACE block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The path line above the block, if the model wrote one.
    pub path: Option<String>,
    /// The text to find (empty: create a new file).
    pub search: String,
    /// The text to put in its place.
    pub replace: String,
}

/// The blocks of a reply, and whether the reply ended inside one (cut off
/// by the token limit, say): that block is not returned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub blocks: Vec<Block>,
    pub unfinished: bool,
}

const SEARCH: &str = "<<<<<<< SEARCH";
const DIVIDER: &str = "=======";
const REPLACE: &str = ">>>>>>> REPLACE";

fn is_marker(line: &str, marker: &str) -> bool {
    let t = line.trim();
    // Models sometimes vary the number of marker characters.
    let head = &marker[..3];
    match marker {
        DIVIDER => t.len() >= 5 && t.chars().all(|c| c == '='),
        _ => {
            t.starts_with(head)
                && t.trim_start_matches(head.chars().next().unwrap_or('<'))
                    .trim()
                    .eq_ignore_ascii_case(marker.trim_start_matches(['<', '>']).trim())
        }
    }
}

/// Read the blocks of a reply. Text around them (prose, fences) is ignored.
pub fn parse(reply: &str) -> Parsed {
    let lines: Vec<&str> = reply.lines().collect();
    let mut out = Parsed::default();
    let mut i = 0;
    while i < lines.len() {
        if !is_marker(lines[i], SEARCH) {
            i += 1;
            continue;
        }
        let path = path_above(&lines[..i]);
        let Some(div) = (i + 1..lines.len()).find(|&j| is_marker(lines[j], DIVIDER)) else {
            out.unfinished = true;
            break;
        };
        let Some(end) = (div + 1..lines.len()).find(|&j| is_marker(lines[j], REPLACE)) else {
            out.unfinished = true;
            break;
        };
        out.blocks.push(Block {
            path,
            search: join(&code_lines(&lines[i + 1..div])),
            replace: join(&code_lines(&lines[div + 1..end])),
        });
        i = end + 1;
    }
    out
}

/// The path named just above a block: the nearest non-empty line that is
/// not a fence, if it looks like a path.
fn path_above(lines: &[&str]) -> Option<String> {
    let line = lines
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| !l.is_empty() && !l.starts_with("```"))?;
    let line = line
        .trim_matches(['`', '*', ':'])
        .trim_start_matches("File")
        .trim_start_matches(':')
        .trim();
    let looks_like_path = !line.is_empty()
        && !line.contains(' ')
        && (line.contains('.') || line.contains('/'))
        && !is_marker(line, REPLACE);
    looks_like_path.then(|| line.trim_start_matches("./").to_string())
}

/// The lines of a block without what a small model copies into it from a
/// Python traceback shown earlier: the position markers under the quoted
/// source line (`~~~~^~~~`) and the exception line after it
/// (`ZeroDivisionError: division by zero`). Neither is ever code.
fn code_lines<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    lines
        .iter()
        .copied()
        .filter(|l| !is_position_marker(l) && !is_exception_line(l))
        .collect()
}

/// A line of only `^` and `~`: where Python points inside a traceback line.
pub fn is_position_marker(line: &str) -> bool {
    let t = line.trim();
    !t.is_empty() && t.chars().all(|c| c == '^' || c == '~')
}

/// An unindented `ZeroDivisionError: message` line, as a traceback ends.
fn is_exception_line(line: &str) -> bool {
    // `Name: message`, and not a C label with a statement after it.
    let Some((name, message)) = line.split_once(": ") else {
        return false;
    };
    if line.starts_with(char::is_whitespace) || message.trim_end().ends_with([';', '{', '}']) {
        return false;
    }
    !name.is_empty()
        && (name.ends_with("Error") || name.ends_with("Exception"))
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

fn join(lines: &[&str]) -> String {
    let mut s = lines.join("\n");
    if !lines.is_empty() {
        s.push('\n');
    }
    s
}

/// Why a block could not be applied, written for the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// The SEARCH text is not in the file; the closest lines, if any.
    NotFound { closest: Option<(usize, String)> },
    /// The SEARCH text is in the file this many times, starting at these
    /// lines (1-based).
    Ambiguous(usize, Vec<usize>),
    /// SEARCH is empty but the file exists.
    EmptySearch,
    /// SEARCH and REPLACE are the same.
    NoChange,
}

impl ApplyError {
    /// The message the model sees, for block `n` of `path`.
    pub fn message(&self, n: usize, path: &str) -> String {
        match self {
            ApplyError::NotFound {
                closest: Some((line, text)),
            } => format!(
                "Block {n}: the SEARCH lines are not in {path}. The closest lines in {path} \
                 (from line {line}) are:\n```\n{text}```\nCopy the lines exactly as they are \
                 in the file."
            ),
            ApplyError::NotFound { closest: None } => format!(
                "Block {n}: the SEARCH lines are not in {path}. Copy the lines exactly as \
                 they are in the file."
            ),
            ApplyError::Ambiguous(count, lines) => format!(
                "Block {n}: the SEARCH lines appear {count} times in {path} (at lines {}). \
                 Include more of the lines around the change so they appear once.",
                lines
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ApplyError::EmptySearch => format!(
                "Block {n}: SEARCH is empty, but {path} exists. Copy the lines to change \
                 into SEARCH."
            ),
            ApplyError::NoChange => format!(
                "Block {n}: SEARCH and REPLACE are the same, so nothing changed. Look at the \
                 failure again: which line gives the wrong result? Change that line in REPLACE."
            ),
        }
    }
}

/// Apply one block to `text`, returning the new text.
pub fn apply(text: &str, block: &Block) -> Result<String, ApplyError> {
    let search = strip_frame(&block.search, block.path.as_deref());
    let replace = strip_frame(&block.replace, block.path.as_deref());
    if search.trim().is_empty() {
        return Err(ApplyError::EmptySearch);
    }
    if search == replace {
        return Err(ApplyError::NoChange);
    }
    // 1. Exactly as written.
    let found: Vec<usize> = text
        .match_indices(search.as_str())
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [at] => {
            let mut out = text.to_string();
            out.replace_range(*at..*at + search.len(), &replace);
            return Ok(out);
        }
        [] => {}
        many => {
            let mut lines: Vec<usize> = many.iter().map(|i| line_of(text, *i)).collect();
            lines.dedup();
            return Err(ApplyError::Ambiguous(many.len(), lines));
        }
    }
    // 2. Line by line, ignoring trailing spaces; 3. ignoring indentation.
    let file: Vec<&str> = text.lines().collect();
    let want: Vec<&str> = trim_blank_ends(search.lines().collect());
    if want.is_empty() {
        return Err(ApplyError::NotFound { closest: None });
    }
    for loose in [false, true] {
        let same = |a: &str, b: &str| {
            if loose {
                a.trim() == b.trim()
            } else {
                a.trim_end() == b.trim_end()
            }
        };
        let starts: Vec<usize> = (0..=file.len().saturating_sub(want.len()))
            .filter(|&s| {
                s + want.len() <= file.len() && want.iter().zip(&file[s..]).all(|(w, f)| same(w, f))
            })
            .collect();
        match starts.as_slice() {
            [] => continue,
            [s] => {
                let new_lines = reindent(&want, &file[*s..*s + want.len()], &replace);
                return Ok(splice(text, &file, *s, want.len(), &new_lines));
            }
            many => {
                return Err(ApplyError::Ambiguous(
                    many.len(),
                    many.iter().map(|s| s + 1).collect(),
                ));
            }
        }
    }
    Err(ApplyError::NotFound {
        closest: closest(&file, &want),
    })
}

/// Definitions (functions, classes) that SEARCH has and REPLACE drops: a
/// small model asked to add a function sometimes replaces the whole file
/// with it. Names, in order.
pub fn removed_definitions(block: &Block) -> Vec<String> {
    let names = |text: &str| -> Vec<String> { text.lines().filter_map(definition).collect() };
    let kept = names(&block.replace);
    names(&block.search)
        .into_iter()
        .filter(|n| !kept.contains(n))
        .collect()
}

/// A block that swaps every definition SEARCH holds for new ones, when
/// adding was asked for: the model meant to add its code, so the block is
/// turned into one that keeps SEARCH and puts REPLACE after it. `None` when
/// the block keeps some of SEARCH's definitions, or defines nothing new.
pub fn as_addition(block: &Block, file: &str) -> Option<Block> {
    let old: Vec<String> = block.search.lines().filter_map(definition).collect();
    let new: Vec<String> = block.replace.lines().filter_map(definition).collect();
    let existing: Vec<String> = file.lines().filter_map(definition).collect();
    let swaps_all = !old.is_empty() && old.iter().all(|n| !new.contains(n));
    let all_new = !new.is_empty() && new.iter().all(|n| !existing.contains(n));
    if !(swaps_all && all_new) {
        return None;
    }
    let gap = if block.path.as_deref().is_some_and(|p| p.ends_with(".py")) {
        "\n\n"
    } else {
        "\n"
    };
    Some(Block {
        path: block.path.clone(),
        search: block.search.clone(),
        replace: format!(
            "{}\n{gap}{}",
            block.search.trim_end_matches('\n'),
            block.replace.trim_start_matches('\n')
        ),
    })
}

/// The name a line defines: Python `def`/`class`, Rust `fn`, JavaScript
/// `function`, or a C function at the start of a line (`int f(...) {`).
fn definition(line: &str) -> Option<String> {
    let ident = |s: &str| -> Option<String> {
        let name: String = s
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    let t = line.trim_start();
    for key in [
        "def ",
        "class ",
        "fn ",
        "pub fn ",
        "function ",
        "async def ",
    ] {
        if let Some(rest) = t.strip_prefix(key) {
            return ident(rest);
        }
    }
    // C: no indentation, a type then `name(`, ending with `{` or `)`.
    let c_like = !line.starts_with([' ', '\t', '#', '/', '*', '}'])
        && (line.trim_end().ends_with('{') || line.trim_end().ends_with(')'))
        && !line.contains(';')
        && !line.contains('=');
    if c_like && let Some((head, _)) = line.split_once('(') {
        let mut words = head.split_whitespace();
        let name = words.next_back()?.trim_start_matches('*');
        if words.next().is_some() {
            return ident(name);
        }
    }
    None
}

/// A new file's content from a reply: the first fenced block, or the whole
/// reply when there is no fence; a copied frame line is dropped.
pub fn new_file_content(reply: &str, path: &str) -> String {
    let lines: Vec<&str> = reply.lines().collect();
    let body = match lines.iter().position(|l| l.trim_start().starts_with("```")) {
        Some(open) => {
            let close = (open + 1..lines.len())
                .find(|&j| lines[j].trim_start().starts_with("```"))
                .unwrap_or(lines.len());
            join(&lines[open + 1..close])
        }
        None => join(&lines),
    };
    strip_frame(&body, Some(path))
}

/// `text` without a leading line that frames it rather than belongs to it:
/// a fence, the file's path, or a header like `path (12 lines):`.
pub fn strip_frame(text: &str, path: Option<&str>) -> String {
    let mut rest = text;
    while let Some((first, after)) = rest.split_once('\n') {
        let t = first.trim();
        let name = path.map(|p| p.rsplit('/').next().unwrap_or(p));
        let is_frame = t.starts_with("```")
            || path.is_some_and(|p| {
                t == p
                    || name == Some(t)
                    || (t.starts_with(p) && t.ends_with("lines):"))
                    || t == format!("{p}:")
            });
        if !is_frame {
            break;
        }
        rest = after;
    }
    // A closing fence at the end is a frame too.
    let trimmed = rest.trim_end_matches('\n');
    match trimmed.rsplit_once('\n') {
        Some((body, last)) if last.trim() == "```" => format!("{body}\n"),
        None if trimmed.trim() == "```" => String::new(),
        _ => rest.to_string(),
    }
}

/// A line of code in a grammar: anything but a line that starts like a
/// marker (`==`, `<<`, `>>`) or a fence (two backticks), so the engine
/// ends a block only at its marker.
const CODE_LINE: &str =
    "line ::= \"\\n\" | [^=<>`\\n] [^\\n]* \"\\n\" | [=<>`] [^=<>`\\n] [^\\n]* \"\\n\"\n";

/// A GBNF grammar (llama.cpp) for an edit reply: one or two
/// SEARCH/REPLACE blocks for `path`, each optionally fenced. The model
/// cannot answer in prose instead, name another file, or repeat blocks
/// until the token limit. (A line of prose before the blocks was tried: a
/// 1.5B model filled it with text copied from the prompt.)
pub fn blocks_grammar(path: &str) -> String {
    format!(
        "root ::= block block?\n\
         block ::= {} \"\\n\" open? \"{SEARCH}\\n\" line* \"{DIVIDER}\\n\" line* \"{REPLACE}\\n\" close?\n\
         open ::= \"```\" [a-z]* \"\\n\"\n\
         close ::= \"```\\n\"\n\
         {CODE_LINE}",
        gbnf_literal(path)
    )
}

/// A GBNF grammar for a new file's content in one fenced block. The
/// closing fence is optional: the model may end at any line's end (a
/// grammar that insisted on the fence would make a model that wants to
/// stop write on until the token limit).
pub fn file_grammar() -> String {
    format!("root ::= \"```\" [a-z]* \"\\n\" line* \"```\"?\n{CODE_LINE}")
}

fn gbnf_literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

fn trim_blank_ends(mut lines: Vec<&str>) -> Vec<&str> {
    while lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

fn indent(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// The replacement's lines, re-indented by the difference between the
/// file's indentation and the SEARCH text's (first non-blank line).
fn reindent(want: &[&str], found: &[&str], replace: &str) -> Vec<String> {
    let pair = want
        .iter()
        .zip(found)
        .find(|(w, _)| !w.trim().is_empty())
        .map(|(w, f)| (indent(w), indent(f)));
    let lines = trim_blank_ends(replace.lines().collect());
    let Some((from, to)) = pair else {
        return lines.iter().map(|l| l.to_string()).collect();
    };
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else if let Some(rest) = l.strip_prefix(from) {
                format!("{to}{rest}")
            } else {
                l.to_string()
            }
        })
        .collect()
}

/// `text` with `count` lines from line index `start` replaced.
fn splice(text: &str, file: &[&str], start: usize, count: usize, new: &[String]) -> String {
    let mut out: Vec<String> = file[..start].iter().map(|l| l.to_string()).collect();
    out.extend(new.iter().cloned());
    out.extend(file[start + count..].iter().map(|l| l.to_string()));
    let mut s = out.join("\n");
    if text.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The window of the file most like `want` (most lines in common, ignoring
/// indentation), with its first line number, when anything is alike.
fn closest(file: &[&str], want: &[&str]) -> Option<(usize, String)> {
    let n = want.len().max(1);
    let mut best = (0usize, 0usize);
    for start in 0..file.len() {
        let window = &file[start..(start + n).min(file.len())];
        let score = want
            .iter()
            .filter(|w| !w.trim().is_empty() && window.iter().any(|f| f.trim() == w.trim()))
            .count();
        if score > best.1 {
            best = (start, score);
        }
    }
    if best.1 == 0 {
        return None;
    }
    let from = best.0.saturating_sub(1);
    let to = (best.0 + n + 1).min(file.len());
    Some((from + 1, join(&file[from..to])))
}

#[cfg(test)]
mod traceback_tests {
    use super::{apply, parse};

    const STATS: &str = "def average(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)   # fails on an empty list\n\n\ndef percent(part, whole):\n    return part / whole * 100\n";

    /// What Qwen2.5-Coder-1.5B wrote after seeing a Python 3.11 traceback:
    /// the marker line and the exception copied into both halves.
    #[test]
    fn traceback_lines_copied_into_a_block_are_left_out() {
        let reply = "src/stats.py\n```\n<<<<<<< SEARCH\ndef average(values):\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)   # fails on an empty list\n           ~~~~~~^~~~~~~~~~~~~\nZeroDivisionError: division by zero\n=======\ndef average(values):\n    if len(values) == 0:\n        return 0\n    total = 0\n    for v in values:\n        total += v\n    return total / len(values)\n           ~~~~~~^~~~~~~~~~~~~\n>>>>>>> REPLACE\n```\n";
        let p = parse(reply);
        assert_eq!(p.blocks.len(), 1);
        assert!(!p.blocks[0].search.contains('~'));
        assert!(!p.blocks[0].replace.contains("ZeroDivisionError"));
        let fixed = apply(STATS, &p.blocks[0]).expect("applies");
        assert!(
            fixed.starts_with("def average(values):\n    if len(values) == 0:\n        return 0\n")
        );
        assert!(fixed.ends_with("def percent(part, whole):\n    return part / whole * 100\n"));
    }

    #[test]
    fn code_that_only_looks_like_a_traceback_is_kept() {
        let reply = "<<<<<<< SEARCH\n    raise ValueError(\"x\")\nParseError: goto retry;\n=======\n    raise KeyError(\"x\")\n>>>>>>> REPLACE\n";
        let p = parse(reply);
        assert_eq!(
            p.blocks[0].search,
            "    raise ValueError(\"x\")\nParseError: goto retry;\n"
        );
        assert_eq!(p.blocks[0].replace, "    raise KeyError(\"x\")\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "def mean(values):\n    total = sum(values)\n    return total / (len(values) - 1)\n\n\ndef spread(values):\n    return max(values) - min(values)\n";

    fn block(search: &str, replace: &str) -> Block {
        Block {
            path: Some("stats.py".into()),
            search: search.into(),
            replace: replace.into(),
        }
    }

    #[test]
    fn blocks_are_read_with_their_path_and_prose_is_ignored() {
        let reply = "The divisor is wrong.\n\nstats.py\n```python\n<<<<<<< SEARCH\n    return total / (len(values) - 1)\n=======\n    return total / len(values)\n>>>>>>> REPLACE\n```\nThat fixes it.";
        let p = parse(reply);
        assert!(!p.unfinished);
        assert_eq!(
            p.blocks,
            [Block {
                path: Some("stats.py".into()),
                search: "    return total / (len(values) - 1)\n".into(),
                replace: "    return total / len(values)\n".into(),
            }]
        );
        let fixed = apply(FILE, &p.blocks[0]).expect("applies");
        assert!(fixed.contains("return total / len(values)\n"));
        assert_eq!(fixed.lines().count(), FILE.lines().count());
    }

    #[test]
    fn a_block_cut_off_is_not_returned() {
        let p = parse("a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n");
        assert!(p.unfinished);
        assert!(p.blocks.is_empty());
        let p = parse(
            "a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\nb.py\n<<<<<<< SEARCH\ny",
        );
        assert!(p.unfinished);
        assert_eq!(p.blocks.len(), 1);
    }

    #[test]
    fn indentation_and_trailing_spaces_are_tolerated_and_the_replacement_follows_the_file() {
        let b = block(
            "return total / (len(values) - 1)   \n",
            "return total / len(values)\n",
        );
        let fixed = apply(FILE, &b).expect("applies ignoring indentation");
        assert!(
            fixed.contains("\n    return total / len(values)\n"),
            "{fixed}"
        );
    }

    #[test]
    fn no_match_shows_the_closest_lines_and_several_matches_are_refused() {
        let b = block(
            "def mean(values):\n    total = sum(values) + 0\n",
            "def mean(values):\n    total = sum(values)\n",
        );
        let err = apply(FILE, &b).expect_err("not there");
        let msg = err.message(1, "stats.py");
        assert!(msg.contains("from line 1"), "{msg}");
        assert!(msg.contains("    total = sum(values)\n"), "{msg}");
        let b = block("(values)", "(xs)");
        assert_eq!(
            apply(FILE, &b),
            Err(ApplyError::Ambiguous(6, vec![1, 2, 3, 6, 7]))
        );
        let b = block("values):\n", "xs):\n");
        let err = apply(FILE, &b).expect_err("twice");
        assert!(err.message(2, "stats.py").contains("appear 2 times"));
    }

    #[test]
    fn empty_or_unchanged_blocks_are_refused() {
        assert_eq!(apply(FILE, &block("", "x\n")), Err(ApplyError::EmptySearch));
        assert_eq!(
            apply(FILE, &block("def mean", "def mean")),
            Err(ApplyError::NoChange)
        );
    }

    #[test]
    fn a_copied_frame_line_is_not_written() {
        assert_eq!(
            strip_frame("src/stats.py (12 lines):\nx = 1\n", Some("src/stats.py")),
            "x = 1\n"
        );
        assert_eq!(strip_frame("```python\nx = 1\n```\n", None), "x = 1\n");
        assert_eq!(
            new_file_content("Here it is:\n```\ndone.txt\ndone\n```\n", "done.txt"),
            "done\n"
        );
        assert_eq!(new_file_content("done\n", "done.txt"), "done\n");
    }

    #[test]
    fn the_grammars_name_the_file_and_the_markers() {
        let g = blocks_grammar("src/a \"b\".py");
        assert!(
            g.contains("block ::= \"src/a \\\"b\\\".py\" \"\\n\""),
            "{g}"
        );
        assert!(g.contains("\"<<<<<<< SEARCH\\n\""), "{g}");
        assert!(g.starts_with("root ::= block block?\n"), "{g}");
        assert!(g.contains("line ::= \"\\n\" | [^=<>`\\n]"), "{g}");
        assert!(file_grammar().starts_with("root ::= \"```\""));
    }

    #[test]
    fn definitions_a_block_drops_are_found() {
        let b = block(
            "def mean(values):\n    return 1\n\n\ndef spread(values):\n    return 2\n",
            "def median(values):\n    return 3\n",
        );
        assert_eq!(removed_definitions(&b), ["mean", "spread"]);
        let b = block(
            "def spread(values):\n    return 2\n",
            "def spread(values):\n    return 2\n\n\ndef median(values):\n    return 3\n",
        );
        assert!(removed_definitions(&b).is_empty());
        let c = block(
            "int clamp(int value, int low, int high) {\n    return value;\n}\n",
            "#include <x.h>\n",
        );
        assert_eq!(removed_definitions(&c), ["clamp"]);
        assert!(removed_definitions(&block("    if (x) {\n", "    if (y) {\n")).is_empty());
    }

    #[test]
    fn swapping_a_function_for_a_new_one_is_read_as_adding_it() {
        let b = block(
            "def spread(values):\n    return max(values) - min(values)\n",
            "def median(values):\n    return 3\n",
        );
        let added = as_addition(&b, FILE).expect("an addition");
        let fixed = apply(FILE, &added).expect("applies");
        assert!(fixed.contains("def spread(values):\n    return max(values) - min(values)\n\n\ndef median(values):\n    return 3\n"), "{fixed}");
        assert!(fixed.contains("def mean"));
        // Replacing a function with itself changed, or by one that exists,
        // is not an addition.
        let b = block("def spread(values):\n", "def spread(xs):\n");
        assert_eq!(as_addition(&b, FILE), None);
        let b = block("def spread(values):\n", "def mean(values):\n");
        assert_eq!(as_addition(&b, FILE), None);
    }

    #[test]
    fn markers_with_odd_lengths_are_read() {
        let p = parse("a.py\n<<<<<<<< SEARCH\nx\n=====\ny\n>>>>>>>> REPLACE\n");
        assert_eq!(p.blocks.len(), 1);
        assert_eq!(p.blocks[0].replace, "y\n");
    }
}
