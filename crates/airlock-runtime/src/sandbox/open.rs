//! The one way the host opens a workspace path: by identity, not by name.
//!
//! [`Sandbox::resolve`] checks names (grants, deny-list, links that stay
//! inside). Between that check and the use, another process can swap a
//! directory for a symbolic link, or a file for a FIFO. So every open here
//! starts from the root directory's descriptor and goes one component at a
//! time with `O_NOFOLLOW`: a symbolic link anywhere on the path fails the
//! open (`ELOOP`/`ENOTDIR`) instead of being followed. For the last
//! component the type is checked with a no-follow `statat` *before* the open
//! (a FIFO would block the open; a device could have side effects), and the
//! opened descriptor's identity (device, inode) and type are checked again
//! with `fstat`, so a swap between the two cannot win.
//!
//! Names cannot see a hard link: `notes.txt` may be `.env` under another
//! name. A regular file with more than one link is withheld unless the
//! profile sets `hard-links = "allow"`, and then it is compared with the
//! identities of the deny-listed files of the workspace
//! ([`collect_denied_identities`]).
//!
//! Writes, removals and directory creation happen inside a parent directory
//! handle opened the same way, so the name they act on is the one checked.

use super::resolve::{Need, Refusal, Resolved, Sandbox};
use crate::profile::HardLinks;
use airlock_core::paths::RelPath;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::collections::HashSet;
use std::os::fd::{AsFd, OwnedFd};

/// The most directory entries the deny-list identity scan looks at. A
/// workspace with more is not scanned to the end; then no multi-link file
/// can be cleared, and all of them are withheld (fail closed).
pub const MAX_IDENTITY_SCAN_ENTRIES: usize = 500_000;
/// How deep the identity scan descends (as `walk`'s own depth limit).
pub const MAX_IDENTITY_SCAN_DEPTH: usize = 64;

/// A file's identity: the device and inode number it lives at. Two names
/// with the same identity are the same file (hard links).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    /// `st_dev`.
    pub dev: u64,
    /// `st_ino`.
    pub ino: u64,
}

/// What a no-follow stat found.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    /// Device and inode.
    pub id: Identity,
    /// Link count.
    pub nlink: u64,
    /// Type.
    pub kind: FileType,
    /// Size in bytes.
    pub size: u64,
    /// Permission bits.
    pub mode: u32,
    /// Last modification, milliseconds since the Unix epoch.
    pub modified_ms: Option<u64>,
}

impl Facts {
    // Field widths differ between architectures (`st_nlink` is 32 bits on
    // aarch64, 64 on x86_64); the casts widen, never narrow.
    #[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
    fn of(st: &rustix::fs::Stat) -> Self {
        let modified_ms = u64::try_from(st.st_mtime).ok().map(|secs| {
            secs.saturating_mul(1000)
                .saturating_add(st.st_mtime_nsec as u64 / 1_000_000)
        });
        Self {
            id: Identity {
                dev: st.st_dev as u64,
                ino: st.st_ino as u64,
            },
            nlink: st.st_nlink as u64,
            kind: FileType::from_raw_mode(st.st_mode as _),
            size: u64::try_from(st.st_size).unwrap_or(0),
            mode: (st.st_mode as u32) & 0o7777,
            modified_ms,
        }
    }
}

/// Why a no-follow open failed.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Nothing there.
    #[error("`{0}` does not exist")]
    NotFound(RelPath),
    /// A symbolic link or another file took the checked one's place.
    #[error(
        "`{0}` changed while it was being opened (a symbolic link or another file took the place of what was checked); nothing was followed or read"
    )]
    Changed(RelPath),
    /// A FIFO, socket or device.
    #[error("`{path}` is a {kind}; only regular files and directories can be read")]
    NotRegular {
        /// Where.
        path: RelPath,
        /// `FIFO`, `socket`, `character device`, `block device`.
        kind: &'static str,
    },
    /// A directory where a file was wanted.
    #[error("`{0}` is a directory, not a regular file")]
    Directory(RelPath),
    /// A file where a directory was wanted.
    #[error("`{0}` is not a directory")]
    NotDirectory(RelPath),
    /// The system call failed otherwise.
    #[error("`{path}`: {source}")]
    Io {
        /// Where.
        path: RelPath,
        /// Why.
        source: std::io::Error,
    },
}

