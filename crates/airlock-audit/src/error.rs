//! What can go wrong with the audit trail, typed so that a caller can tell a
//! full disk from a tampered log. Each message is the one the user sees.
//!
//! - [`AuditError`]: the log could not be opened or written; the action is
//!   refused (Airlock fails closed). Its message begins "the audit log cannot
//!   be written: "; [`AuditError::reason`] gives the cause alone.
//! - [`FileError`]: an I/O operation on a named file or directory failed.
//! - [`Inconsistency`]: the log, its head file and its sealing key do not
//!   agree, or a record the writer needs is unreadable: Airlock will not
//!   extend a chain it cannot verify the end of (`airlock audit verify` says
//!   more).
//! - [`SealKeyError`]: the checkpoint sealing key cannot be used.
//! - [`ReadError`]: reading records or an exported checkpoint failed.

use crate::record::LineError;
use airlock_core::statefs::PrivateDirError;
use std::io;
use std::path::PathBuf;

/// The audit log could not be opened or written; the action is refused.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// I/O on a named file or directory failed (a full disk, permissions).
    #[error("the audit log cannot be written: {0}")]
    Io(#[from] FileError),
    /// The audit directory (or `log/`, `open/`) is open to other users, or
    /// could not be created.
    #[error("the audit log cannot be written: {0}")]
    PrivateDir(#[from] PrivateDirError),
    /// The log is tampered with or damaged where the writer must extend it.
    #[error("the audit log cannot be written: {0}")]
    Inconsistent(#[from] Inconsistency),
    /// The sealing key is unreadable, open to others or corrupt.
    #[error("the audit log cannot be written: {0}")]
    SealKey(#[from] SealKeyError),
    /// An earlier append of this handle failed: it refuses every later one
    /// (fail closed). `first` is the reason the first failure gave.
    #[error(
        "the audit log cannot be written: the audit log failed earlier and stays closed: {first}"
    )]
    Closed {
        /// [`AuditError::reason`] of the failure that closed the log.
        first: String,
    },
    /// A lock guarding the writer or a run's buffer was poisoned by a panic.
    #[error("the audit log cannot be written: the {0} was poisoned by a panic")]
    Poisoned(&'static str),
    /// A record or a small file beside the log could not be encoded.
    #[error("the audit log cannot be written: {0}")]
    Encoding(#[from] serde_json::Error),
    /// The system gave no randomness for an id or a key.
    #[error("the audit log cannot be written: {what}: {error}")]
    Randomness {
        /// What it was for (`no randomness for an audit key`).
        what: &'static str,
        /// Why.
        error: getrandom::Error,
    },
}

impl AuditError {
    /// The cause alone, without "the audit log cannot be written: ".
    pub fn reason(&self) -> String {
        match self {
            Self::Io(e) => e.to_string(),
            Self::PrivateDir(e) => e.to_string(),
            Self::Inconsistent(e) => e.to_string(),
            Self::SealKey(e) => e.to_string(),
            Self::Closed { first } => {
                format!("the audit log failed earlier and stays closed: {first}")
            }
            Self::Poisoned(what) => format!("the {what} was poisoned by a panic"),
            Self::Encoding(e) => e.to_string(),
            Self::Randomness { what, error } => format!("{what}: {error}"),
        }
    }

    /// The I/O error underneath, when the cause was I/O (e.g. a full disk).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            Self::Io(e) => Some(&e.source),
            Self::SealKey(SealKeyError::Unreadable { source, .. }) => Some(source),
            _ => None,
        }
    }
}

/// An I/O operation on a named file or directory failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {source}", path.display())]
pub struct FileError {
    /// What was being done (`write the audit log`, `lock the audit log`).
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// Why it failed.
    pub source: io::Error,
}

impl FileError {
    /// `action` on `path` failed with `source`.
    pub fn new(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The log, its head file and its sealing key do not agree, or a record the
/// writer needs is unreadable: tampering, or damage.
#[derive(Debug, thiserror::Error)]
pub enum Inconsistency {
    /// `log/` is gone while the head file says a checkpoint sealed it.
    #[error(
        "the audit log in {} is missing, but its head file says checkpoint #{seq} sealed it at {time}; Airlock will not start a new log over a deleted one. Investigate, then move {} aside to start afresh",
        log_dir.display(),
        dir.display()
    )]
    LogMissing {
        /// The missing `log/` directory.
        log_dir: PathBuf,
        /// The audit directory.
        dir: PathBuf,
        /// The head file's checkpoint.
        seq: u64,
        /// When it was sealed.
        time: String,
    },
    /// The first record of the log does not parse.
    #[error(
        "the first record of the audit log {} is unreadable ({source}); run `airlock audit verify`",
        path.display()
    )]
    FirstRecordUnreadable {
        /// The first log file.
        path: PathBuf,
        /// Why the line is not a record.
        source: LineError,
    },
    /// The first log file is not `00000001.jsonl`, or does not begin with
    /// `log-start`.
    #[error(
        "the audit log in {} does not begin with its first file ({first}); run `airlock audit verify`",
        log_dir.display()
    )]
    NoBeginning {
        /// The `log/` directory.
        log_dir: PathBuf,
        /// The name the first file must have.
        first: String,
    },
    /// Every log file disappeared while Airlock was appending.
    #[error(
        "the audit log in {} has disappeared; run `airlock audit verify`",
        log_dir.display()
    )]
    Disappeared {
        /// The `log/` directory.
        log_dir: PathBuf,
    },
    /// The first log file holds no complete record.
    #[error(
        "the audit log file {} holds no complete record; run `airlock audit verify`",
        path.display()
    )]
    NoCompleteRecord {
        /// The file.
        path: PathBuf,
    },
    /// The last record, which the next one must chain to, does not parse.
    #[error(
        "the last record of the audit log {} is corrupt ({source}); Airlock will not append to a chain it cannot extend. Run `airlock audit verify`",
        path.display()
    )]
    LastRecordCorrupt {
        /// The last log file.
        path: PathBuf,
        /// Why the line is not a record.
        source: LineError,
    },
    /// The head file does not parse.
    #[error("the audit head file {} is corrupt: {source}", path.display())]
    HeadCorrupt {
        /// The head file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The sealing key is not the one the log announced for its next
    /// checkpoint.
    #[error(
        "the audit sealing key {} is not the key the log expects for its next checkpoint; the key file was replaced or the log was cut short. Run `airlock audit verify`",
        path.display()
    )]
    UnexpectedSealKey {
        /// The key file.
        path: PathBuf,
    },
}

