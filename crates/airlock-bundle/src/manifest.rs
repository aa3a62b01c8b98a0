//! The bundle's manifest: what the release signs. Every file of the bundle
//! is listed with its size and sha256, and nothing else may be in it.
//!
//! ```toml
//! format = "airlock-bundle-v1"
//! serial = 7                     # a newer bundle has a larger serial
//! created = "2026-12-07T23:00:00Z"
//! airlock = "0.1.0"
//! source = "git 2ff5519"         # what it was built from (informative)
//! target = "x86_64-unknown-linux-gnu"
//!
//! [[file]]
//! path = "bin/airlock"
//! size = 41234567
//! sha256 = "…"
//! executable = true
//! ```

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Component, Path};

/// The only format this Airlock reads.
pub const FORMAT: &str = "airlock-bundle-v1";

/// The manifest's name in the archive (its first entry).
pub const MANIFEST_NAME: &str = "MANIFEST.toml";

/// The signature's name in the archive (its second entry).
pub const SIGNATURE_NAME: &str = "MANIFEST.sig";

/// The signature file's format.
pub const SIGNATURE_FORMAT: &str = "airlock-bundle-signature-v1";

/// A bundle's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// Orders bundles: install refuses one with a smaller serial than the
    /// bundle installed (every crate is 0.1.0, so versions cannot).
    pub serial: u64,
    /// When it was made (RFC 3339; informative).
    pub created: String,
    /// The Airlock version it carries.
    pub airlock: String,
    /// What it was built from (a git revision; informative).
    #[serde(default)]
    pub source: String,
    /// The target the binary was built for.
    pub target: String,
    /// Every file, in archive order.
    #[serde(rename = "file", default)]
    pub files: Vec<FileEntry>,
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileEntry {
    /// Its path in the bundle: relative, `/`-separated, plain names only.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256, lowercase hex.
    pub sha256: String,
    /// Whether it is installed executable (mode 755, else 644).
    #[serde(default)]
    pub executable: bool,
}

/// The signature file (`MANIFEST.sig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignatureFile {
    /// [`SIGNATURE_FORMAT`].
    pub format: String,
    /// The release key's fingerprint (`SHA256:…`), to find it among the
    /// trusted keys; the signature decides, not this name.
    pub key: String,
    /// The Ed25519 signature of the manifest's bytes, hex.
    pub signature: String,
}

/// Whether `path` is a plain relative path: `/`-separated names, none
/// empty, `.` or `..`, no leading `/`, no NUL, not a name the archive
/// itself uses.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.len() > 4096 {
        return Err("an empty or overlong path".into());
    }
    if path.contains('\0') || path.contains('\\') {
        return Err("a NUL or backslash in the path".into());
    }
    if path == MANIFEST_NAME || path == SIGNATURE_NAME {
        return Err(format!("{path} is the bundle's own"));
    }
    // By the text, not `Path::components`, which quietly drops a `.` and
    // the empty names of `a//b`.
    if path
        .split('/')
        .any(|name| name.is_empty() || name == "." || name == "..")
    {
        return Err("not a plain relative path (a leading `/`, an empty name, `.` or `..`)".into());
    }
    if !Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err("not a plain relative path".into());
    }
    Ok(())
}

impl Manifest {
    /// Parse and check a manifest's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
        if manifest.format != FORMAT {
            return Err(format!(
                "format `{}` is not `{FORMAT}` (a bundle from another Airlock release?)",
                manifest.format
            ));
        }
        let mut seen = BTreeSet::new();
        for f in &manifest.files {
            check_path(&f.path).map_err(|why| format!("file `{}`: {why}", f.path))?;
            if f.sha256.len() != 64
                || !f
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            {
                return Err(format!(
                    "file `{}`: sha256 is not 64 lowercase hex digits",
                    f.path
                ));
            }
            if !seen.insert(f.path.as_str()) {
                return Err(format!("file `{}` is listed twice", f.path));
            }
        }
        // A file may not also be a directory of another (`a` and `a/b`).
        for f in &manifest.files {
            let mut prefix = f.path.as_str();
            while let Some((dir, _)) = prefix.rsplit_once('/') {
                if seen.contains(dir) {
                    return Err(format!(
                        "file `{dir}` is also the directory of `{}`",
                        f.path
                    ));
                }
                prefix = dir;
            }
        }
        Ok(manifest)
    }

    /// The manifest's text as it is signed.
    pub fn to_text(&self) -> Result<String, String> {
        toml::to_string(self).map_err(|e| e.to_string())
    }

    /// The entry for `path`.
    pub fn file(&self, path: &str) -> Option<&FileEntry> {
        self.files.iter().find(|f| f.path == path)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_leave_the_destination_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/./b",
            "a//b",
            "a/",
            "MANIFEST.sig",
            "a\\b",
            "a\0b",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        for good in ["bin/airlock", "profiles/coder.toml", ".hidden", "a/b/c.txt"] {
            assert!(check_path(good).is_ok(), "{good:?}");
        }
    }

    fn entry(path: &str) -> FileEntry {
        FileEntry {
            path: path.into(),
            size: 1,
            sha256: "0".repeat(64),
            executable: false,
        }
    }

    #[test]
    fn a_manifest_round_trips_and_duplicates_or_nesting_are_refused() {
        let mut m = Manifest {
            format: FORMAT.into(),
            serial: 2,
            created: "2026-12-07T23:00:00Z".into(),
            airlock: "0.1.0".into(),
            source: String::new(),
            target: "x86_64-unknown-linux-gnu".into(),
            files: vec![entry("bin/airlock"), entry("profiles/a.toml")],
        };
        let text = m.to_text().unwrap();
        assert_eq!(Manifest::parse(&text).unwrap(), m);
        m.files.push(entry("bin/airlock"));
        assert!(
            Manifest::parse(&m.to_text().unwrap())
                .unwrap_err()
                .contains("listed twice")
        );
        m.files.pop();
        m.files.push(entry("bin/airlock/x"));
        assert!(
            Manifest::parse(&m.to_text().unwrap())
                .unwrap_err()
                .contains("also the directory")
        );
        let other = text.replace(FORMAT, "airlock-bundle-v9");
        assert!(
            Manifest::parse(&other)
                .unwrap_err()
                .contains("airlock-bundle-v9")
        );
        assert!(Manifest::parse(&format!("{text}\nsurprise = 1\n")).is_err());
    }
}