impl OpenError {
    fn io(path: &RelPath, e: Errno) -> Self {
        if e == Errno::NOENT {
            return Self::NotFound(path.clone());
        }
        Self::Io {
            path: path.clone(),
            source: e.into(),
        }
    }
}

impl From<OpenError> for Refusal {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::NotFound(_) => Refusal::NotFound,
            // A swap under our feet is an attack or a race: a denial, recorded.
            OpenError::Changed(_) => Refusal::Denied(e.to_string()),
            OpenError::NotRegular { .. } | OpenError::Directory(_) | OpenError::NotDirectory(_) => {
                Refusal::Invalid(e.to_string())
            }
            OpenError::Io { .. } => Refusal::Io(e.to_string()),
        }
    }
}

fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::Fifo => "FIFO",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Symlink => "symbolic link",
        FileType::Directory => "directory",
        FileType::RegularFile => "regular file",
        _ => "special file",
    }
}

const DIR_STEP: OFlags = OFlags::PATH
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);
const DIR_OPEN: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// Open one component `name` of `dir` (at `path`) as a directory, without
/// following a symbolic link.
fn step(dir: impl AsFd, name: &str, path: &RelPath, flags: OFlags) -> Result<OwnedFd, OpenError> {
    match rustix::fs::openat(&dir, name, flags, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::LOOP) => Err(OpenError::Changed(path.clone())),
        Err(Errno::NOTDIR) => {
            // A symbolic link (to anything), or a plain file. A directory
            // now means it was swapped for something else and back.
            match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .map(|st| FileType::from_raw_mode(st.st_mode as _))
            {
                Ok(FileType::Symlink | FileType::Directory) | Err(_) => {
                    Err(OpenError::Changed(path.clone()))
                }
                Ok(_) => Err(OpenError::NotDirectory(path.clone())),
            }
        }
        Err(e) => Err(OpenError::io(path, e)),
    }
}

/// Open the directory `dir` beneath `root`, one component at a time, never
/// following a symbolic link. The handle can read its entries.
pub fn open_dir(root: impl AsFd, dir: &RelPath) -> Result<OwnedFd, OpenError> {
    let parts = dir.components();
    let mut done = RelPath::root();
    let Some((last, ancestors)) = parts.split_last() else {
        return rustix::fs::openat(&root, ".", DIR_OPEN, Mode::empty())
            .map_err(|e| OpenError::io(&done, e));
    };
    let mut cur: Option<OwnedFd> = None;
    for name in ancestors {
        done = done.child(name);
        let next = match &cur {
            None => step(&root, name, &done, DIR_STEP)?,
            Some(fd) => step(fd, name, &done, DIR_STEP)?,
        };
        cur = Some(next);
    }
    done = done.child(last);
    match &cur {
        None => step(&root, last, &done, DIR_OPEN),
        Some(fd) => step(fd, last, &done, DIR_OPEN),
    }
}

/// Create `dir` and its missing parents beneath `root`, never following a
/// symbolic link; returns a handle on it.
pub fn create_dir_all(root: impl AsFd, dir: &RelPath) -> Result<OwnedFd, OpenError> {
    let mut cur = rustix::fs::openat(&root, ".", DIR_OPEN, Mode::empty())
        .map_err(|e| OpenError::io(&RelPath::root(), e))?;
    let mut done = RelPath::root();
    for name in dir.components() {
        done = done.child(name);
        cur = match step(&cur, name, &done, DIR_OPEN) {
            Ok(fd) => fd,
            Err(OpenError::NotFound(_)) => {
                match rustix::fs::mkdirat(&cur, name.as_str(), Mode::from_raw_mode(0o777)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(OpenError::io(&done, e)),
                }
                step(&cur, name, &done, DIR_OPEN)?
            }
            Err(e) => return Err(e),
        };
    }
    Ok(cur)
}

