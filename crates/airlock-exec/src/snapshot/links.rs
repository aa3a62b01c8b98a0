//! Hard links in a command's copy: identity, not names.
//!
//! The deny-list sees names. A regular file with more than one hard link may
//! be a secret under an innocent name (`notes.txt` → `.env`), so such a file
//! is not copied for a command unless the profile says
//! `hard-links = "allow"`. When it does, each copied multi-link file is
//! compared, by (device, inode), with the multi-link files the same walk
//! skipped (deny-listed entries and Airlock's state directory, their
//! folders walked without following links); a match is removed from the copy
//! again. A file with a single link has no second name, so only multi-link
//! files are recorded on either side.

use cap_fs_ext::DirExt;
use cap_std::fs::{Dir, MetadataExt};
use std::collections::HashSet;
use std::ffi::OsStr;

/// A file's identity: device and inode.
pub type Identity = (u64, u64);

/// Why a multi-link file is not in the command's copy.
pub const WITHHELD_REASON: &str = "a file with more than one hard link is not copied for a command (it may be a secret under another name); the profile's `hard-links = \"allow\"` copies those not linked to a deny-listed file";

/// What the copier learns about hard links during its one walk.
#[derive(Debug, Default)]
pub(super) struct Links {
    /// Identities of multi-link files the walk skipped as secret.
    denied: HashSet<Identity>,
    /// Copied multi-link files: path and identity (checked at the end, as a
    /// link may be copied before the walk reaches the secret it names).
    copied: Vec<(Vec<u8>, Identity)>,
}

impl Links {
    /// Note a copied file with more than one link.
    pub(super) fn copied(&mut self, path: Vec<u8>, id: Identity) {
        self.copied.push((path, id));
    }

    /// Record the identities of the multi-link regular files at `name` in
    /// `dir` (a file, or every file below a folder), never following a link.
    /// Each entry seen counts against `budget`; `false` when it runs out.
    pub(super) fn record_skipped(
        &mut self,
        dir: &Dir,
        name: &OsStr,
        ft: cap_std::fs::FileType,
        budget: &mut usize,
    ) -> bool {
        if ft.is_file() {
            if let Ok(meta) = dir.symlink_metadata(name) {
                self.note_denied(&meta);
            }
            return true;
        }
        if !ft.is_dir() {
            return true;
        }
        let Ok(top) = dir.open_dir_nofollow(name) else {
            return true;
        };
        let mut stack = vec![top];
        while let Some(dir) = stack.pop() {
            let Ok(listing) = dir.entries() else {
                continue;
            };
            for item in listing.flatten() {
                if *budget == 0 {
                    return false;
                }
                *budget -= 1;
                match item.file_type() {
                    Ok(t) if t.is_dir() => {
                        if let Ok(sub) = dir.open_dir_nofollow(item.file_name()) {
                            stack.push(sub);
                        }
                    }
                    Ok(t) if t.is_file() => {
                        if let Ok(meta) = item.metadata() {
                            self.note_denied(&meta);
                        }
                    }
                    _ => {}
                }
            }
        }
        true
    }

    fn note_denied(&mut self, meta: &cap_std::fs::Metadata) {
        if meta.nlink() > 1 {
            self.denied.insert((meta.dev(), meta.ino()));
        }
    }

    /// The copied files that are a skipped secret under another name.
    pub(super) fn secrets_copied(&self) -> impl Iterator<Item = &[u8]> {
        self.copied
            .iter()
            .filter(|(_, id)| self.denied.contains(id))
            .map(|(path, _)| path.as_slice())
    }
}
