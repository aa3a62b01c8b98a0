//! The workspace calls that open, read and change files, all through the
//! sandbox's no-follow opens ([`crate::sandbox::open`]): a read opens the
//! checked real path component by component and checks the opened file's
//! identity; a change happens inside a parent directory handle opened the
//! same way, so a symbolic link swapped in by another process is never
//! followed, and a hard link to a secret is never read.

use super::records;
use super::{MAX_READ_PER_CALL, MAX_WRITE_PER_CALL, WorkspaceView, io_error};
use crate::approval::Change;
use crate::bindings::types::Error;
use crate::journal::Event;
use crate::sandbox::open::{self, Facts};
use crate::sandbox::resolve::{Need, Refusal};
use airlock_core::paths::RelPath;
use cap_std::fs::PermissionsExt as _;
use cap_std::fs::{Dir, OpenOptions};
use rustix::fs::FileType;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;

impl WorkspaceView<'_> {
    /// A refusal from the sandbox, as the skill gets it (denials recorded).
    fn refused(&mut self, need: Need, shown: &RelPath, refusal: Refusal) -> Error {
        match refusal {
            Refusal::NotFound => Error::NotFound(shown.to_string()),
            other => self.refuse(need, &shown.to_string(), other),
        }
    }

    /// Open the regular file at the checked real path `real` for reading
    /// (no-follow, identity-checked, `hard-links` applied).
    pub(super) fn open_checked(
        &mut self,
        real: &RelPath,
        shown: &RelPath,
    ) -> Result<(std::fs::File, Facts), Error> {
        let sandbox = &self.state.sandbox;
        sandbox
            .open_real(real)
            .map_err(|r| self.refused(Need::Read, shown, r))
    }

    /// The current content of `name` in `dir` (the parent of `path`), for
    /// the diff and undo: `None` when nothing, or no regular file, is there.
    /// Bounded, read no-follow, and withheld like a read when it has more
    /// than one link (its content would reach the prompt and the audit log).
    fn content_in(
        &mut self,
        dir: &Dir,
        name: &str,
        path: &RelPath,
    ) -> Result<Option<Vec<u8>>, Error> {
        let (mut file, facts) = match open::open_regular_in(dir, name, path) {
            Ok(opened) => opened,
            Err(
                open::OpenError::NotFound(_)
                | open::OpenError::Directory(_)
                | open::OpenError::NotRegular { .. },
            ) => return Ok(None),
            Err(e) => return Err(self.refused(Need::Write, path, e.into())),
        };
        if let Err(r) = self.state.sandbox.check_links(&facts) {
            return Err(self.refused(Need::Write, path, r));
        }
        if facts.size > MAX_WRITE_PER_CALL {
            return Err(Error::limit(
                "size of a file a skill may change (for the diff and undo)",
                MAX_WRITE_PER_CALL,
                facts.size,
            ));
        }
        let mut data = Vec::with_capacity(usize::try_from(facts.size).unwrap_or(0));
        (&mut file)
            .take(MAX_WRITE_PER_CALL + 1)
            .read_to_end(&mut data)
            .map_err(|e| io_error(path, e))?;
        if data.len() as u64 > MAX_WRITE_PER_CALL {
            return Err(Error::limit(
                "size of a file a skill may change (for the diff and undo)",
                MAX_WRITE_PER_CALL,
                data.len() as u64,
            ));
        }
        Ok(Some(data))
    }

    /// The parent directory handle of `real` (no-follow) and its last name.
    fn parent_of(&mut self, real: &RelPath) -> Result<(Dir, String), Error> {
        let Some(parent) = real.parent() else {
            return Err(Error::InvalidInput(
                "cannot change the workspace root itself".into(),
            ));
        };
        let sandbox = &self.state.sandbox;
        match sandbox.open_parent(real) {
            Ok(opened) => Ok(opened),
            Err(Refusal::NotFound) => Err(Error::NotFound(format!(
                "{parent} (the parent directory of `{real}`; create it first with create-dir)"
            ))),
            Err(r) => Err(self.refused(Need::Write, real, r)),
        }
    }

    pub(super) fn read_bytes(
        &mut self,
        raw: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<Vec<u8>, Error> {
        let resolved = self.resolve_existing(raw, Need::Read)?;
        let (mut file, facts) = self.open_checked(&resolved.real, &resolved.asked)?;
        let available = facts.size.saturating_sub(offset);
        let wanted = length.map_or(available, |l| l.min(available));
        if wanted > MAX_READ_PER_CALL {
            return Err(Error::limit(
                if length.is_some() {
                    "read-range length per call"
                } else {
                    "read-file size per call (read larger files with read-range)"
                },
                MAX_READ_PER_CALL,
                wanted,
            ));
        }
        self.charge_read(wanted)?;
        file.seek(SeekFrom::Start(offset))
            .map_err(|e| io_error(&resolved.real, e))?;
        let mut buf = Vec::with_capacity(usize::try_from(wanted).unwrap_or(0));
        file.take(wanted)
            .read_to_end(&mut buf)
            .map_err(|e| io_error(&resolved.real, e))?;
        Ok(buf)
    }

    /// One file of a search, opened safely: `Ok(None)` to skip it (gone,
    /// not a regular file); a denial (a hard link, a swap) is recorded and
    /// the file reported as withheld.
    pub(super) fn open_for_search(
        &mut self,
        path: &RelPath,
        withheld: &mut Vec<String>,
    ) -> Result<Option<(std::fs::File, Facts)>, Error> {
        match self.state.sandbox.open_real(path) {
            Ok(opened) => Ok(Some(opened)),
            Err(Refusal::Denied(reason)) => {
                self.journal.record(Event::Denied {
                    capability: Need::Read.capability().into(),
                    path: path.to_string(),
                    reason,
                });
                withheld.push(path.to_string());
                Ok(None)
            }
            Err(Refusal::NotFound | Refusal::Invalid(_)) => Ok(None),
            Err(Refusal::Io(msg)) => Err(Error::Io(msg)),
        }
    }

    /// Create a folder (and its parents), after the approval gate.
    pub(super) fn make_dir(&mut self, path: &str) -> Result<(), Error> {
        let resolved = self.resolve(path, Need::Write)?;
        let sandbox = &self.state.sandbox;
        match sandbox.stat_real(&resolved.real) {
            Ok(facts) if facts.kind == FileType::Directory => return Ok(()),
            Ok(_) | Err(Refusal::NotFound) => {}
            Err(r) => return Err(self.refused(Need::Write, &resolved.real, r)),
        }
        self.approve_change(&resolved.real, Change::CreateDir, None, None)?;
        self.audit_change("create-dir", &resolved.real, |a| a)?;
        let sandbox = &self.state.sandbox;
        sandbox
            .create_dirs(&resolved.real)
            .map_err(|r| self.refused(Need::Write, &resolved.real, r))
    }

    /// Remove a regular file by its own path, after the approval gate.
    pub(super) fn remove(&mut self, path: &str) -> Result<(), Error> {
        let resolved = self.resolve_existing(path, Need::Write)?;
        let through_link = || {
            Error::InvalidInput(format!(
                "`{}` is reached through a symbolic link; remove-file only removes regular files by their own path",
                resolved.asked
            ))
        };
        if resolved.real != resolved.asked {
            return Err(through_link());
        }
        let real = resolved.real.clone();
        let (dir, name) = self.parent_of(&real)?;
        let facts = open::stat_in(&dir, &name, &real)
            .map_err(|e| self.refused(Need::Write, &real, e.into()))?;
        match facts.kind {
            FileType::RegularFile => {}
            FileType::Symlink => return Err(through_link()),
            _ => {
                return Err(Error::InvalidInput(format!(
                    "`{}` is not a regular file",
                    resolved.asked
                )));
            }
        }
        let before = self.content_in(&dir, &name, &real)?;
        self.approve_change(&real, Change::Delete, before.as_deref(), None)?;
        self.audit_change("remove-file", &real, |a| records::remove(a, facts.size))?;
        // unlinkat in the checked directory: removes the name, never what a
        // link there might point to.
        dir.remove_file(&name).map_err(|e| io_error(&real, e))
    }

    pub(super) fn write_atomically(
        &mut self,
        raw: &str,
        contents: &[u8],
        mode: Option<u32>,
    ) -> Result<(), Error> {
        let resolved = self.resolve(raw, Need::Write)?;
        let len = contents.len() as u64;
        if len > MAX_WRITE_PER_CALL {
            return Err(Error::limit(
                "write-file size per call",
                MAX_WRITE_PER_CALL,
                len,
            ));
        }
        let used = self.state.usage.bytes_written.saturating_add(len);
        if used > self.state.limits.max_bytes_written {
            return Err(Error::limit(
                "limits.max-bytes-written",
                self.state.limits.max_bytes_written,
                used,
            ));
        }
        let real = &resolved.real.clone();
        if real.is_root() {
            return Err(Error::InvalidInput(
                "cannot write to the workspace root itself".into(),
            ));
        }
        let (dir, name) = self.parent_of(real)?;
        let name = name.as_str();
        if open::stat_in(&dir, name, real).is_ok_and(|f| f.kind == FileType::Directory) {
            return Err(Error::InvalidInput(format!("`{real}` is a directory")));
        }
        let before = self.content_in(&dir, name, real)?;
        self.approve_change(
            real,
            if before.is_some() {
                Change::Modify
            } else {
                Change::Create
            },
            before.as_deref(),
            Some(contents),
        )?;
        self.audit_change("write-file", real, |a| {
            records::write(a, contents, resolved.exists)
        })?;
        // Write beside the target, sync, then rename: a crash leaves either the
        // old file or the new one, never half of each. Both names live in the
        // checked directory handle; `create_new` (O_EXCL) opens nothing planted.
        let temp = format!(".airlock-write-{}.tmp", random_suffix());
        let result = (|| -> std::io::Result<()> {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            let mut file = dir.open_with(&temp, &options)?;
            // The new file keeps the permission bits of the one it replaces
            // (an executable script stays executable), or gets `mode`.
            let prior = dir
                .symlink_metadata(name)
                .ok()
                .filter(|m| m.is_file())
                .map(|m| m.permissions().mode() & 0o777);
            if let Some(bits) = prior.or(mode) {
                file.set_permissions(cap_std::fs::Permissions::from_std(
                    std::fs::Permissions::from_mode(bits),
                ))?;
            }
            file.write_all(contents)?;
            file.sync_all()?;
            crash_before_rename_fault();
            dir.rename(&temp, &dir, name)?;
            Ok(())
        })();
        if let Err(e) = result {
            let _ = dir.remove_file(&temp);
            return Err(io_error(real, e));
        }
        self.state.usage.bytes_written = used;
        Ok(())
    }
}

/// What `stat` reports about the checked real path `real` (no-follow).
pub(super) fn entry_kind_of(kind: FileType) -> crate::bindings::workspace_api::EntryKind {
    use crate::bindings::workspace_api::EntryKind;
    match kind {
        FileType::Symlink => EntryKind::Symlink,
        FileType::Directory => EntryKind::Directory,
        FileType::RegularFile => EntryKind::File,
        _ => EntryKind::Other,
    }
}

/// Fault injection for the crash test (debug builds only): with
/// `AIRLOCK_FAULT_CRASH_BEFORE_RENAME` set, the process dies the way a power
/// cut or `kill -9` would, after the new content is synced to its temporary
/// file and before the rename that would replace the old file.
fn crash_before_rename_fault() {
    if cfg!(debug_assertions) && std::env::var_os("AIRLOCK_FAULT_CRASH_BEFORE_RENAME").is_some() {
        std::process::abort();
    }
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    // A failure of the OS RNG only weakens the temp name's uniqueness;
    // `create_new` still refuses to clobber anything.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}
