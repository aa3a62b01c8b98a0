//! Resolving a skill's path to a file beneath the workspace root.

use super::denylist::{DenyList, VCS_REASON, VCS_RULE, vcs_component};
use crate::profile::Grant;
use airlock_core::paths::{PathError, RelPath};
use cap_std::fs::Dir;
use std::collections::VecDeque;
use std::io;

/// How many symbolic links one resolution may pass through (as Linux's
/// `MAXSYMLINKS`); more is a loop or an attack.
pub const MAX_SYMLINK_HOPS: usize = 40;

/// What a request needs from its grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// List, stat, read, search.
    Read,
    /// Write, create, remove.
    Write,
}

impl Need {
    /// The capability name used in denials.
    pub fn capability(self) -> &'static str {
        match self {
            Self::Read => "workspace-read",
            Self::Write => "workspace-write",
        }
    }
}

/// Why a path cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Policy says no; the sentence says which rule.
    Denied(String),
    /// Nothing there (inside a grant).
    NotFound,
    /// The path is malformed.
    Invalid(String),
    /// The filesystem failed.
    Io(String),
}

/// A path that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path the skill asked for, normalised.
    pub asked: RelPath,
    /// The path it reaches once symbolic links are followed.
    pub real: RelPath,
    /// Whether something exists at `real`.
    pub exists: bool,
}

/// A workspace root with its grants, deny-list and protected paths.
pub struct Sandbox {
    root: Dir,
    grants: Vec<Grant>,
    deny: DenyList,
    protected: Vec<RelPath>,
    hard_links: crate::profile::HardLinks,
    /// Deny-listed files' identities (see [`super::open`]), found on first use.
    identities: DenyIdentities,
}

type DenyIdentities =
    std::sync::OnceLock<Result<std::collections::HashSet<super::open::Identity>, String>>;

/// Directory names that are never writable, whatever the grant: `.git`
/// internals (hooks and config run code) and Airlock's own state.
pub const WRITE_PROTECTED_NAMES: &[&str] = &[".git", ".airlock"];

impl Sandbox {
    /// A sandbox over `root`. `protected` are workspace-relative paths a
    /// skill may neither read nor write (Airlock's state directory, when it
    /// lies inside the workspace: it holds the cache key).
    pub fn new(root: Dir, grants: Vec<Grant>, deny: DenyList, protected: Vec<RelPath>) -> Self {
        Self {
            root,
            grants,
            deny,
            protected,
            hard_links: crate::profile::HardLinks::default(),
            identities: DenyIdentities::new(),
        }
    }

    /// The profile's `hard-links` rule (default: withhold).
    pub fn with_hard_links(mut self, rule: crate::profile::HardLinks) -> Self {
        self.hard_links = rule;
        self
    }

    /// The profile's `hard-links` rule.
    pub fn hard_links(&self) -> crate::profile::HardLinks {
        self.hard_links
    }

    pub(super) fn identity_cell(&self) -> &DenyIdentities {
        &self.identities
    }

    /// The workspace root capability.
    pub fn root(&self) -> &Dir {
        &self.root
    }

    /// The grants.
    pub fn grants(&self) -> &[Grant] {
        &self.grants
    }

    /// The deny-list rule that withholds `path`, if any.
    pub fn withheld_by(&self, path: &RelPath) -> Option<&str> {
        self.deny.matching_rule(&path.to_string())
    }

    /// Whether `path` lies in Airlock's state directory. Compared without
    /// case, so a case-insensitive filesystem cannot offer a second spelling.
    fn is_protected(&self, path: &RelPath) -> bool {
        let lower = |p: &RelPath| -> Vec<String> {
            p.components().iter().map(|c| c.to_lowercase()).collect()
        };
        let path = lower(path);
        self.protected.iter().any(|p| {
            let p = lower(p);
            path.len() >= p.len() && path[..p.len()] == p[..]
        })
    }

    /// Why `path` is hidden from listings, if it is: Airlock's state
    /// directory (`airlock-state`), version-control internals
    /// (`version-control`), or a deny-list rule.
    pub fn hidden_by(&self, path: &RelPath) -> Option<String> {
        if self.is_protected(path) {
            return Some("airlock-state".into());
        }
        if is_vcs(path) {
            return Some(VCS_RULE.into());
        }
        self.withheld_by(path).map(str::to_string)
    }

