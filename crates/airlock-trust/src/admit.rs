//! May this plugin run? The decision made before every run of `airlock run`,
//! `chat` and `mcp`: an installed plugin's files and signature are checked
//! against the trust store as it is now, its publisher against the admin
//! policy, and the profile it was reviewed against must be the very text
//! that was reviewed; a bare component runs only when the caller asked for
//! it unsigned *and* the admin policy allows unsigned code.

// Ambient std::fs allowed: tells a user-named component file from an installed plugin's name.
#![allow(clippy::disallowed_methods)]

use crate::manifest::Capabilities;
use crate::package::PackageError;
use crate::store::{Installed, PluginStore, StoreError};
use crate::trust::TrustStore;
use crate::{Signer, caps};
use airlock_core::names::{self, NameKind};
use airlock_policy::admin::{Policy, origins};
use airlock_policy::profile::{Profile, ProfileError, ProfileSource};
use std::path::{Path, PathBuf};

/// Why a plugin may not run (or a package may not be installed). Each
/// message names the plugin or file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    /// No installed plugin has this name, and no file has it either.
    #[error(
        "no plugin named `{0}` is installed and there is no file {0} (see `airlock plugin list`)"
    )]
    NotInstalled(String),
    /// The installed files or their signature do not check out.
    #[error(transparent)]
    Store(Box<StoreError>),
    /// A package that cannot be read or verified.
    #[error(transparent)]
    Package(Box<PackageError>),
    /// The signer is trusted here, but not by the admin policy.
    #[error(
        "refused: {what} is signed by key {} (`{}`), which the admin policy ({origin}) does not list in trusted-publishers",
        signer.fingerprint,
        signer.trusted_as
    )]
    PublisherNotAllowed {
        /// The plugin and version, or the package file.
        what: String,
        /// Who signed it.
        signer: Signer,
        /// The policy files that set `trusted-publishers`.
        origin: String,
    },
    /// Its publisher key or the package itself is revoked.
    #[error(
        "refused: {what}: {thing} is {revoked}; install a release that replaces it, or remove the plugin (`airlock plugin remove NAME`)"
    )]
    Revoked {
        /// The plugin and version, or the package file.
        what: String,
        /// What is revoked: "its publisher key SHA256:…" or "the package sha256 …".
        thing: String,
        /// Which list revokes it, and why.
        revoked: String,
    },
    /// A bare component, and the caller did not ask to run it unsigned.
    #[error(
        "refused to run {}: it is a bare component that no signature vouches for; install its signed package with `airlock plugin install` and run it by name, or pass --allow-unsigned to run it unsigned while developing it",
        .0.display()
    )]
    Unsigned(PathBuf),
    /// A bare component, asked to run unsigned, which the policy forbids.
    #[error(
        "refused to run {} unsigned: the admin policy ({origin}) sets allow-unsigned = false; only installed, signed plugins may run",
        path.display()
    )]
    PolicyForbidsUnsigned {
        /// The component.
        path: PathBuf,
        /// The policy files that set `allow-unsigned`.
        origin: String,
    },
    /// The install record does not pin the reviewed profile's text.
    #[error(
        "refused to run plugin {plugin}: its install record names the profile `{shown}` but not the sha256 of the text reviewed (it was installed before Airlock pinned the review), so what it would run under may not be what was reviewed; {fix}"
    )]
    ReviewNotPinned {
        /// `NAME VERSION`.
        plugin: String,
        /// The profile the record names.
        shown: String,
        /// The command that reviews it again.
        fix: String,
    },
    /// The reviewed profile cannot be read or parsed any more.
    #[error(
        "plugin {plugin}: the profile reviewed at install cannot be used: {source}; fix it, or {fix}"
    )]
    ProfileUnusable {
        /// `NAME VERSION`.
        plugin: String,
        /// Why.
        source: Box<ProfileError>,
        /// The command that reviews it again.
        fix: String,
    },
    /// The reviewed profile's text changed since the review.
    #[error(
        "refused to run plugin {plugin}: its profile ({from}) changed since the install review: the text reviewed had sha256 {reviewed}, it now has sha256 {now}; {fix}"
    )]
    ProfileChanged {
        /// `NAME VERSION`.
        plugin: String,
        /// Where the profile is read from.
        from: Box<ProfileSource>,
        /// The sha256 reviewed.
        reviewed: String,
        /// The sha256 now.
        now: String,
        /// The command that reviews it again.
        fix: String,
    },
    /// The component loaded is not the one the signature covers.
    #[error(
        "refused to run {}: it has sha256 {digest}, but its signed manifest says {expected}",
        path.display()
    )]
    Changed {
        /// The component.
        path: PathBuf,
        /// Its sha256 as loaded.
        digest: String,
        /// The sha256 the signed manifest names.
        expected: String,
    },
}

impl From<StoreError> for AdmitError {
    fn from(e: StoreError) -> Self {
        Self::Store(Box::new(e))
    }
}

