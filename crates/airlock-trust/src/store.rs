//! The plugin store: `$AIRLOCK_HOME/plugins/<name>/<version>/` holds the
//! package as installed (`package.airlock`), its component extracted
//! (`component.wasm`, which runs load) and the install record
//! (`install.json`: both files' sha256 and metadata fingerprints, the
//! profile reviewed with where it was read from and the sha256 of its text,
//! the signer). Both files are read-only. A version
//! directory appears whole or not at all: it is filled under a temporary
//! name and renamed into place.
//!
//! Before each run [`PluginStore::check`] compares both files' metadata with
//! the record (as the model store does: size, times, inode) and hashes them
//! in full only when any changed; then it verifies the signature against the
//! trust store as it is now.
//!
//! An upgrade must be signed by the key the installed plugin was signed
//! with ([`PluginStore::check_upgrade`]): a key trusted for one publisher
//! cannot take over another publisher's plugin by publishing a higher
//! version. The officer can transfer a plugin on purpose.

// Ambient std::fs allowed: the plugin store is this module's state-directory format.
#![allow(clippy::disallowed_methods)]

use super::Signer;
use super::manifest::Manifest;
use super::package::{Package, PackageError};
use super::trust::TrustStore;
use airlock_core::statefs::Fingerprint;
use airlock_core::statefs::{ensure_private_dir, hash_copy, make_read_only, sync_dir};
use airlock_policy::profile::ProfileSource;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const PACKAGE_FILE: &str = "package.airlock";
const COMPONENT_FILE: &str = "component.wasm";
const RECORD_FILE: &str = "install.json";

/// The plugin store.
pub struct PluginStore {
    dir: PathBuf,
}

/// A file's sha256 and metadata fingerprint at install.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Hex sha256.
    pub sha256: String,
    /// Size.
    pub len: u64,
    /// mtime, ns.
    pub mtime_ns: i64,
    /// ctime, ns.
    pub ctime_ns: i64,
    /// Inode.
    pub inode: u64,
    /// Device.
    pub device: u64,
}

impl Stamp {
    fn matches(&self, fp: &Fingerprint) -> bool {
        self.len == fp.len
            && self.mtime_ns == fp.mtime_ns
            && self.ctime_ns == fp.ctime_ns
            && self.inode == fp.inode
            && self.device == fp.device
    }

    fn of(path: &Path) -> std::io::Result<Self> {
        let mut file = std::fs::File::open(path)?;
        let fp = Fingerprint::of(&file.metadata()?);
        let (sha256, _) = hash_copy(&mut file, None, fp.len, &|_, _| {})?;
        Ok(Self {
            sha256,
            len: fp.len,
            mtime_ns: fp.mtime_ns,
            ctime_ns: fp.ctime_ns,
            inode: fp.inode,
            device: fp.device,
        })
    }
}

/// What `install.json` records.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Record {
    /// The package file.
    pub package: Stamp,
    /// The extracted component.
    pub component: Stamp,
    /// The profile reviewed at install, as `--profile` would name it; runs
    /// use it unless `--profile` says otherwise.
    pub profile: String,
    /// Where the reviewed profile was read from. Absent in records written
    /// before Airlock pinned the review: such a plugin is refused until its
    /// profile is reviewed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_source: Option<ProfileSource>,
    /// The sha256 of the exact profile text reviewed; a run whose profile
    /// text differs is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_sha256: Option<String>,
    /// The trust store's name for the signing key at install.
    pub trusted_as: String,
    /// The key's fingerprint.
    pub fingerprint: String,
    /// Seconds since the epoch.
    pub installed: u64,
}

/// An installed plugin version.
#[derive(Debug, Clone)]
pub struct Installed {
    /// Its directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Its install record.
    pub record: Record,
}

impl Installed {
    /// The component file that runs load.
    pub fn component_path(&self) -> PathBuf {
        self.dir.join(COMPONENT_FILE)
    }

