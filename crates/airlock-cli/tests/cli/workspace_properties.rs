//! Property tests of the workspace sandbox (`runtime/src/sandbox/`) against
//! a reference model (`workspace_properties/model.rs`).
//!
//! Each case builds a random workspace of directories, files, symbolic links
//! (chains, loops, dangling, to outside through `..` and absolute paths),
//! hard links, sockets, FIFOs, deny-listed names and version-control directories
//! in several spellings, with random grants; then runs random resolutions
//! and reads with paths spelled every way a skill could. Safety is checked
//! first (no byte of a withheld file or of a file outside the workspace is
//! ever returned; a path that resolves is inside the root, granted, not
//! withheld, and writable when asked for writing), then agreement with the
//! model: the same outcome (content, denied, not found, invalid), the same
//! real path, the exact bytes.
//!
//! 10,000 cases by default; `PROPTEST_CASES=N` changes it (the soak run in
//! `docs/security.md`, "Property tests"). Failures are kept in
//! `workspace_properties.proptest-regressions` and replayed first.

mod model;
mod tree;

use airlock_runtime::profile::{Grant, HardLinks, RelPathString};
use airlock_runtime::sandbox::denylist::DenyList;
use airlock_runtime::sandbox::paths::RelPath;
use airlock_runtime::sandbox::resolve::{Need, Refusal, Sandbox};
use model::{Expect, OUTSIDE_MARK, ReadExpect, SECRET_MARK};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, TestCaseError};
use std::io::Read;
use tree::{NAMES, Workspace};

/// Cases per run unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 10_000;

fn config() -> ProptestConfig {
    // `ProptestConfig::default()` reads PROPTEST_CASES and the other
    // PROPTEST_* variables; only the case count's default is ours.
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    // Next to this file, as `workspace_properties.proptest-regressions`.
    config.failure_persistence = Some(Box::new(FileFailurePersistence::WithSource(
        "proptest-regressions",
    )));
    config
}

/// How a path from the tree is spelled.
#[derive(Debug, Clone)]
enum Deco {
    Plain,
    Trailing,
    DotSlash,
    Doubled,
    MidDot,
    /// `NAME/../` first.
    Detour(usize),
    /// `../` first: climbs out.
    UpFirst,
    /// `/..` last.
    UpAfter,
    /// ASCII upper case (`.env` -> `.ENV`, `.git` -> `.GIT`).
    Upper,
}

