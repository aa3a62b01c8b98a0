//! The map itself: per-file facts and the per-language summary. Pure: the
//! host calls happen in `lib.rs`.

use std::collections::BTreeMap;

use crate::language::{self, Language};
use crate::outline::{self, Symbol};

/// Files larger than this are listed with their size but not read: a map
/// needs the shape of the code, and huge files are data or generated.
pub const MAX_READ_BYTES: u64 = 1024 * 1024;

/// How much of a file is sniffed for a NUL byte to call it binary.
const BINARY_SNIFF_BYTES: usize = 8 * 1024;

/// What the map knows about one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInfo {
    /// Workspace-relative path.
    pub path: String,
    /// Its language.
    pub language: Language,
    /// Size in bytes.
    pub bytes: u64,
    /// Line count, when the file was read and is text.
    pub lines: Option<u64>,
    /// The outline (at most `max-symbols-per-file` of it).
    pub symbols: Vec<Symbol>,
    /// Symbols left out by `max-symbols-per-file`.
    pub symbols_omitted: usize,
    /// Why lines or symbols are missing ("binary", "larger than 1 MiB").
    pub note: Option<String>,
}

impl FileInfo {
    /// A file listed without reading it, with the reason.
    pub fn unread(path: &str, bytes: u64, note: impl Into<String>) -> FileInfo {
        FileInfo {
            path: path.to_string(),
            language: language::detect(path),
            bytes,
            lines: None,
            symbols: Vec::new(),
            symbols_omitted: 0,
            note: Some(note.into()),
        }
    }
}

/// What to extract from a file's contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extract {
    /// Outline the file.
    pub symbols: bool,
    /// Keep at most this many symbols.
    pub max_symbols: usize,
}

/// Everything known about a file from its contents.
pub fn analyze(path: &str, contents: &[u8], extract: Extract) -> FileInfo {
    let bytes = u64::try_from(contents.len()).unwrap_or(u64::MAX);
    let sniff = &contents[..contents.len().min(BINARY_SNIFF_BYTES)];
    if sniff.contains(&0) {
        return FileInfo::unread(path, bytes, "binary");
    }
    let text = String::from_utf8_lossy(contents);
    let mut language = language::detect(path);
    if language == Language::Other {
        let first_line = text.lines().next().unwrap_or_default();
        language = language::from_shebang(first_line).unwrap_or(Language::Other);
    }
    let mut symbols = if extract.symbols {
        outline::outline(language, &text)
    } else {
        Vec::new()
    };
    let symbols_omitted = symbols.len().saturating_sub(extract.max_symbols);
    symbols.truncate(extract.max_symbols);
    FileInfo {
        path: path.to_string(),
        language,
        bytes,
        lines: Some(count_lines(contents)),
        symbols,
        symbols_omitted,
        note: None,
    }
}

/// Lines as an editor counts them: a last line without `\n` still counts.
pub fn count_lines(contents: &[u8]) -> u64 {
    let newlines = contents.iter().filter(|&&b| b == b'\n').count();
    let unterminated = contents.last().is_some_and(|&b| b != b'\n');
    u64::try_from(newlines + usize::from(unterminated)).unwrap_or(u64::MAX)
}

/// A file the deny-list withheld: listed, never read.
pub use airlock_sdk::workspace::Withheld;

/// One row of the language table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageSummary {
    /// The language.
    pub language: Language,
    /// Files in it.
    pub files: u64,
    /// Lines in its files that were read.
    pub lines: u64,
    /// Bytes in its files.
    pub bytes: u64,
}

/// The whole map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoMap {
    /// Every regular file, in path order.
    pub files: Vec<FileInfo>,
    /// Withheld entries.
    pub withheld: Vec<Withheld>,
    /// Set when a profile limit stopped reading: the limit's message.
    pub incomplete: Option<String>,
}

impl RepoMap {
    /// Per-language totals, largest (by lines, then bytes) first.
    pub fn languages(&self) -> Vec<LanguageSummary> {
        let mut by_language: BTreeMap<Language, LanguageSummary> = BTreeMap::new();
        for f in &self.files {
            let row = by_language
                .entry(f.language)
                .or_insert_with(|| LanguageSummary {
                    language: f.language,
                    files: 0,
                    lines: 0,
                    bytes: 0,
                });
            row.files += 1;
            row.lines += f.lines.unwrap_or(0);
            row.bytes += f.bytes;
        }
        let mut rows: Vec<LanguageSummary> = by_language.into_values().collect();
        rows.sort_by(|a, b| {
            (b.lines, b.bytes)
                .cmp(&(a.lines, a.bytes))
                .then(a.language.cmp(&b.language))
        });
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Extract = Extract {
        symbols: true,
        max_symbols: 50,
    };

    #[test]
    fn counts_lines_like_an_editor() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 1);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\nb"), 2);
        assert_eq!(count_lines(b"a\r\nb\r\n"), 2);
    }

    #[test]
    fn analyzes_a_source_file() {
        let f = analyze("src/lib.rs", b"pub fn a() {}\nfn b() {}\n", ALL);
        assert_eq!(f.language, Language::Rust);
        assert_eq!((f.bytes, f.lines), (24, Some(2)));
        assert_eq!(f.symbols.len(), 2);
        assert_eq!(f.note, None);
    }

    #[test]
    fn caps_symbols_and_counts_the_rest() {
        let src = "fn a() {}\nfn b() {}\nfn c() {}\n";
        let f = analyze(
            "x.rs",
            src.as_bytes(),
            Extract {
                symbols: true,
                max_symbols: 1,
            },
        );
        assert_eq!((f.symbols.len(), f.symbols_omitted), (1, 2));
        let f = analyze(
            "x.rs",
            src.as_bytes(),
            Extract {
                symbols: false,
                max_symbols: 50,
            },
        );
        assert!(f.symbols.is_empty());
        assert_eq!(f.lines, Some(3));
    }

    #[test]
    fn binary_files_are_not_outlined() {
        let f = analyze("img.rs", b"fn a() {}\0\x01", ALL);
        assert_eq!((f.lines, f.note.as_deref()), (None, Some("binary")));
        assert!(f.symbols.is_empty());
    }

    #[test]
    fn extensionless_scripts_are_recognised_by_shebang() {
        let f = analyze(
            "scripts/release",
            b"#!/usr/bin/env bash\nmain() {\n}\n",
            ALL,
        );
        assert_eq!(f.language, Language::Shell);
        assert_eq!(f.symbols.len(), 1);
    }

    #[test]
    fn language_table_sums_and_orders() {
        let map = RepoMap {
            files: vec![
                analyze("a.rs", b"fn a() {}\n", ALL),
                analyze("b.rs", b"x\ny\n", ALL),
                analyze("c.py", b"1\n2\n3\n4\n", ALL),
                FileInfo::unread("big.rs", 5, "larger than 1 MiB, not read"),
            ],
            ..RepoMap::default()
        };
        let rows = map.languages();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (
                rows[0].language,
                rows[0].files,
                rows[0].lines,
                rows[0].bytes
            ),
            (Language::Python, 1, 4, 8)
        );
        assert_eq!(
            (
                rows[1].language,
                rows[1].files,
                rows[1].lines,
                rows[1].bytes
            ),
            (Language::Rust, 3, 3, 19)
        );
    }
}
