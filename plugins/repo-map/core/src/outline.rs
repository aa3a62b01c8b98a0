//! Symbol outlines: the declarations a reader looks for first, found with
//! line-based patterns.
//!
//! Line patterns are not a parser: they miss declarations split oddly across
//! lines and can be fooled by code in strings. In exchange they are small,
//! fast, never fail, and cover a dozen languages, which is what a first map
//! of an unknown repository needs. Nesting comes from indentation.

mod ada;
mod c_family;
mod go;
mod java;
mod line_rules;
mod python;
mod rust;
mod script;
mod verilog;
mod vhdl;

use crate::language::Language;

/// One declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// What it is, in the language's own word (`fn`, `package body`, `entity`).
    pub kind: &'static str,
    /// Its name (for some kinds a short description, e.g. `Display for Config`).
    pub name: String,
    /// 1-based line of the declaration.
    pub line: u32,
    /// How many enclosing symbols it has (a method in a class: 1).
    pub depth: u32,
}

/// A declaration as a language's patterns see it, before nesting.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Raw {
    /// Leading whitespace width; a tab counts as four columns.
    indent: usize,
    kind: &'static str,
    name: String,
    line: u32,
    /// Whether declarations indented below this one belong to it (a class,
    /// an impl) or are hidden in its body (a function's local helpers).
    container: bool,
}

/// What to do with declarations found inside a non-container's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bodies {
    /// List them, nested (Python closures, Ada nested subprograms).
    Keep,
    /// Leave them out: only item-level declarations matter (Rust, Java).
    Skip,
}

/// The outline of `text` in `language`; empty for languages without one.
pub fn outline(language: Language, text: &str) -> Vec<Symbol> {
    let (raw, bodies) = match language {
        Language::Rust => (rust::raw(text), Bodies::Skip),
        Language::Python => (python::raw(text), Bodies::Keep),
        Language::C | Language::Cpp => (c_family::raw(text), Bodies::Skip),
        Language::Ada => (ada::raw(text), Bodies::Keep),
        Language::Vhdl => (vhdl::raw(text), Bodies::Keep),
        Language::Verilog => (verilog::raw(text), Bodies::Keep),
        Language::Go => (go::raw(text), Bodies::Skip),
        Language::Java => (java::raw(text), Bodies::Skip),
        Language::JavaScript => (script::raw_javascript(text), Bodies::Skip),
        Language::Shell => (script::raw_shell(text), Bodies::Skip),
        Language::DataDocs | Language::Other => return Vec::new(),
    };
    nest(raw, bodies)
}

/// Turns indentation into depth: a declaration belongs to the nearest
/// preceding declaration that is indented less.
fn nest(raw: Vec<Raw>, bodies: Bodies) -> Vec<Symbol> {
    let mut open: Vec<(usize, bool)> = Vec::new();
    let mut out = Vec::with_capacity(raw.len());
    for r in raw {
        while open.last().is_some_and(|&(indent, _)| indent >= r.indent) {
            open.pop();
        }
        if bodies == Bodies::Skip && open.last().is_some_and(|&(_, container)| !container) {
            continue;
        }
        out.push(Symbol {
            kind: r.kind,
            name: r.name,
            line: r.line,
            depth: u32::try_from(open.len()).unwrap_or(u32::MAX),
        });
        open.push((r.indent, r.container));
    }
    out
}

/// Leading whitespace width, a tab counting as four columns.
fn indent_of(line: &str) -> usize {
    line.chars()
        .take_while(|c| c.is_whitespace())
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// `(1-based line number, line)` pairs.
fn numbered(text: &str) -> impl Iterator<Item = (u32, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l))
}

#[cfg(test)]
mod tests;
