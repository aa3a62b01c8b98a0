//! The `[commands]` table of a profile: which programs a skill may ask to
//! run, how each is approved, and the limits of one command.

use super::approvals::ApprovalMode;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What a skill may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommandPolicy {
    /// Program name → how a request to run it is decided. A program not
    /// listed is refused before anyone is asked. Default: none.
    pub programs: BTreeMap<String, ApprovalMode>,
    /// Seconds one command may run. Default 300.
    pub timeout_seconds: u64,
    /// Bytes of stdout (and of stderr) kept from one command. Default 1 MiB.
    pub max_output_bytes: u64,
    /// The kernel-enforced limits of one command (`max-processes`,
    /// `memory-mib`, `cpu-seconds`, `max-file-mib`, `max-open-files`,
    /// `tmp-mib`), written at the top level of `[commands]`.
    #[serde(flatten)]
    pub limits: CommandLimits,
    /// MiB of the granted workspace the command may be given a private copy
    /// of; above it the command is refused, naming this key. Default 1024.
    pub max_snapshot_mib: u64,
    /// MiB the command may write under [`scratch`](Self::scratch) paths
    /// (build output, discarded after the command). Default 2048.
    pub max_scratch_mib: u64,
    /// Paths whose changes are discarded after the command (e.g. `target/`).
    /// Default: none.
    pub scratch: ScratchPaths,
}

impl Default for CommandPolicy {
    fn default() -> Self {
        Self {
            programs: BTreeMap::new(),
            timeout_seconds: 300,
            max_output_bytes: 1024 * 1024,
            limits: CommandLimits::default(),
            max_snapshot_mib: 1024,
            max_scratch_mib: 2048,
            scratch: ScratchPaths::default(),
        }
    }
}

impl CommandPolicy {
    /// The kernel-enforced limits of one command, for the executor.
    pub fn limits(&self) -> CommandLimits {
        self.limits
    }

    /// Whether `rel_path` (workspace-relative, `/`-separated, raw bytes:
    /// names need not be UTF-8) is a scratch directory or lies under one.
    pub fn is_scratch(&self, rel_path: &[u8]) -> bool {
        self.scratch.matches(rel_path)
    }
}

/// The limits the kernel holds one command to, taken from the profile's
/// `[commands]` table ([`CommandPolicy::limits`]). Each field is the key of
/// the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct CommandLimits {
    /// `commands.max-processes`: processes and threads one command may have
    /// at once (the pids cgroup, else `RLIMIT_NPROC`). Default 256.
    pub max_processes: u64,
    /// `commands.memory-mib`: MiB of memory of the whole command, all its
    /// processes together (the memory cgroup, swap included, else
    /// `RLIMIT_DATA` per process). Default 2048.
    pub memory_mib: u64,
    /// `commands.cpu-seconds`: CPU seconds of each process (`RLIMIT_CPU`).
    /// Default 600.
    pub cpu_seconds: u64,
    /// `commands.max-file-mib`: MiB of the largest file the command may
    /// write (`RLIMIT_FSIZE`). Default 512.
    pub max_file_mib: u64,
    /// `commands.max-open-files`: files each process may have open
    /// (`RLIMIT_NOFILE`). Default 1024.
    pub max_open_files: u64,
    /// `commands.tmp-mib`: MiB of the command's private `/tmp` (a tmpfs).
    /// Default 256.
    pub tmp_mib: u64,
}

impl Default for CommandLimits {
    fn default() -> Self {
        Self {
            max_processes: 256,
            memory_mib: 2048,
            cpu_seconds: 600,
            max_file_mib: 512,
            max_open_files: 1024,
            tmp_mib: 256,
        }
    }
}

/// The allowed range of each numeric key.
pub(crate) const RANGES: &[(&str, u64, u64)] = &[
    ("timeout-seconds", 1, 3600),
    ("max-output-bytes", 1024, 64 * 1024 * 1024),
    ("max-processes", 8, 65536),
    ("memory-mib", 64, 262_144),
    ("cpu-seconds", 1, 86_400),
    ("max-file-mib", 1, 65536),
    ("max-open-files", 16, 1_048_576),
    ("tmp-mib", 1, 65536),
    ("max-snapshot-mib", 1, 65536),
    ("max-scratch-mib", 1, 65536),
];

