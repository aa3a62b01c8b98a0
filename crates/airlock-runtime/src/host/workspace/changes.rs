//! What a command changed in its private copy, applied to the real
//! workspace the way a skill's own edits are: each change passes the
//! profile's grants, the deny-list and the `.git` rule, is decided under
//! `edits.mode` (a person sees the diff under `ask`), is audited, kept for
//! `airlock undo`, and counted against `limits.max-bytes-written`.
//!
//! A change is applied only if the real file still holds what the command
//! started from; otherwise it is reported as a conflict and left alone.

use super::WorkspaceView;
use crate::approval::Change as Edit;
use crate::audit::schema::AppliedChange;
use crate::bindings::types::Error;
use crate::command::snapshot::{Change, ChangeKind, current_sha256};
use crate::journal::Event;

impl WorkspaceView<'_> {
    /// Apply `changes` (from [`crate::command::snapshot::Snapshot::changes`])
    /// one by one, in path order (a new folder comes before its files),
    /// and say what became of each as the `command` record keeps it (the
    /// path as lossy UTF-8 for display). Traps only when the audit log has
    /// failed.
    pub(crate) fn apply_command_changes(
        &mut self,
        changes: Vec<Change>,
    ) -> wasmtime::Result<Vec<AppliedChange>> {
        let mut out = Vec::with_capacity(changes.len());
        for change in changes {
            let path = String::from_utf8_lossy(&change.path).into_owned();
            let kind = match &change.kind {
                ChangeKind::Create { .. } => Some(Edit::Create),
                ChangeKind::Modify { .. } => Some(Edit::Modify),
                ChangeKind::Delete { .. } => Some(Edit::Delete),
                ChangeKind::CreateDir => Some(Edit::CreateDir),
                ChangeKind::NotApplied(_) => None,
            };
            let result = self.apply_one(&change);
            self.journal.audit_check()?;
            let reason = match result {
                Ok(()) => None,
                Err(e) => {
                    let op = match kind {
                        Some(Edit::Delete) => "remove-file",
                        Some(Edit::CreateDir) => "create-dir",
                        _ => "write-file",
                    };
                    self.audit_change_failed(op, &path, &e);
                    Some(crate::host::types::message(&e))
                }
            };
            self.journal.audit_check()?;
            out.push(AppliedChange {
                path,
                change: kind.map_or("other", Edit::as_str).into(),
                applied: reason.is_none(),
                reason,
            });
        }
        Ok(out)
    }

    fn apply_one(&mut self, change: &Change) -> Result<(), Error> {
        let shown = String::from_utf8_lossy(&change.path).into_owned();
        if let ChangeKind::NotApplied(why) = &change.kind {
            self.journal.record(Event::Denied {
                capability: "workspace-write".into(),
                path: shown.clone(),
                reason: format!("a command's change: {why}"),
            });
            return Err(Error::denied("workspace-write", &shown, why.clone()));
        }
        let Ok(path) = std::str::from_utf8(&change.path) else {
            return Err(Error::InvalidInput(format!(
                "`{shown}`: the name is not UTF-8, so it cannot be shown for review; a command's change to it is not applied"
            )));
        };
        let conflict = || {
            Error::Failed(format!(
                "conflict: `{path}` changed in the workspace while the command ran; the command's version was not applied"
            ))
        };
        match &change.kind {
            ChangeKind::Create {
                content,
                executable,
            } => {
                if self.root().symlink_metadata(path).is_ok() {
                    return Err(conflict());
                }
                let mode = if *executable { 0o755 } else { 0o644 };
                self.write_atomically(path, content, Some(mode))
            }
            ChangeKind::Modify { before, content } => {
                if current_sha256(self.root(), &change.path) != Some(*before) {
                    return Err(conflict());
                }
                self.write_atomically(path, content, None)
            }
            ChangeKind::Delete { before } => {
                if current_sha256(self.root(), &change.path) != Some(*before) {
                    return Err(conflict());
                }
                self.remove(path)
            }
            ChangeKind::CreateDir => self.make_dir(path),
            ChangeKind::NotApplied(_) => Ok(()),
        }
    }
}