/// The checkpoint sealing key (`seal.key`) cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SealKeyError {
    /// It cannot be read.
    #[error("cannot read the audit sealing key {}: {source}", path.display())]
    Unreadable {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Others may read or write it.
    #[error(
        "the audit sealing key {} is readable or writable by other users (mode {mode:o}); run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    OpenToOthers {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// It is not the JSON the writer writes.
    #[error(
        "the audit sealing key {} is corrupt ({source}); checkpoints can no longer be signed",
        path.display()
    )]
    Corrupt {
        /// The key file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A key in it is not 32 bytes of hex.
    #[error("the audit sealing key {} is corrupt", path.display())]
    BadKey {
        /// The key file.
        path: PathBuf,
    },
}

/// Reading the log's records or an exported checkpoint failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// I/O on a named file or directory failed.
    #[error(transparent)]
    Io(#[from] FileError),
    /// The file is not JSON.
    #[error(
        "{} is not an exported checkpoint ({source}); make one with `airlock audit checkpoint --export FILE`",
        path.display()
    )]
    NotAnExport {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The file has no `record` field.
    #[error(
        "{} has no `record` field; make one with `airlock audit checkpoint --export FILE`",
        path.display()
    )]
    NoRecord {
        /// The file.
        path: PathBuf,
    },
    /// Its record is not a well-formed record.
    #[error("the checkpoint in {} is damaged: {source}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Why.
        source: LineError,
    },
    /// Its record is of another kind.
    #[error("{} does not hold a checkpoint record", path.display())]
    NotACheckpoint {
        /// The file.
        path: PathBuf,
    },
    /// The log has no checkpoint to export.
    #[error("the audit log has no checkpoint yet")]
    NoCheckpoint,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_they_did_when_the_errors_were_strings() {
        let disk_full = || io::Error::from_raw_os_error(28);
        let err = AuditError::from(FileError::new(
            "write the audit log",
            "/h/audit/log/00000001.jsonl",
            disk_full(),
        ));
        assert_eq!(
            err.to_string(),
            format!(
                "the audit log cannot be written: cannot write the audit log /h/audit/log/00000001.jsonl: {}",
                disk_full()
            )
        );
        assert_eq!(err.io_error().map(io::Error::raw_os_error), Some(Some(28)));
        let closed = AuditError::Closed {
            first: err.reason(),
        };
        assert_eq!(
            closed.to_string(),
            format!(
                "the audit log cannot be written: the audit log failed earlier and stays closed: cannot write the audit log /h/audit/log/00000001.jsonl: {}",
                disk_full()
            )
        );
        assert_eq!(
            AuditError::Poisoned("run's audit buffer").to_string(),
            "the audit log cannot be written: the run's audit buffer was poisoned by a panic"
        );
        for err in [
            closed,
            AuditError::Poisoned("audit writer"),
            AuditError::from(Inconsistency::Disappeared {
                log_dir: "/h/audit/log".into(),
            }),
        ] {
            assert_eq!(
                format!("the audit log cannot be written: {}", err.reason()),
                err.to_string()
            );
        }
    }
}
