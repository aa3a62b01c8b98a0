//! Where the audit trail lives in the state directory, and the small files
//! beside the log: the head file and the open-run markers.
//!
//! ```text
//! $AIRLOCK_HOME/audit/          0700
//!   log/00000001.jsonl          0600  the chain, one record per line
//!   log/00000002.jsonl                (after rotation; the chain continues)
//!   seal.key                    0600  the checkpoint key (see `seal`)
//!   head.json                   0600  the last checkpoint: seq, hash, time
//!   open/RUN.json               0600  a run in progress (removed at its end)
//!   lock                        0600  serializes writers
//! ```

use crate::error::{AuditError, FileError, Inconsistency};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The audit directory under a home.
pub fn audit_dir(home: &Path) -> PathBuf {
    home.join("audit")
}

/// The paths inside an audit directory.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The audit directory.
    pub dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// The folder of log files.
    pub fn log_dir(&self) -> PathBuf {
        self.dir.join("log")
    }

    /// The log file with number `n` (1-based).
    pub fn segment(&self, n: u32) -> PathBuf {
        self.log_dir().join(segment_name(n))
    }

    /// The sealing key.
    pub fn key(&self) -> PathBuf {
        self.dir.join("seal.key")
    }

    /// The head file.
    pub fn head(&self) -> PathBuf {
        self.dir.join("head.json")
    }

    /// The writers' lock file.
    pub fn lock(&self) -> PathBuf {
        self.dir.join("lock")
    }

    /// The folder of open-run markers.
    pub fn open_dir(&self) -> PathBuf {
        self.dir.join("open")
    }

    /// The numbers of the log files present, ascending.
    pub fn segments(&self) -> std::io::Result<Vec<u32>> {
        let mut found = Vec::new();
        let entries = match std::fs::read_dir(self.log_dir()) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
            Err(e) => return Err(e),
        };
        for entry in entries {
            let name = entry?.file_name();
            if let Some(n) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".jsonl"))
                .filter(|n| n.len() == 8)
                .and_then(|n| n.parse::<u32>().ok())
            {
                found.push(n);
            }
        }
        found.sort_unstable();
        Ok(found)
    }
}

/// `00000001.jsonl`.
pub fn segment_name(n: u32) -> String {
    format!("{n:08}.jsonl")
}

/// The head file: the last checkpoint the writer sealed. A verifier checks
/// that the log still contains it (a truncated log does not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Head {
    /// The log's id.
    pub log_id: String,
    /// The checkpoint's sequence number.
    pub seq: u64,
    /// The checkpoint record's hash.
    pub hash: String,
    /// When it was sealed.
    pub time: String,
    /// The key it announced for the next checkpoint.
    pub next_key: String,
}

impl Head {
    /// Read the head file; `Ok(None)` when there is none yet.
    pub fn read(path: &Path) -> Result<Option<Self>, AuditError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|source| {
                Inconsistency::HeadCorrupt {
                    path: path.to_path_buf(),
                    source,
                }
                .into()
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(FileError::new("read", path, e).into()),
        }
    }
}

/// A run in progress, so a later start can tell a killed run from a live one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct OpenRun {
    /// The run id.
    pub run: String,
    /// The process running it.
    pub pid: u32,
    /// That process's start time (clock ticks since boot, from /proc), so a
    /// reused pid is not mistaken for the run's process.
    pub process_start: Option<u64>,
    /// When the run began.
    pub started: String,
    /// The skill's name.
    pub skill: String,
}

/// The start time of process `pid` in clock ticks since boot, from
/// `/proc/PID/stat` (field 22); `None` when the process does not exist.
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields resume after ')'.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(19)?.parse().ok()
}

impl OpenRun {
    /// Whether the process that ran it is still alive.
    pub fn alive(&self) -> bool {
        match process_start(self.pid) {
            Some(start) => self.process_start.is_none_or(|s| s == start),
            None => false,
        }
    }
}
