//! Random workspaces: a spec proptest generates and shrinks, turned into the
//! reference [`Model`] and then into real files in a temporary directory.

use super::model::{Model, Node, OUTSIDE_MARK, SECRET_MARK};
use proptest::prelude::*;
use std::path::{Path, PathBuf};

/// Every name the generator uses: ordinary names, a case variant, deny-listed
/// names in several spellings, version-control directories in several
/// spellings, and Airlock's state directory. `model::deny_listed` must cover
/// every deny-listed one.
pub const NAMES: &[&str] = &[
    // The first ORDINARY names are neither withheld nor protected.
    "a",
    "b",
    "src",
    "docs",
    "notes.txt",
    "A",
    "main.rs",
    // Withheld by the deny-list.
    ".env",
    ".ENV",
    ".env.local",
    "id_rsa",
    "secrets.pem",
    "server.KEY",
    ".ssh",
    // Version control, never shown; and Airlock's state directory.
    ".git",
    ".Git",
    ".hg",
    ".svn",
    ".jj",
    ".airlock",
];

/// How many of [`NAMES`] are ordinary.
pub const ORDINARY: usize = 7;

/// How a symbolic link's target is spelled.
#[derive(Debug, Clone)]
pub enum Style {
    Plain,
    Trailing,
    DotSlash,
    /// `NAME/../` first.
    Detour(usize),
}

/// Where a symbolic link points.
#[derive(Debug, Clone)]
pub enum LinkSpec {
    /// An entry made earlier (or the root), written relative to the link.
    ToEntry {
        entry: usize,
        style: Style,
    },
    /// A path of names from the root, written relative: may be dangling, a
    /// later entry, or a loop.
    Named(Vec<usize>),
    /// The file outside the workspace, through `..`.
    Outside,
    /// An absolute path, to an entry inside or to the file outside.
    Absolute {
        inside: bool,
        entry: usize,
    },
    Dot,
    DotDot,
}

/// What one entry is.
#[derive(Debug, Clone)]
pub enum KindSpec {
    Dir,
    File {
        empty: bool,
    },
    Link(LinkSpec),
    /// Another name for an earlier regular file.
    HardLink(usize),
    Socket,
    Fifo,
}

/// One entry: its parent (an earlier directory, or the root), name and kind.
#[derive(Debug, Clone)]
pub struct EntrySpec {
    pub parent: usize,
    pub name: usize,
    pub kind: KindSpec,
}

/// A whole workspace.
#[derive(Debug, Clone)]
pub struct Spec {
    pub entries: Vec<EntrySpec>,
    /// `chain/c0 -> c1 -> … -> c{len-1} -> ENTRY`: `c0` passes `len` links.
    pub chain: Option<(usize, usize)>,
    /// (directory, writable).
    pub grants: Vec<(usize, bool)>,
    /// Whether `.airlock` is Airlock's state directory.
    pub protected: bool,
    /// The profile's `hard-links = "allow"`.
    pub hard_links_allowed: bool,
}

fn style() -> impl Strategy<Value = Style> {
    prop_oneof![
        4 => Just(Style::Plain),
        1 => Just(Style::Trailing),
        1 => Just(Style::DotSlash),
        1 => (0..NAMES.len()).prop_map(Style::Detour),
    ]
}

fn link() -> impl Strategy<Value = LinkSpec> {
    prop_oneof![
        6 => (0..64usize, style()).prop_map(|(entry, style)| LinkSpec::ToEntry { entry, style }),
        3 => prop::collection::vec(name(), 1..4).prop_map(LinkSpec::Named),
        1 => Just(LinkSpec::Outside),
        1 => (any::<bool>(), 0..64usize)
            .prop_map(|(inside, entry)| LinkSpec::Absolute { inside, entry }),
        1 => Just(LinkSpec::Dot),
        1 => Just(LinkSpec::DotDot),
    ]
}

fn kind() -> impl Strategy<Value = KindSpec> {
    prop_oneof![
        4 => Just(KindSpec::Dir),
        5 => prop::bool::weighted(0.1).prop_map(|empty| KindSpec::File { empty }),
        5 => link().prop_map(KindSpec::Link),
        2 => (0..64usize).prop_map(KindSpec::HardLink),
        1 => Just(KindSpec::Socket),
        1 => Just(KindSpec::Fifo),
    ]
}

/// A random workspace of up to 24 entries, maybe a long chain of links,
/// and up to three grants.
pub fn spec() -> impl Strategy<Value = Spec> {
    let entry = (0..64usize, name(), kind()).prop_map(|(parent, name, kind)| EntrySpec {
        parent,
        name,
        kind,
    });
    let chain_len = prop_oneof![1..=45usize, 39..=42usize];
    (
        prop::collection::vec(entry, 0..24),
        prop::option::weighted(0.25, (chain_len, 0..64usize)),
        grants(),
        prop::bool::weighted(0.3),
        any::<bool>(),
    )
        .prop_map(
            |(entries, chain, grants, protected, hard_links_allowed)| Spec {
                entries,
                chain,
                grants,
                protected,
                hard_links_allowed,
            },
        )
}