/// The most `scratch` patterns a profile may list.
pub(crate) const MAX_SCRATCH_PATTERNS: usize = 64;

/// Whether `name` is a program name a profile may list: a bare file name.
pub fn valid_program(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
}

/// The `commands.scratch` patterns, compiled. Serialises as the list of
/// patterns; two sets are equal when their patterns are.
///
/// A pattern with no `/` other than a trailing one (`target/`,
/// `__pycache__/`, `*.egg-info/`) matches a directory of that name at any
/// depth; a pattern with a `/` inside (`build/out/`, `crates/*/target/`) is
/// anchored at the workspace root. `*`, `?`, `[...]` and `**` are globs; a
/// `*` does not cross a `/`. Matching is case-sensitive and on bytes.
#[derive(Debug, Clone, Default)]
pub struct ScratchPaths {
    patterns: Vec<String>,
    /// Patterns matched against one name at any depth.
    names: GlobSet,
    /// Patterns matched against the whole path from the workspace root.
    anchored: GlobSet,
}

impl ScratchPaths {
    /// Compile `patterns`; the error names the first bad one and says what
    /// is wrong with it (not the key: the caller does).
    pub(crate) fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, String> {
        if patterns.len() > MAX_SCRATCH_PATTERNS {
            return Err(format!(
                "{} patterns is too many: at most {MAX_SCRATCH_PATTERNS}",
                patterns.len()
            ));
        }
        let mut names = GlobSetBuilder::new();
        let mut anchored = GlobSetBuilder::new();
        let mut kept = Vec::new();
        for pattern in patterns {
            let pattern = pattern.as_ref();
            let (glob, anchored_here) =
                check_pattern(pattern).map_err(|why| format!("{pattern:?} {why}"))?;
            let compiled = GlobBuilder::new(glob)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| format!("{pattern:?} is not a valid glob: {}", e.kind()))?;
            if anchored_here {
                anchored.add(compiled);
            } else {
                names.add(compiled);
            }
            kept.push(pattern.to_string());
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| e.to_string());
        Ok(Self {
            patterns: kept,
            names: build(names)?,
            anchored: build(anchored)?,
        })
    }

    /// The patterns, as written in the profile.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `rel_path` is, or lies under, a scratch directory. Empty and
    /// `.` components are skipped.
    pub fn matches(&self, rel_path: &[u8]) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let mut prefix: Vec<u8> = Vec::with_capacity(rel_path.len());
        for name in rel_path.split(|b| *b == b'/') {
            if name.is_empty() || name == b"." {
                continue;
            }
            if !prefix.is_empty() {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(name);
            if self.names.is_match(Path::new(OsStr::from_bytes(name)))
                || self
                    .anchored
                    .is_match(Path::new(OsStr::from_bytes(&prefix)))
            {
                return true;
            }
        }
        false
    }
}

/// Check one pattern: the glob to compile (without the trailing `/`) and
/// whether it is anchored at the workspace root.
fn check_pattern(pattern: &str) -> Result<(&str, bool), String> {
    if pattern.is_empty() {
        return Err("is empty: write a directory such as \"target/\"".into());
    }
    if pattern.starts_with('/') {
        return Err(
            "is absolute: write a path relative to the workspace, such as \"target/\"".into(),
        );
    }
    let glob = pattern.strip_suffix('/').unwrap_or(pattern);
    for component in glob.split('/') {
        match component {
            ".." => {
                return Err("climbs out with `..`: write a path inside the workspace".into());
            }
            "" | "." => {
                return Err(
                    "has an empty or `.` component: write it as \"a/b/\", without `//` or `./`"
                        .into(),
                );
            }
            _ => {}
        }
    }
    Ok((glob, glob.contains('/')))
}

impl PartialEq for ScratchPaths {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for ScratchPaths {}

impl Serialize for ScratchPaths {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(patterns: &[&str]) -> CommandPolicy {
        CommandPolicy {
            scratch: ScratchPaths::new(patterns).expect("valid patterns"),
            ..CommandPolicy::default()
        }
    }

