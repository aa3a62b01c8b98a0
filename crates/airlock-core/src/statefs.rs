//! The one module that writes Airlock's state directory (`$AIRLOCK_HOME`):
//! private directories, atomic writes, temporary files, hashing copies,
//! file fingerprints and the writers' lock. Everything else that touches
//! the filesystem goes through a capability (`cap-std`) handle instead.
//!
//! Private directories come with two semantics, and each caller picks one
//! on purpose:
//! - [`ensure_private_dir`]: create it owner-only, and tighten it to 0700
//!   if it already exists (stores and caches Airlock owns outright);
//! - [`require_private_dir`]: create it owner-only, but refuse one that
//!   already exists and is open to others, naming the `chmod` that fixes it
//!   (the audit log: loosened permissions there are a finding, not a thing
//!   to paper over).

// Ambient std::fs allowed: this is the one module that does state-directory file work.
#![allow(clippy::disallowed_methods)]

use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Bytes read per step while hashing or copying.
const CHUNK: usize = 1 << 20;

/// Create `dir` (and its parents) with mode 0700, and tighten `dir` itself
/// to 0700 if it already existed with a looser mode.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Why [`require_private_dir`] refused a directory.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    /// The path exists and is not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The directory exists and others may read or write it.
    #[error("the {what} directory {} is open to other users (mode {mode:o}); run `chmod 700 {}`", dir.display(), dir.display())]
    OpenToOthers {
        /// What the directory holds, for the message (`audit`).
        what: &'static str,
        /// The directory.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// It could not be created.
    #[error("cannot create the {what} directory {}: {source}", dir.display())]
    Create {
        /// What the directory holds.
        what: &'static str,
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Its metadata could not be read.
    #[error("cannot open the {what} directory {}: {source}", dir.display())]
    Open {
        /// What the directory holds.
        what: &'static str,
        /// The directory.
        dir: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Create `dir` (and its parents) with mode 0700, or check that an existing
/// one is open to nobody else; `what` names it in the error (`audit`).
#[cfg(unix)]
pub fn require_private_dir(dir: &Path, what: &'static str) -> Result<(), PrivateDirError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => Err(PrivateDirError::NotADirectory(dir.to_path_buf())),
        Ok(meta) if meta.mode() & 0o077 != 0 => Err(PrivateDirError::OpenToOthers {
            what,
            dir: dir.to_path_buf(),
            mode: meta.mode() & 0o777,
        }),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|source| PrivateDirError::Create {
                what,
                dir: dir.to_path_buf(),
                source,
            }),
        Err(source) => Err(PrivateDirError::Open {
            what,
            dir: dir.to_path_buf(),
            source,
        }),
    }
}

/// What in the state directory `dir` someone other than `uid` could change:
/// `dir` or anything inside owned by another user or writable by group or
/// others, and symbolic links (Airlock writes none, and one could lead a
/// write elsewhere). Reading is left to the directories Airlock creates
/// owner-only (0700). `None` when `dir` does not exist. Each problem names
/// the path.
pub fn exposure(dir: &Path, uid: u32) -> io::Result<Option<Vec<String>>> {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut problems = Vec::new();
    if !meta.is_dir() {
        problems.push(format!("{} is not a directory", dir.display()));
        return Ok(Some(problems));
    }
    let mut check = |path: &Path, meta: &std::fs::Metadata| {
        if meta.uid() != uid {
            problems.push(format!(
                "{} is owned by uid {}, not you (uid {uid})",
                path.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            problems.push(format!(
                "{} has mode {:o}: writable by others",
                path.display(),
                meta.mode() & 0o777
            ));
        }
    };
    check(dir, &meta);
    let mut links = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            let path = entry.path();
            let meta = entry.metadata()?;
            if meta.file_type().is_symlink() {
                links.push(format!("{} is a symbolic link", path.display()));
                continue;
            }
            check(&path, &meta);
            if meta.is_dir() {
                pending.push(path);
            }
        }
    }
    problems.extend(links);
    problems.sort();
    Ok(Some(problems))
}

/// Hash everything `src` yields, writing it to `dst` when given; `progress`
/// gets (bytes done, `total`). Returns the hex sha256 and the byte count.
pub fn hash_copy(
    src: &mut dyn Read,
    mut dst: Option<&mut File>,
    total: u64,
    progress: &dyn Fn(u64, u64),
) -> io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done: u64 = 0;
    progress(0, total);
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        hasher.update(chunk);
        if let Some(dst) = dst.as_deref_mut() {
            dst.write_all(chunk)?;
        }
        done += n as u64;
        progress(done, total);
    }
    Ok((hex::encode(hasher.finalize()), done))
}

