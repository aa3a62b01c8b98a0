//! The private copy of the workspace a command works on.
//!
//! A command never writes the real workspace. Before it starts, the granted
//! part of the workspace is copied into a private folder (never a secret:
//! deny-listed files and folders are not copied at all, nor Airlock's state
//! directory, nor version-control internals, which the command gets
//! read-only from the real tree, nor scratch paths such as `target/`). The
//! command runs on the copy; afterwards [`Snapshot::changes`] compares the
//! copy with what was copied and lists what the command changed, for the
//! host to review under the profile's `edits.mode`.
//!
//! What is copied, and how each kind of entry is treated:
//! - regular files: content, permission bits (`0o777` only: never
//!   set-uid, set-gid or sticky) and modification and access times (build
//!   tools such as `make` compare them), hashed on the way so a change, and
//!   a conflict with the real file, can be told afterwards;
//! - folders: created; their contents copied;
//! - symbolic links: re-created with the same target (relative or
//!   absolute; an absolute target inside the workspace reaches the copy,
//!   since the copy is mounted at the workspace's own path);
//! - FIFOs, sockets and devices: not copied (a command cannot open a pipe
//!   another process holds, or a device, through the workspace);
//! - hard links: a regular file with more than one link is not copied
//!   unless the profile says `hard-links = "allow"`, and then not when it is
//!   the same file (device, inode) as a deny-listed one ([`links`]).
//!
//! The real tree is read through a cap-std directory without following
//! symbolic links at any step, so a link swapped in by another process
//! cannot make the copy read outside the workspace.

// Ambient std::fs allowed: the private copy lives in a temporary directory
// Airlock creates, and the workspace root is resolved to its real path before
// it is opened; the workspace itself is read through cap-std, never following
// links.
#![allow(clippy::disallowed_methods)]

use airlock_policy::denylist::DenyList;
use airlock_policy::profile::HardLinks;
use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt};
use cap_std::fs::MetadataExt as _;
use cap_std::fs::PermissionsExt as _;
use cap_std::fs::{Dir, OpenOptions};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

mod links;
#[cfg(test)]
mod tests;

pub use links::WITHHELD_REASON as HARD_LINK_REASON;

/// Names of version-control folders (compared without ASCII case): never
/// copied. A `.git` folder is mounted read-only from the real tree instead
/// (git needs its objects; [`super::isolate`] masks its `config`); changes
/// under any of them are never applied.
pub const VCS_DIRS: &[&str] = airlock_policy::denylist::VCS_NAMES;

/// The most entries (files, folders, links) one snapshot walks. A bigger
/// tree is refused with a message rather than copied for minutes.
pub const MAX_ENTRIES: usize = 200_000;

/// The most changes one command may leave for review; more are refused
/// whole (a command that rewrites thousands of files is not reviewable).
pub const MAX_CHANGES: usize = 2_000;

/// The most bytes one changed file may hold to be reviewed (the same cap as
/// one `write-file` call of a skill).
pub const MAX_CHANGED_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// How deep the copy descends.
const MAX_DEPTH: usize = 256;

/// Why a snapshot could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Over `commands.max-snapshot-mib`.
    #[error(
        "the granted workspace is over {limit_mib} MiB (commands.max-snapshot-mib), the most a command's private copy may hold; raise commands.max-snapshot-mib in the profile, or mark build output such as `target/` as commands.scratch"
    )]
    TooBig {
        /// The limit, MiB.
        limit_mib: u64,
    },
    /// Too many entries.
    #[error(
        "the granted workspace has more than {MAX_ENTRIES} entries; Airlock cannot copy it for a command (mark build output as commands.scratch, or grant a smaller part)"
    )]
    TooManyEntries,
    /// The file system holding the copy is full.
    #[error("cannot copy the workspace for the command: no space left in {0}")]
    NoSpace(String),
    /// The copy failed.
    #[error("cannot copy the workspace for the command: {0}")]
    Io(String),
}

/// What one copied entry was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Baseline {
    /// A regular file: its sha256 and whether any execute bit was set.
    File {
        /// sha256 of the content.
        sha256: [u8; 32],
        /// Any execute bit.
        executable: bool,
        /// The copy's size, inode and change time once written: while they
        /// hold, the command did not touch the file (a change time cannot
        /// be set back without privileges), so it is not read again.
        stamp: Stamp,
    },
    /// A folder.
    Dir,
    /// A symbolic link and its target.
    Symlink(Vec<u8>),
}

