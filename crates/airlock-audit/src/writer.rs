//! Appending to the chain: one writer at a time (a lock file), each batch
//! sealed against the current tail, written and synced before the action it
//! describes is reported done; torn tails are recovered, logs rotated, and
//! checkpoints sealed at the end of each run and at intervals.

use super::files::{Head, Layout, OpenRun, segment_name};
use super::record::{Draft, GENESIS_PREV, Record, kind};
use super::seal::{self, SealKeys};
use crate::error::{AuditError, FileError, Inconsistency};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// Seal a checkpoint after this many records without one.
pub const CHECKPOINT_EVERY_RECORDS: u64 = 1000;
/// Seal a checkpoint when the last one is older than this.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// The known end of the chain.
#[derive(Debug, Clone)]
pub(super) struct Tail {
    pub segment: u32,
    pub len: u64,
    pub seq: u64,
    pub hash: String,
}

/// The writer's state, guarded by the log's mutex.
pub(super) struct Writer {
    pub layout: Layout,
    pub log_id: String,
    pub genesis_key: String,
    pub rotate_bytes: u64,
    lock: File,
    tail: Option<Tail>,
    /// When this process first wrote a record not yet sealed by a checkpoint.
    unsealed_since: Option<std::time::Instant>,
    /// Set by the first failure (its reason): every later append refuses
    /// (fail closed).
    pub failed: Option<String>,
}

/// `action` on `path` failed.
fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AuditError {
    move |e| FileError::new(action, path, e).into()
}

/// Create `dir` with mode 0700, or check that an existing one is private.
pub(super) fn private_dir(dir: &Path) -> Result<(), AuditError> {
    Ok(airlock_core::statefs::require_private_dir(dir, "audit")?)
}

fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync directory", dir))
}

fn open_segment(path: &Path) -> Result<File, AuditError> {
    OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)
        .map_err(io("open the audit log", path))
}

/// The last complete line of a file of `len` bytes and where a torn
/// (newline-less) remainder starts (`len` when there is none).
pub(super) fn last_line(file: &mut File, len: u64) -> std::io::Result<(Option<String>, u64)> {
    const CHUNK: u64 = 64 * 1024;
    let mut buf: Vec<u8> = Vec::new();
    let mut start = len;
    loop {
        let newlines: Vec<usize> = buf
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        // Enough when we hold the line before the last newline completely.
        if newlines.len() >= 2
            || (start == 0 && !newlines.is_empty())
            || (start == 0 && buf.is_empty())
        {
            break;
        }
        if start == 0 {
            break;
        }
        let step = CHUNK.min(start);
        start -= step;
        let mut chunk = vec![0u8; usize::try_from(step).unwrap_or(0)];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
    }
    let Some(last_nl) = buf.iter().rposition(|b| *b == b'\n') else {
        // No complete line at all: everything is torn.
        return Ok((None, start));
    };
    let torn_start = start + last_nl as u64 + 1;
    let line_start = buf[..last_nl]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let line = String::from_utf8_lossy(&buf[line_start..last_nl]).into_owned();
    Ok((Some(line), torn_start))
}

impl Writer {
    /// Open (creating if needed) the log in `layout.dir`.
    pub fn open(layout: Layout, rotate_bytes: u64) -> Result<Self, AuditError> {
        private_dir(&layout.dir)?;
        private_dir(&layout.log_dir())?;
        private_dir(&layout.open_dir())?;
        let lock_path = layout.lock();
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(io("open the audit lock", &lock_path))?;
        lock.lock().map_err(io("lock the audit log", &lock_path))?;
        let result = Self::start(&layout);
        let _ = lock.unlock();
        let (log_id, genesis_key) = result?;
        Ok(Self {
            layout,
            log_id,
            genesis_key,
            rotate_bytes,
            lock,
            tail: None,
            unsealed_since: None,
            failed: None,
        })
    }

