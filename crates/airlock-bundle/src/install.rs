//! Installing a verified bundle, all or nothing.
//!
//! 1. The signature is checked and the serial compared with the installed
//!    bundle's (`PREFIX/share/airlock/bundle.toml`) before any file is read:
//!    an older bundle is refused.
//! 2. Every file is verified as it is unpacked into a private staging
//!    directory (`PREFIX/share/airlock/.incoming-*`); any failure removes it
//!    and nothing else was touched.
//! 3. Each new or changed file is put beside its destination as
//!    `.NAME.airlock-new`; then each destination is moved aside to
//!    `.NAME.airlock-old` and the new file renamed into place, files the
//!    new bundle no longer has are moved aside too, and the record is
//!    written. A failure at any step puts every moved file back. Only then
//!    are the old files deleted.
//!
//! Where files go, by the first name of their bundle path: `bin/` to
//! `PREFIX/bin/`, `profiles/` to the admin profile directory
//! (`/etc/airlock/profiles`), `revoked/` to the revocation lists
//! (`/etc/airlock/revoked.d`, where every run reads them), everything else
//! under `PREFIX/share/airlock/`.

// Ambient std::fs allowed: the install destinations the officer names.
#![allow(clippy::disallowed_methods)]

use crate::BundleError;
use crate::archive::{self, Verified};
use airlock_trust::keys::PublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The installed bundle's record, under the prefix.
pub const RECORD: &str = "share/airlock/bundle.toml";
const RECORD_FORMAT: &str = "airlock-installed-bundle-v1";

/// Where a bundle is installed.
#[derive(Debug, Clone)]
pub struct Destinations {
    /// `bin/` and `share/airlock/` go under it (`/usr/local` by default).
    pub prefix: PathBuf,
    /// Where `profiles/` goes (`/etc/airlock/profiles` by default).
    pub profile_dir: PathBuf,
    /// Where `revoked/` goes: the revocation lists every run reads
    /// (`/etc/airlock/revoked.d` by default).
    pub revocation_dir: PathBuf,
}

impl Destinations {
    /// Where the bundle file `rel` is installed.
    pub fn of(&self, rel: &str) -> PathBuf {
        match rel.split_once('/') {
            Some(("bin", rest)) => self.prefix.join("bin").join(rest),
            Some(("profiles", rest)) => self.profile_dir.join(rest),
            Some(("revoked", rest)) => self.revocation_dir.join(rest),
            _ => self.prefix.join("share/airlock").join(rel),
        }
    }

    /// The record of the installed bundle.
    pub fn record(&self) -> PathBuf {
        self.prefix.join(RECORD)
    }
}

/// The record of what is installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Record {
    /// [`RECORD_FORMAT`].
    pub format: String,
    /// The installed bundle's serial.
    pub serial: u64,
    /// The Airlock version it carried.
    pub airlock: String,
    /// The release key that signed it.
    pub key: String,
    /// Every file installed, where, and its sha256.
    #[serde(rename = "file", default)]
    pub files: Vec<RecordedFile>,
}

/// One installed file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RecordedFile {
    /// Where it is.
    pub dest: PathBuf,
    /// Its sha256.
    pub sha256: String,
}

/// What happened to one destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A new file.
    Added,
    /// An existing file replaced by different content.
    Replaced,
    /// Already there with the same content.
    Unchanged,
    /// In the installed bundle, not in this one: removed.
    Removed,
}

/// One destination's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The destination.
    pub dest: PathBuf,
    /// What happened.
    pub kind: ChangeKind,
}

/// What an install did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The bundle, verified.
    pub verified: Verified,
    /// The serial installed before, if any.
    pub previous: Option<u64>,
    /// Every destination, sorted.
    pub changes: Vec<Change>,
}

/// The installed record, if any.
pub fn installed(dest: &Destinations) -> Result<Option<Record>, BundleError> {
    let path = dest.record();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(BundleError::Read { path, source }),
    };
    let record: Record = toml::from_str(&text)
        .ok()
        .filter(|r: &Record| r.format == RECORD_FORMAT)
        .ok_or_else(|| BundleError::Format {
            path: path.clone(),
            reason: format!("not a `{RECORD_FORMAT}` record; restore it from a backup (it tells which bundle is installed)"),
        })?;
    Ok(Some(record))
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn sha256_of(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hex::encode(hasher.finalize()))
}

/// `dir/.NAME.airlock-SUFFIX` beside `dest`.
fn beside(dest: &Path, suffix: &str) -> PathBuf {
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dest.with_file_name(format!(".{name}.airlock-{suffix}"))
}

fn random_name(prefix: &str) -> Result<String, BundleError> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| BundleError::Write {
        path: PathBuf::from(prefix),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(format!("{prefix}{}", hex::encode(random)))
}

