//! Undo: before a run changes a file, the host keeps its prior content in
//! the state directory, so `airlock undo RUN` puts back the exact bytes.
//!
//! ```text
//! $AIRLOCK_HOME/undo/RUN/       0700
//!   run.json                          the workspace root
//!   changes.jsonl                     one line per change, in order
//!   blobs/SHA256                      prior contents, by digest (0600)
//!   undone.json                       written once the run was undone
//! ```
//!
//! Undo touches the workspace only through [`crate::sandbox::open`]: every
//! path is opened one component at a time without following symbolic
//! links, restored content goes to a fresh `O_EXCL|O_NOFOLLOW` temporary
//! file inside the parent directory handle and is renamed over the name, and
//! removals unlink the name itself. A link planted on the way (say
//! `X.airlock-undo.tmp -> .git/config`) is never written through.

// Ambient std::fs allowed: undo records (state directory); the workspace via sandbox::open.
#![allow(clippy::disallowed_methods)]

use crate::approval::Change as Edit;
use crate::sandbox::open;
use airlock_core::paths::RelPath;
use airlock_core::statefs;
use rustix::fs::AtFlags;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// One change a run made.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct Change {
    /// Workspace-relative path.
    pub path: String,
    /// `create`, `modify`, `delete` or `create-dir`.
    pub change: String,
    /// sha256 of the content before (none: the file did not exist).
    pub before: Option<String>,
    /// sha256 of the content after (none: deleted, or a directory).
    pub after: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RunInfo {
    workspace: PathBuf,
}

/// The undo record of one run.
#[derive(Debug, Clone)]
pub struct UndoLog {
    dir: PathBuf,
    workspace: PathBuf,
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    statefs::ensure_private_dir(dir)
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The undo folder of `home`.
pub fn undo_root(home: &Path) -> PathBuf {
    home.join("undo")
}

impl UndoLog {
    /// The undo record for run `run` over `workspace`; nothing is written
    /// until the run changes a file.
    pub fn new(home: &Path, run: &str, workspace: &Path) -> Self {
        Self {
            dir: undo_root(home).join(run),
            workspace: workspace.to_path_buf(),
        }
    }

    fn ensure(&self) -> Result<(), UndoError> {
        if self.dir.join("run.json").exists() {
            return Ok(());
        }
        private_dir(&self.dir.join("blobs")).map_err(|source| UndoError::CreateFolder {
            dir: self.dir.clone(),
            source,
        })?;
        let info = serde_json::to_string(&RunInfo {
            workspace: self.workspace.clone(),
        })?;
        write_private(&self.dir.join("run.json"), info.as_bytes())
    }