/// Make a file read-only for everyone (0444).
pub fn make_read_only(file: &File) -> io::Result<()> {
    let mut perms = file.metadata()?.permissions();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        perms.set_mode(0o444);
    }
    #[cfg(not(unix))]
    perms.set_readonly(true);
    file.set_permissions(perms)
}

/// A file in `dir` that no other process picked: `.NAME.RANDOM.part`,
/// created exclusively, owner-only.
pub fn temp_file(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    for _ in 0..16 {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| io::Error::other(e.to_string()))?;
        let path = dir.join(format!(".{name}.{}.part", hex::encode(random)));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "cannot create a temporary file in {}",
        dir.display()
    )))
}

/// Flush a directory's entries (a rename in it) to disk. Not every platform
/// or filesystem can; that only weakens durability, so it is not an error.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Replace `path` with `bytes` atomically: a reader sees the old file or the
/// new one, never a part; a crash leaves at most a stray `.part` file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (tmp, mut file) = temp_file(dir, &name)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

/// Whether [`write_private`] waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The file and its directory are synced before the call returns.
    Synced,
    /// Not synced: for hints that a crash may lose.
    Quick,
}

/// Write `bytes` to `path` atomically with mode 0600: a temporary file
/// `PATH.tmp` beside it, renamed over it. No partial copy is left behind on
/// failure (for a key file, that would be part of a secret).
pub fn write_private(path: &Path, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        if durability == Durability::Synced {
            f.sync_all()?;
        }
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if durability == Durability::Synced {
        let dir = path.parent().unwrap_or(Path::new("."));
        File::open(dir).and_then(|d| d.sync_all())?;
    }
    Ok(())
}

/// File metadata that changes whenever the file's content can have changed:
/// a write changes `mtime` and `ctime`; restoring `mtime` afterwards changes
/// `ctime` again; replacing the file changes the inode. Nothing an
/// unprivileged user can do sets `ctime` back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Fingerprint {
    /// Length in bytes.
    pub len: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime_ns: i64,
    /// Status-change time, nanoseconds since the epoch.
    pub ctime_ns: i64,
    /// Inode number.
    pub inode: u64,
    /// Device number.
    pub device: u64,
}

impl Fingerprint {
    /// The fingerprint of an open file's metadata.
    #[cfg(unix)]
    pub fn of(meta: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        let ns = |secs: i64, nsec: i64| secs.saturating_mul(1_000_000_000).saturating_add(nsec);
        Self {
            len: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }

    /// The fingerprint of an open file's metadata (without `ctime` and
    /// inode off Unix, so the cheap check is weaker there).
    #[cfg(not(unix))]
    pub fn of(meta: &std::fs::Metadata) -> Self {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_nanos()).ok())
            .unwrap_or(0);
        Self {
            len: meta.len(),
            mtime_ns,
            ctime_ns: 0,
            inode: 0,
            device: 0,
        }
    }
}

/// An exclusive advisory lock held by one writer of the lock file at a
/// time, so two `airlock model` commands cannot lose each other's entries.
/// Readers need none: the lock file is only ever replaced whole.
pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    /// Wait for and take the writers' lock of the store in `dir`.
    pub fn acquire(dir: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(".writer.lock"))?;
        file.lock()?;
        Ok(Self { _file: file })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_copies_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let data = vec![7u8; CHUNK * 2 + 5];
        let (path, mut file) = temp_file(dir.path(), "x").unwrap();
        let calls = std::cell::Cell::new(0);
        let (hex, n) = hash_copy(
            &mut data.as_slice(),
            Some(&mut file),
            data.len() as u64,
            &|d, t| {
                assert!(d <= t);
                calls.set(calls.get() + 1);
            },
        )
        .unwrap();
        assert_eq!(n, data.len() as u64);
        assert_eq!(hex, hex::encode(Sha256::digest(&data)));
        assert_eq!(std::fs::read(&path).unwrap(), data);
        assert!(calls.get() >= 4);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.lock");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("models.lock")]);
    }

    #[cfg(unix)]
    #[test]
    fn private_dir_and_read_only_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("a/models");
        ensure_private_dir(&store).unwrap();
        let mode = std::fs::metadata(&store).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let (path, file) = temp_file(&store, "f").unwrap();
        make_read_only(&file).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o444);
    }
}
