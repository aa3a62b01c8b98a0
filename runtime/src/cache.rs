//! The on-disk cache of compiled components.
//!
//! `Component::deserialize` trusts its input completely: a forged artifact
//! is native code. So an entry is only loaded after its HMAC-SHA256 checks
//! out under a per-installation key (created on first use, file mode 0600,
//! directory 0700). The MAC covers the component's sha256, the engine's
//! compatibility hash and the artifact bytes; an entry that fails the check
//! is reported, deleted and recompiled — never loaded.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

type HmacSha256 = Hmac<Sha256>;

const KEY_FILE: &str = "cache.key";
const KEY_BYTES: usize = 32;
const TAG_BYTES: usize = 32;

/// Where compiled components live, and the key that authenticates them.
pub struct ComponentCache {
    dir: PathBuf,
    key: [u8; KEY_BYTES],
    engine_hash: String,
}

/// What a lookup found.
pub enum Lookup {
    /// An authenticated entry.
    Hit(Component),
    /// No entry.
    Miss,
    /// An entry that failed authentication (it has been removed).
    Rejected(String),
}

impl ComponentCache {
    /// Open (or create) the cache under `dir`.
    pub fn open(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        create_private_dir(dir)?;
        let key = load_or_create_key(&dir.join(KEY_FILE))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Self {
            dir: dir.to_path_buf(),
            key,
            engine_hash: format!("{:016x}", hasher.finish()),
        })
    }

    fn entry_path(&self, digest: &str) -> PathBuf {
        self.dir
            .join(format!("{digest}-{}.cwasm", self.engine_hash))
    }

    fn mac(&self, digest: &str, artifact: &[u8]) -> HmacSha256 {
        // `new_from_slice` accepts any key length for HMAC.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(digest.as_bytes());
        mac.update(b"\0");
        mac.update(self.engine_hash.as_bytes());
        mac.update(b"\0");
        mac.update(artifact);
        mac
    }

    /// The compiled form of the component whose sha256 is `digest`, if cached
    /// and authentic.
    pub fn get(&self, engine: &Engine, digest: &str) -> Lookup {
        let path = self.entry_path(digest);
        let Ok(bytes) = std::fs::read(&path) else {
            return Lookup::Miss;
        };
        let reject = |why: &str| {
            let _ = std::fs::remove_file(&path);
            Lookup::Rejected(format!(
                "cache entry {} {why}; it was removed and the component will be recompiled",
                path.display()
            ))
        };
        if bytes.len() < TAG_BYTES {
            return reject("is truncated");
        }
        let (tag, artifact) = bytes.split_at(TAG_BYTES);
        if self.mac(digest, artifact).verify_slice(tag).is_err() {
            return reject("failed authentication (it was modified or forged)");
        }
        match deserialize(engine, artifact) {
            Ok(component) => Lookup::Hit(component),
            Err(e) => reject(&format!("could not be loaded ({e})")),
        }
    }

    /// Store the compiled form of a component. Written to a temporary file,
    /// synced and renamed, so readers never see half an entry.
    pub fn put(&self, digest: &str, artifact: &[u8]) -> std::io::Result<()> {
        let tag = self.mac(digest, artifact).finalize().into_bytes();
        let mut temp = tempfile_in(&self.dir)?;
        temp.1.write_all(&tag)?;
        temp.1.write_all(artifact)?;
        temp.1.sync_all()?;
        std::fs::rename(&temp.0, self.entry_path(digest))
    }
}

/// Deserialize an artifact that [`ComponentCache::get`] has authenticated.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `artifact` carries a valid HMAC under this installation's key,
    // so it is bytes that `Engine::precompile_component` produced here and
    // `put` stored; wasmtime also checks the engine configuration it embeds.
    unsafe { Component::deserialize(engine, artifact) }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

fn load_or_create_key(path: &Path) -> std::io::Result<[u8; KEY_BYTES]> {
    if let Ok(bytes) = std::fs::read(path) {
        return bytes.try_into().map_err(|_| {
            std::io::Error::other(format!(
                "{} is not a {KEY_BYTES}-byte key; delete it (and the cache beside it) to start over",
                path.display()
            ))
        });
    }
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let (temp, mut file) = tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
    file.write_all(&key)?;
    file.sync_all()?;
    // If another process raced us, keep the key that landed first.
    match std::fs::hard_link(&temp, path) {
        Ok(()) => {
            let _ = std::fs::remove_file(&temp);
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let _ = std::fs::remove_file(&temp);
            load_or_create_key(path)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// A new 0600 file with a random name in `dir`.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let path = dir.join(format!(".tmp-{}", hex::encode(bytes)));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    Ok((path, file))
}