    /// Under the lock: start a new log, or read the existing one's identity.
    fn start(layout: &Layout) -> Result<(String, String), AuditError> {
        let segments = layout.segments().map_err(io("list", &layout.log_dir()))?;
        let Some(first) = segments.first() else {
            if let Some(head) = Head::read(&layout.head())? {
                return Err(Inconsistency::LogMissing {
                    log_dir: layout.log_dir(),
                    dir: layout.dir.clone(),
                    seq: head.seq,
                    time: head.time,
                }
                .into());
            }
            return genesis(layout);
        };
        let path = layout.segment(*first);
        let mut text = String::new();
        File::open(&path)
            .and_then(|f| f.take(1 << 20).read_to_string(&mut text))
            .map_err(io("read", &path))?;
        if *first == 1
            && segments.len() == 1
            && !text.contains('\n')
            && Head::read(&layout.head())?.is_none()
        {
            // A crash while the log was being started: nothing was ever
            // recorded (no complete record, no checkpoint). Start afresh.
            std::fs::remove_file(&path).map_err(io("remove", &path))?;
            return genesis(layout);
        }
        let line = text.lines().next().unwrap_or_default();
        let record =
            Record::parse(line).map_err(|source| Inconsistency::FirstRecordUnreadable {
                path: path.clone(),
                source,
            })?;
        if *first != 1 || record.kind != kind::LOG_START {
            return Err(Inconsistency::NoBeginning {
                log_dir: layout.log_dir(),
                first: segment_name(1),
            }
            .into());
        }
        let log_id = record.str("log-id").unwrap_or_default().to_string();
        let key = record.str("key").unwrap_or_default().to_string();
        // Refuse now, before any skill runs, if checkpoints cannot be signed.
        SealKeys::read(&layout.key())?;
        Ok((log_id, key))
    }

    fn fail<T>(&mut self, error: AuditError) -> Result<T, AuditError> {
        self.failed.get_or_insert_with(|| error.reason());
        Err(error)
    }

    /// Append `drafts` as one batch; `durable` syncs them to disk before
    /// returning. Seals a checkpoint afterwards when `checkpoint` is set or an
    /// interval has passed.
    pub fn append(
        &mut self,
        drafts: Vec<Draft>,
        durable: bool,
        checkpoint: bool,
    ) -> Result<(), AuditError> {
        if let Some(failed) = &self.failed {
            return Err(AuditError::Closed {
                first: failed.clone(),
            });
        }
        if let Err(e) = self.lock.lock() {
            return self.fail(io("lock the audit log", &self.layout.lock())(e));
        }
        let result = self.append_locked(drafts, durable, checkpoint);
        let _ = self.lock.unlock();
        match result {
            Ok(()) => Ok(()),
            Err(e) => self.fail(e),
        }
    }

    fn append_locked(
        &mut self,
        drafts: Vec<Draft>,
        durable: bool,
        checkpoint: bool,
    ) -> Result<(), AuditError> {
        let mut tail = self.current_tail()?;
        if tail.len >= self.rotate_bytes && !drafts.is_empty() {
            tail = self.rotate(tail)?;
        }
        // With a checkpoint to follow, its sync covers these records too.
        let mut tail = self.write(tail, drafts, durable && !checkpoint)?;
        let head = Head::read(&self.layout.head())?;
        let sealed = head.as_ref().is_some_and(|h| h.seq == tail.seq);
        if sealed {
            self.unsealed_since = None;
        } else if self.unsealed_since.is_none() {
            self.unsealed_since = Some(std::time::Instant::now());
        }
        let due = tail.seq.saturating_sub(head.as_ref().map_or(0, |h| h.seq))
            >= CHECKPOINT_EVERY_RECORDS
            || self
                .unsealed_since
                .is_some_and(|t| t.elapsed() >= CHECKPOINT_EVERY);
        if (checkpoint || due) && !sealed {
            tail = self.checkpoint(tail, head.as_ref())?;
            self.unsealed_since = None;
        }
        self.tail = Some(tail);
        Ok(())
    }

    /// The chain's end, from the cache when no other writer appended since.
    fn current_tail(&mut self) -> Result<Tail, AuditError> {
        let segments = self
            .layout
            .segments()
            .map_err(io("list", &self.layout.log_dir()))?;
        let Some(&last) = segments.last() else {
            return Err(Inconsistency::Disappeared {
                log_dir: self.layout.log_dir(),
            }
            .into());
        };
        let path = self.layout.segment(last);
        let mut file = File::open(&path).map_err(io("open", &path))?;
        let len = file.metadata().map_err(io("stat", &path))?.len();
        if let Some(t) = &self.tail
            && t.segment == last
            && t.len == len
        {
            return Ok(t.clone());
        }
        let (line, torn_start) = last_line(&mut file, len).map_err(io("read", &path))?;
        if line.is_none() && last > 1 {
            // A crash (or a full disk) while starting a new file: it holds no
            // complete record. Remove it; the chain goes on in the previous
            // file, and the next rotation starts the file again.
            drop(file);
            let mut torn = Vec::new();
            let _ = File::open(&path).and_then(|mut f| f.read_to_end(&mut torn));
            std::fs::remove_file(&path).map_err(io("remove", &path))?;
            sync_dir(&self.layout.log_dir())?;
            self.tail = None;
            let tail = self.current_tail()?;
            if torn.is_empty() {
                return Ok(tail);
            }
            let draft = Draft::now(
                kind::RECOVERED,
                None,
                json!({
                    "file": segment_name(last),
                    "discarded-bytes": torn.len(),
                    "discarded-sha256": hex::encode(Sha256::digest(&torn)),
                    "reason": "a log file that Airlock was starting held no complete record and was removed",
                }),
            );
            return self.write(tail, vec![draft], true);
        }
        let Some(line) = line else {
            return Err(Inconsistency::NoCompleteRecord { path }.into());
        };
        let record = Record::parse(&line).map_err(|source| Inconsistency::LastRecordCorrupt {
            path: path.clone(),
            source,
        })?;
        if record.kind == kind::CHECKPOINT {
            self.reconcile(&record)?;
        }
        let mut tail = Tail {
            segment: last,
            len: torn_start,
            seq: record.seq,
            hash: record.hash,
        };
        if torn_start < len {
            tail = self.recover(tail, &path, torn_start, len)?;
        }
        Ok(tail)
    }

