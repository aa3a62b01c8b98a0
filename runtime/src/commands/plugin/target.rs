//! What `airlock run NAME|PATH` runs: an installed plugin, its files,
//! signature and reviewed profile checked, or a bare component that no
//! signature vouches for.

use super::{admin_policy, check_publisher, store_failure};
use crate::exit::{Exit, Failure};
use airlock_runtime::Profile;
use airlock_runtime::plugins::manifest::Capabilities;
use airlock_runtime::plugins::store::{Installed, PluginStore};
use airlock_runtime::plugins::trust::TrustStore;
use airlock_runtime::plugins::{NameKind, Signer, caps, check_name};
use airlock_runtime::profile::ProfileSource;
use std::path::{Path, PathBuf};

/// What `airlock run` runs: an installed plugin, checked, or a component
/// from a path that no signature vouches for.
pub struct Target {
    /// The component file.
    pub path: PathBuf,
    /// The signer, for an installed plugin.
    pub signer: Option<Signer>,
    /// The profile reviewed at install, for an installed plugin.
    pub reviewed: Option<Reviewed>,
    /// What the plugin requests (the run gets the overlap with the profile).
    pub requested: Option<Capabilities>,
    /// The component sha256 the signed manifest names.
    pub component_sha256: Option<String>,
}

/// Resolve `airlock run`'s SKILL: an existing file runs only with
/// `--allow-unsigned` and when the admin policy allows unsigned skills; any
/// other value names an installed plugin, whose files and signature are
/// checked now.
pub fn resolve(skill: &Path, allow_unsigned: bool, home: Option<&Path>) -> Result<Target, Failure> {
    let policy = admin_policy()?;
    let as_name = skill
        .to_str()
        .filter(|s| check_name(NameKind::Plugin, s).is_ok());
    if let (Some(name), false, Some(home)) = (as_name, skill.is_file(), home) {
        let store = PluginStore::open(home);
        let installed = store.get(name).map_err(|_| {
            Failure::usage(format!(
                "no plugin named `{name}` is installed and there is no file {name} (see `airlock plugin list`)"
            ))
        })?;
        let trust = TrustStore::open(home);
        let signer = store
            .check(&installed, &trust, false)
            .map_err(store_failure)?;
        check_publisher(
            &policy,
            &signer,
            &format!("{} {}", installed.manifest.name, installed.manifest.version),
        )?;
        return Ok(Target {
            path: installed.component_path(),
            signer: Some(signer),
            reviewed: Some(Reviewed::of(&installed)),
            component_sha256: Some(installed.manifest.component_sha256().to_string()),
            requested: Some(installed.manifest.capabilities),
        });
    }
    if !allow_unsigned {
        return Err(Failure::new(
            Exit::Refused,
            format!(
                "refused to run {}: it is a bare component that no signature vouches for; install its signed package with `airlock plugin install` and run it by name, or pass --allow-unsigned to run it unsigned while developing it",
                skill.display()
            ),
        ));
    }
    if !policy.allow_unsigned {
        return Err(Failure::new(
            Exit::Refused,
            format!(
                "refused to run {} unsigned: the admin policy ({}) sets allow-unsigned = false; only installed, signed plugins may run",
                skill.display(),
                airlock_runtime::policy::origins(&policy.sources.allow_unsigned)
            ),
        ));
    }
    Ok(Target {
        path: skill.to_path_buf(),
        signer: None,
        reviewed: None,
        requested: None,
        component_sha256: None,
    })
}

/// The profile an installed plugin was reviewed against, as its install
/// record pins it: where it was read from and the sha256 of its text.
pub struct Reviewed {
    /// `NAME VERSION`.
    plugin: String,
    /// The record's `profile`, as `--profile` names it.
    shown: String,
    /// Where it was read from; `None` in a record older than the pin.
    source: Option<ProfileSource>,
    /// The sha256 of the text reviewed; `None` in a record older than the pin.
    sha256: Option<String>,
    /// The installed package, for the command that reviews it again.
    package: PathBuf,
}

impl Reviewed {
    pub(super) fn of(installed: &Installed) -> Self {
        Self {
            plugin: format!("{} {}", installed.manifest.name, installed.manifest.version),
            shown: installed.record.profile.clone(),
            source: installed.record.profile_source.clone(),
            sha256: installed.record.profile_sha256.clone(),
            package: installed.package_path(),
        }
    }

    /// The command that reviews the plugin again against `profile`.
    fn review_again(&self, profile: &str) -> String {
        format!(
            "review it again: `airlock plugin install {} --profile {profile}`, or choose a profile for this run with --profile",
            self.package.display()
        )
    }

    /// The reviewed profile, read again from where the review read it; a
    /// profile whose text changed since, or a record without the pin, is
    /// refused (exit 3): what would run is not what the officer reviewed.
    pub fn load(&self) -> Result<Profile, Failure> {
        let (Some(source), Some(sha256)) = (&self.source, &self.sha256) else {
            return Err(Failure::new(
                Exit::Refused,
                format!(
                    "refused to run plugin {}: its install record names the profile `{}` but not the sha256 of the text reviewed (it was installed before Airlock pinned the review), so what it would run under may not be what was reviewed; {}",
                    self.plugin,
                    self.shown,
                    self.review_again(&self.shown)
                ),
            ));
        };
        let profile = Profile::from_source(source).map_err(|e| {
            let failure = Failure::from(e);
            Failure::new(
                failure.code(),
                format!(
                    "plugin {}: the profile reviewed at install cannot be used: {failure}; fix it, or {}",
                    self.plugin,
                    self.review_again("PROFILE")
                ),
            )
        })?;
        if profile.digest != *sha256 {
            return Err(Failure::new(
                Exit::Refused,
                format!(
                    "refused to run plugin {}: its profile ({source}) changed since the install review: the text reviewed had sha256 {sha256}, it now has sha256 {}; {}",
                    self.plugin,
                    profile.digest,
                    self.review_again(&source.argument())
                ),
            ));
        }
        Ok(profile)
    }
}

impl Target {
    /// The profile narrowed to what the plugin requests.
    pub fn narrow(&self, profile: Profile) -> Profile {
        match &self.requested {
            Some(requested) => caps::narrow(&profile, requested),
            None => profile,
        }
    }

    /// Refuse a component whose bytes are not those the signature covers
    /// (it changed between the check and the load).
    pub fn check_loaded(&self, digest: &str) -> Result<(), Failure> {
        match &self.component_sha256 {
            Some(expected) if expected != digest => Err(Failure::new(
                Exit::Refused,
                format!(
                    "refused to run {}: it has sha256 {digest}, but its signed manifest says {expected}",
                    self.path.display()
                ),
            )),
            _ => Ok(()),
        }
    }
}
