//! The on-disk cache of compiled components.
//!
//! `Component::deserialize` trusts its input completely: a forged artifact
//! is native code. So an entry is only loaded after its HMAC-SHA256 checks
//! out under a per-installation key (created on first use, file mode 0600,
//! directory 0700). The MAC covers the component's sha256, the engine's
//! compatibility hash and the artifact bytes; an entry that fails the check
//! is reported, deleted and recompiled — never loaded.

// Ambient std::fs allowed: the compile cache is this module's state-directory format.
#![allow(clippy::disallowed_methods)]

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
        airlock_core::statefs::ensure_private_dir(dir)?;
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

/// The installation's key: read it, or create it when there is none. Any
/// other state of `cache.key` (unreadable, not a regular file, a symbolic
/// link, the wrong length) is an error naming the file, never a retry: the
/// caller then runs without the cache.
fn load_or_create_key(path: &Path) -> std::io::Result<[u8; KEY_BYTES]> {
    if let Some(key) = read_key(path)? {
        return Ok(key);
    }
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    let (temp, mut file) = tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
    let written = file.write_all(&key).and_then(|()| file.sync_all());
    // `hard_link` never replaces: if another process created the key first,
    // or something else now has the name, it fails with `AlreadyExists`.
    let linked = written.and_then(|()| std::fs::hard_link(&temp, path));
    let _ = std::fs::remove_file(&temp);
    match linked {
        Ok(()) => Ok(key),
        // Another process raced us: keep the key that landed first. Read
        // once; whatever is there now must be a key (no second attempt).
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key(path)?.ok_or_else(|| {
            std::io::Error::other(format!(
                "{} exists but cannot be read as the compile-cache key; delete it (and the cache beside it) to start over",
                path.display()
            ))
        }),
        Err(e) => Err(e),
    }
}

/// The key in `path`, or `None` when there is no file of that name. Opened
/// without following a symbolic link and without blocking (a FIFO in its
/// place must not hang the host), and read only up to one byte past the
/// key's length.
fn read_key(path: &Path) -> std::io::Result<Option<[u8; KEY_BYTES]>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let bad = |why: String| {
        std::io::Error::other(format!(
            "the compile-cache key {} {why}; delete it (and the cache beside it) to start over",
            path.display()
        ))
    };
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            return Err(bad("is a symbolic link".into()));
        }
        Err(e) => return Err(bad(format!("cannot be read ({e})"))),
    };
    let meta = file
        .metadata()
        .map_err(|e| bad(format!("cannot be read ({e})")))?;
    if !meta.is_file() {
        return Err(bad("is not a regular file".into()));
    }
    let mut bytes = Vec::with_capacity(KEY_BYTES + 1);
    file.take(KEY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("cannot be read ({e})")))?;
    bytes
        .try_into()
        .map(Some)
        .map_err(|_| bad(format!("is not a {KEY_BYTES}-byte key")))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ComponentCache::open` says about a cache whose `cache.key` is
    /// put in place by `plant`.
    fn open_with(plant: impl FnOnce(&Path)) -> String {
        let home = tempfile::tempdir().expect("temp dir");
        let dir = home.path().join("cache");
        std::fs::create_dir(&dir).expect("cache dir");
        plant(&dir.join(KEY_FILE));
        match ComponentCache::open(&dir, &Engine::default()) {
            Ok(_) => "opened".into(),
            Err(e) => e.to_string(),
        }
    }

    /// b2782b7 retried for ever (until the stack overflowed) when `cache.key`
    /// existed but could not be read: a directory, a dangling symbolic link.
    #[test]
    fn unreadable_cache_key_fails_with_clear_error() {
        let dir = open_with(|key| std::fs::create_dir(key).expect("mkdir"));
        assert!(dir.contains("cache.key"), "{dir}");
        assert!(dir.contains("is not a regular file"), "{dir}");
        assert!(dir.contains("delete it"), "{dir}");

        let dangling = open_with(|key| {
            std::os::unix::fs::symlink("/nonexistent/airlock-key", key).expect("symlink")
        });
        assert!(dangling.contains("is a symbolic link"), "{dangling}");

        let fifo = open_with(|key| {
            rustix::fs::mknodat(
                rustix::fs::CWD,
                key,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o600),
                0,
            )
            .expect("mkfifo")
        });
        assert!(fifo.contains("is not a regular file"), "{fifo}");

        let short = open_with(|key| std::fs::write(key, b"short").expect("write"));
        assert!(short.contains("is not a 32-byte key"), "{short}");
        let long = open_with(|key| std::fs::write(key, vec![7u8; 4096]).expect("write"));
        assert!(long.contains("is not a 32-byte key"), "{long}");

        assert_eq!(open_with(|_| {}), "opened", "a missing key is created");
    }
}