    /// The log ends with a checkpoint: make the head file and the key file
    /// agree with it. A writer that died after appending the checkpoint but
    /// before updating them leaves them one checkpoint behind.
    fn reconcile(&mut self, checkpoint: &Record) -> Result<(), AuditError> {
        let Some(next_key) = checkpoint.str("next-key").map(str::to_string) else {
            return Ok(());
        };
        let head_path = self.layout.head();
        if Head::read(&head_path)?.is_none_or(|h| h.seq < checkpoint.seq) {
            let head = Head {
                log_id: self.log_id.clone(),
                seq: checkpoint.seq,
                hash: checkpoint.hash.clone(),
                time: checkpoint.time.clone(),
                next_key: next_key.clone(),
            };
            let text = serde_json::to_string(&head)?;
            seal::write_private_atomically(&head_path, text.as_bytes())?;
        }
        let key_path = self.layout.key();
        let keys = SealKeys::read(&key_path)?;
        if let Some(next) = keys.next.filter(|k| seal::public_hex(k) == next_key) {
            // The announced key becomes current; the one that signed is destroyed.
            SealKeys {
                current: next,
                next: None,
            }
            .write(&key_path)?;
        }
        Ok(())
    }

    /// Discard a torn record (a crash mid-write) and say so in the chain.
    fn recover(
        &mut self,
        tail: Tail,
        path: &Path,
        from: u64,
        len: u64,
    ) -> Result<Tail, AuditError> {
        let mut file = open_segment(path)?;
        let mut torn = Vec::new();
        file.seek(SeekFrom::Start(from))
            .and_then(|_| (&mut file).take(len - from).read_to_end(&mut torn))
            .map_err(io("read", path))?;
        file.set_len(from)
            .and_then(|()| file.sync_all())
            .map_err(io("truncate the torn record in", path))?;
        let draft = Draft::now(
            kind::RECOVERED,
            None,
            json!({
                "file": segment_name(tail.segment),
                "discarded-bytes": len - from,
                "discarded-sha256": hex::encode(Sha256::digest(&torn)),
                "reason": "an unfinished record (Airlock stopped while writing it) was discarded",
            }),
        );
        self.write(tail, vec![draft], true)
    }

    /// Seal and write `drafts` after `tail`.
    fn write(&mut self, tail: Tail, drafts: Vec<Draft>, durable: bool) -> Result<Tail, AuditError> {
        if drafts.is_empty() {
            return Ok(tail);
        }
        let path = self.layout.segment(tail.segment);
        let mut bytes = Vec::new();
        let mut seq = tail.seq;
        let mut hash = tail.hash.clone();
        for draft in drafts {
            seq += 1;
            let (line, h) = draft.seal(seq, &hash);
            bytes.extend_from_slice(line.as_bytes());
            hash = h;
        }
        let mut file = open_segment(&path)?;
        let written = file
            .write_all(&bytes)
            .and_then(|()| if durable { file.sync_data() } else { Ok(()) });
        if let Err(e) = written {
            // Leave no half-written record behind.
            let _ = file.set_len(tail.len).and_then(|()| file.sync_data());
            return Err(io("write the audit log", &path)(e));
        }
        Ok(Tail {
            segment: tail.segment,
            len: tail.len + bytes.len() as u64,
            seq,
            hash,
        })
    }

    /// Close the current file with a checkpoint and continue the chain in
    /// the next one.
    fn rotate(&mut self, tail: Tail) -> Result<Tail, AuditError> {
        let head = Head::read(&self.layout.head())?;
        let tail = if head.as_ref().is_some_and(|h| h.seq == tail.seq) {
            tail
        } else {
            self.checkpoint(tail, head.as_ref())?
        };
        let next = tail.segment + 1;
        let path = self.layout.segment(next);
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(io("create the audit log file", &path))?;
        drop(file);
        sync_dir(&self.layout.log_dir())?;
        let draft = Draft::now(
            kind::SEGMENT_START,
            None,
            json!({
                "log-id": self.log_id,
                "file": next,
                "previous-file": segment_name(tail.segment),
            }),
        );
        let written = self.write(
            Tail {
                segment: next,
                len: 0,
                ..tail
            },
            vec![draft],
            true,
        );
        if written.is_err() {
            // Leave no empty file behind: the chain stays in the previous one.
            let _ = std::fs::remove_file(&path);
            let _ = sync_dir(&self.layout.log_dir());
        }
        written
    }