/// The parent directory of `path` (opened no-follow) and the last name.
pub fn open_parent(root: impl AsFd, path: &RelPath) -> Result<(OwnedFd, &str), OpenError> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(OpenError::Directory(path.clone()));
    };
    Ok((open_dir(root, &parent)?, name))
}

/// A no-follow stat of `name` in `dir` (`path` is for messages).
pub fn stat_in(dir: impl AsFd, name: &str, path: &RelPath) -> Result<Facts, OpenError> {
    rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
        .map(|st| Facts::of(&st))
        .map_err(|e| OpenError::io(path, e))
}

/// A no-follow stat of `path` beneath `root`.
pub fn stat(root: impl AsFd, path: &RelPath) -> Result<Facts, OpenError> {
    if path.is_root() {
        return rustix::fs::fstat(&root)
            .map(|st| Facts::of(&st))
            .map_err(|e| OpenError::io(path, e));
    }
    let (dir, name) = open_parent(root, path)?;
    stat_in(&dir, name, path)
}

/// Open the regular file `name` in `dir` for reading: type checked before
/// the open (FIFOs, sockets and devices are never opened), no-follow open,
/// then the descriptor's identity and type checked against that stat.
pub fn open_regular_in(
    dir: impl AsFd,
    name: &str,
    path: &RelPath,
) -> Result<(std::fs::File, Facts), OpenError> {
    let before = stat_in(&dir, name, path)?;
    match before.kind {
        FileType::RegularFile => {}
        FileType::Directory => return Err(OpenError::Directory(path.clone())),
        // `resolve` followed every link on the path; one here appeared since.
        FileType::Symlink => return Err(OpenError::Changed(path.clone())),
        other => {
            return Err(OpenError::NotRegular {
                path: path.clone(),
                kind: kind_name(other),
            });
        }
    }
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = match rustix::fs::openat(&dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::LOOP) => return Err(OpenError::Changed(path.clone())),
        Err(e) => return Err(OpenError::io(path, e)),
    };
    let after = rustix::fs::fstat(&fd)
        .map(|st| Facts::of(&st))
        .map_err(|e| OpenError::io(path, e))?;
    if after.id != before.id || after.kind != FileType::RegularFile {
        return Err(OpenError::Changed(path.clone()));
    }
    Ok((std::fs::File::from(fd), after))
}

/// Open the regular file at `path` beneath `root` for reading, safely.
pub fn open_regular(root: impl AsFd, path: &RelPath) -> Result<(std::fs::File, Facts), OpenError> {
    let (dir, name) = open_parent(root, path)?;
    open_regular_in(&dir, name, path)
}