/// Create `dir` and its missing parents with mode 755 (what an
/// administrator's prefix has), adding each one created to `created`
/// (outermost first), so that a failed install can remove them again.
fn make_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> Result<(), BundleError> {
    use std::os::unix::fs::DirBuilderExt;
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| std::fs::symlink_metadata(d).is_err())
        .collect();
    for d in missing.into_iter().rev() {
        std::fs::DirBuilder::new()
            .mode(0o755)
            .create(d)
            .map_err(write_err(d))?;
        created.push(d.to_path_buf());
    }
    Ok(())
}

/// Remove the directories a failed install created (if still empty).
fn remove_dirs(created: &[PathBuf]) {
    for d in created.iter().rev() {
        let _ = std::fs::remove_dir(d);
    }
}

/// The moves made so far, to undo on failure.
#[derive(Default)]
struct Journal {
    /// (destination, where its old content went), or no old content.
    placed: Vec<(PathBuf, Option<PathBuf>)>,
    /// Removed destinations and where they went.
    removed: Vec<(PathBuf, PathBuf)>,
    /// `.airlock-new` files not yet moved into place.
    pending: Vec<PathBuf>,
}

impl Journal {
    fn undo(self) {
        for path in self.pending {
            let _ = std::fs::remove_file(path);
        }
        for (dest, old) in self.removed.into_iter().rev() {
            let _ = std::fs::rename(old, dest);
        }
        for (dest, old) in self.placed.into_iter().rev() {
            match old {
                Some(old) => {
                    let _ = std::fs::rename(old, &dest);
                }
                None => {
                    let _ = std::fs::remove_file(&dest);
                }
            }
        }
    }

    fn finish(self) {
        for (_, old) in self.removed {
            let _ = std::fs::remove_file(old);
        }
        for (_, old) in self.placed {
            if let Some(old) = old {
                let _ = std::fs::remove_file(old);
            }
        }
    }
}

/// Install the bundle at `bundle`, verified against `keys`, into `dest`.
/// `progress` gets (bytes verified, total).
pub fn install(
    bundle: &Path,
    keys: &[PublicKey],
    dest: &Destinations,
    progress: &dyn Fn(u64, u64),
) -> Result<Report, BundleError> {
    let head = archive::open_head(bundle, keys)?;
    let before = installed(dest)?;
    if let Some(before) = &before
        && head.manifest.serial < before.serial
    {
        return Err(BundleError::Older {
            path: bundle.to_path_buf(),
            serial: head.manifest.serial,
            installed: before.serial,
            record: dest.record(),
        });
    }
    let share = dest.prefix.join("share/airlock");
    let mut created = Vec::new();
    let staging = share.join(random_name(".incoming-")?);
    let result = (|| {
        make_dirs(&share, &mut created)?;
        std::fs::create_dir(&staging).map_err(write_err(&staging))?;
        std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o700))
            .map_err(write_err(&staging))?;
        let verified = archive::open(bundle, keys, Some(&staging), progress)?;
        if verified.manifest != head.manifest {
            // The file changed between the two reads.
            return Err(BundleError::Format {
                path: bundle.to_path_buf(),
                reason: "the bundle changed while it was being read".into(),
            });
        }
        commit(&verified, before.as_ref(), dest, &staging, &mut created).map(|changes| Report {
            verified,
            previous: before.as_ref().map(|r| r.serial),
            changes,
        })
    })();
    let _ = std::fs::remove_dir_all(&staging);
    if result.is_err() {
        remove_dirs(&created);
    }
    result
}