    /// The package file.
    pub fn package_path(&self) -> PathBuf {
        self.dir.join(PACKAGE_FILE)
    }
}

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The package or the signature failed a check.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// No such plugin.
    #[error("no plugin named `{0}` is installed (see `airlock plugin list`)")]
    NotInstalled(String),
    /// A lower version than the installed one.
    #[error(
        "refused: {name} {offered} is older than the installed {name} {installed}; a downgrade can bring back flaws fixed since. To go back on purpose, remove it first with `airlock plugin remove {name}`"
    )]
    Downgrade {
        /// Plugin.
        name: String,
        /// Offered version.
        offered: String,
        /// Installed version.
        installed: String,
    },
    /// The same version with other contents.
    #[error(
        "refused: {name} {version} is already installed from a different package (sha256 {installed}); a version must not change once published. Remove it first with `airlock plugin remove {name}` if you mean to replace it"
    )]
    SameVersionDiffers {
        /// Plugin.
        name: String,
        /// Version.
        version: String,
        /// The installed package's sha256.
        installed: String,
    },
    /// An upgrade signed by another key than the installed plugin.
    #[error(
        "refused: {name} is installed from publisher key {installed_key} (trusted as `{installed_as}` at install), but this package is signed by another key, {offered_key} (trusted as `{offered_as}`); only the installed plugin's publisher may publish its upgrades. If the plugin has really moved to the new publisher, confirm it with both, then install with --transfer-publisher (the audit log records the transfer), or remove it first with `airlock plugin remove {name}`"
    )]
    PublisherChanged {
        /// Plugin.
        name: String,
        /// The installed plugin's key fingerprint.
        installed_key: String,
        /// The trust store's name for it at install.
        installed_as: String,
        /// The offered package's key fingerprint.
        offered_key: String,
        /// The trust store's name for it now.
        offered_as: String,
    },
    /// An installed file changed since install.
    #[error(
        "refused: installed plugin {name} {version} was modified after install: {file} has sha256 {found}, installed as {expected}; reinstall it from its package with `airlock plugin install`"
    )]
    Modified {
        /// Plugin.
        name: String,
        /// Version.
        version: String,
        /// The file.
        file: String,
        /// The install record's digest.
        expected: String,
        /// Now.
        found: String,
    },
    /// A file operation failed.
    #[error("plugin store {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl PluginStore {
    /// The plugin store of the Airlock home `home`.
    pub fn open(home: &Path) -> Self {
        Self {
            dir: home.join("plugins"),
        }
    }

    /// Every installed version of every plugin, by name then version.
    pub fn list(&self) -> Vec<Installed> {
        let Ok(names) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = names
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names.iter().flat_map(|n| self.versions(n)).collect()
    }

    /// The installed versions of `name`, lowest first.
    pub fn versions(&self, name: &str) -> Vec<Installed> {
        if super::check_name(super::NameKind::Plugin, name).is_err() {
            return Vec::new();
        }
        let Ok(entries) = std::fs::read_dir(self.dir.join(name)) else {
            return Vec::new();
        };
        let mut found: Vec<Installed> = entries
            .flatten()
            .filter_map(|e| load(&e.path()).ok())
            .collect();
        found.sort_by_key(|i| i.manifest.semver());
        found
    }

    /// The newest installed version of `name`.
    pub fn get(&self, name: &str) -> Result<Installed, StoreError> {
        self.versions(name)
            .pop()
            .ok_or_else(|| StoreError::NotInstalled(name.to_string()))
    }

    /// Refusals that installing `package`, signed by `signer`, would meet:
    /// another publisher key than the installed versions' (unless
    /// `transfer`), a downgrade, or the same version with other contents.
    /// `Ok(Some(_))` when exactly this package is installed already.
    pub fn check_upgrade(
        &self,
        package: &Package,
        package_sha256: &str,
        signer: &Signer,
        transfer: bool,
    ) -> Result<Option<Installed>, StoreError> {
        let m = &package.manifest;
        let versions = self.versions(&m.name);
        if !transfer
            && let Some(other) = versions
                .iter()
                .rev()
                .find(|i| i.record.fingerprint != signer.fingerprint)
        {
            return Err(StoreError::PublisherChanged {
                name: m.name.clone(),
                installed_key: other.record.fingerprint.clone(),
                installed_as: other.record.trusted_as.clone(),
                offered_key: signer.fingerprint.clone(),
                offered_as: signer.trusted_as.clone(),
            });
        }
        for installed in versions.into_iter().rev() {
            let have = installed.manifest.semver();
            if have > m.semver() {
                return Err(StoreError::Downgrade {
                    name: m.name.clone(),
                    offered: m.version.clone(),
                    installed: installed.manifest.version.clone(),
                });
            }
            if have == m.semver() {
                if installed.record.package.sha256 == package_sha256 {
                    return Ok(Some(installed));
                }
                return Err(StoreError::SameVersionDiffers {
                    name: m.name.clone(),
                    version: m.version.clone(),
                    installed: installed.record.package.sha256,
                });
            }
        }
        Ok(None)
    }

    /// The key fingerprint and trusted name of the newest installed version
    /// of `name` signed by another key than `fingerprint`, if any.
    pub fn other_publisher(&self, name: &str, fingerprint: &str) -> Option<(String, String)> {
        self.versions(name)
            .into_iter()
            .rev()
            .find(|i| i.record.fingerprint != fingerprint)
            .map(|i| (i.record.fingerprint, i.record.trusted_as))
    }

    /// Install a verified package reviewed against the profile read from
    /// `profile` (whose text has sha256 `profile_sha256`): fill a temporary
    /// directory and rename it into place.
    pub fn install(
        &self,
        package: &Package,
        signer: &Signer,
        profile: &ProfileSource,
        profile_sha256: &str,
    ) -> Result<Installed, StoreError> {
        let m = &package.manifest;
        let parent = self.dir.join(&m.name);
        ensure_private_dir(&parent).map_err(io(&parent))?;
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| StoreError::Io {
            path: parent.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let temp = parent.join(format!(".install-{}", hex::encode(random)));
        let result = (|| {
            ensure_private_dir(&temp).map_err(io(&temp))?;
            let package_path = temp.join(PACKAGE_FILE);
            let component_path = temp.join(COMPONENT_FILE);
            for (path, bytes) in [
                (&package_path, package.to_bytes()),
                (&component_path, package.component.clone()),
            ] {
                write_read_only(path, &bytes).map_err(io(path))?;
            }
            let record = Record {
                package: Stamp::of(&package_path).map_err(io(&package_path))?,
                component: Stamp::of(&component_path).map_err(io(&component_path))?,
                profile: profile.argument(),
                profile_source: Some(profile.clone()),
                profile_sha256: Some(profile_sha256.to_string()),
                trusted_as: signer.trusted_as.clone(),
                fingerprint: signer.fingerprint.clone(),
                installed: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs()),
            };
            write_record(&temp, &record)?;
            sync_dir(&temp);
            let dest = parent.join(&m.version);
            std::fs::rename(&temp, &dest).map_err(io(&dest))?;
            sync_dir(&parent);
            load(&dest)
        })();
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&temp);
        }
        result
    }

    /// Record a new review of an installed plugin: the profile read from
    /// `profile`, whose text has sha256 `profile_sha256`.
    pub fn repin(
        &self,
        installed: &Installed,
        profile: &ProfileSource,
        profile_sha256: &str,
    ) -> Result<Installed, StoreError> {
        let mut record = installed.record.clone();
        record.profile = profile.argument();
        record.profile_source = Some(profile.clone());
        record.profile_sha256 = Some(profile_sha256.to_string());
        write_record(&installed.dir, &record)?;
        load(&installed.dir)
    }

    /// Remove the versions of `name` older than `version` (after a newer
    /// one was installed and checked).
    pub fn prune_older(&self, name: &str, version: &str) {
        let Ok(version) = semver::Version::parse(version) else {
            return;
        };
        for old in self.versions(name) {
            if old.manifest.semver() < version {
                let _ = std::fs::remove_dir_all(&old.dir);
            }
        }
    }

    /// Remove every installed version of `name`.
    pub fn remove(&self, name: &str) -> Result<Vec<Installed>, StoreError> {
        let versions = self.versions(name);
        if versions.is_empty() {
            return Err(StoreError::NotInstalled(name.to_string()));
        }
        let dir = self.dir.join(name);
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        Ok(versions)
    }

    /// The check before each run: the installed files against the record
    /// (cheaply when their metadata is unchanged, in full otherwise, or
    /// always with `full`), then the signature against `trust` as it is now.
    pub fn check(
        &self,
        installed: &Installed,
        trust: &TrustStore,
        full: bool,
    ) -> Result<Signer, StoreError> {
        let mut record = installed.record.clone();
        let mut refreshed = false;
        for (file, stamp) in [
            (PACKAGE_FILE, &mut record.package),
            (COMPONENT_FILE, &mut record.component),
        ] {
            let path = installed.dir.join(file);
            let meta = std::fs::metadata(&path).map_err(io(&path))?;
            if !full && stamp.matches(&Fingerprint::of(&meta)) {
                continue;
            }
            let now = Stamp::of(&path).map_err(io(&path))?;
            if now.sha256 != stamp.sha256 {
                return Err(StoreError::Modified {
                    name: installed.manifest.name.clone(),
                    version: installed.manifest.version.clone(),
                    file: path.display().to_string(),
                    expected: stamp.sha256.clone(),
                    found: now.sha256,
                });
            }
            if *stamp != now {
                *stamp = now;
                refreshed = true;
            }
        }
        let package = Package::read_head(&installed.package_path())?;
        let signer = package.verify(&installed.package_path(), trust)?;
        if package.manifest.component_sha256() != record.component.sha256 {
            return Err(StoreError::Modified {
                name: installed.manifest.name.clone(),
                version: installed.manifest.version.clone(),
                file: installed.component_path().display().to_string(),
                expected: package.manifest.component_sha256().to_string(),
                found: record.component.sha256,
            });
        }
        if refreshed {
            // Same contents, new metadata (e.g. a backup restored): remember
            // it so the next run is cheap again. Failing that only costs time.
            let _ = write_record(&installed.dir, &record);
        }
        Ok(signer)
    }
}

fn load(dir: &Path) -> Result<Installed, StoreError> {
    let record_path = dir.join(RECORD_FILE);
    let text = std::fs::read_to_string(&record_path).map_err(io(&record_path))?;
    let record: Record = serde_json::from_str(&text).map_err(|e| StoreError::Io {
        path: record_path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let package = Package::read_head(&dir.join(PACKAGE_FILE))?;
    Ok(Installed {
        dir: dir.to_path_buf(),
        manifest: package.manifest,
        record,
    })
}

fn write_record(dir: &Path, record: &Record) -> Result<(), StoreError> {
    let path = dir.join(RECORD_FILE);
    let text = serde_json::to_string_pretty(record).unwrap_or_default();
    airlock_core::statefs::write_atomic(&path, text.as_bytes()).map_err(io(&path))
}

fn write_read_only(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    make_read_only(&file)
}