/// Create a new file `{stem}.{random}.tmp` in `dir` for writing, with
/// `O_CREAT|O_EXCL|O_NOFOLLOW`: nothing already there (a planted symbolic
/// link included) is ever opened or followed. Returns the file and its name.
pub fn create_temp_in(
    dir: impl AsFd,
    stem: &str,
    mode: u32,
) -> std::io::Result<(std::fs::File, String)> {
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut last = Errno::EXIST;
    for _ in 0..8 {
        let mut bytes = [0u8; 8];
        // A failure of the OS RNG only makes a name clash likelier; O_EXCL
        // still refuses to touch anything that exists.
        let _ = getrandom::fill(&mut bytes);
        let name = format!("{stem}.{}.tmp", hex::encode(bytes));
        match rustix::fs::openat(&dir, name.as_str(), flags, Mode::from_raw_mode(mode as _)) {
            Ok(fd) => return Ok((std::fs::File::from(fd), name)),
            Err(Errno::EXIST) => last = Errno::EXIST,
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.into())
}

/// The identities of the regular files with more than one link that
/// `hidden` withholds (deny-listed, or Airlock's state), found by a bounded
/// no-follow walk of the whole workspace under `root`. Only multi-link files
/// are kept: a file with one link cannot be another file's second name.
pub(crate) fn collect_denied_identities(
    root: impl AsFd,
    hidden: impl Fn(&RelPath) -> bool,
) -> Result<HashSet<Identity>, String> {
    let mut found = HashSet::new();
    let mut seen = 0usize;
    let top = rustix::fs::openat(&root, ".", DIR_OPEN, Mode::empty())
        .map_err(|e| format!("cannot open the workspace root: {e}"))?;
    let mut stack = vec![(top, RelPath::root(), 0usize)];
    while let Some((fd, path, depth)) = stack.pop() {
        let entries =
            rustix::fs::Dir::read_from(&fd).map_err(|e| format!("cannot list `{path}`: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list `{path}`: {e}"))?;
            let raw = entry.file_name().to_bytes();
            if raw == b"." || raw == b".." {
                continue;
            }
            seen += 1;
            if seen > MAX_IDENTITY_SCAN_ENTRIES {
                return Err(format!(
                    "the workspace has more than {MAX_IDENTITY_SCAN_ENTRIES} entries, too many to scan for hard links to deny-listed files"
                ));
            }
            let name = String::from_utf8_lossy(raw).into_owned();
            let child = path.child(&name);
            let mut kind = entry.file_type();
            let is_hidden = hidden(&child);
            if kind == FileType::Unknown || (is_hidden && kind == FileType::RegularFile) {
                let Ok(st) = rustix::fs::statat(&fd, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW)
                else {
                    continue;
                };
                let facts = Facts::of(&st);
                kind = facts.kind;
                if is_hidden && kind == FileType::RegularFile && facts.nlink > 1 {
                    found.insert(facts.id);
                }
            }
            if kind == FileType::Directory {
                if depth >= MAX_IDENTITY_SCAN_DEPTH {
                    return Err(format!(
                        "`{child}` is nested more than {MAX_IDENTITY_SCAN_DEPTH} directories deep, too deep to scan for hard links to deny-listed files"
                    ));
                }
                // A directory that cannot be opened (permissions, or swapped
                // for a link) cannot hold anything the skill could read either.
                if let Ok(sub) = rustix::fs::openat(&fd, entry.file_name(), DIR_OPEN, Mode::empty())
                {
                    stack.push((sub, child, depth + 1));
                }
            }
        }
    }
    Ok(found)
}

impl Sandbox {
    /// Resolve `raw` for reading and open the regular file it reaches, safely.
    pub fn open_read(&self, raw: &str) -> Result<(Resolved, std::fs::File), Refusal> {
        let resolved = self.resolve(raw, Need::Read)?;
        if !resolved.exists {
            return Err(Refusal::NotFound);
        }
        let (file, _) = self.open_real(&resolved.real)?;
        Ok((resolved, file))
    }

    /// Open the regular file at the real path `real` (already checked by
    /// [`Sandbox::resolve`], or listed by a walk) no-follow, and apply the
    /// profile's `hard-links` rule to it.
    pub fn open_real(&self, real: &RelPath) -> Result<(std::fs::File, Facts), Refusal> {
        let (file, facts) = open_regular(self.root(), real)?;
        self.check_links(&facts)?;
        Ok((file, facts))
    }