    /// Keep `before` (the file's content now, `None` if it does not exist)
    /// and note the change, synced, before the change is made.
    pub fn record(
        &self,
        path: &str,
        change: Edit,
        before: Option<&[u8]>,
        after: Option<&[u8]>,
    ) -> Result<(), UndoError> {
        self.ensure()?;
        let before_sha = before.map(sha);
        if let (Some(bytes), Some(digest)) = (before, &before_sha) {
            let blob = self.dir.join("blobs").join(digest);
            if !blob.exists() {
                write_private(&blob, bytes)?;
            }
        }
        let line = serde_json::to_string(&Change {
            path: path.to_string(),
            change: change.as_str().to_string(),
            before: before_sha,
            after: after.map(sha),
        })?;
        let file = self.dir.join("changes.jsonl");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(&file)?;
            f.write_all(format!("{line}\n").as_bytes())?;
            f.sync_data()
        };
        write().map_err(|source| UndoError::Write { path: file, source })
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), UndoError> {
    statefs::write_private(path, bytes, statefs::Durability::Synced).map_err(|source| {
        UndoError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// What `undo` did to one file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Restored {
    /// Workspace-relative path.
    pub path: String,
    /// `restored`, `removed` (it was created by the run) or `kept` (a
    /// directory that is no longer empty).
    pub action: &'static str,
}

/// Why a run cannot be undone, or a change cannot be recorded for undo
/// ([`UndoLog::record`]: `CreateFolder`, `Write`, `Encode`).
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    /// No such run (or it changed nothing).
    #[error("{0}")]
    Unknown(String),
    /// Already undone.
    #[error("run {0} was already undone")]
    AlreadyUndone(String),
    /// A file changed since the run; nothing was touched.
    #[error(
        "{path} has changed since run {run} wrote it; nothing was undone (pass --force to put the old content back anyway)"
    )]
    Conflict {
        /// The run.
        run: String,
        /// The file.
        path: String,
    },
    /// Reading or writing failed while undoing.
    #[error("{0}")]
    Io(String),
    /// The run's undo folder could not be created.
    #[error("cannot create the undo folder {}: {source}", dir.display())]
    CreateFolder {
        /// `$AIRLOCK_HOME/undo/RUN`.
        dir: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the undo record could not be written (and synced).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line of the record could not be encoded.
    #[error("{0}")]
    Encode(#[from] serde_json::Error),
}

/// The run ids that have undo records, matching `prefix`.
pub fn find(home: &Path, prefix: &str) -> Result<String, UndoError> {
    let root = undo_root(home);
    let mut found: Vec<String> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    match found.len() {
        0 => Err(UndoError::Unknown(format!(
            "no run with an id starting with `{prefix}` changed any file (see `airlock audit show` for run ids)"
        ))),
        1 => Ok(found.remove(0)),
        n => Err(UndoError::Unknown(format!(
            "`{prefix}` matches {n} runs ({}); give more of the id",
            found.join(", ")
        ))),
    }
}

/// Undo every change run `run` made, newest first. Checks every file first:
/// if one changed since the run (and not `force`), nothing is touched.
pub fn undo(home: &Path, run: &str, force: bool) -> Result<Vec<Restored>, UndoError> {
    let dir = undo_root(home).join(run);
    if dir.join("undone.json").exists() {
        return Err(UndoError::AlreadyUndone(run.to_string()));
    }
    let io = |what: &Path, e: std::io::Error| {
        UndoError::Io(format!("cannot read {}: {e}", what.display()))
    };
    let info: RunInfo = std::fs::read_to_string(dir.join("run.json"))
        .map_err(|e| io(&dir.join("run.json"), e))
        .and_then(|t| serde_json::from_str(&t).map_err(|e| UndoError::Io(e.to_string())))?;
    let text = std::fs::read_to_string(dir.join("changes.jsonl")).unwrap_or_default();
    let changes: Vec<Change> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    if changes.is_empty() {
        return Err(UndoError::Unknown(format!("run {run} changed no file")));
    }
    let root = cap_std::fs::Dir::open_ambient_dir(&info.workspace, cap_std::ambient_authority())
        .map_err(|e| io(&info.workspace, e))?;
    // Every path is re-checked on its face: the record lives in the state
    // directory, but nothing read from disk is trusted to stay inside.
    let mut checked = Vec::with_capacity(changes.len());
    for c in &changes {
        match RelPath::parse(&c.path) {
            Ok(p) if !p.is_root() => checked.push((c, p)),
            _ => {
                return Err(UndoError::Io(format!(
                    "the undo record of run {run} names `{}`, which is not a path inside the workspace; nothing was undone",
                    c.path
                )));
            }
        }
    }
    // The state each file must be in now: what the run's last change to it left.
    if !force {
        let mut last: std::collections::BTreeMap<&str, (&Change, &RelPath)> =
            std::collections::BTreeMap::new();
        for (c, p) in &checked {
            last.insert(&c.path, (c, p));
        }
        for (path, (c, rel)) in last {
            if c.change == Edit::CreateDir.as_str() {
                continue;
            }
            if current_sha(&root, rel) != c.after {
                return Err(UndoError::Conflict {
                    run: run.to_string(),
                    path: path.to_string(),
                });
            }
        }
    }
    let mut done = Vec::new();
    for (c, rel) in checked.iter().rev() {
        let action = match (&c.before, c.change.as_str()) {
            (_, kind) if kind == Edit::CreateDir.as_str() => {
                match remove_entry(&root, rel, AtFlags::REMOVEDIR) {
                    Ok(()) => "removed",
                    Err(_) => "kept",
                }
            }
            (None, _) => {
                remove_entry(&root, rel, AtFlags::empty())
                    .map_err(|e| UndoError::Io(format!("cannot remove {}: {e}", c.path)))?;
                "removed"
            }
            (Some(digest), _) => {
                let blob = dir.join("blobs").join(digest);
                let bytes = std::fs::read(&blob).map_err(|e| io(&blob, e))?;
                if sha(&bytes) != *digest {
                    return Err(UndoError::Io(format!(
                        "the kept copy {} is damaged (its digest does not match); nothing more was restored",
                        blob.display()
                    )));
                }
                restore(&root, rel, &bytes)
                    .map_err(|e| UndoError::Io(format!("cannot restore {}: {e}", c.path)))?;
                "restored"
            }
        };
        done.push(Restored {
            path: c.path.clone(),
            action,
        });
    }
    // `Io`, like every other failure of undoing itself (callers report it
    // as an internal error).
    write_private(&dir.join("undone.json"), b"{}").map_err(|e| UndoError::Io(e.to_string()))?;
    Ok(done)
}

/// sha256 of the regular file at `path` now, opened no-follow at every step
/// (`None`: missing, not a regular file, or reached through a link).
fn current_sha(root: &cap_std::fs::Dir, path: &RelPath) -> Option<String> {
    let (mut file, _) = open::open_regular(root, path).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hex::encode(hasher.finalize()))
}

/// Remove the entry `path` itself (a file, or an empty directory with
/// `REMOVEDIR`) inside its parent opened no-follow: a link on the way is
/// refused, a link at the end is removed, never what it points to.
fn remove_entry(
    root: &cap_std::fs::Dir,
    path: &RelPath,
    flags: AtFlags,
) -> Result<(), open::OpenError> {
    let (dir, name) = match open::open_parent(root, path) {
        Ok(opened) => opened,
        Err(open::OpenError::NotFound(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    match rustix::fs::unlinkat(&dir, name, flags) {
        Ok(()) | Err(rustix::io::Errno::NOENT) => Ok(()),
        Err(e) => Err(open::OpenError::Io {
            path: path.clone(),
            source: e.into(),
        }),
    }
}

/// Write atomically inside the workspace: a new temporary file (`O_EXCL`,
/// no-follow, random name: nothing planted is opened), sync, rename, all
/// inside the parent directory opened (or created) no-follow at every step.
fn restore(root: &cap_std::fs::Dir, path: &RelPath, bytes: &[u8]) -> std::io::Result<()> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(std::io::Error::other("the workspace root is not a file"));
    };
    let dir = open::create_dir_all(root, &parent).map_err(std::io::Error::other)?;
    let (mut f, tmp) = open::create_temp_in(&dir, &format!("{name}.airlock-undo"), 0o666)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    let renamed = written.and_then(|()| {
        rustix::fs::renameat(&dir, tmp.as_str(), &dir, name).map_err(std::io::Error::from)
    });
    if renamed.is_err() {
        let _ = rustix::fs::unlinkat(&dir, tmp.as_str(), AtFlags::empty());
    }
    renamed
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_change_that_cannot_be_recorded_names_the_undo_folder() {
        let dir = tempfile::tempdir().unwrap();
        // The home is a file: nothing can be created under it.
        let home = dir.path().join("home");
        std::fs::write(&home, "").unwrap();
        let log = UndoLog::new(&home, "run-1", dir.path());
        let err = log
            .record("a.txt", Edit::Modify, Some(b"old"), Some(b"new"))
            .unwrap_err();
        let folder = home.join("undo").join("run-1");
        assert!(matches!(&err, UndoError::CreateFolder { dir, .. } if *dir == folder));
        assert!(
            err.to_string().starts_with(&format!(
                "cannot create the undo folder {}: ",
                folder.display()
            )),
            "{err}"
        );
    }

    #[test]
    fn a_recorded_change_can_be_undone() {
        let dir = tempfile::tempdir().unwrap();
        let (home, ws) = (dir.path().join("home"), dir.path().join("ws"));
        std::fs::create_dir_all(&ws).unwrap();
        std::fs::write(ws.join("a.txt"), "new").unwrap();
        let log = UndoLog::new(&home, "run-1", &ws);
        log.record("a.txt", Edit::Modify, Some(b"old"), Some(b"new"))
            .unwrap();
        let restored = undo(&home, "run-1", false).unwrap();
        assert_eq!(restored.len(), 1);
        assert_eq!(std::fs::read_to_string(ws.join("a.txt")).unwrap(), "old");
    }
}
