//! Lexical handling of the paths a skill passes in: before anything touches
//! the filesystem, a path is split into components, `.` is dropped and `..`
//! is applied, and a path that would climb above the workspace root, is
//! absolute, or contains a NUL byte is refused.

/// The most bytes a path from a skill may have. Longer paths are refused
/// before any work is done (Linux's own `PATH_MAX` is 4096).
pub const MAX_PATH_BYTES: usize = 4096;

/// Why a path was refused on its face.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// Starts with `/`.
    #[error("absolute paths are refused: paths are relative to the workspace root")]
    Absolute,
    /// `..` would climb above the root.
    #[error("the path climbs above the workspace root with `..`")]
    Escapes,
    /// Contains a NUL byte.
    #[error("the path contains a NUL byte")]
    Nul,
    #[error("the path is {0} bytes long; at most {MAX_PATH_BYTES} are accepted")]
    /// Longer than [`MAX_PATH_BYTES`].
    TooLong(usize),
}

/// A normalised workspace-relative path: components without `.`, `..` or
/// empty parts. The empty path is the workspace root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(Vec<String>);

impl RelPath {
    /// Parse a path as a skill or a profile wrote it.
    pub fn parse(raw: &str) -> Result<Self, PathError> {
        if raw.len() > MAX_PATH_BYTES {
            return Err(PathError::TooLong(raw.len()));
        }
        if raw.contains('\0') {
            return Err(PathError::Nul);
        }
        if raw.starts_with('/') {
            return Err(PathError::Absolute);
        }
        Self::root().join_lexically(raw)
    }

    /// The workspace root.
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// `self` followed by the relative path `rest`, normalised.
    pub fn join_lexically(&self, rest: &str) -> Result<Self, PathError> {
        let mut parts = self.0.clone();
        for part in rest.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(PathError::Escapes);
                    }
                }
                name => parts.push(name.to_string()),
            }
        }
        Ok(Self(parts))
    }

    /// One more component (a name from a directory listing).
    pub fn child(&self, name: &str) -> Self {
        let mut parts = self.0.clone();
        parts.push(name.to_string());
        Self(parts)
    }

    /// The components.
    pub fn components(&self) -> &[String] {
        &self.0
    }

    /// The parent, or `None` for the root.
    pub fn parent(&self) -> Option<Self> {
        let mut parts = self.0.clone();
        parts.pop().map(|_| Self(parts))
    }

    /// The last component, or `None` for the root.
    pub fn file_name(&self) -> Option<&str> {
        self.0.last().map(String::as_str)
    }

    /// Whether `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &RelPath) -> bool {
        self.0.len() >= other.0.len() && self.0[..other.0.len()] == other.0[..]
    }

    /// The path as a relative `std::path::PathBuf` for cap-std (`.` for the root).
    pub fn to_path(&self) -> std::path::PathBuf {
        if self.0.is_empty() {
            std::path::PathBuf::from(".")
        } else {
            self.0.iter().collect()
        }
    }

    /// Whether this is the root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for RelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str(".")
        } else {
            f.write_str(&self.0.join("/"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        RelPath::parse(raw).expect(raw).to_string()
    }

    #[test]
    fn normalises_dots_and_slashes() {
        assert_eq!(ok("./src//main.rs"), "src/main.rs");
        assert_eq!(ok("src/../README.md"), "README.md");
        assert_eq!(ok("a/./b/"), "a/b");
        assert_eq!(ok("."), ".");
        assert_eq!(ok(""), ".");
    }

    #[test]
    fn refuses_escapes_in_every_spelling() {
        for raw in [
            "..",
            "../x",
            "a/../../x",
            "./../x",
            "a/./../..",
            "../",
            "..//..",
            "a/b/../../..",
        ] {
            assert_eq!(RelPath::parse(raw), Err(PathError::Escapes), "{raw}");
        }
    }

    #[test]
    fn refuses_absolute_nul_and_long_paths() {
        assert_eq!(RelPath::parse("/etc/passwd"), Err(PathError::Absolute));
        assert_eq!(RelPath::parse("//etc"), Err(PathError::Absolute));
        assert_eq!(RelPath::parse("a\0b"), Err(PathError::Nul));
        let long = "a/".repeat(3000);
        assert_eq!(RelPath::parse(&long), Err(PathError::TooLong(6000)));
    }

    #[test]
    fn prefix_is_by_component() {
        let src = RelPath::parse("src").expect("valid");
        assert!(RelPath::parse("src/a.rs").expect("valid").starts_with(&src));
        assert!(
            !RelPath::parse("srcx/a.rs")
                .expect("valid")
                .starts_with(&src)
        );
        assert!(
            RelPath::parse("anything")
                .expect("valid")
                .starts_with(&RelPath::root())
        );
    }
}
