//! The reference model: an in-memory tree and what each operation on it must
//! return. Written from the rules in `docs/security.md` ("Paths"), not from
//! the code under test, which it never calls.

use std::collections::{BTreeMap, VecDeque};

/// As Linux's `MAXSYMLINKS` and the documented limit.
pub const MAX_HOPS: usize = 40;
/// The most bytes a skill's path may have.
pub const MAX_PATH_BYTES: usize = 4096;
/// Linux's `NAME_MAX`: a longer component cannot be looked up at all.
pub const NAME_MAX: usize = 255;

/// Marks the content of every file a skill must never read.
pub const SECRET_MARK: &[u8] = b"SECRET#";
/// Marks the content of the file outside the workspace.
pub const OUTSIDE_MARK: &[u8] = b"OUTSIDE#";

/// Version-control directories: never shown to a skill, at any depth.
const VCS: &[&str] = &[".git", ".hg", ".svn", ".jj"];
/// Names never writable whatever the grant.
const WRITE_PROTECTED: &[&str] = &[".git", ".airlock"];

/// Whether one name is withheld by the built-in deny-list. Only the
/// deny-listed names the generator uses are covered (see `tree::NAMES`).
pub fn deny_listed(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == ".env"
        || n.starts_with(".env.")
        || n == ".ssh"
        || n.starts_with("id_rsa")
        || n.ends_with(".pem")
        || n.ends_with(".key")
}

/// Whether one name is a version-control directory (or gitdir file).
pub fn vcs(name: &str) -> bool {
    VCS.iter().any(|v| name.eq_ignore_ascii_case(v))
}

/// What lies at a path of the tree (symbolic links are not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    /// A regular file: index into [`Model::files`].
    File(usize),
    /// A symbolic link and its target as written.
    Link(String),
    /// A socket or a FIFO.
    Special,
}

/// One file identity (inode) and every name it has in the workspace.
#[derive(Debug, Clone)]
pub struct FileInfo {
    pub names: Vec<Vec<String>>,
    pub content: Vec<u8>,
    pub empty: bool,
}

/// The workspace, its grants and the protected state directory.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub nodes: BTreeMap<Vec<String>, Node>,
    pub files: Vec<FileInfo>,
    /// (path, writable), no two with the same path.
    pub grants: Vec<(Vec<String>, bool)>,
    /// Airlock's state directory inside the workspace, if any.
    pub protected: Option<Vec<String>>,
    /// The profile's `hard-links = "allow"`.
    pub hard_links_allowed: bool,
}

/// What a resolution must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Ok {
        real: Vec<String>,
        exists: bool,
    },
    Denied,
    Invalid,
    /// The model does not say (a component longer than `NAME_MAX`); only the
    /// safety properties are checked.
    Unsure,
}

/// What a read must give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadExpect {
    Content(Vec<u8>),
    Denied,
    NotFound,
    Invalid,
    Unsure,
}

/// The lexical join the documentation describes: `.` and empty parts
/// dropped, `..` removes the previous component, and climbing above the
/// root is `None`.
pub fn lexical_join(base: &[String], rest: &str) -> Option<Vec<String>> {
    let mut parts = base.to_vec();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            name => parts.push(name.to_string()),
        }
    }
    Some(parts)
}

impl Model {
    /// Whether a file identity must never reach a skill: one of its names
    /// is deny-listed, in version control, or in the state directory.
    pub fn is_secret(&self, file: usize) -> bool {
        self.files[file].names.iter().any(|n| self.withheld(n))
    }

    /// Whether a path is withheld from skills whatever the grants.
    pub fn withheld(&self, path: &[String]) -> bool {
        path.iter().any(|c| deny_listed(c) || vcs(c)) || self.in_state_dir(path)
    }

    fn in_state_dir(&self, path: &[String]) -> bool {
        self.protected.as_ref().is_some_and(|p| {
            path.len() >= p.len()
                && path
                    .iter()
                    .zip(p)
                    .all(|(a, b)| a.to_lowercase() == b.to_lowercase())
        })
    }