    /// The grant that covers `path` for `need` (the most specific one).
    pub fn grant_for(&self, path: &RelPath, need: Need) -> Option<&Grant> {
        self.grants
            .iter()
            .filter(|g| path.starts_with(&g.path.0))
            .max_by_key(|g| g.path.0.components().len())
            .filter(|g| need == Need::Read || g.writable)
    }

    /// Check `raw` for `need` and find what it reaches.
    pub fn resolve(&self, raw: &str, need: Need) -> Result<Resolved, Refusal> {
        let asked = RelPath::parse(raw).map_err(|e| match e {
            PathError::TooLong(_) | PathError::Nul => Refusal::Invalid(e.to_string()),
            PathError::Absolute | PathError::Escapes => Refusal::Denied(e.to_string()),
        })?;
        self.check_policy(&asked, need, None)?;
        let (real, exists) = self.follow_links(&asked)?;
        if real != asked {
            self.check_policy(&real, need, Some(&asked))?;
        }
        Ok(Resolved {
            asked,
            real,
            exists,
        })
    }

    fn check_policy(
        &self,
        path: &RelPath,
        need: Need,
        via: Option<&RelPath>,
    ) -> Result<(), Refusal> {
        let through = |what: String| match via {
            Some(link) => format!("`{link}` is a symbolic link to `{path}`, which is {what}"),
            None => what,
        };
        // A hidden target is not named: the rule is enough, and the name
        // would tell a skill what lies inside a secret folder or `.git`.
        let hidden_through = |what: String| match via {
            Some(link) => format!("`{link}` is a symbolic link to a path that is {what}"),
            None => what,
        };
        if let Some(rule) = self.withheld_by(path) {
            return Err(Refusal::Denied(hidden_through(format!(
                "withheld by the deny-list (rule `{rule}`): secret files are never read or written, whatever the profile grants"
            ))));
        }
        if let Some(name) = vcs_component(&path.to_string()) {
            return Err(Refusal::Denied(hidden_through(format!(
                "inside `{}`: {VCS_REASON}",
                name.to_ascii_lowercase()
            ))));
        }
        if self.is_protected(path) {
            return Err(Refusal::Denied(hidden_through(
                "inside Airlock's state directory, which skills can never read or write".into(),
            )));
        }
        if self.grant_for(path, Need::Read).is_none() {
            return Err(Refusal::Denied(through(format!(
                "not inside any path the profile grants (granted: {}); add a [[grant]] covering it to the profile",
                self.granted_list()
            ))));
        }
        if need == Need::Write {
            if let Some(name) = path.components().iter().find(|c| {
                WRITE_PROTECTED_NAMES
                    .iter()
                    .any(|p| c.eq_ignore_ascii_case(p))
            }) {
                return Err(Refusal::Denied(through(format!(
                    "inside `{name}`, which is never writable (git hooks and config could run code; Airlock's state is its own)"
                ))));
            }
            if self.grant_for(path, Need::Write).is_none() {
                return Err(Refusal::Denied(through(
                    "granted read-only: the profile needs `access = \"read-write\"` on a [[grant]] covering it".into(),
                )));
            }
        }
        Ok(())
    }