fn commit(
    verified: &Verified,
    before: Option<&Record>,
    dest: &Destinations,
    staging: &Path,
    created: &mut Vec<PathBuf>,
) -> Result<Vec<Change>, BundleError> {
    let manifest = &verified.manifest;
    let mut changes = Vec::new();
    let mut journal = Journal::default();
    let result = (|| {
        // Stage beside each destination.
        let mut moves = Vec::new();
        for f in &manifest.files {
            let to = dest.of(&f.path);
            let kind = match std::fs::symlink_metadata(&to) {
                Ok(m)
                    if m.is_file()
                        && m.len() == f.size
                        && sha256_of(&to).as_deref() == Some(&f.sha256) =>
                {
                    ChangeKind::Unchanged
                }
                Ok(m) if m.is_dir() => {
                    return Err(BundleError::Write {
                        path: to.clone(),
                        source: std::io::Error::other("a directory is where a file goes"),
                    });
                }
                Ok(_) => ChangeKind::Replaced,
                Err(_) => ChangeKind::Added,
            };
            changes.push(Change {
                dest: to.clone(),
                kind,
            });
            if kind == ChangeKind::Unchanged {
                continue;
            }
            if let Some(parent) = to.parent() {
                make_dirs(parent, created)?;
            }
            let new = beside(&to, "new");
            let from = staging.join(&f.path);
            if std::fs::rename(&from, &new).is_err() {
                // Another filesystem: copy, then make it durable.
                std::fs::copy(&from, &new).map_err(write_err(&new))?;
            }
            journal.pending.push(new.clone());
            let mode = if f.executable { 0o755 } else { 0o644 };
            std::fs::set_permissions(&new, std::fs::Permissions::from_mode(mode))
                .map_err(write_err(&new))?;
            std::fs::File::open(&new)
                .and_then(|file| file.sync_all())
                .map_err(write_err(&new))?;
            moves.push((new, to, kind));
        }
        // Into place.
        for (new, to, kind) in moves {
            let old = if kind == ChangeKind::Replaced {
                let old = beside(&to, "old");
                std::fs::rename(&to, &old).map_err(write_err(&to))?;
                Some(old)
            } else {
                None
            };
            journal.placed.push((to.clone(), old));
            std::fs::rename(&new, &to).map_err(write_err(&to))?;
            journal.pending.retain(|p| p != &new);
        }
        // What the new bundle no longer has.
        let now: BTreeSet<PathBuf> = changes.iter().map(|c| c.dest.clone()).collect();
        for gone in before.iter().flat_map(|r| &r.files) {
            if now.contains(&gone.dest) || std::fs::symlink_metadata(&gone.dest).is_err() {
                continue;
            }
            let old = beside(&gone.dest, "old");
            std::fs::rename(&gone.dest, &old).map_err(write_err(&gone.dest))?;
            journal.removed.push((gone.dest.clone(), old));
            changes.push(Change {
                dest: gone.dest.clone(),
                kind: ChangeKind::Removed,
            });
        }
        // The record last: it says what is now installed.
        let record = Record {
            format: RECORD_FORMAT.into(),
            serial: manifest.serial,
            airlock: manifest.airlock.clone(),
            key: verified.key.clone(),
            files: manifest
                .files
                .iter()
                .map(|f| RecordedFile {
                    dest: dest.of(&f.path),
                    sha256: f.sha256.clone(),
                })
                .collect(),
        };
        let text = toml::to_string(&record).map_err(|e| BundleError::Write {
            path: dest.record(),
            source: std::io::Error::other(e.to_string()),
        })?;
        airlock_core::statefs::write_atomic(&dest.record(), text.as_bytes())
            .map_err(write_err(&dest.record()))?;
        Ok(())
    })();
    match result {
        Ok(()) => {
            journal.finish();
            changes.sort_by(|a, b| a.dest.cmp(&b.dest));
            Ok(changes)
        }
        Err(e) => {
            journal.undo();
            Err(e)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The commit's undo, as a failure at its last step (the record) runs
    /// it: replaced files get their old content back, added ones go, removed
    /// ones return, and no `.airlock-*` file is left.
    #[test]
    fn a_failed_commit_puts_every_moved_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let replaced = d.join("airlock");
        let removed = d.join("NOTICE");
        let added = d.join("new.toml");
        std::fs::write(&replaced, "old binary").unwrap();
        std::fs::write(&removed, "notice").unwrap();
        let mut journal = Journal::default();
        // Replace: old content aside, new in place.
        let old = beside(&replaced, "old");
        std::fs::rename(&replaced, &old).unwrap();
        std::fs::write(&replaced, "new binary").unwrap();
        journal.placed.push((replaced.clone(), Some(old)));
        // Add.
        std::fs::write(&added, "new profile").unwrap();
        journal.placed.push((added.clone(), None));
        // Remove.
        let gone = beside(&removed, "old");
        std::fs::rename(&removed, &gone).unwrap();
        journal.removed.push((removed.clone(), gone));
        // A staged file not yet moved.
        let pending = beside(&d.join("other"), "new");
        std::fs::write(&pending, "x").unwrap();
        journal.pending.push(pending);

        journal.undo();
        assert_eq!(std::fs::read_to_string(&replaced).unwrap(), "old binary");
        assert_eq!(std::fs::read_to_string(&removed).unwrap(), "notice");
        assert!(!added.exists());
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["NOTICE", "airlock"]);
    }

    #[test]
    fn each_part_goes_to_its_place() {
        let dest = Destinations {
            prefix: PathBuf::from("/usr/local"),
            profile_dir: PathBuf::from("/etc/airlock/profiles"),
            revocation_dir: PathBuf::from("/etc/airlock/revoked.d"),
        };
        assert_eq!(dest.of("bin/airlock"), Path::new("/usr/local/bin/airlock"));
        assert_eq!(
            dest.of("profiles/team.toml"),
            Path::new("/etc/airlock/profiles/team.toml")
        );
        assert_eq!(
            dest.of("plugins/coder-0.1.0.airlock"),
            Path::new("/usr/local/share/airlock/plugins/coder-0.1.0.airlock")
        );
        assert_eq!(
            dest.record(),
            Path::new("/usr/local/share/airlock/bundle.toml")
        );
    }
}
