//! Whether a policy file can be trusted: only root may be able to change it.
//!
//! Checked on the resolved path (symbolic links followed): the file must be a
//! regular file owned by root and writable by no one else; its directory must
//! be owned by root and writable by no one else; every directory above it must
//! be owned by root and either not writable by others or sticky (like `/tmp`,
//! where others cannot rename or delete what root owns).

use super::{Origin, PolicyError};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Why a file is not trusted, and how to fix it.
pub(crate) struct Untrusted {
    pub reason: String,
    pub fix: String,
}

const GROUP_OTHER_WRITE: u32 = 0o022;
const STICKY: u32 = 0o1000;

/// Check a policy file; the error refuses every run.
pub(super) fn check(origin: &Origin, path: &Path) -> Result<(), PolicyError> {
    check_path(path).map_err(|e| match e {
        Err(source) => PolicyError::Read {
            origin: origin.clone(),
            source,
        },
        Ok(Untrusted { reason, fix }) => PolicyError::Untrusted {
            origin: origin.clone(),
            reason,
            fix,
        },
    })
}

/// Whether only root can change the file at `path` (the same rule as for
/// policy files): `Err` says why not and how to fix it, or why it cannot be
/// examined. For other root-owned trust anchors, such as release keys.
pub fn root_only(path: &Path) -> Result<(), String> {
    check_path(path).map_err(|e| match e {
        Err(io) => format!("{} cannot be examined: {io}", path.display()),
        Ok(Untrusted { reason, fix }) => format!("{} {reason}; fix: {fix}", path.display()),
    })
}

/// `Err(Err(io))` when the file cannot be examined, `Err(Ok(why))` when it
/// can be changed by someone other than root.
pub(crate) fn check_path(path: &Path) -> Result<(), Result<Untrusted, std::io::Error>> {
    let real = path.canonicalize().map_err(Err)?;
    let meta = std::fs::metadata(&real).map_err(Err)?;
    // Name the resolved file when a symbolic link led there.
    let via = if real == path {
        String::new()
    } else {
        format!(" (resolved to {})", real.display())
    };
    let file_fix = format!(
        "`sudo chown root:root {0} && sudo chmod 644 {0}`",
        real.display()
    );
    if !meta.is_file() {
        return Err(Ok(Untrusted {
            reason: format!("is not a regular file{via}"),
            fix: format!("make {} a regular file owned by root", real.display()),
        }));
    }
    if meta.uid() != 0 {
        return Err(Ok(Untrusted {
            reason: format!("is owned by uid {}, not root{via}", meta.uid()),
            fix: file_fix,
        }));
    }
    if meta.mode() & GROUP_OTHER_WRITE != 0 {
        return Err(Ok(Untrusted {
            reason: format!(
                "is writable by group or others (mode {:04o}){via}",
                meta.mode() & 0o7777
            ),
            fix: file_fix,
        }));
    }
    for (depth, dir) in real.ancestors().skip(1).enumerate() {
        let meta = std::fs::metadata(dir).map_err(Err)?;
        let dir_fix = format!(
            "`sudo chown root:root {0} && sudo chmod 755 {0}`, or move the file to a directory only root can change",
            dir.display()
        );
        if meta.uid() != 0 {
            return Err(Ok(Untrusted {
                reason: format!(
                    "lies in {}, which is owned by uid {}, not root",
                    dir.display(),
                    meta.uid()
                ),
                fix: dir_fix,
            }));
        }
        // Others could replace the file in its own directory even when it is
        // sticky (a sticky directory lets them create a new name, and the
        // file may be reached by one), so only ancestors may be sticky.
        let writable = meta.mode() & GROUP_OTHER_WRITE != 0;
        if writable && (depth == 0 || meta.mode() & STICKY == 0) {
            return Err(Ok(Untrusted {
                reason: format!(
                    "lies in {}, which is writable by group or others (mode {:04o})",
                    dir.display(),
                    meta.mode() & 0o7777
                ),
                fix: dir_fix,
            }));
        }
    }
    Ok(())
}