    fn granted_list(&self) -> String {
        if self.grants.is_empty() {
            return "nothing".into();
        }
        self.grants
            .iter()
            .map(|g| g.path.0.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Follow symbolic links component by component, beneath the root only.
    /// Returns the real path and whether it exists.
    fn follow_links(&self, asked: &RelPath) -> Result<(RelPath, bool), Refusal> {
        let mut done = RelPath::root();
        let mut pending: VecDeque<String> = asked.components().iter().cloned().collect();
        let mut hops = 0;
        while let Some(name) = pending.pop_front() {
            let candidate = done.child(&name);
            match self.root.symlink_metadata(candidate.to_path()) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    if self.hidden_by(&candidate).is_some() {
                        // A link inside a secret folder or `.git` is not
                        // followed: the path is refused by its rule.
                        let mut real = candidate;
                        for part in pending {
                            real = real.child(&part);
                        }
                        return Ok((real, true));
                    }
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Err(Refusal::Denied(format!(
                            "resolving it passes through more than {MAX_SYMLINK_HOPS} symbolic links"
                        )));
                    }
                    let target = self
                        .root
                        .read_link_contents(candidate.to_path())
                        .map_err(|e| {
                            // EINVAL: no longer a link. Another process
                            // changed the path between two steps.
                            if e.kind() == io::ErrorKind::InvalidInput {
                                Refusal::Io(format!(
                                    "`{candidate}` changed while it was being resolved (another process is changing the workspace); try again"
                                ))
                            } else {
                                Refusal::Io(e.to_string())
                            }
                        })?;
                    let target = target.to_str().ok_or_else(|| {
                        Refusal::Denied(format!(
                            "`{candidate}` is a symbolic link to a non-UTF-8 path"
                        ))
                    })?;
                    // The target is never named: it may be a path of the
                    // user's machine outside the workspace.
                    let outside = || {
                        Refusal::Denied(format!(
                            "`{candidate}` is a symbolic link that leads outside the workspace"
                        ))
                    };
                    if target.starts_with('/') {
                        return Err(outside());
                    }
                    let base = done.join_lexically(target).map_err(|_| outside())?;
                    for part in base.components().iter().rev() {
                        pending.push_front(part.clone());
                    }
                    done = RelPath::root();
                }
                Ok(_) => done = candidate,
                Err(e) if is_missing(&e) => {
                    let mut real = candidate;
                    for part in pending {
                        real = real.child(&part);
                    }
                    return Ok((real, false));
                }
                Err(e) if is_escape(&e) => {
                    return Err(Refusal::Denied(
                        "the path leads outside the workspace".into(),
                    ));
                }
                Err(e) => return Err(Refusal::Io(e.to_string())),
            }
        }
        Ok((done, true))
    }
}

/// Whether any component of `path` is a version-control name.
fn is_vcs(path: &RelPath) -> bool {
    path.components()
        .iter()
        .any(|c| super::denylist::is_vcs_name(c.as_bytes()))
}

