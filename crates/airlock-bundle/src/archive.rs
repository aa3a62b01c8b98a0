//! The archive: a plain tar whose first entry is `MANIFEST.toml`, second
//! `MANIFEST.sig`, then every file the manifest lists, each exactly once,
//! as a regular file. Reading checks the signature before any file, and
//! each file's size and sha256 as it streams; nothing the manifest does not
//! list is accepted (no extra file, link, device or directory entry).

// Ambient std::fs allowed: reads the bundle the officer names, reads the
// tree `create` packs, and writes the staging directory `open` is given.
#![allow(clippy::disallowed_methods)]

use crate::BundleError;
use crate::manifest::{
    self, FileEntry, MANIFEST_NAME, Manifest, SIGNATURE_FORMAT, SIGNATURE_NAME, SignatureFile,
};
use airlock_trust::keys::{PublicKey, SecretKey};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

/// Larger manifests are refused before they are read (one line per file;
/// vendored sources are tens of thousands of files).
const MAX_MANIFEST: u64 = 64 * 1024 * 1024;
/// A signature file is a few hundred bytes.
const MAX_SIGNATURE: u64 = 4096;

/// What a verified bundle holds, and who signed it.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The manifest, as signed.
    pub manifest: Manifest,
    /// The release key that signed it (`SHA256:…`).
    pub key: String,
    /// The name in that key file.
    pub signer: String,
}

/// What [`create`] is told about the build.
#[derive(Debug, Clone)]
pub struct Release {
    /// The bundle's serial.
    pub serial: u64,
    /// When (RFC 3339).
    pub created: String,
    /// Airlock's version.
    pub airlock: String,
    /// What it was built from.
    pub source: String,
    /// The binary's target.
    pub target: String,
}

fn read_err(path: &Path) -> impl Fn(std::io::Error) -> BundleError + '_ {
    move |source| BundleError::Read {
        path: path.to_path_buf(),
        source,
    }
}