    #[test]
    fn a_trailing_slash_name_matches_at_any_depth_and_everything_under_it() {
        let p = policy(&["target/", "__pycache__/"]);
        for yes in [
            "target",
            "target/",
            "target/debug/app",
            "crates/a/target",
            "crates/a/target/release/x.o",
            "./target/x",
            "pkg/__pycache__/m.cpython-311.pyc",
        ] {
            assert!(p.is_scratch(yes.as_bytes()), "{yes} is scratch");
        }
        for no in [
            "",
            ".",
            "src/main.rs",
            "targets/x",
            "my-target/x",
            "src/target.rs",
        ] {
            assert!(!p.is_scratch(no.as_bytes()), "{no} is not scratch");
        }
    }

    #[test]
    fn a_pattern_with_an_inner_slash_is_anchored_at_the_root() {
        let p = policy(&["build/out/", "crates/*/gen/"]);
        assert!(p.is_scratch(b"build/out"));
        assert!(p.is_scratch(b"build/out/x/y"));
        assert!(p.is_scratch(b"crates/core/gen/a.rs"));
        assert!(!p.is_scratch(b"build"));
        assert!(!p.is_scratch(b"build/other"));
        assert!(!p.is_scratch(b"sub/build/out/x"));
        // `*` does not cross a `/`.
        assert!(!p.is_scratch(b"crates/a/b/gen/x"));
    }

    #[test]
    fn globs_match_names_and_non_utf8_names_are_matched_as_bytes() {
        let p = policy(&["*.egg-info/", "out-?/"]);
        assert!(p.is_scratch(b"pkg/foo.egg-info/PKG-INFO"));
        assert!(p.is_scratch(b"out-1/x"));
        assert!(!p.is_scratch(b"out-12/x"));
        // 0xff is never valid UTF-8: the name still matches `*`.
        assert!(p.is_scratch(b"a/\xffname.egg-info/f"));
        assert!(p.is_scratch(b"out-\xff/f"));
        let q = policy(&["target/"]);
        assert!(q.is_scratch(b"\xfe\xff/target/x"));
        assert!(!q.is_scratch(b"\xfe\xff/x"));
        assert!(!q.is_scratch(b"target\xff/x"));
    }

    #[test]
    fn no_patterns_means_nothing_is_scratch() {
        assert!(!CommandPolicy::default().is_scratch(b"target"));
    }

    #[test]
    fn bad_patterns_are_refused_saying_why() {
        for (pattern, why) in [
            ("", "\"\" is empty"),
            ("/target/", "\"/target/\" is absolute"),
            ("../x/", "`..`"),
            ("a/../b/", "`..`"),
            ("a//b/", "empty or `.`"),
            ("./target/", "empty or `.`"),
            ("[x/", "not a valid glob"),
        ] {
            let e = ScratchPaths::new(&[pattern]).expect_err(pattern);
            assert!(e.contains(why), "{pattern}: {e}");
        }
        let many: Vec<String> = (0..65).map(|i| format!("d{i}/")).collect();
        assert!(ScratchPaths::new(&many).is_err());
        assert!(ScratchPaths::new(&many[..64]).is_ok());
    }