/// Size, inode and change time (seconds, nanoseconds) of a file.
pub type Stamp = (u64, u64, i64, i64);

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    (meta.len(), meta.ino(), meta.ctime(), meta.ctime_nsec())
}

/// What a snapshot is taken of.
pub struct SnapshotSpec<'a> {
    /// The real workspace.
    pub root: &'a Path,
    /// The granted sub-trees (workspace-relative, raw bytes; empty = all).
    pub grants: Vec<Vec<u8>>,
    /// The deny-list: matching entries are not copied.
    pub deny: &'a DenyList,
    /// Absolute paths never copied (Airlock's state directory).
    pub exclude: Vec<PathBuf>,
    /// Whether a workspace-relative path is scratch (not copied; changes
    /// discarded).
    pub is_scratch: &'a dyn Fn(&[u8]) -> bool,
    /// The most bytes of file content copied.
    pub max_bytes: u64,
    /// The profile's `hard-links` rule.
    pub hard_links: HardLinks,
    /// Where the private folder is made.
    pub parent: &'a Path,
}

/// A private copy of the workspace.
pub struct Snapshot {
    dir: tempfile::TempDir,
    baseline: BTreeMap<Vec<u8>, Baseline>,
    vcs_dirs: Vec<Vec<u8>>,
    excluded: Vec<Vec<u8>>,
    /// Regular files left out because of their hard links.
    links_withheld: BTreeSet<Vec<u8>>,
    bytes: u64,
}

/// One change a command made to its copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Workspace-relative path, raw bytes.
    pub path: Vec<u8>,
    /// What happened.
    pub kind: ChangeKind,
}

/// The kinds of change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new regular file.
    Create {
        /// Its content.
        content: Vec<u8>,
        /// Whether the command set an execute bit.
        executable: bool,
    },
    /// A regular file whose content changed.
    Modify {
        /// The content the command started from.
        before: [u8; 32],
        /// The new content.
        content: Vec<u8>,
    },
    /// A regular file the command deleted.
    Delete {
        /// The content the command started from.
        before: [u8; 32],
    },
    /// A new, empty folder.
    CreateDir,
    /// A change that is reported but never applied, and why.
    NotApplied(String),
}

impl Snapshot {
    /// Copy the granted workspace into a private folder under
    /// `spec.parent`.
    pub fn take(spec: &SnapshotSpec<'_>) -> Result<Self, SnapshotError> {
        let io = |what: &str, e: std::io::Error| SnapshotError::Io(format!("{what}: {e}"));
        std::fs::create_dir_all(spec.parent).map_err(|e| io("the temporary folder", e))?;
        let dir = tempfile::Builder::new()
            .prefix("cmd-")
            .tempdir_in(spec.parent)
            .map_err(|e| io("the temporary folder", e))?;
        let real = Dir::open_ambient_dir(spec.root, cap_std::ambient_authority())
            .map_err(|e| io("the workspace", e))?;
        let root = spec
            .root
            .canonicalize()
            .map_err(|e| io("the workspace", e))?;
        let excluded: Vec<Vec<u8>> = spec
            .exclude
            .iter()
            .filter_map(|p| p.canonicalize().ok())
            .filter_map(|p| {
                p.strip_prefix(&root)
                    .ok()
                    .map(|r| r.as_os_str().as_bytes().to_vec())
            })
            .collect();
        let mut snap = Self {
            dir,
            baseline: BTreeMap::new(),
            vcs_dirs: Vec::new(),
            excluded,
            links_withheld: BTreeSet::new(),
            bytes: 0,
        };
        let mut grants = spec.grants.clone();
        grants.sort();
        grants.dedup();
        let mut copier = Copier {
            spec,
            snap: &mut snap,
            entries: 0,
            buf: vec![0u8; 64 * 1024],
            links: links::Links::default(),
        };
        let tops: Vec<Vec<u8>> = grants
            .iter()
            .filter(|g| !grants.iter().any(|o| o != *g && is_under(g, o)))
            .cloned()
            .collect();
        for top in tops.iter().map(Vec::as_slice) {
            copier.copy_grant(&real, top)?;
        }
        copier.drop_linked_secrets()?;
        Ok(snap)
    }

    /// The private folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes of file content copied.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Regular files not copied because they have more than one hard link
    /// (workspace-relative), or, under `hard-links = "allow"`, because they
    /// are a deny-listed file under another name.
    pub fn links_withheld(&self) -> &BTreeSet<Vec<u8>> {
        &self.links_withheld
    }