fn format_err(path: &Path, reason: impl Into<String>) -> BundleError {
    BundleError::Format {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Every regular file under `root`, as sorted bundle paths; anything else
/// (a link, a device) is an error naming it.
fn tree_files(root: &Path) -> Result<Vec<String>, BundleError> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(read_err(&dir))? {
            let entry = entry.map_err(read_err(&dir))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(read_err(&path))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let rel = path
                    .strip_prefix(root)
                    .ok()
                    .and_then(Path::to_str)
                    .ok_or_else(|| format_err(&path, "a file name that is not UTF-8"))?;
                manifest::check_path(rel).map_err(|why| format_err(&path, why))?;
                out.push(rel.to_string());
            } else {
                return Err(format_err(
                    &path,
                    "not a regular file or directory (a bundle carries no links or devices)",
                ));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn hash_file(path: &Path) -> Result<(String, u64), BundleError> {
    let mut file = File::open(path).map_err(read_err(path))?;
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(read_err(path))?;
    Ok((hex::encode(hasher.finalize()), size))
}

fn header(size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_entry_type(tar::EntryType::Regular);
    h
}

/// Pack every file under `root` into a bundle at `out`, signed with `key`
/// as a release. Written to a temporary name and renamed: a failure leaves
/// no bundle. Returns the manifest.
pub fn create(
    root: &Path,
    out: &Path,
    release: &Release,
    key: &SecretKey,
    progress: &dyn Fn(&str, u64, u64),
) -> Result<Manifest, BundleError> {
    use std::os::unix::fs::PermissionsExt;
    let paths = tree_files(root)?;
    let mut files = Vec::new();
    for (i, rel) in paths.iter().enumerate() {
        let full = root.join(rel);
        progress(rel, i as u64, paths.len() as u64);
        let (sha256, size) = hash_file(&full)?;
        let mode = std::fs::metadata(&full)
            .map_err(read_err(&full))?
            .permissions()
            .mode();
        files.push(FileEntry {
            path: rel.clone(),
            size,
            sha256,
            executable: mode & 0o111 != 0,
        });
    }
    let manifest = Manifest {
        format: manifest::FORMAT.into(),
        serial: release.serial,
        created: release.created.clone(),
        airlock: release.airlock.clone(),
        source: release.source.clone(),
        target: release.target.clone(),
        files,
    };
    let text = manifest.to_text().map_err(|e| format_err(out, e))?;
    let signature = SignatureFile {
        format: SIGNATURE_FORMAT.into(),
        key: key.public().fingerprint(),
        signature: hex::encode(key.sign_release(text.as_bytes())),
    };
    let signature = toml::to_string(&signature).map_err(|e| format_err(out, e.to_string()))?;

    let tmp = out.with_extension("tmp-bundle");
    let write_err = |source| BundleError::Write {
        path: out.to_path_buf(),
        source,
    };
    let result = (|| {
        let file = File::create(&tmp).map_err(write_err)?;
        let mut tar = tar::Builder::new(std::io::BufWriter::new(file));
        for (name, bytes) in [
            (MANIFEST_NAME, text.as_bytes()),
            (SIGNATURE_NAME, signature.as_bytes()),
        ] {
            let mut h = header(bytes.len() as u64, 0o644);
            tar.append_data(&mut h, name, bytes).map_err(write_err)?;
        }
        let total: u64 = manifest.files.iter().map(|f| f.size).sum();
        let mut done = 0;
        for f in &manifest.files {
            let full = root.join(&f.path);
            progress(&f.path, done, total);
            let file = File::open(&full).map_err(read_err(&full))?;
            let mut h = header(f.size, if f.executable { 0o755 } else { 0o644 });
            // A file that changed since it was hashed fails here or at verify.
            tar.append_data(&mut h, &f.path, file.take(f.size))
                .map_err(write_err)?;
            done += f.size;
        }
        let writer = tar.into_inner().map_err(write_err)?;
        let file = writer.into_inner().map_err(|e| write_err(e.into_error()))?;
        file.sync_all().map_err(write_err)?;
        std::fs::rename(&tmp, out).map_err(write_err)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result?;
    Ok(manifest)
}

/// Read one small entry whole.
fn small_entry<R: Read>(
    bundle: &Path,
    entries: &mut tar::Entries<'_, R>,
    name: &str,
    max: u64,
) -> Result<Vec<u8>, BundleError> {
    let mut entry = entries
        .next()
        .ok_or_else(|| format_err(bundle, format!("it ends before {name}")))?
        .map_err(|e| format_err(bundle, format!("damaged archive before {name}: {e}")))?;
    let path = entry
        .path()
        .map_err(|e| format_err(bundle, e.to_string()))?
        .to_string_lossy()
        .into_owned();
    if path != name || entry.header().entry_type() != tar::EntryType::Regular {
        return Err(format_err(
            bundle,
            format!(
                "its first entries must be {MANIFEST_NAME} and {SIGNATURE_NAME}; found `{path}` where {name} should be (not an Airlock bundle?)"
            ),
        ));
    }
    if entry.size() > max {
        return Err(format_err(
            bundle,
            format!("{name} is larger than {max} bytes"),
        ));
    }
    let mut bytes = Vec::new();
    entry
        .read_to_end(&mut bytes)
        .map_err(|e| format_err(bundle, format!("cannot read {name}: {e}")))?;
    Ok(bytes)
}

/// Check only the signature and read the manifest (the first two
/// entries): cheap, for decisions before the files are read.
pub fn open_head(bundle: &Path, keys: &[PublicKey]) -> Result<Verified, BundleError> {
    let file = File::open(bundle).map_err(read_err(bundle))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut entries = archive
        .entries()
        .map_err(|e| format_err(bundle, e.to_string()))?;
    read_head(bundle, keys, &mut entries)
}

/// The manifest and its signature, checked against `keys`.
fn read_head<R: Read>(
    bundle: &Path,
    keys: &[PublicKey],
    entries: &mut tar::Entries<'_, R>,
) -> Result<Verified, BundleError> {
    let text = small_entry(bundle, entries, MANIFEST_NAME, MAX_MANIFEST)?;
    let sig = small_entry(bundle, entries, SIGNATURE_NAME, MAX_SIGNATURE)?;
    let sig: SignatureFile = std::str::from_utf8(&sig)
        .ok()
        .and_then(|s| toml::from_str(s).ok())
        .filter(|s: &SignatureFile| s.format == SIGNATURE_FORMAT)
        .ok_or_else(|| {
            format_err(
                bundle,
                format!("{SIGNATURE_NAME} is not a `{SIGNATURE_FORMAT}` file"),
            )
        })?;
    let key = keys
        .iter()
        .find(|k| k.fingerprint() == sig.key)
        .ok_or_else(|| BundleError::UnknownKey {
            path: bundle.to_path_buf(),
            fingerprint: sig.key.clone(),
        })?;
    let signature = hex::decode(&sig.signature).unwrap_or_default();
    if !key.verifies_release(&text, &signature) {
        return Err(BundleError::BadSignature {
            path: bundle.to_path_buf(),
            fingerprint: sig.key,
        });
    }
    // Signed: from here on the manifest is the release's word.
    let text =
        String::from_utf8(text).map_err(|_| format_err(bundle, "the manifest is not UTF-8"))?;
    let manifest = Manifest::parse(&text)
        .map_err(|why| format_err(bundle, format!("{MANIFEST_NAME}: {why}")))?;
    Ok(Verified {
        manifest,
        key: key.fingerprint(),
        signer: key.publisher.clone(),
    })
}

/// Verify the bundle at `bundle` against `keys` (the trusted release keys,
/// never a key the bundle carries): the signature first, then every file's
/// size and sha256 as it streams, no file missing, extra or twice. With
/// `staging`, each file is also written under that directory (which must
/// exist and be empty); a failure may leave partial files there, for the
/// caller to remove. `progress` gets (bytes read, total).
pub fn open(
    bundle: &Path,
    keys: &[PublicKey],
    staging: Option<&Path>,
    progress: &dyn Fn(u64, u64),
) -> Result<Verified, BundleError> {
    let file = File::open(bundle).map_err(read_err(bundle))?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let mut entries = archive
        .entries()
        .map_err(|e| format_err(bundle, e.to_string()))?;
    let verified = read_head(bundle, keys, &mut entries)?;
    let manifest = &verified.manifest;
    let total: u64 = manifest.files.iter().map(|f| f.size).sum();
    let mut done = 0;
    let mut seen = BTreeSet::new();
    progress(0, total);
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            format_err(
                bundle,
                format!("damaged archive after {} file(s): {e}", seen.len()),
            )
        })?;
        let name = entry
            .path()
            .map_err(|e| format_err(bundle, e.to_string()))?
            .to_string_lossy()
            .into_owned();
        let Some(listed) = manifest.file(&name) else {
            return Err(BundleError::Extra {
                path: bundle.to_path_buf(),
                file: name,
            });
        };
        if !seen.insert(listed.path.clone()) {
            return Err(BundleError::Extra {
                path: bundle.to_path_buf(),
                file: format!("{name} (a second time)"),
            });
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(format_err(
                bundle,
                format!("`{name}` is not a regular file in the archive (a link or device?)"),
            ));
        }
        if entry.size() != listed.size {
            return Err(BundleError::Modified {
                path: bundle.to_path_buf(),
                file: name,
                reason: format!("{} bytes, the manifest says {}", entry.size(), listed.size),
            });
        }
        let mut sink = match staging {
            Some(dir) => Some(staged(dir, &listed.path)?),
            None => None,
        };
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| format_err(bundle, format!("cannot read `{name}`: {e}")))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            if let Some((path, file)) = &mut sink {
                file.write_all(&buf[..n])
                    .map_err(|source| BundleError::Write {
                        path: path.clone(),
                        source,
                    })?;
            }
            done += n as u64;
            progress(done, total);
        }
        let found = hex::encode(hasher.finalize());
        if found != listed.sha256 {
            return Err(BundleError::Modified {
                path: bundle.to_path_buf(),
                file: name,
                reason: format!("sha256 {found}, the manifest says {}", listed.sha256),
            });
        }
        if let Some((path, file)) = sink {
            file.sync_all()
                .map_err(|source| BundleError::Write { path, source })?;
        }
    }
    if let Some(missing) = manifest.files.iter().find(|f| !seen.contains(&f.path)) {
        return Err(BundleError::Missing {
            path: bundle.to_path_buf(),
            file: missing.path.clone(),
            count: manifest.files.len() - seen.len(),
        });
    }
    Ok(verified)
}

/// A new file for `rel` under the staging directory.
fn staged(dir: &Path, rel: &str) -> Result<(PathBuf, File), BundleError> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| BundleError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|source| BundleError::Write {
            path: path.clone(),
            source,
        })?;
    Ok((path, file))
}