    /// The most specific grant covering `path` (component prefix).
    fn grant(&self, path: &[String]) -> Option<bool> {
        self.grants
            .iter()
            .filter(|(g, _)| path.len() >= g.len() && path[..g.len()] == g[..])
            .max_by_key(|(g, _)| g.len())
            .map(|(_, w)| *w)
    }

    /// Whether policy allows `path` for reading (and writing).
    pub fn allowed(&self, path: &[String], write: bool) -> bool {
        if self.withheld(path) {
            return false;
        }
        let Some(writable) = self.grant(path) else {
            return false;
        };
        if write {
            let protected = path
                .iter()
                .any(|c| WRITE_PROTECTED.iter().any(|p| c.eq_ignore_ascii_case(p)));
            return writable && !protected;
        }
        true
    }

    /// What `resolve(raw, need)` must return.
    pub fn resolve(&self, raw: &str, write: bool) -> Expect {
        if raw.len() > MAX_PATH_BYTES || raw.contains('\0') {
            return Expect::Invalid;
        }
        if raw.starts_with('/') {
            return Expect::Denied;
        }
        let Some(asked) = lexical_join(&[], raw) else {
            return Expect::Denied;
        };
        if !self.allowed(&asked, write) {
            return Expect::Denied;
        }
        let outcome = self.follow(&asked);
        if let Expect::Ok { real, .. } = &outcome
            && *real != asked
            && !self.allowed(real, write)
        {
            return Expect::Denied;
        }
        outcome
    }

    /// Follow links one component at a time, beneath the root only.
    fn follow(&self, asked: &[String]) -> Expect {
        let mut done: Vec<String> = Vec::new();
        let mut pending: VecDeque<String> = asked.iter().cloned().collect();
        let mut hops = 0;
        while let Some(name) = pending.pop_front() {
            if name.len() > NAME_MAX {
                return Expect::Unsure;
            }
            let mut candidate = done.clone();
            candidate.push(name);
            match self.nodes.get(&candidate) {
                // A link in a withheld folder is never followed (its target
                // would tell what the folder holds).
                Some(Node::Link(_)) if self.withheld(&candidate) => return Expect::Denied,
                Some(Node::Link(target)) => {
                    hops += 1;
                    if hops > MAX_HOPS || target.starts_with('/') {
                        return Expect::Denied;
                    }
                    let Some(base) = lexical_join(&done, target) else {
                        return Expect::Denied;
                    };
                    for part in base.into_iter().rev() {
                        pending.push_front(part);
                    }
                    done.clear();
                }
                Some(_) => done = candidate,
                None => {
                    candidate.extend(pending);
                    return Expect::Ok {
                        real: candidate,
                        exists: false,
                    };
                }
            }
        }
        Expect::Ok {
            real: done,
            exists: true,
        }
    }

    /// Whether `path` names a regular file with more than one name.
    pub fn hard_linked(&self, path: &[String]) -> bool {
        matches!(self.nodes.get(path), Some(Node::File(id)) if self.files[*id].names.len() > 1)
    }

    /// What reading the regular file `raw` reaches must return.
    pub fn read(&self, raw: &str) -> ReadExpect {
        match self.resolve(raw, false) {
            Expect::Denied => ReadExpect::Denied,
            Expect::Invalid => ReadExpect::Invalid,
            Expect::Unsure => ReadExpect::Unsure,
            Expect::Ok { exists: false, .. } => ReadExpect::NotFound,
            Expect::Ok { real, exists: true } => match self.nodes.get(&real) {
                // A second name may be a secret's: withheld, or with
                // `hard-links = "allow"` withheld when it is a secret's.
                Some(Node::File(id))
                    if self.files[*id].names.len() > 1
                        && (!self.hard_links_allowed || self.is_secret(*id)) =>
                {
                    ReadExpect::Denied
                }
                Some(Node::File(id)) => ReadExpect::Content(self.files[*id].content.clone()),
                // Directories, sockets, FIFOs: only regular files are read.
                _ => ReadExpect::Invalid,
            },
        }
    }
}