    /// Seal a checkpoint over the chain so far with the key of this moment,
    /// announce the next key, then destroy the one that signed.
    fn checkpoint(&mut self, tail: Tail, head: Option<&Head>) -> Result<Tail, AuditError> {
        let key_path = self.layout.key();
        let keys = SealKeys::read(&key_path)?;
        let expected = head.map_or(self.genesis_key.as_str(), |h| h.next_key.as_str());
        let signer = if seal::public_hex(&keys.current) == expected {
            keys.current
        } else if let Some(next) = keys.next.filter(|k| seal::public_hex(k) == expected) {
            next
        } else {
            return Err(Inconsistency::UnexpectedSealKey { path: key_path }.into());
        };
        let next = seal::generate()?;
        SealKeys {
            current: signer.clone(),
            next: Some(next.clone()),
        }
        .write(&key_path)?;
        let time = super::record::now_rfc3339();
        let seq = tail.seq + 1;
        let key_hex = seal::public_hex(&signer);
        let next_hex = seal::public_hex(&next);
        let message = seal::message(&self.log_id, seq, &time, &tail.hash, &key_hex, &next_hex);
        let draft = Draft {
            kind: kind::CHECKPOINT,
            run: None,
            time: time.clone(),
            data: json!({
                "log-id": self.log_id,
                "head": tail.hash,
                "key": key_hex,
                "next-key": next_hex,
                "signature": seal::sign(&signer, &message),
            }),
        };
        let tail = self.write(tail, vec![draft], true)?;
        SealKeys {
            current: next,
            next: None,
        }
        .write(&key_path)?;
        let head = Head {
            log_id: self.log_id.clone(),
            seq: tail.seq,
            hash: tail.hash.clone(),
            time,
            next_key: next_hex,
        };
        let text = serde_json::to_string(&head)?;
        seal::write_private_atomically(&self.layout.head(), text.as_bytes())?;
        Ok(tail)
    }

    /// Record runs whose process died without a `run-end` as incomplete.
    pub fn close_abandoned_runs(&mut self) -> Result<(), AuditError> {
        let dir = self.layout.open_dir();
        let entries = std::fs::read_dir(&dir).map_err(io("list", &dir))?;
        let mut abandoned = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(open) = serde_json::from_str::<OpenRun>(&text) else {
                continue;
            };
            if open.alive() {
                continue;
            }
            // Claim it: of two processes starting at once, only one records it.
            let claimed = path.with_extension(format!("closing-{}", std::process::id()));
            if std::fs::rename(&path, &claimed).is_ok() {
                abandoned.push((claimed, open));
            }
        }
        if abandoned.is_empty() {
            return Ok(());
        }
        let drafts = abandoned
            .iter()
            .map(|(_, open)| {
                Draft::now(
                    kind::RUN_INCOMPLETE,
                    Some(&open.run),
                    json!({
                        "started": open.started,
                        "skill": open.skill,
                        "pid": open.pid,
                        "reason": "the Airlock process ended without recording the run's end (killed or crashed); records up to its last durable one are kept",
                    }),
                )
            })
            .collect();
        self.append(drafts, true, false)?;
        for (path, _) in abandoned {
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }
}

/// Start a new log: a fresh sealing key and the `log-start` record.
fn genesis(layout: &Layout) -> Result<(String, String), AuditError> {
    let key = seal::generate()?;
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).map_err(|error| AuditError::Randomness {
        what: "no randomness",
        error,
    })?;
    let log_id = hex::encode(id);
    let key_hex = seal::public_hex(&key);
    SealKeys {
        current: key,
        next: None,
    }
    .write(&layout.key())?;
    let draft = Draft::now(
        kind::LOG_START,
        None,
        json!({
            "log-id": log_id,
            "key": key_hex,
            "airlock-version": env!("CARGO_PKG_VERSION"),
            "host": super::identity::hostname(),
        }),
    );
    let (line, _) = draft.seal(0, GENESIS_PREV);
    let path = layout.segment(1);
    let mut file = OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(io("create the audit log", &path))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io("write the audit log", &path))?;
    sync_dir(&layout.log_dir())?;
    Ok((log_id, key_hex))
}