    /// Refuse a file whose content may be a deny-listed file's: one with
    /// more than one link, per the profile's `hard-links`.
    pub fn check_links(&self, facts: &Facts) -> Result<(), Refusal> {
        if facts.kind != FileType::RegularFile || facts.nlink <= 1 {
            return Ok(());
        }
        let n = facts.nlink;
        match self.hard_links() {
            HardLinks::Withhold => Err(Refusal::Denied(format!(
                "withheld: it has {n} hard links, so its content may be a deny-listed file under another name; the profile's `hard-links = \"allow\"` lets such files be read unless they are one of the deny-listed files"
            ))),
            HardLinks::Allow => match self.denied_identities() {
                Ok(ids) if ids.contains(&facts.id) => Err(Refusal::Denied(
                    "withheld by the deny-list: it is a hard link to a deny-listed file (the same file under another name), which no profile can lift".into(),
                )),
                Ok(_) => Ok(()),
                Err(why) => Err(Refusal::Denied(format!(
                    "withheld: it has {n} hard links and cannot be compared with the deny-listed files ({why})"
                ))),
            },
        }
    }

    /// The identities of the deny-listed files with more than one link,
    /// collected once per run, on first use.
    pub fn denied_identities(&self) -> Result<&HashSet<Identity>, &str> {
        self.identity_cell()
            .get_or_init(|| collect_denied_identities(self.root(), |p| self.hidden_by(p).is_some()))
            .as_ref()
            .map_err(String::as_str)
    }

    /// A no-follow stat of the real path `real`.
    pub fn stat_real(&self, real: &RelPath) -> Result<Facts, Refusal> {
        Ok(stat(self.root(), real)?)
    }

    /// The parent directory of `real`, opened no-follow at every step, as
    /// a capability, and the last name: writes, renames and removals made
    /// through it act on the name that was checked and nothing else.
    pub fn open_parent(&self, real: &RelPath) -> Result<(cap_std::fs::Dir, String), Refusal> {
        let (fd, name) = open_parent(self.root(), real)?;
        Ok((cap_std::fs::Dir::from(fd), name.to_string()))
    }