    /// Version-control folders found (workspace-relative): the caller
    /// mounts each read-only from the real tree at its place in the copy.
    pub fn vcs_dirs(&self) -> &[Vec<u8>] {
        &self.vcs_dirs
    }

    /// What the command changed in its copy, in path order, and the bytes
    /// it left under scratch paths (discarded). Entries the copy left out
    /// on purpose (deny-listed, version control, Airlock's state, scratch)
    /// are compared as what they are: changes to them are never applied.
    pub fn changes(
        &self,
        deny: &DenyList,
        is_scratch: &dyn Fn(&[u8]) -> bool,
    ) -> Result<(Vec<Change>, u64), SnapshotError> {
        let io = |e: std::io::Error| SnapshotError::Io(format!("reading the command's copy: {e}"));
        let copy =
            Dir::open_ambient_dir(self.dir.path(), cap_std::ambient_authority()).map_err(io)?;
        let mut seen = BTreeMap::new();
        let mut scratch_bytes = 0u64;
        let mut out = Vec::new();
        // One open folder per level: each entry is reached by its own name,
        // never by a path through links the command may have planted.
        let mut stack: Vec<(Dir, Vec<u8>, usize)> = vec![(copy, Vec::new(), 0)];
        let mut entries = 0usize;
        while let Some((dir, rel, depth)) = stack.pop() {
            for item in dir.entries().map_err(io)? {
                let item = item.map_err(io)?;
                entries += 1;
                if entries > MAX_ENTRIES {
                    return Err(SnapshotError::TooManyEntries);
                }
                let name = item.file_name();
                let path = join(&rel, name.as_bytes());
                let ft = item.file_type().map_err(io)?;
                if self.is_vcs_mount(&path) {
                    seen.insert(path, ());
                    continue;
                }
                if is_scratch(&path) {
                    scratch_bytes = scratch_bytes.saturating_add(tree_bytes(&dir, &name, ft));
                    seen.insert(path, ());
                    continue;
                }
                let before = self.baseline.get(&path);
                let change = if ft.is_dir() {
                    if depth < MAX_DEPTH {
                        let sub = dir.open_dir_nofollow(&name).map_err(io)?;
                        stack.push((sub, path.clone(), depth + 1));
                    }
                    match before {
                        Some(Baseline::Dir) => None,
                        None => Some(ChangeKind::CreateDir),
                        Some(_) => Some(not_applied(
                            "the command replaced it with a folder; type changes are not applied",
                        )),
                    }
                } else if ft.is_symlink() {
                    let target = dir
                        .read_link_contents(&name)
                        .map(|t| t.as_os_str().as_bytes().to_vec())
                        .unwrap_or_default();
                    match before {
                        Some(Baseline::Symlink(old)) if *old == target => None,
                        _ => Some(not_applied(
                            "symbolic links a command makes or changes are not applied; make it yourself if you want it",
                        )),
                    }
                } else if ft.is_file() {
                    self.file_change(&dir, &name, before)?
                } else {
                    Some(not_applied(
                        "FIFOs, sockets and devices a command makes are not applied",
                    ))
                };
                seen.insert(path.clone(), ());
                if let Some(kind) = change {
                    if out.len() >= MAX_CHANGES {
                        return Err(SnapshotError::Io(format!(
                            "the command changed more than {MAX_CHANGES} files; none is applied (a change that large cannot be reviewed)"
                        )));
                    }
                    out.push(Change { path, kind });
                }
            }
        }
        for (path, base) in &self.baseline {
            if seen.contains_key(path) {
                continue;
            }
            let kind = match base {
                Baseline::File { sha256, .. } => ChangeKind::Delete { before: *sha256 },
                Baseline::Dir => continue,
                Baseline::Symlink(_) => {
                    not_applied("the command removed a symbolic link; this is not applied")
                }
            };
            out.push(Change {
                path: path.clone(),
                kind,
            });
        }
        // Changes to withheld paths are reported as such, whatever they are.
        for change in &mut out {
            if let Some(rule) = deny.matching_rule_bytes(&change.path) {
                change.kind = not_applied(&format!(
                    "withheld by the deny-list (rule `{rule}`): a command's change to a secret file is never applied"
                ));
            } else if has_vcs_component(&change.path) {
                change.kind = not_applied(
                    "version-control internals: a command's change there is never applied",
                );
            } else if self.links_withheld.contains(&change.path) {
                change.kind = not_applied(&format!(
                    "withheld from the command: {HARD_LINK_REASON}; its change is never applied"
                ));
            } else if self.is_excluded(&change.path) {
                change.kind =
                    not_applied("Airlock's state directory is never changed by a command");
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((out, scratch_bytes))
    }

    fn file_change(
        &self,
        dir: &Dir,
        name: &std::ffi::OsStr,
        before: Option<&Baseline>,
    ) -> Result<Option<ChangeKind>, SnapshotError> {
        let io = |e: std::io::Error| SnapshotError::Io(format!("reading the command's copy: {e}"));
        let mut options = OpenOptions::new();
        options.read(true).follow(FollowSymlinks::No);
        let file = dir.open_with(name, &options).map_err(io)?.into_std();
        let meta = file.metadata().map_err(io)?;
        if let Some(Baseline::File { stamp: s, .. }) = before
            && *s == stamp(&meta)
        {
            return Ok(None);
        }
        if meta.len() > MAX_CHANGED_FILE_BYTES {
            return Ok(Some(not_applied(&format!(
                "the file is {} bytes; a command's change is reviewed only up to {MAX_CHANGED_FILE_BYTES} bytes",
                meta.len()
            ))));
        }
        let mut content = Vec::new();
        (&file)
            .take(MAX_CHANGED_FILE_BYTES + 1)
            .read_to_end(&mut content)
            .map_err(io)?;
        let executable = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0;
        Ok(match before {
            None => Some(ChangeKind::Create {
                content,
                executable,
            }),
            Some(Baseline::File { sha256, .. }) => {
                let now: [u8; 32] = Sha256::digest(&content).into();
                (now != *sha256).then_some(ChangeKind::Modify {
                    before: *sha256,
                    content,
                })
            }
            Some(_) => Some(not_applied(
                "the command replaced it with a regular file; type changes are not applied",
            )),
        })
    }

    fn is_vcs_mount(&self, path: &[u8]) -> bool {
        self.vcs_dirs.iter().any(|d| d == path)
    }

    fn is_excluded(&self, path: &[u8]) -> bool {
        self.excluded.iter().any(|e| is_under(path, e))
    }
}

struct Copier<'s, 'a> {
    spec: &'s SnapshotSpec<'a>,
    snap: &'s mut Snapshot,
    entries: usize,
    buf: Vec<u8>,
    links: links::Links,
}

impl Copier<'_, '_> {
    /// Copy the granted sub-tree `top` (its parent folders are created).
    fn copy_grant(&mut self, real: &Dir, top: &[u8]) -> Result<(), SnapshotError> {
        if top.is_empty() {
            return self.copy_dir(real, &[], 0);
        }
        if self.skipped(top) {
            return Ok(());
        }
        let parent = parent_of(top);
        let name = OsStr::from_bytes(&top[parent.len() + usize::from(!parent.is_empty())..]);
        let dir = if parent.is_empty() {
            real.try_clone().map_err(|e| self.io(top, e))?
        } else {
            match real.open_dir(os(parent)) {
                Ok(d) => d,
                Err(_) => return Ok(()), // a grant of a path that does not exist
            }
        };
        let Ok(meta) = dir.symlink_metadata(name) else {
            return Ok(());
        };
        if !parent.is_empty() {
            std::fs::create_dir_all(self.dest(parent)).map_err(|e| self.io(top, e))?;
        }
        self.copy_entry(&dir, name, top.to_vec(), meta.file_type(), 0)
    }

    /// Under `hard-links = "allow"`: take out of the copy every multi-link
    /// file that is a skipped secret under another name.
    fn drop_linked_secrets(&mut self) -> Result<(), SnapshotError> {
        let found: Vec<Vec<u8>> = self.links.secrets_copied().map(<[u8]>::to_vec).collect();
        for path in found {
            std::fs::remove_file(self.dest(&path)).map_err(|e| self.io(&path, e))?;
            self.snap.baseline.remove(&path);
            self.snap.links_withheld.insert(path);
        }
        Ok(())
    }

    fn dest(&self, rel: &[u8]) -> PathBuf {
        self.snap.dir.path().join(os(rel))
    }

    fn io(&self, rel: &[u8], e: std::io::Error) -> SnapshotError {
        if e.kind() == std::io::ErrorKind::StorageFull {
            return SnapshotError::NoSpace(self.spec.parent.display().to_string());
        }
        SnapshotError::Io(format!("`{}`: {e}", String::from_utf8_lossy(rel)))
    }

    /// Whether `rel` is left out of the copy.
    fn skipped(&self, rel: &[u8]) -> bool {
        self.spec.deny.matching_rule_bytes(rel).is_some()
            || self.snap.is_excluded(rel)
            || (self.spec.is_scratch)(rel)
    }

    /// Copy the entries of the open folder `dir` (at `rel`).
    fn copy_dir(&mut self, dir: &Dir, rel: &[u8], depth: usize) -> Result<(), SnapshotError> {
        if depth > MAX_DEPTH {
            return Err(SnapshotError::Io(format!(
                "`{}` is nested more than {MAX_DEPTH} folders deep",
                String::from_utf8_lossy(rel)
            )));
        }
        for item in dir.entries().map_err(|e| self.io(rel, e))? {
            let item = item.map_err(|e| self.io(rel, e))?;
            let name = item.file_name();
            let path = join(rel, name.as_bytes());
            let ft = item.file_type().map_err(|e| self.io(&path, e))?;
            self.copy_entry(dir, &name, path, ft, depth)?;
        }
        Ok(())
    }

    /// Copy the entry `name` of the open folder `dir`, at `path`.
    fn copy_entry(
        &mut self,
        dir: &Dir,
        name: &OsStr,
        path: Vec<u8>,
        ft: cap_std::fs::FileType,
        depth: usize,
    ) -> Result<(), SnapshotError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(SnapshotError::TooManyEntries);
        }
        if self.skipped(&path) {
            let secret =
                self.spec.deny.matching_rule_bytes(&path).is_some() || self.snap.is_excluded(&path);
            if secret && self.spec.hard_links == HardLinks::Allow {
                let mut budget = MAX_ENTRIES.saturating_sub(self.entries);
                let complete = self.links.record_skipped(dir, name, ft, &mut budget);
                self.entries = MAX_ENTRIES - budget;
                if !complete {
                    return Err(SnapshotError::TooManyEntries);
                }
            }
            return Ok(());
        }
        if ft.is_dir() && airlock_policy::denylist::is_vcs_name(name.as_bytes()) {
            if name.as_bytes() == b".git" {
                // Mounted read-only from the real tree; the mount point is
                // made here.
                std::fs::create_dir(self.dest(&path)).map_err(|e| self.io(&path, e))?;
                self.snap.vcs_dirs.push(path);
            }
            return Ok(());
        }
        if ft.is_dir() {
            let sub = dir.open_dir_nofollow(name).map_err(|e| self.io(&path, e))?;
            let mode = sub
                .dir_metadata()
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0o755);
            std::fs::create_dir(self.dest(&path)).map_err(|e| self.io(&path, e))?;
            self.snap.baseline.insert(path.clone(), Baseline::Dir);
            self.copy_dir(&sub, &path, depth + 1)?;
            // Kept writable by the owner so the command can work in it.
            let _ = std::fs::set_permissions(
                self.dest(&path),
                std::fs::Permissions::from_mode(mode | 0o700),
            );
        } else if ft.is_symlink() {
            let target = dir
                .read_link_contents(name)
                .map_err(|e| self.io(&path, e))?;
            std::os::unix::fs::symlink(&target, self.dest(&path)).map_err(|e| self.io(&path, e))?;
            self.snap.baseline.insert(
                path,
                Baseline::Symlink(target.as_os_str().as_bytes().to_vec()),
            );
        } else if ft.is_file() {
            self.copy_file(dir, name, path)?;
        }
        // FIFOs, sockets and devices are not copied.
        Ok(())
    }

    fn copy_file(&mut self, dir: &Dir, name: &OsStr, path: Vec<u8>) -> Result<(), SnapshotError> {
        let mut options = OpenOptions::new();
        options.read(true).follow(FollowSymlinks::No);
        let mut from = dir
            .open_with(name, &options)
            .map_err(|e| self.io(&path, e))?;
        let meta = from.metadata().map_err(|e| self.io(&path, e))?;
        if !meta.is_file() {
            return Ok(()); // swapped for something else since the listing
        }
        if meta.nlink() > 1 {
            if self.spec.hard_links == HardLinks::Withhold {
                self.snap.links_withheld.insert(path);
                return Ok(());
            }
            self.links.copied(path.clone(), (meta.dev(), meta.ino()));
        }
        let limit = self.spec.max_bytes;
        let mode = meta.permissions().mode() & 0o777;
        let to = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.dest(&path))
            .map_err(|e| self.io(&path, e))?;
        let mut hasher = Sha256::new();
        let mut buf = std::mem::take(&mut self.buf);
        let copied = (|| -> Result<(), SnapshotError> {
            loop {
                let n = from.read(&mut buf).map_err(|e| self.io(&path, e))?;
                if n == 0 {
                    return Ok(());
                }
                self.snap.bytes = self.snap.bytes.saturating_add(n as u64);
                if self.snap.bytes > limit {
                    return Err(SnapshotError::TooBig {
                        limit_mib: limit / (1024 * 1024),
                    });
                }
                hasher.update(&buf[..n]);
                (&to).write_all(&buf[..n]).map_err(|e| self.io(&path, e))?;
            }
        })();
        self.buf = buf;
        copied?;
        to.set_permissions(std::fs::Permissions::from_mode(mode | 0o600))
            .map_err(|e| self.io(&path, e))?;
        // Build tools compare modification times: the copy keeps the real
        // file's, so `make` rebuilds what was edited since its last build.
        if let (Ok(modified), Ok(accessed)) = (meta.modified(), meta.accessed()) {
            let times = std::fs::FileTimes::new()
                .set_modified(modified.into_std())
                .set_accessed(accessed.into_std());
            to.set_times(times).map_err(|e| self.io(&path, e))?;
        }
        let written = to.metadata().map_err(|e| self.io(&path, e))?;
        self.snap.baseline.insert(
            path,
            Baseline::File {
                sha256: hasher.finalize().into(),
                executable: mode & 0o111 != 0,
                stamp: stamp(&written),
            },
        );
        Ok(())
    }
}

