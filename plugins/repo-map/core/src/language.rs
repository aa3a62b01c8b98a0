//! Which language a file is in, from its name (and, for scripts without an
//! extension, its `#!` line).

/// The languages the map distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Language {
    /// Ada and SPARK (`.adb`, `.ads`, `.ada`, `.gpr`).
    Ada,
    /// VHDL (`.vhd`, `.vhdl`).
    Vhdl,
    /// Verilog and SystemVerilog (`.v`, `.vh`, `.sv`, `.svh`).
    Verilog,
    /// C (`.c`, `.h`).
    C,
    /// C++ (`.cc`, `.cpp`, `.cxx`, `.hpp`, `.hh`, `.hxx`).
    Cpp,
    /// Rust.
    Rust,
    /// Python.
    Python,
    /// Go.
    Go,
    /// Java.
    Java,
    /// JavaScript and TypeScript.
    JavaScript,
    /// POSIX shells, bash, zsh.
    Shell,
    /// TOML, YAML, JSON, Markdown: data and documentation, not code.
    DataDocs,
    /// Anything else.
    Other,
}

impl Language {
    /// The name shown in reports.
    pub fn name(self) -> &'static str {
        match self {
            Language::Ada => "Ada/SPARK",
            Language::Vhdl => "VHDL",
            Language::Verilog => "Verilog/SystemVerilog",
            Language::C => "C",
            Language::Cpp => "C++",
            Language::Rust => "Rust",
            Language::Python => "Python",
            Language::Go => "Go",
            Language::Java => "Java",
            Language::JavaScript => "JavaScript/TypeScript",
            Language::Shell => "Shell",
            Language::DataDocs => "data/docs",
            Language::Other => "other",
        }
    }
}

/// The language of `path`, by its extension or well-known name.
pub fn detect(path: &str) -> Language {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return Language::Other;
    };
    // `.bashrc` is a name, not an extension of an empty name.
    if stem.is_empty() {
        return match ext {
            "bashrc" | "bash_profile" | "zshrc" | "profile" => Language::Shell,
            _ => Language::Other,
        };
    }
    match ext.to_ascii_lowercase().as_str() {
        "adb" | "ads" | "ada" | "gpr" => Language::Ada,
        "vhd" | "vhdl" => Language::Vhdl,
        "v" | "vh" | "sv" | "svh" => Language::Verilog,
        "c" | "h" => Language::C,
        "cc" | "cpp" | "cxx" | "c++" | "hpp" | "hh" | "hxx" | "h++" => Language::Cpp,
        "rs" => Language::Rust,
        "py" | "pyi" => Language::Python,
        "go" => Language::Go,
        "java" => Language::Java,
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Language::JavaScript,
        "sh" | "bash" | "zsh" | "ksh" => Language::Shell,
        "toml" | "yaml" | "yml" | "json" | "md" | "markdown" => Language::DataDocs,
        _ => Language::Other,
    }
}

/// Refines [`Language::Other`] with the interpreter named on a `#!` line,
/// so extension-less scripts (`scripts/release`) are counted as code.
pub fn from_shebang(first_line: &str) -> Option<Language> {
    let interpreter_line = first_line.strip_prefix("#!")?;
    let mut words = interpreter_line.split_whitespace();
    let program = words.next()?.rsplit('/').next()?;
    // `#!/usr/bin/env python3` names the interpreter in the next word.
    let program = if program == "env" {
        words.find(|w| !w.starts_with('-'))?
    } else {
        program
    };
    match program {
        "sh" | "bash" | "zsh" | "ksh" | "dash" => Some(Language::Shell),
        p if p.starts_with("python") => Some(Language::Python),
        "node" | "deno" => Some(Language::JavaScript),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_extension() {
        let cases = [
            ("src/main.adb", Language::Ada),
            ("src/main.ads", Language::Ada),
            ("legacy.ada", Language::Ada),
            ("proj.gpr", Language::Ada),
            ("rtl/top.vhd", Language::Vhdl),
            ("rtl/top.VHDL", Language::Vhdl),
            ("rtl/top.v", Language::Verilog),
            ("rtl/defs.vh", Language::Verilog),
            ("tb/top_tb.sv", Language::Verilog),
            ("tb/pkg.svh", Language::Verilog),
            ("lib.c", Language::C),
            ("lib.h", Language::C),
            ("lib.cc", Language::Cpp),
            ("lib.cpp", Language::Cpp),
            ("lib.cxx", Language::Cpp),
            ("lib.hpp", Language::Cpp),
            ("lib.hh", Language::Cpp),
            ("lib.hxx", Language::Cpp),
            ("src/lib.rs", Language::Rust),
            ("tool.py", Language::Python),
            ("main.go", Language::Go),
            ("App.java", Language::Java),
            ("app.js", Language::JavaScript),
            ("app.tsx", Language::JavaScript),
            ("run.sh", Language::Shell),
            ("Cargo.toml", Language::DataDocs),
            ("ci.yml", Language::DataDocs),
            ("package.json", Language::DataDocs),
            ("README.md", Language::DataDocs),
            ("logo.png", Language::Other),
            ("Makefile", Language::Other),
            (".gitignore", Language::Other),
            (".bashrc", Language::Shell),
        ];
        for (path, lang) in cases {
            assert_eq!(detect(path), lang, "{path}");
        }
    }

    #[test]
    fn names_are_the_documented_labels() {
        assert_eq!(Language::Ada.name(), "Ada/SPARK");
        assert_eq!(Language::DataDocs.name(), "data/docs");
        assert_eq!(Language::Other.name(), "other");
    }

    #[test]
    fn shebangs_name_the_interpreter() {
        assert_eq!(from_shebang("#!/bin/sh"), Some(Language::Shell));
        assert_eq!(
            from_shebang("#!/usr/bin/env python3"),
            Some(Language::Python)
        );
        assert_eq!(
            from_shebang("#!/usr/bin/env -S node --x"),
            Some(Language::JavaScript)
        );
        assert_eq!(from_shebang("#!/usr/bin/perl"), None);
        assert_eq!(from_shebang("echo hi"), None);
    }
}