    fn parse(text: &str) -> Result<crate::profile::Profile, String> {
        crate::profile::Profile::parse(text, crate::profile::ProfileSource::File("p.toml".into()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn profile_command_keys_parse_and_default() {
        let p = parse(concat!(
            "[commands]\nmax-processes = 8\nmemory-mib = 64\ncpu-seconds = 1\n",
            "max-file-mib = 1\nmax-open-files = 16\ntmp-mib = 1\n",
            "max-snapshot-mib = 1\nmax-scratch-mib = 1\nscratch = [\"target/\", \"gen/out/\"]\n",
        ))
        .expect("valid");
        let c = &p.commands;
        assert_eq!(
            c.limits(),
            CommandLimits {
                max_processes: 8,
                memory_mib: 64,
                cpu_seconds: 1,
                max_file_mib: 1,
                max_open_files: 16,
                tmp_mib: 1,
            }
        );
        assert_eq!((c.max_snapshot_mib, c.max_scratch_mib), (1, 1));
        assert_eq!(c.scratch.patterns(), ["target/", "gen/out/"]);
        assert!(c.is_scratch(b"a/target/x") && c.is_scratch(b"gen/out/y"));
        let json = serde_json::to_value(c).expect("serialises");
        assert_eq!(json["scratch"], serde_json::json!(["target/", "gen/out/"]));
        assert_eq!(json["memory-mib"], 64);

        assert_eq!(parse("").expect("empty").commands, CommandPolicy::default());
    }

    #[test]
    fn profile_command_keys_out_of_range_name_the_key_and_the_place() {
        for (text, expected) in [
            (
                "[commands]\nmemory-mib = 32\n",
                "p.toml:2:14: commands.memory-mib = 32 is out of range: it must be between 64 and 262144",
            ),
            (
                "[commands]\nmax-processes = 65537\n",
                "p.toml:2:17: commands.max-processes = 65537 is out of range: it must be between 8 and 65536",
            ),
            (
                "[commands]\ncpu-seconds = 0\n",
                "p.toml:2:15: commands.cpu-seconds = 0 is out of range: it must be between 1 and 86400",
            ),
            (
                "[commands]\nmax-open-files = 15\n",
                "p.toml:2:18: commands.max-open-files = 15 is out of range: it must be between 16 and 1048576",
            ),
            (
                "[commands]\ntmp-mib = 65537\n",
                "p.toml:2:11: commands.tmp-mib = 65537 is out of range: it must be between 1 and 65536",
            ),
            (
                "[commands]\nmax-file-mib = 0\n",
                "p.toml:2:16: commands.max-file-mib = 0 is out of range: it must be between 1 and 65536",
            ),
            (
                "[commands]\nmax-snapshot-mib = 0\n",
                "p.toml:2:20: commands.max-snapshot-mib = 0 is out of range: it must be between 1 and 65536",
            ),
            (
                "[commands]\nmax-scratch-mib = 70000\n",
                "p.toml:2:19: commands.max-scratch-mib = 70000 is out of range: it must be between 1 and 65536",
            ),
        ] {
            assert_eq!(parse(text).expect_err(text), expected);
        }
    }

    #[test]
    fn profile_scratch_errors_name_the_key_and_the_entry() {
        let e = parse("[commands]\nscratch = [\"target/\", \"../up/\"]\n").expect_err("..");
        assert_eq!(
            e,
            "p.toml:2:23: commands.scratch: \"../up/\" climbs out with `..`: write a path inside the workspace"
        );
        let e = parse("[commands]\nscratch = [\"/abs/\"]\n").expect_err("abs");
        assert!(
            e.starts_with("p.toml:2:12: commands.scratch: \"/abs/\" is absolute"),
            "{e}"
        );
        let e = parse("[commands]\nscratch = [\"\"]\n").expect_err("empty");
        assert!(e.contains("commands.scratch: \"\" is empty"), "{e}");
        let e = parse("[commands]\nscratch = [\"a[/\"]\n").expect_err("glob");
        assert!(
            e.contains("commands.scratch: \"a[/\" is not a valid glob"),
            "{e}"
        );
        let many: Vec<String> = (0..65).map(|i| format!("\"d{i}/\"")).collect();
        let e =
            parse(&format!("[commands]\nscratch = [{}]\n", many.join(", "))).expect_err("too many");
        assert!(
            e.starts_with("p.toml:2:11: commands.scratch lists 65 paths: at most 64"),
            "{e}"
        );
        let e = parse("[commands]\nscratch = \"target/\"\n").expect_err("not a list");
        assert!(e.contains("scratch"), "{e}");
    }

    #[test]
    fn profile_coder_ships_its_scratch_and_limits() {
        let coder = crate::profile::Profile::builtin("coder").expect("coder");
        let c = &coder.commands;
        assert_eq!(
            c.scratch.patterns(),
            ["target/", "__pycache__/", ".pytest_cache/"]
        );
        assert!(c.is_scratch(b"target/debug/build"));
        assert!(c.is_scratch(b"pkg/__pycache__/m.pyc"));
        assert!(c.is_scratch(b".pytest_cache/v/cache"));
        assert!(!c.is_scratch(b"src/lib.rs"));
        assert_eq!(c.limits(), CommandLimits::default());
        for name in crate::profile::builtin_names() {
            crate::profile::Profile::builtin(name).expect(name);
        }
    }

    #[test]
    fn limits_carry_the_numbers() {
        let l = CommandPolicy::default().limits();
        assert_eq!(
            l,
            CommandLimits {
                max_processes: 256,
                memory_mib: 2048,
                cpu_seconds: 600,
                max_file_mib: 512,
                max_open_files: 1024,
                tmp_mib: 256,
            }
        );
    }
}