/// Read a whole file, not following a symbolic link.
pub(crate) fn read_nofollow(dir: &Dir, path: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut options = OpenOptions::new();
    options.read(true).follow(FollowSymlinks::No);
    let mut file = dir.open_with(os(path), &options)?;
    let mut content = Vec::new();
    file.read_to_end(&mut content)?;
    Ok(content)
}

/// The sha256 of the file at `path` under `dir` now, if it is a regular
/// file (not following links).
pub fn current_sha256(dir: &Dir, path: &[u8]) -> Option<[u8; 32]> {
    let meta = dir.symlink_metadata(os(path)).ok()?;
    if !meta.is_file() {
        return None;
    }
    read_nofollow(dir, path)
        .ok()
        .map(|c| Sha256::digest(&c).into())
}

/// Bytes of the regular files at `name` in `dir` (a file, or a folder's
/// whole tree), not following links.
fn tree_bytes(dir: &Dir, name: &OsStr, ft: cap_std::fs::FileType) -> u64 {
    if ft.is_file() {
        return dir.symlink_metadata(name).map(|m| m.len()).unwrap_or(0);
    }
    let Some(top) = ft
        .is_dir()
        .then(|| dir.open_dir_nofollow(name).ok())
        .flatten()
    else {
        return 0;
    };
    let mut total = 0u64;
    let mut stack = vec![top];
    let mut entries = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(listing) = dir.entries() else {
            continue;
        };
        for item in listing.flatten() {
            entries += 1;
            if entries > MAX_ENTRIES {
                return total;
            }
            match item.file_type() {
                Ok(t) if t.is_dir() => {
                    if let Ok(sub) = dir.open_dir_nofollow(item.file_name()) {
                        stack.push(sub);
                    }
                }
                Ok(t) if t.is_file() => {
                    total = total.saturating_add(item.metadata().map(|m| m.len()).unwrap_or(0));
                }
                _ => {}
            }
        }
    }
    total
}

fn not_applied(why: &str) -> ChangeKind {
    ChangeKind::NotApplied(why.to_string())
}

fn os(rel: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(rel))
}

fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    if parent.is_empty() {
        name.to_vec()
    } else {
        let mut p = parent.to_vec();
        p.push(b'/');
        p.extend_from_slice(name);
        p
    }
}

fn parent_of(rel: &[u8]) -> &[u8] {
    match rel.iter().rposition(|&b| b == b'/') {
        Some(i) => &rel[..i],
        None => &[],
    }
}

/// Whether `path` is `dir` or below it (`dir` empty = everything).
fn is_under(path: &[u8], dir: &[u8]) -> bool {
    dir.is_empty() || path == dir || (path.starts_with(dir) && path.get(dir.len()) == Some(&b'/'))
}

/// Whether any component of `path` is a version-control folder's name.
pub fn has_vcs_component(path: &[u8]) -> bool {
    path.split(|&b| b == b'/')
        .any(airlock_policy::denylist::is_vcs_name)
}
