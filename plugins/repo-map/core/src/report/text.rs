//! The text map: a language table, then every file with its outline.

use std::fmt::Write;

use crate::map::RepoMap;

/// Wide enough for the longest language name, `Verilog/SystemVerilog`.
const LANGUAGE_COLUMN: usize = 22;

pub fn render(map: &RepoMap) -> String {
    let mut out = String::new();
    let rows = map.languages();
    let _ = writeln!(out, "Languages:");
    let _ = writeln!(
        out,
        "  {:<LANGUAGE_COLUMN$} {:>7} {:>9} {:>11}",
        "language", "files", "lines", "bytes"
    );
    let (mut files, mut lines, mut bytes) = (0, 0, 0);
    for row in &rows {
        let _ = writeln!(
            out,
            "  {:<LANGUAGE_COLUMN$} {:>7} {:>9} {:>11}",
            row.language.name(),
            row.files,
            row.lines,
            row.bytes
        );
        files += row.files;
        lines += row.lines;
        bytes += row.bytes;
    }
    let _ = writeln!(
        out,
        "  {:<LANGUAGE_COLUMN$} {files:>7} {lines:>9} {bytes:>11}",
        "total"
    );

    out.push_str("\nFiles:\n");
    for f in &map.files {
        let mut facts = vec![f.language.name().to_string()];
        if let Some(n) = f.lines {
            facts.push(format!("{n} {}", if n == 1 { "line" } else { "lines" }));
        }
        facts.push(format!("{} bytes", f.bytes));
        if let Some(note) = &f.note {
            facts.push(note.clone());
        }
        let _ = writeln!(out, "{}  ({})", f.path, facts.join(", "));
        for s in &f.symbols {
            let indent = "  ".repeat(usize::try_from(s.depth).unwrap_or(0) + 1);
            let _ = writeln!(out, "{indent}L{} {} {}", s.line, s.kind, s.name);
        }
        if f.symbols_omitted > 0 {
            let _ = writeln!(
                out,
                "  … {} more symbols (raise max-symbols-per-file to see them)",
                f.symbols_omitted
            );
        }
    }

    if !map.withheld.is_empty() {
        out.push('\n');
        for w in &map.withheld {
            let _ = writeln!(out, "{}", w.sentence());
        }
    }
    if let Some(why) = &map.incomplete {
        let _ = writeln!(
            out,
            "\nMap incomplete, a profile limit stopped reading: {why}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn table_then_files_with_symbols_then_withheld() {
        let text = render(&sample::map());
        let expected = "\
Languages:
  language                 files     lines       bytes
  Rust                         1         5          61
  data/docs                    1         1           7
  other                        1         0        2048
  total                        3         6        2116

Files:
README.md  (data/docs, 1 line, 7 bytes)
src/main.rs  (Rust, 5 lines, 61 bytes)
  L1 fn parse_args
  L2 impl App
  … 2 more symbols (raise max-symbols-per-file to see them)
logo.png  (other, 2048 bytes, binary)

withheld by the deny-list (not read): .env (rule `.env`)
";
        assert_eq!(text, expected);
    }
}