/// A name, ordinary more often than not: with mostly withheld names nearly
/// every operation would be a denial.
pub fn name() -> impl Strategy<Value = usize> {
    prop_oneof![2 => 0..ORDINARY, 1 => 0..NAMES.len()]
}

/// Up to three grants of random directories, often after one of the root.
fn grants() -> impl Strategy<Value = Vec<(usize, bool)>> {
    let root = prop::option::weighted(0.75, any::<bool>());
    let others = prop::collection::vec((0..64usize, any::<bool>()), 0..3);
    (root, others).prop_map(|(root, others)| {
        // Directory 0 is the root.
        root.map(|w| (0, w)).into_iter().chain(others).collect()
    })
}

/// How to create one entry on disk, in order.
#[derive(Debug, Clone)]
enum Create {
    Dir,
    File(usize),
    HardLink(Vec<String>),
    Link(String),
    Socket,
    Fifo,
}

/// A materialised workspace: its model and the real files.
pub struct Workspace {
    _tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub model: Model,
    /// Every path of the tree, the root first, in creation order.
    pub paths: Vec<Vec<String>>,
    /// The paths of the chain, `c0` first (empty without a chain).
    pub chain: Vec<Vec<String>>,
    /// The paths of regular files and links: most reads aim at them.
    pub readable: Vec<Vec<String>>,
}

/// A fresh directory, in memory (`/dev/shm`) when the system has one: a
/// run creates and deletes hundreds of thousands of entries, and on ext4
/// finding free inodes for them costs most of the run's time.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix("airlock-prop")
            .tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("tempdir")
}

/// `..` enough times to climb from `from` to the root, then `to`.
fn relative(from: &[String], to: &[String]) -> String {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len() - common];
    parts.extend(to[common..].iter().map(String::as_str));
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

fn display(path: &[String]) -> String {
    path.join("/")
}

impl Workspace {
    /// Build the model of `spec`, then the files.
    pub fn create(spec: &Spec) -> Self {
        let tmp = scratch();
        let root = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&root).expect("mkdir root");
        std::fs::create_dir(&outside).expect("mkdir outside");
        let mut secret = OUTSIDE_MARK.to_vec();
        secret.extend_from_slice(b" outside the workspace\n");
        std::fs::write(outside.join("secret.txt"), secret).expect("write outside");

        let mut model = Model::default();
        let mut paths: Vec<Vec<String>> = vec![Vec::new()];
        let mut dirs: Vec<Vec<String>> = vec![Vec::new()];
        let mut files: Vec<Vec<String>> = Vec::new();
        let mut plan: Vec<(Vec<String>, Create)> = Vec::new();
        model.nodes.insert(Vec::new(), Node::Dir);

        for entry in &spec.entries {
            let parent = dirs[entry.parent % dirs.len()].clone();
            let mut path = parent.clone();
            path.push(NAMES[entry.name].to_string());
            if model.nodes.contains_key(&path) {
                continue;
            }
            let create = match &entry.kind {
                KindSpec::Dir => {
                    dirs.push(path.clone());
                    Create::Dir
                }
                KindSpec::HardLink(i) if !files.is_empty() => {
                    let first = files[i % files.len()].clone();
                    let Some(Node::File(id)) = model.nodes.get(&first) else {
                        unreachable!("files holds regular files only")
                    };
                    let id = *id;
                    model.files[id].names.push(path.clone());
                    model.nodes.insert(path.clone(), Node::File(id));
                    plan.push((path.clone(), Create::HardLink(first)));
                    paths.push(path);
                    continue;
                }
                KindSpec::File { .. } | KindSpec::HardLink(_) => {
                    let empty = matches!(entry.kind, KindSpec::File { empty: true });
                    let id = model.files.len();
                    model.files.push(super::model::FileInfo {
                        names: vec![path.clone()],
                        content: Vec::new(),
                        empty,
                    });
                    files.push(path.clone());
                    model.nodes.insert(path.clone(), Node::File(id));
                    plan.push((path.clone(), Create::File(id)));
                    paths.push(path);
                    continue;
                }
                KindSpec::Link(link) => {
                    Create::Link(target(link, &parent, &paths, &root, &outside))
                }
                KindSpec::Socket => {
                    // sun_path holds 108 bytes; a deeper socket is left out.
                    if root.join(display(&path)).as_os_str().len() > 100 {
                        continue;
                    }
                    Create::Socket
                }
                KindSpec::Fifo => Create::Fifo,
            };
            let node = match &create {
                Create::Dir => Node::Dir,
                Create::Link(t) => Node::Link(t.clone()),
                _ => Node::Special,
            };
            model.nodes.insert(path.clone(), node);
            plan.push((path.clone(), create));
            paths.push(path);
        }

