//! A temporary Airlock home with a trusted publisher, real signed packages
//! built through the library's own API (as `airlock plugin keygen`, `pack`,
//! `sign`, `trust add` and `install` build them), and admin policies parsed
//! from TOML text.

use airlock_core::wit_version::WIT_VERSION;
use airlock_policy::admin::{Origin, Policy};
use airlock_policy::profile::{Profile, ProfileSource};
use airlock_trust::keys::SecretKey;
use airlock_trust::manifest::{ComponentRef, Manifest};
use airlock_trust::package::Package;
use airlock_trust::store::{Installed, PluginStore};
use airlock_trust::trust::TrustStore;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Where the system policy file lives; [`system_policy`] names it.
pub const SYSTEM_POLICY: &str = "/etc/airlock/policy.toml";

/// A tiny component: the wasm component preamble (magic, version 13,
/// layer 1). The package format only needs bytes whose sha256 the signed
/// manifest names; admit never compiles them.
pub const COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

/// The trust store's name for the publisher's key.
pub const KEY_NAME: &str = "acme-key";

/// A temporary Airlock home and a directory beside it for the publisher's
/// and the user's files.
pub struct World {
    _root: tempfile::TempDir,
    /// `$AIRLOCK_HOME`.
    pub home: PathBuf,
    /// Files outside the home: components, packages, profiles.
    pub files: PathBuf,
}

impl World {
    pub fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        // Canonical, as `airlock plugin install` pins a profile file by its
        // canonical path.
        let base = root.path().canonicalize().unwrap();
        let home = base.join("home");
        let files = base.join("files");
        std::fs::create_dir(&home).unwrap();
        std::fs::create_dir(&files).unwrap();
        Self {
            _root: root,
            home,
            files,
        }
    }

    /// A bare component file (what `airlock run ./skill.wasm` names).
    pub fn bare_component(&self) -> PathBuf {
        let path = self.files.join("skill.wasm");
        std::fs::write(&path, COMPONENT).unwrap();
        path
    }

    /// A new publisher key for `acme`, trusted here as [`KEY_NAME`]
    /// (`airlock plugin keygen` + `airlock trust add`).
    pub fn trusted_publisher(&self) -> SecretKey {
        let key = SecretKey::generate("acme").unwrap();
        TrustStore::open(&self.home)
            .add(KEY_NAME, &key.public())
            .unwrap();
        key
    }

    /// A profile file written among the user's files.
    pub fn profile_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.files.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `airlock plugin install PACKAGE --profile SOURCE --yes`, through the
    /// library: the package file is read back and verified against the
    /// trust store, then installed reviewed against the profile.
    pub fn install(&self, package: &Package, profile: &ProfileSource) -> Installed {
        let path = self.files.join(format!(
            "{}-{}.airlock",
            package.manifest.name, package.manifest.version
        ));
        package.write(&path).unwrap();
        let read = Package::read(&path).unwrap();
        let signer = read.verify(&path, &TrustStore::open(&self.home)).unwrap();
        let reviewed = Profile::from_source(profile).unwrap();
        PluginStore::open(&self.home)
            .install(&read, &signer, profile, &reviewed.digest)
            .unwrap()
    }
}

/// `airlock plugin pack` + `airlock plugin sign`: a package of
/// [`COMPONENT`] named `name` 0.1.0, requesting to read `docs`, signed by
/// `key`.
pub fn signed_package(name: &str, key: &SecretKey) -> Package {
    signed_package_asking(name, key, "workspace-read = [\"docs\"]\n")
}

/// As [`signed_package`], with `capabilities` as the body of the
/// manifest's `[capabilities]` table.
pub fn signed_package_asking(name: &str, key: &SecretKey, capabilities: &str) -> Package {
    let text = format!(
        "name = \"{name}\"\nversion = \"0.1.0\"\ndescription = \"Summarise the docs.\"\n\
         wit-version = \"{WIT_VERSION}\"\n\n[publisher]\nname = \"{}\"\n\n\
         [capabilities]\n{capabilities}",
        key.publisher
    );
    let mut manifest = Manifest::parse(&text, "manifest.toml").unwrap();
    manifest.component = Some(ComponentRef {
        sha256: sha256(COMPONENT),
        size: COMPONENT.len() as u64,
    });
    let mut package = Package {
        manifest_text: manifest.to_canonical(),
        manifest,
        signature: Vec::new(),
        component: COMPONENT.to_vec(),
    };
    package.sign(key);
    package
}

/// Hex sha256.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The system admin policy with this text.
pub fn system_policy(text: &str) -> Policy {
    Policy::parse(text, Origin::System(SYSTEM_POLICY.into())).unwrap()
}

/// The `$AIRLOCK_POLICY_FILE` policy at `path` with this text.
pub fn env_policy(path: &Path, text: &str) -> Policy {
    Policy::parse(text, Origin::Env(path.to_path_buf())).unwrap()
}