fn is_missing(e: &io::Error) -> bool {
    // ENOTDIR: a component that should be a directory is a file.
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// cap-std reports an attempted escape as `PermissionDenied` with this text.
fn is_escape(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
        && e.to_string().contains("outside of the filesystem")
}

#[cfg(test)]
mod tests {
    //! Resolution tested on a real directory without any WebAssembly.
    use super::*;
    use crate::profile::{Grant, RelPathString};

    fn sandbox(dir: &std::path::Path, grants: &[(&str, bool)]) -> Sandbox {
        let root = Dir::open_ambient_dir(dir, cap_std::ambient_authority()).expect("open root");
        let grants = grants
            .iter()
            .map(|(p, w)| Grant {
                path: RelPathString(RelPath::parse(p).expect("valid grant")),
                writable: *w,
            })
            .collect();
        Sandbox::new(
            root,
            grants,
            DenyList::new::<&str>(&[]).expect("deny-list"),
            vec![],
        )
    }

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("src/nested")).expect("mkdir");
        std::fs::write(dir.path().join("src/a.rs"), "a").expect("write");
        std::fs::write(dir.path().join(".env"), "SECRET").expect("write");
        std::os::unix::fs::symlink("nested", dir.path().join("src/link")).expect("symlink");
        std::os::unix::fs::symlink("../.env", dir.path().join("src/env-link")).expect("symlink");
        dir
    }

    #[test]
    fn resolves_inside_and_follows_inner_links() {
        let dir = tree();
        let sb = sandbox(dir.path(), &[(".", false)]);
        let r = sb.resolve("src/link/new.rs", Need::Read).expect("inside");
        assert_eq!(r.real.to_string(), "src/nested/new.rs");
        assert!(!r.exists);
        assert!(sb.resolve("src/a.rs", Need::Read).expect("inside").exists);
    }

    #[test]
    fn grants_decide_read_and_write() {
        let dir = tree();
        let sb = sandbox(dir.path(), &[("src", false), ("src/nested", true)]);
        assert!(sb.resolve("src/nested/x", Need::Write).is_ok());
        assert!(
            matches!(sb.resolve("src/a.rs", Need::Write), Err(Refusal::Denied(r)) if r.starts_with("granted read-only"))
        );
        assert!(
            matches!(sb.resolve("README.md", Need::Read), Err(Refusal::Denied(r)) if r.starts_with("not inside any path"))
        );
        // Both the path asked for and the file it reaches must be writable:
        // `src/link` is in the read-only `src` even though it leads to `src/nested`.
        assert!(
            matches!(sb.resolve("src/link/x", Need::Write), Err(Refusal::Denied(r)) if r.starts_with("granted read-only"))
        );
    }

    #[test]
    fn deny_list_applies_to_link_targets() {
        let dir = tree();
        let sb = sandbox(dir.path(), &[(".", false)]);
        let Err(Refusal::Denied(reason)) = sb.resolve("src/env-link", Need::Read) else {
            panic!("must be denied");
        };
        assert!(
            reason.starts_with(
                "`src/env-link` is a symbolic link to a path that is withheld by the deny-list (rule `.env`)"
            ),
            "{reason}"
        );
    }

    fn denied(sb: &Sandbox, raw: &str, need: Need) -> String {
        match sb.resolve(raw, need) {
            Err(Refusal::Denied(reason)) => reason,
            other => panic!("{raw} must be denied, got {other:?}"),
        }
    }

    #[test]
    fn version_control_internals_are_refused_at_any_depth_and_any_case() {
        let dir = tree();
        let d = dir.path();
        std::fs::create_dir_all(d.join(".git/objects")).expect("mkdir");
        std::fs::write(d.join(".git/config"), "[remote]").expect("write");
        std::fs::create_dir_all(d.join("sub")).expect("mkdir");
        std::fs::write(d.join("sub/.git"), "gitdir: ../.git/modules/sub").expect("write");
        std::os::unix::fs::symlink(".git", d.join("src/innocent")).expect("symlink");
        let sb = sandbox(d, &[(".", true)]);
        for raw in [
            ".git",
            ".git/config",
            "./src/../.git/config",
            ".GIT/config",
            "sub/.git",
            "a/b/.hg/hgrc",
            ".svn/entries",
            ".jj/repo",
        ] {
            for need in [Need::Read, Need::Write] {
                let reason = denied(&sb, raw, need);
                assert!(reason.contains(super::VCS_REASON), "{raw}: {reason}");
            }
        }
        assert_eq!(
            denied(&sb, "src/innocent/config", Need::Read),
            format!(
                "`src/innocent/config` is a symbolic link to a path that is inside `.git`: {}",
                super::VCS_REASON
            )
        );
        assert_eq!(
            sb.hidden_by(&RelPath::parse("sub/.Git").expect("valid")),
            Some("version-control".into())
        );
        assert!(sb.resolve(".gitignore", Need::Read).is_ok());
        assert!(sb.resolve(".github/workflows", Need::Read).is_ok());
    }

    #[test]
    fn denials_never_name_a_link_target_outside_the_workspace() {
        let dir = tree();
        let d = dir.path();
        std::os::unix::fs::symlink("/home/someone/private", d.join("abs")).expect("symlink");
        std::os::unix::fs::symlink("../../outside/dir", d.join("src/rel")).expect("symlink");
        let sb = sandbox(d, &[(".", false)]);
        assert_eq!(
            denied(&sb, "abs/x", Need::Read),
            "`abs` is a symbolic link that leads outside the workspace"
        );
        assert_eq!(
            denied(&sb, "src/rel", Need::Read),
            "`src/rel` is a symbolic link that leads outside the workspace"
        );
    }

    #[test]
    fn links_inside_hidden_folders_are_not_followed_or_named() {
        let dir = tree();
        let d = dir.path();
        std::fs::create_dir_all(d.join(".ssh")).expect("mkdir");
        std::os::unix::fs::symlink("/etc", d.join(".ssh/out")).expect("symlink");
        std::os::unix::fs::symlink("../src", d.join(".ssh/back")).expect("symlink");
        std::os::unix::fs::symlink(".ssh/out", d.join("via-out")).expect("symlink");
        std::os::unix::fs::symlink(".ssh/back/a.rs", d.join("via-back")).expect("symlink");
        let sb = sandbox(d, &[(".", false)]);
        for raw in ["via-out", "via-back"] {
            let reason = denied(&sb, raw, Need::Read);
            assert!(
                reason.starts_with(&format!(
                    "`{raw}` is a symbolic link to a path that is withheld by the deny-list (rule `.ssh`)"
                )),
                "{reason}"
            );
            assert!(!reason.contains(".ssh/"), "{reason}");
        }
    }

    #[test]
    fn malformed_paths_are_invalid_not_denied() {
        let dir = tree();
        let sb = sandbox(dir.path(), &[(".", false)]);
        assert_eq!(
            sb.resolve("a\0b", Need::Read),
            Err(Refusal::Invalid("the path contains a NUL byte".into()))
        );
    }
}
