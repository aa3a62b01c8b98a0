//! Where `--profile NAME|PATH` is read from.
//!
//! A bare name is only ever a built-in profile or one the administrator
//! installed as a root-owned `/etc/airlock/profiles/NAME.toml`; a file is
//! read only when it is given as a path (it contains `/` or ends in
//! `.toml`). So a repository that ships a file named `read-only`,
//! `assistant` or `coder` in the directory Airlock runs from can never stand
//! in for that profile: the current directory is not searched.

// Ambient std::fs allowed: finds and reads profile files the user or the admin names.
#![allow(clippy::disallowed_methods)]

use super::{BUILTIN_PROFILES, ProfileError};
use std::path::{Path, PathBuf};

/// Where an administrator installs profiles that a bare name can select:
/// `NAME.toml`, owned by root and writable by no one else, in directories
/// only root can change (the rules of the admin policy file).
pub const ADMIN_PROFILE_DIR: &str = "/etc/airlock/profiles";

/// The environment variable naming one more directory of admin-installed
/// profiles, searched after [`ADMIN_PROFILE_DIR`]. Its files are held to the
/// same ownership checks, so like `$AIRLOCK_POLICY_FILE` it can only point
/// at files root controls; it exists for tests and staged roll-outs.
pub const ADMIN_PROFILE_DIR_ENV: &str = "AIRLOCK_PROFILE_DIR";

/// The most bytes a profile file may have. Shipped profiles are a few KiB;
/// the cap keeps a named device or a huge file from being read into memory.
pub const MAX_PROFILE_BYTES: u64 = 1024 * 1024;

/// Whether `--profile VALUE` names a file: it contains `/` or ends in `.toml`.
pub(super) fn looks_like_path(value: &str) -> bool {
    value.contains('/') || value.ends_with(".toml")
}

/// Whether `name` can be a bare profile name: a letter or digit, then
/// letters, digits, `.`, `_` or `-` (at most 64 characters).
pub(super) fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 64
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The directories of admin-installed profiles, system first.
pub fn admin_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from(ADMIN_PROFILE_DIR)];
    if let Some(extra) = std::env::var_os(ADMIN_PROFILE_DIR_ENV).filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(extra));
    }
    dirs
}

/// The admin-installed profile called `name`, if any: the first
/// `DIR/NAME.toml` that exists. One that exists but could be changed by
/// someone other than root is an error, not skipped (fail closed).
pub(super) fn find_admin(name: &str) -> Result<Option<PathBuf>, ProfileError> {
    if !valid_name(name) {
        return Ok(None);
    }
    for dir in admin_dirs() {
        let path = dir.join(format!("{name}.toml"));
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => return Err(ProfileError::Read { path, source }),
            Ok(_) => {
                check_admin_file(&path)?;
                return Ok(Some(path));
            }
        }
    }
    Ok(None)
}

/// The names of the admin-installed profiles, sorted; names of built-in
/// profiles are left out (a built-in always wins).
pub fn admin_names() -> Vec<String> {
    let mut names: Vec<String> = admin_dirs()
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten())
        .filter_map(|entry| {
            let file = entry.file_name().into_string().ok()?;
            let name = file.strip_suffix(".toml")?.to_string();
            let builtin = BUILTIN_PROFILES.iter().any(|(n, _)| *n == name);
            (valid_name(&name) && !builtin).then_some(name)
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Refuse an admin profile that someone other than root could change.
pub(super) fn check_admin_file(path: &Path) -> Result<(), ProfileError> {
    crate::admin::trust::check_path(path).map_err(|e| match e {
        Err(source) => ProfileError::Read {
            path: path.to_path_buf(),
            source,
        },
        Ok(why) => ProfileError::Untrusted {
            path: path.to_path_buf(),
            reason: why.reason,
            fix: why.fix,
        },
    })
}

/// A profile file's text: a regular file (a FIFO or device is refused
/// before it is read), at most [`MAX_PROFILE_BYTES`], UTF-8.
pub(super) fn read_text(path: &Path) -> Result<String, ProfileError> {
    use std::io::Read;
    let read_error = |source| ProfileError::Read {
        path: path.to_path_buf(),
        source,
    };
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer.
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open(path)
            .map_err(read_error)?
    };
    let meta = file.metadata().map_err(read_error)?;
    if !meta.is_file() {
        return Err(read_error(std::io::Error::other(
            "not a regular file; give the path of a profile .toml file",
        )));
    }
    if meta.len() > MAX_PROFILE_BYTES {
        return Err(read_error(std::io::Error::other(format!(
            "{} bytes, more than the {MAX_PROFILE_BYTES} a profile may have",
            meta.len()
        ))));
    }
    let mut bytes = Vec::new();
    file.take(MAX_PROFILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    if bytes.len() as u64 > MAX_PROFILE_BYTES {
        return Err(read_error(std::io::Error::other(format!(
            "more than the {MAX_PROFILE_BYTES} bytes a profile may have"
        ))));
    }
    String::from_utf8(bytes).map_err(|e| {
        read_error(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 (invalid byte at offset {}); profiles are UTF-8 TOML",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names_are_told_apart() {
        for path in ["./coder", "/etc/x", "x.toml", "dir/x", "../assistant"] {
            assert!(looks_like_path(path), "{path}");
        }
        for name in ["coder", "read-only", "team.strict", "a_b"] {
            assert!(!looks_like_path(name) && valid_name(name), "{name}");
        }
        for bad in ["", ".", "..", ".hidden", "-x", "a b", "é", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