/// A path a skill passes.
#[derive(Debug, Clone)]
enum PathSpec {
    Tree {
        entry: usize,
        deco: Deco,
    },
    /// A regular file or a link, spelled some way.
    File {
        entry: usize,
        deco: Deco,
    },
    /// A name below an entry (often missing, or below a file).
    Child {
        entry: usize,
        name: usize,
    },
    /// The chain's `c{i}`, maybe with a name below.
    Chain {
        link: usize,
        below: Option<usize>,
    },
    /// The workspace's absolute path, then the entry.
    Absolute {
        entry: usize,
    },
    Literal(&'static str),
    /// More than 4096 bytes.
    TooLong,
    /// A component longer than `NAME_MAX`.
    LongName {
        entry: usize,
    },
    /// A NUL byte inserted.
    Nul {
        entry: usize,
        at: usize,
    },
}

#[derive(Debug, Clone, Copy)]
enum Op {
    ResolveRead,
    ResolveWrite,
    Read,
}

fn deco() -> impl Strategy<Value = Deco> {
    prop_oneof![
        6 => Just(Deco::Plain),
        1 => Just(Deco::Trailing),
        1 => Just(Deco::DotSlash),
        1 => Just(Deco::Doubled),
        1 => Just(Deco::MidDot),
        1 => (0..NAMES.len()).prop_map(Deco::Detour),
        1 => Just(Deco::UpFirst),
        1 => Just(Deco::UpAfter),
        1 => Just(Deco::Upper),
    ]
}

fn path_spec() -> impl Strategy<Value = PathSpec> {
    prop_oneof![
        8 => (0..64usize, deco()).prop_map(|(entry, deco)| PathSpec::Tree { entry, deco }),
        8 => (0..64usize, deco()).prop_map(|(entry, deco)| PathSpec::File { entry, deco }),
        3 => (0..64usize, tree::name()).prop_map(|(entry, name)| PathSpec::Child { entry, name }),
        2 => (0..3usize, prop::option::of(0..NAMES.len()))
            .prop_map(|(link, below)| PathSpec::Chain { link, below }),
        1 => (0..64usize).prop_map(|entry| PathSpec::Absolute { entry }),
        1 => prop::sample::select(vec![
            "", ".", "./", "..", "../", "/", "//", "./..", "a/../..", "/etc/passwd",
            "../outside/secret.txt", "../root/notes.txt", ".//.//",
        ])
        .prop_map(PathSpec::Literal),
        1 => Just(PathSpec::TooLong),
        1 => (0..64usize).prop_map(|entry| PathSpec::LongName { entry }),
        1 => (0..64usize, 0..16usize).prop_map(|(entry, at)| PathSpec::Nul { entry, at }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::ResolveRead),
        1 => Just(Op::ResolveWrite),
        3 => Just(Op::Read),
    ]
}

/// `parts` spelled as `deco` says.
fn spell(parts: &[String], deco: &Deco) -> String {
    let plain = parts.join("/");
    match deco {
        Deco::Plain => plain,
        Deco::Trailing => format!("{plain}/"),
        Deco::DotSlash => format!("./{plain}"),
        Deco::Doubled => parts.join("//"),
        Deco::MidDot => parts.join("/./"),
        Deco::Detour(n) => format!("{}/../{plain}", NAMES[*n]),
        Deco::UpFirst => format!("../{plain}"),
        Deco::UpAfter => format!("{plain}/.."),
        Deco::Upper => plain.to_ascii_uppercase(),
    }
}

/// The raw path string `spec` stands for in `ws`.
fn raw_path(ws: &Workspace, spec: &PathSpec) -> String {
    let pick = |entry: usize| ws.paths[entry % ws.paths.len()].join("/");
    match spec {
        PathSpec::Tree { entry, deco } => spell(&ws.paths[entry % ws.paths.len()], deco),
        PathSpec::File { entry, deco } if ws.readable.is_empty() => {
            spell(&ws.paths[entry % ws.paths.len()], deco)
        }
        PathSpec::File { entry, deco } => spell(&ws.readable[entry % ws.readable.len()], deco),
        PathSpec::Child { entry, name } => {
            let base = pick(*entry);
            if base.is_empty() {
                NAMES[*name].to_string()
            } else {
                format!("{base}/{}", NAMES[*name])
            }
        }
        PathSpec::Chain { link, below } => {
            let Some(path) = ws.chain.get(*link) else {
                return "chain/c0".into();
            };
            match below {
                Some(n) => format!("{}/{}", path.join("/"), NAMES[*n]),
                None => path.join("/"),
            }
        }
        PathSpec::Absolute { entry } => ws.root.join(pick(*entry)).display().to_string(),
        PathSpec::Literal(s) => (*s).to_string(),
        PathSpec::TooLong => "a/".repeat(2100),
        PathSpec::LongName { entry } => {
            let base = pick(*entry);
            let long = "n".repeat(300);
            if base.is_empty() {
                long
            } else {
                format!("{base}/{long}")
            }
        }
        PathSpec::Nul { entry, at } => {
            let mut s = pick(*entry);
            let mut at = at % (s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s.insert(at, '\0');
            s
        }
    }
}

fn sandbox(ws: &Workspace) -> Sandbox {
    let root = cap_std::fs::Dir::open_ambient_dir(&ws.root, cap_std::ambient_authority())
        .expect("open the workspace root");
    let grants = ws
        .model
        .grants
        .iter()
        .map(|(path, writable)| Grant {
            path: RelPathString(RelPath::parse(&path.join("/")).expect("grant path")),
            writable: *writable,
        })
        .collect();
    let protected = ws
        .model
        .protected
        .iter()
        .map(|p| RelPath::parse(&p.join("/")).expect("protected path"))
        .collect();
    Sandbox::new(root, grants, deny_list(), protected).with_hard_links(
        if ws.model.hard_links_allowed {
            HardLinks::Allow
        } else {
            HardLinks::Withhold
        },
    )
}

/// The built-in deny-list, compiled once (compiling costs more than a case).
fn deny_list() -> DenyList {
    static LIST: std::sync::OnceLock<DenyList> = std::sync::OnceLock::new();
    LIST.get_or_init(|| DenyList::new::<&str>(&[]).expect("built-in deny-list"))
        .clone()
}

/// Read the regular file `raw` reaches, through the safe open.
fn read(sb: &Sandbox, raw: &str) -> Result<Vec<u8>, Refusal> {
    let (_, mut file) = sb.open_read(raw)?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)
        .map_err(|e| Refusal::Io(e.to_string()))?;
    Ok(buf)
}

/// The workspace's tree in a failure message.
struct Described<'a>(&'a Workspace);