impl From<PackageError> for AdmitError {
    fn from(e: PackageError) -> Self {
        Self::Package(Box::new(e))
    }
}

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

/// Refuse a signer the admin policy does not list in `trusted-publishers`
/// (when it lists any); `what` names the plugin or package for the message.
pub fn check_publisher(policy: &Policy, signer: &Signer, what: &str) -> Result<(), AdmitError> {
    if let Some(revoked) = policy.revoked.publisher_key(&signer.fingerprint) {
        return Err(AdmitError::Revoked {
            what: what.to_string(),
            thing: format!(
                "its publisher key {} (`{}`)",
                signer.fingerprint, signer.trusted_as
            ),
            revoked: revoked.to_string(),
        });
    }
    if policy.allows_publisher(&signer.fingerprint) {
        return Ok(());
    }
    Err(AdmitError::PublisherNotAllowed {
        what: what.to_string(),
        signer: signer.clone(),
        origin: origins(&policy.sources.trusted_publishers),
    })
}

/// Refuse a plugin package the admin's revocation lists name, by the
/// sha256 of its file; `what` names the plugin or package for the message.
pub fn check_package(policy: &Policy, sha256: &str, what: &str) -> Result<(), AdmitError> {
    match policy.revoked.plugin(sha256) {
        Some(revoked) => Err(AdmitError::Revoked {
            what: what.to_string(),
            thing: format!("the package sha256 {sha256}"),
            revoked: revoked.to_string(),
        }),
        None => Ok(()),
    }
}

/// Resolve what `airlock run SKILL` names: an existing file runs only with
/// `allow_unsigned` and when `policy` allows unsigned skills; any other
/// value names an installed plugin in `home`, whose files and signature are
/// checked now.
pub fn resolve(
    skill: &Path,
    allow_unsigned: bool,
    home: Option<&Path>,
    policy: &Policy,
) -> Result<Target, AdmitError> {
    let as_name = skill
        .to_str()
        .filter(|s| names::check(NameKind::Plugin, s).is_ok());
    if let (Some(name), false, Some(home)) = (as_name, skill.is_file(), home) {
        let store = PluginStore::open(home);
        let installed = store
            .get(name)
            .map_err(|_| AdmitError::NotInstalled(name.to_string()))?;
        let trust = TrustStore::open(home);
        let signer = store.check(&installed, &trust, false)?;
        let what = format!("{} {}", installed.manifest.name, installed.manifest.version);
        check_publisher(policy, &signer, &what)?;
        check_package(policy, &installed.record.package.sha256, &what)?;
        return Ok(Target {
            path: installed.component_path(),
            signer: Some(signer),
            reviewed: Some(Reviewed::of(&installed)),
            component_sha256: Some(installed.manifest.component_sha256().to_string()),
            requested: Some(installed.manifest.capabilities),
        });
    }
    if !allow_unsigned {
        return Err(AdmitError::Unsigned(skill.to_path_buf()));
    }
    if !policy.allow_unsigned {
        return Err(AdmitError::PolicyForbidsUnsigned {
            path: skill.to_path_buf(),
            origin: origins(&policy.sources.allow_unsigned),
        });
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
    /// The review an install record pins.
    pub fn of(installed: &Installed) -> Self {
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
    /// refused: what would run is not what the officer reviewed.
    pub fn load(&self) -> Result<Profile, AdmitError> {
        let (Some(source), Some(sha256)) = (&self.source, &self.sha256) else {
            return Err(AdmitError::ReviewNotPinned {
                plugin: self.plugin.clone(),
                shown: self.shown.clone(),
                fix: self.review_again(&self.shown),
            });
        };
        let profile = Profile::from_source(source).map_err(|e| AdmitError::ProfileUnusable {
            plugin: self.plugin.clone(),
            source: Box::new(e),
            fix: self.review_again("PROFILE"),
        })?;
        if profile.digest != *sha256 {
            return Err(AdmitError::ProfileChanged {
                plugin: self.plugin.clone(),
                from: Box::new(source.clone()),
                reviewed: sha256.clone(),
                now: profile.digest.clone(),
                fix: self.review_again(&source.argument()),
            });
        }
        Ok(profile)
    }
}

impl Target {
    /// The profile narrowed to what the plugin requests, under `policy`'s
    /// model roles; a bare component gets the profile as it is. A model
    /// role that nothing maps refuses the run.
    pub fn narrow(&self, profile: Profile, policy: &Policy) -> Result<Profile, caps::RoleError> {
        match &self.requested {
            Some(requested) => caps::narrow(&profile, requested, policy),
            None => Ok(profile),
        }
    }

    /// Refuse a component whose bytes are not those the signature covers
    /// (it changed between the check and the load).
    pub fn check_loaded(&self, digest: &str) -> Result<(), AdmitError> {
        match &self.component_sha256 {
            Some(expected) if expected != digest => Err(AdmitError::Changed {
                path: self.path.clone(),
                digest: digest.to_string(),
                expected: expected.clone(),
            }),
            _ => Ok(()),
        }
    }
}