        let mut chain = Vec::new();
        if let Some((len, end)) = spec.chain {
            let dir = vec!["chain".to_string()];
            let end = paths[end % paths.len()].clone();
            model.nodes.insert(dir.clone(), Node::Dir);
            plan.push((dir.clone(), Create::Dir));
            paths.push(dir.clone());
            for i in 0..len {
                let path = vec!["chain".to_string(), format!("c{i}")];
                let target = if i + 1 < len {
                    format!("c{}", i + 1)
                } else {
                    relative(&dir, &end)
                };
                model.nodes.insert(path.clone(), Node::Link(target.clone()));
                plan.push((path.clone(), Create::Link(target)));
                paths.push(path.clone());
                chain.push(path);
            }
        }

        for (dir, writable) in &spec.grants {
            let dir = dirs[dir % dirs.len()].clone();
            if !model.grants.iter().any(|(g, _)| *g == dir) {
                model.grants.push((dir, *writable));
            }
        }
        model.hard_links_allowed = spec.hard_links_allowed;
        if spec.protected {
            model.protected = Some(vec![".airlock".to_string()]);
        }

        // Content last: whether a file is secret depends on all its names.
        for id in 0..model.files.len() {
            let content = if model.is_secret(id) {
                let mut c = SECRET_MARK.to_vec();
                c.extend_from_slice(format!("{id} never to be read\n").as_bytes());
                c
            } else if model.files[id].empty {
                Vec::new()
            } else {
                format!("plain file {id}\n").into_bytes()
            };
            model.files[id].content = content;
        }

        for (path, create) in &plan {
            let at = root.join(display(path));
            match create {
                Create::Dir => std::fs::create_dir(&at).expect("mkdir"),
                Create::File(id) => std::fs::write(&at, &model.files[*id].content).expect("write"),
                Create::HardLink(first) => {
                    std::fs::hard_link(root.join(display(first)), &at).expect("hard link")
                }
                Create::Link(t) => std::os::unix::fs::symlink(t, &at).expect("symlink"),
                Create::Socket => {
                    std::os::unix::net::UnixListener::bind(&at).expect("socket");
                }
                Create::Fifo => rustix::fs::mknodat(
                    rustix::fs::CWD,
                    &at,
                    rustix::fs::FileType::Fifo,
                    rustix::fs::Mode::from_raw_mode(0o600),
                    0,
                )
                .expect("mkfifo"),
            }
        }
        let readable = model
            .nodes
            .iter()
            .filter(|(_, node)| matches!(node, Node::File(_) | Node::Link(_)))
            .map(|(path, _)| path.clone())
            .collect();
        Self {
            _tmp: tmp,
            root,
            model,
            paths,
            chain,
            readable,
        }
    }

    /// The tree, one line per entry, for failure messages.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for (path, node) in &self.model.nodes {
            let what = match node {
                Node::Dir => "dir".to_string(),
                Node::File(id) => {
                    let links = self.model.files[*id].names.len();
                    let secret = if self.model.is_secret(*id) {
                        " secret"
                    } else {
                        ""
                    };
                    format!("file #{id} ({links} names){secret}")
                }
                Node::Link(t) => format!("-> {t}"),
                Node::Special => "socket or FIFO".to_string(),
            };
            out.push_str(&format!("  /{}: {what}\n", display(path)));
        }
        out.push_str(&format!(
            "  grants: {:?}, protected: {:?}, hard links allowed: {}\n",
            self.model.grants, self.model.protected, self.model.hard_links_allowed
        ));
        out
    }
}

fn target(
    link: &LinkSpec,
    parent: &[String],
    paths: &[Vec<String>],
    root: &Path,
    outside: &Path,
) -> String {
    let up = |n: usize| vec![".."; n].join("/");
    match link {
        LinkSpec::ToEntry { entry, style } => {
            let rel = relative(parent, &paths[entry % paths.len()]);
            match style {
                Style::Plain => rel,
                Style::Trailing => format!("{rel}/"),
                Style::DotSlash => format!("./{rel}"),
                Style::Detour(n) => format!("{}/../{rel}", NAMES[*n]),
            }
        }
        LinkSpec::Named(names) => {
            let rest: Vec<&str> = names.iter().map(|n| NAMES[*n]).collect();
            if parent.is_empty() {
                rest.join("/")
            } else {
                format!("{}/{}", up(parent.len()), rest.join("/"))
            }
        }
        LinkSpec::Outside => format!("{}/outside/secret.txt", up(parent.len() + 1)),
        LinkSpec::Absolute {
            inside: true,
            entry,
        } => root
            .join(display(&paths[entry % paths.len()]))
            .display()
            .to_string(),
        LinkSpec::Absolute { inside: false, .. } => {
            outside.join("secret.txt").display().to_string()
        }
        LinkSpec::Dot => ".".into(),
        LinkSpec::DotDot => "..".into(),
    }
}
