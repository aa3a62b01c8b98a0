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

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
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
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
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

    fn ensure(&self) -> Result<(), String> {
        if self.dir.join("run.json").exists() {
            return Ok(());
        }
        private_dir(&self.dir.join("blobs"))
            .map_err(|e| format!("cannot create the undo folder {}: {e}", self.dir.display()))?;
        let info = serde_json::to_string(&RunInfo {
            workspace: self.workspace.clone(),
        })
        .map_err(|e| e.to_string())?;
        write_private(&self.dir.join("run.json"), info.as_bytes())
    }

    /// Keep `before` (the file's content now, `None` if it does not exist)
    /// and note the change, synced, before the change is made.
    pub fn record(
        &self,
        path: &str,
        change: &str,
        before: Option<&[u8]>,
        after: Option<&[u8]>,
    ) -> Result<(), String> {
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
            change: change.to_string(),
            before: before_sha,
            after: after.map(sha),
        })
        .map_err(|e| e.to_string())?;
        let file = self.dir.join("changes.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&file)
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        f.write_all(format!("{line}\n").as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    crate::audit::seal::write_private_atomically(path, bytes)
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

/// Why a run cannot be undone.
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
    /// Reading or writing failed.
    #[error("{0}")]
    Io(String),
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
    // The state each file must be in now: what the run's last change to it left.
    if !force {
        let mut last: std::collections::BTreeMap<&str, &Change> = std::collections::BTreeMap::new();
        for c in &changes {
            last.insert(&c.path, c);
        }
        for (path, c) in last {
            if c.change == "create-dir" {
                continue;
            }
            let now = root.read(path).ok().map(|b| sha(&b));
            if now != c.after {
                return Err(UndoError::Conflict {
                    run: run.to_string(),
                    path: path.to_string(),
                });
            }
        }
    }
    let mut done = Vec::new();
    for c in changes.iter().rev() {
        let action = match (&c.before, c.change.as_str()) {
            (_, "create-dir") => match root.remove_dir(&c.path) {
                Ok(()) => "removed",
                Err(_) => "kept",
            },
            (None, _) => {
                match root.remove_file(&c.path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(UndoError::Io(format!("cannot remove {}: {e}", c.path))),
                }
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
                restore(&root, &c.path, &bytes)
                    .map_err(|e| UndoError::Io(format!("cannot restore {}: {e}", c.path)))?;
                "restored"
            }
        };
        done.push(Restored {
            path: c.path.clone(),
            action,
        });
    }
    write_private(&dir.join("undone.json"), b"{}").map_err(UndoError::Io)?;
    Ok(done)
}

/// Write atomically inside the workspace: temporary file, sync, rename.
fn restore(root: &cap_std::fs::Dir, path: &str, bytes: &[u8]) -> std::io::Result<()> {
    let rel = Path::new(path);
    if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
        root.create_dir_all(parent)?;
    }
    let tmp = format!("{path}.airlock-undo.tmp");
    let mut options = cap_std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut f = root.open_with(&tmp, &options)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    root.rename(&tmp, root, path)
}