impl std::fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.describe())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn components(path: &RelPath) -> Vec<String> {
    path.components().to_vec()
}

/// Check one operation: safety first, then agreement with the model.
fn check(ws: &Workspace, sb: &Sandbox, op: Op, raw: &str) -> Result<(), TestCaseError> {
    // Described only when an assertion fails.
    let tree = Described(ws);
    let shown = format!("{raw:?}");
    let shown = if shown.len() > 120 {
        let start: String = shown.chars().take(100).collect();
        format!("{start}… ({} bytes)", raw.len())
    } else {
        shown
    };
    match op {
        Op::ResolveRead | Op::ResolveWrite => {
            let write = matches!(op, Op::ResolveWrite);
            let need = if write { Need::Write } else { Need::Read };
            let got = sb.resolve(raw, need);
            if let Ok(r) = &got {
                for path in [&r.asked, &r.real] {
                    let parts = components(path);
                    prop_assert!(
                        ws.model.allowed(&parts, write),
                        "SAFETY: {op:?} {shown} resolved to `{path}`, which policy refuses\n{tree}"
                    );
                    prop_assert!(
                        parts.iter().all(|c| !c.is_empty() && c != "." && c != ".."),
                        "SAFETY: {op:?} {shown} resolved to an unnormalised `{path}`\n{tree}"
                    );
                }
                if r.exists {
                    let real = std::fs::canonicalize(ws.root.join(r.real.to_path()))
                        .expect("canonicalize an existing path");
                    let root = std::fs::canonicalize(&ws.root).expect("canonicalize the root");
                    prop_assert!(
                        real.starts_with(&root),
                        "SAFETY: {op:?} {shown} reaches {} outside the root\n{tree}",
                        real.display()
                    );
                }
            }
            let want = ws.model.resolve(raw, write);
            let agrees = match (&want, &got) {
                (Expect::Unsure, _) => true,
                (Expect::Denied, Err(Refusal::Denied(_))) => true,
                (Expect::Invalid, Err(Refusal::Invalid(_))) => true,
                (Expect::Ok { real, exists }, Ok(r)) => {
                    components(&r.real) == *real && r.exists == *exists
                }
                // Whether resolving (not opening) a hard-linked name is
                // refused is the implementation's choice; reads are checked.
                (Expect::Ok { real, .. }, Err(Refusal::Denied(_))) => ws.model.hard_linked(real),
                _ => false,
            };
            prop_assert!(
                agrees,
                "{op:?} {shown}: got {got:?}, the model says {want:?}\n{tree}"
            );
        }
        Op::Read => {
            let got = read(sb, raw);
            if let Ok(bytes) = &got {
                prop_assert!(
                    !contains(bytes, SECRET_MARK),
                    "SAFETY: read {shown} returned a withheld file's bytes {:?}\n{tree}",
                    String::from_utf8_lossy(bytes)
                );
                prop_assert!(
                    !contains(bytes, OUTSIDE_MARK),
                    "SAFETY: read {shown} returned bytes from outside the workspace\n{tree}"
                );
            }
            let want = ws.model.read(raw);
            let agrees = match (&want, &got) {
                (ReadExpect::Unsure, _) => true,
                (ReadExpect::Content(c), Ok(bytes)) => c == bytes,
                (ReadExpect::Denied, Err(Refusal::Denied(_))) => true,
                (ReadExpect::NotFound, Err(Refusal::NotFound)) => true,
                (ReadExpect::Invalid, Err(Refusal::Invalid(_))) => true,
                _ => false,
            };
            prop_assert!(
                agrees,
                "read {shown}: got {got:?}, the model says {want:?}\n{tree}"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Random workspaces, random grants, random paths: the sandbox never
    /// returns a withheld or outside byte, never resolves outside the root,
    /// and agrees with the model on every outcome.
    #[test]
    fn sandbox_agrees_with_the_reference_model(
        spec in tree::spec(),
        ops in prop::collection::vec((op(), path_spec()), 1..16),
    ) {
        let ws = Workspace::create(&spec);
        let sb = sandbox(&ws);
        for (op, path) in &ops {
            let raw = raw_path(&ws, path);
            check(&ws, &sb, *op, &raw)?;
        }
    }
}

/// Run `ops` on the workspace `spec` describes, as one property case.
fn replay(spec: &tree::Spec, ops: &[(Op, PathSpec)]) {
    let ws = Workspace::create(spec);
    let sb = sandbox(&ws);
    for (op, path) in ops {
        let raw = raw_path(&ws, path);
        if let Err(e) = check(&ws, &sb, *op, &raw) {
            panic!("{e}");
        }
    }
}

fn entry(parent: usize, name: &str, kind: tree::KindSpec) -> tree::EntrySpec {
    let name = NAMES
        .iter()
        .position(|n| *n == name)
        .expect("a name the generator knows");
    tree::EntrySpec { parent, name, kind }
}

/// The minimal case the property found on b2782b7: `a` is a hard link to
/// `.env`, and reading `a` returned `.env`'s bytes.
#[test]
fn minimal_case_read_of_a_hard_link_to_env() {
    for hard_links_allowed in [false, true] {
        let spec = tree::Spec {
            entries: vec![
                entry(0, ".env", tree::KindSpec::File { empty: false }),
                entry(0, "a", tree::KindSpec::HardLink(0)),
            ],
            chain: None,
            grants: vec![(0, false)],
            protected: false,
            hard_links_allowed,
        };
        let read_a = PathSpec::Tree {
            entry: 2,
            deco: Deco::Plain,
        };
        replay(&spec, &[(Op::Read, read_a)]);
    }
}

/// The other minimal case on b2782b7: `.git` resolved for reading in a
/// workspace granted `.`, in every spelling.
#[test]
fn minimal_case_resolve_of_dot_git() {
    let spec = tree::Spec {
        entries: vec![
            entry(0, ".git", tree::KindSpec::Dir),
            entry(1, "a", tree::KindSpec::File { empty: false }),
        ],
        chain: None,
        grants: vec![(0, true)],
        protected: false,
        hard_links_allowed: false,
    };
    let mut ops = Vec::new();
    for entry in [1, 2] {
        for deco in [Deco::Plain, Deco::Upper, Deco::Trailing, Deco::Detour(0)] {
            for op in [Op::ResolveRead, Op::ResolveWrite, Op::Read] {
                ops.push((
                    op,
                    PathSpec::Tree {
                        entry,
                        deco: deco.clone(),
                    },
                ));
            }
        }
    }
    replay(&spec, &ops);
}