    /// Create the directory `real` and its missing parents, no-follow.
    pub fn create_dirs(&self, real: &RelPath) -> Result<(), Refusal> {
        create_dir_all(self.root(), real)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The safe open on a real directory, without WebAssembly.
    use super::*;
    use crate::profile::{Grant, RelPathString};
    use crate::sandbox::denylist::DenyList;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    fn sandbox(dir: &std::path::Path, links: HardLinks) -> Sandbox {
        let root = cap_std::fs::Dir::open_ambient_dir(dir, cap_std::ambient_authority())
            .expect("open root");
        let grants = vec![Grant {
            path: RelPathString(RelPath::root()),
            writable: true,
        }];
        Sandbox::new(
            root,
            grants,
            DenyList::new::<&str>(&[]).expect("deny-list"),
            vec![],
        )
        .with_hard_links(links)
    }

    fn rel(p: &str) -> RelPath {
        RelPath::parse(p).expect("valid path")
    }

    fn read(sb: &Sandbox, raw: &str) -> Result<String, Refusal> {
        let (_, mut file) = sb.open_read(raw)?;
        let mut s = String::new();
        file.read_to_string(&mut s).expect("read");
        Ok(s)
    }

    #[test]
    fn reads_regular_files_and_follows_checked_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("src/nested")).expect("mkdir");
        std::fs::write(dir.path().join("src/nested/a.rs"), "a").expect("write");
        symlink("nested", dir.path().join("src/link")).expect("symlink");
        let sb = sandbox(dir.path(), HardLinks::Withhold);
        assert_eq!(read(&sb, "src/nested/a.rs"), Ok("a".into()));
        // `resolve` follows the link (inside, checked); the open then walks
        // the real path, which has no link in it.
        assert_eq!(read(&sb, "src/link/a.rs"), Ok("a".into()));
        assert_eq!(read(&sb, "src/missing"), Err(Refusal::NotFound));
        assert!(
            matches!(read(&sb, "src"), Err(Refusal::Invalid(m)) if m.contains("is a directory"))
        );
    }

    #[test]
    fn a_link_that_appears_after_the_check_is_never_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("d")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("secret")).expect("mkdir");
        std::fs::write(dir.path().join("secret/x"), "SECRET").expect("write");
        std::fs::write(dir.path().join("f"), "harmless").expect("write");
        let sb = sandbox(dir.path(), HardLinks::Withhold);
        // As if swapped between `resolve` and the open: the real path given
        // to the open now has a symbolic link in the middle, and at the end.
        std::fs::remove_dir(dir.path().join("d")).expect("rmdir");
        symlink("secret", dir.path().join("d")).expect("symlink");
        let err = sb.open_real(&rel("d/x")).expect_err("a link mid-path");
        assert!(
            matches!(&err, Refusal::Denied(m) if m.contains("`d` changed while it was being opened")),
            "{err:?}"
        );
        std::fs::remove_file(dir.path().join("f")).expect("rm");
        symlink("secret/x", dir.path().join("f")).expect("symlink");
        let err = sb.open_real(&rel("f")).expect_err("a link at the end");
        assert!(
            matches!(&err, Refusal::Denied(m) if m.contains("`f` changed")),
            "{err:?}"
        );
        // Writes' parent handles refuse the same way.
        assert!(matches!(
            sb.open_parent(&rel("d/new")),
            Err(Refusal::Denied(_))
        ));
        assert!(matches!(
            sb.create_dirs(&rel("d/sub")),
            Err(Refusal::Denied(_))
        ));
        assert!(!dir.path().join("secret/sub").exists());
    }

    #[test]
    fn fifos_are_refused_before_they_are_opened() {
        let dir = tempfile::tempdir().expect("tempdir");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.path().join("pipe").as_path(),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        let sb = sandbox(dir.path(), HardLinks::Withhold);
        // No writer: an open would block forever.
        let err = read(&sb, "pipe").expect_err("a FIFO");
        assert_eq!(
            err,
            Refusal::Invalid(
                "`pipe` is a FIFO; only regular files and directories can be read".into()
            )
        );
    }

    #[test]
    fn hard_links_are_withheld_unless_allowed_and_never_to_a_denied_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".env"), "SECRET=1").expect("write");
        std::fs::hard_link(dir.path().join(".env"), dir.path().join("notes.txt")).expect("link");
        std::fs::write(dir.path().join("a.txt"), "shared").expect("write");
        std::fs::hard_link(dir.path().join("a.txt"), dir.path().join("b.txt")).expect("link");
        let sb = sandbox(dir.path(), HardLinks::Withhold);
        for name in ["notes.txt", "b.txt"] {
            let err = read(&sb, name).expect_err("withheld");
            assert!(
                matches!(&err, Refusal::Denied(m) if m.contains("2 hard links") && m.contains("hard-links = \"allow\"")),
                "{err:?}"
            );
        }
        let sb = sandbox(dir.path(), HardLinks::Allow);
        assert_eq!(read(&sb, "b.txt"), Ok("shared".into()));
        let err = read(&sb, "notes.txt").expect_err("a second name of .env");
        assert!(
            matches!(&err, Refusal::Denied(m) if m.contains("hard link to a deny-listed file")),
            "{err:?}"
        );
        assert_eq!(sb.denied_identities().map(HashSet::len), Ok(1));
    }

    #[test]
    fn temp_files_never_open_what_is_planted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = cap_std::fs::Dir::open_ambient_dir(dir.path(), cap_std::ambient_authority())
            .expect("open root");
        let (mut file, name) = create_temp_in(&root, "x.airlock-undo", 0o600).expect("temp");
        std::io::Write::write_all(&mut file, b"new").expect("write");
        assert!(
            name.starts_with("x.airlock-undo.") && name.ends_with(".tmp"),
            "{name}"
        );
        assert_eq!(std::fs::read(dir.path().join(&name)).expect("read"), b"new");
        let made = create_dir_all(&root, &rel("a/b/c")).expect("mkdir -p");
        assert!(dir.path().join("a/b/c").is_dir());
        drop(made);
        assert!(
            create_dir_all(&root, &rel("a/b/c")).is_ok(),
            "existing is fine"
        );
    }
}
