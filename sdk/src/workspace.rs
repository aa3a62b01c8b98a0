//! The workspace, as the sandbox profile grants it.
//!
//! Paths are relative to the workspace root and use `/`. The host resolves
//! every path beneath the root: `..` that would leave it, absolute paths and
//! symlinks pointing outside are refused with [`Error::AccessDenied`]. Secret
//! files (`.env`, keys, credentials, and any patterns the profile adds) are
//! withheld even inside granted paths: listings show them with
//! [`Entry::withheld`] set, and reading them is refused. Version-control
//! internals (`.git` folders and gitdir files, `.hg`, `.svn`, `.jj`, at any
//! depth) are never read, listed, walked or searched: they hold every
//! committed secret and credential URLs.

use crate::__private::airlock::skill::workspace as host;
use crate::Error;

/// A path the profile grants, and whether it may be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Workspace-relative path (`.` for the whole workspace).
    pub path: String,
    /// Whether files under `path` may be created, changed and removed.
    pub writable: bool,
}

/// What kind of filesystem object an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (reported, never followed).
    Symlink,
    /// Anything else (socket, device, fifo).
    Other,
}

/// One entry of a directory listing or walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Workspace-relative path.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes (0 for withheld entries).
    pub size: u64,
    /// Set when the deny-list withholds this entry: the rule that matched.
    /// The host never reads a withheld file.
    pub withheld: Option<String>,
}

impl Entry {
    /// Whether the deny-list withholds this entry.
    pub fn is_withheld(&self) -> bool {
        self.withheld.is_some()
    }

    /// Whether this is a regular file the host will let the skill read.
    pub fn is_readable_file(&self) -> bool {
        self.kind == EntryKind::File && self.withheld.is_none()
    }
}

/// What [`stat`] reports about a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// Workspace-relative path.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes.
    pub size: u64,
    /// Milliseconds since the Unix epoch, when the filesystem reports it.
    pub modified_ms: Option<u64>,
    /// Whether the profile grants writes at this path.
    pub writable: bool,
}

/// A search across granted files, like `grep -rn`. Build one with
/// [`SearchQuery::new`] and the builder methods.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// A regular expression (Rust `regex` syntax), or a literal if `literal` is set.
    pub pattern: String,
    /// Treat `pattern` as plain text.
    pub literal: bool,
    /// Ignore case when matching.
    pub case_insensitive: bool,
    /// Where to search, workspace-relative (`.` for every granted path).
    pub path: String,
    /// Only files whose path matches this glob (e.g. `**/*.rs`).
    pub glob: Option<String>,
    /// Stop after this many matches (the host also caps it).
    pub max_matches: u32,
}

impl SearchQuery {
    /// The default cap on matches: enough for a report, small enough that an
    /// accidental `.` pattern does not flood the run's output budget.
    pub const DEFAULT_MAX_MATCHES: u32 = 1000;

    /// A regex search for `pattern` over every granted path, case-sensitive,
    /// stopping after [`SearchQuery::DEFAULT_MAX_MATCHES`] matches.
    pub fn new(pattern: impl Into<String>) -> Self {
        SearchQuery {
            pattern: pattern.into(),
            literal: false,
            case_insensitive: false,
            path: ".".to_string(),
            glob: None,
            max_matches: Self::DEFAULT_MAX_MATCHES,
        }
    }

    /// Match the pattern as plain text, not as a regex.
    #[must_use]
    pub fn literal(mut self) -> Self {
        self.literal = true;
        self
    }

    /// Ignore case when matching.
    #[must_use]
    pub fn case_insensitive(mut self) -> Self {
        self.case_insensitive = true;
        self
    }

    /// Search only below this workspace-relative path.
    #[must_use]
    pub fn in_path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Search only files whose path matches this glob (e.g. `**/*.rs`).
    #[must_use]
    pub fn glob(mut self, glob: impl Into<String>) -> Self {
        self.glob = Some(glob.into());
        self
    }

    /// Stop after `n` matches.
    #[must_use]
    pub fn max_matches(mut self, n: u32) -> Self {
        self.max_matches = n;
        self
    }
}

/// One matching line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchMatch {
    /// Workspace-relative path of the file.
    pub path: String,
    /// 1-based line number.
    pub line: u32,
    /// The matching line, cut to a bounded length by the host.
    pub text: String,
}

/// The result of a [`search`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchResult {
    /// The matches, in path then line order.
    pub matches: Vec<SearchMatch>,
    /// Files the deny-list withheld from the search (never read).
    pub withheld: Vec<String>,
    /// True when `max_matches` or a profile limit cut the search short.
    pub truncated: bool,
}

/// The paths this run was granted.
pub fn grants() -> Vec<Grant> {
    host::grants().into_iter().map(wire::grant).collect()
}

/// The entries of one directory, sorted by path. Version-control internals
/// (`.git`, `.hg`, `.svn`, `.jj`) are left out.
pub fn list_dir(path: &str) -> Result<Vec<Entry>, Error> {
    host::list_dir(path)
        .map(wire::entries)
        .map_err(Error::from_wit)
}

/// Every entry below `path`, recursively, sorted by path. Symlinks are
/// reported, not followed; withheld folders are reported, not entered;
/// version-control internals are left out and never entered. Counts against
/// `limits.max-files-listed`.
pub fn walk(path: &str) -> Result<Vec<Entry>, Error> {
    host::walk(path).map(wire::entries).map_err(Error::from_wit)
}

/// Every entry below every granted path, merged, sorted and deduplicated by path.
///
/// A grant nested in another grant (`src/gen` inside `src`) is not walked a
/// second time. A granted path that does not exist in this workspace is
/// skipped rather than failing the walk, because one profile is often used
/// with many workspaces.
pub fn walk_granted() -> Result<Vec<Entry>, Error> {
    let roots = outermost_roots(grants().into_iter().map(|g| g.path));
    let mut all = Vec::new();
    for root in roots {
        match walk(&root) {
            Ok(entries) => all.extend(entries),
            Err(Error::NotFound(_)) => {}
            Err(other) => return Err(other),
        }
    }
    all.sort_by(|a, b| a.path.cmp(&b.path));
    all.dedup_by(|a, b| a.path == b.path);
    Ok(all)
}

/// A file the deny-list withheld: the host lists it and never lets it be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withheld {
    /// Workspace-relative path.
    pub path: String,
    /// The deny-list rule that matched.
    pub rule: String,
}

impl Withheld {
    /// The sentence to show a user for a withheld file.
    pub fn sentence(&self) -> String {
        format!(
            "withheld by the deny-list (not read): {} (rule `{}`)",
            self.path, self.rule
        )
    }
}

/// The granted workspace, split the way most skills need it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GrantedFiles {
    /// Regular files the skill may read, sorted by path.
    pub files: Vec<Entry>,
    /// Entries the deny-list withholds, sorted by path. Report them; they
    /// cannot be read.
    pub withheld: Vec<Withheld>,
}

/// Every readable regular file under the granted paths, and every withheld
/// entry ([`walk_granted`], split). Directories and symlinks are left out.
pub fn granted_files() -> Result<GrantedFiles, Error> {
    Ok(split_entries(walk_granted()?))
}

fn split_entries(entries: Vec<Entry>) -> GrantedFiles {
    let mut out = GrantedFiles::default();
    for entry in entries {
        match entry.withheld {
            Some(rule) => out.withheld.push(Withheld {
                path: entry.path,
                rule,
            }),
            None if entry.kind == EntryKind::File => out.files.push(entry),
            None => {}
        }
    }
    out
}

/// Metadata of one path.
pub fn stat(path: &str) -> Result<Metadata, Error> {
    host::stat(path)
        .map(wire::metadata)
        .map_err(Error::from_wit)
}

/// The whole file. Counts against `limits.max-bytes-read`.
pub fn read(path: &str) -> Result<Vec<u8>, Error> {
    host::read_file(path).map_err(Error::from_wit)
}

/// The whole file as text.
///
/// A file that is not valid UTF-8 is an [`Error::InvalidInput`] naming the
/// path; use [`read`] and decode yourself to accept other encodings.
pub fn read_to_string(path: &str) -> Result<String, Error> {
    let bytes = read(path)?;
    decode_utf8(path, bytes)
}

/// `len` bytes from `offset` (fewer at the end of the file).
pub fn read_range(path: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    host::read_range(path, offset, len).map_err(Error::from_wit)
}

/// Searches granted files; see [`SearchQuery`]. Never searches inside
/// version-control internals: a `path` there is refused.
pub fn search(query: &SearchQuery) -> Result<SearchResult, Error> {
    host::search(&wire::search_query(query))
        .map(wire::search_result)
        .map_err(Error::from_wit)
}

/// Creates or replaces a file. Needs a writable grant. Counts against
/// `limits.max-bytes-written`.
pub fn write(path: &str, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    host::write_file(path, contents.as_ref()).map_err(Error::from_wit)
}

/// Creates a directory and its missing parents. Needs a writable grant.
pub fn create_dir(path: &str) -> Result<(), Error> {
    host::create_dir(path).map_err(Error::from_wit)
}

/// Removes one file. Needs a writable grant.
pub fn remove_file(path: &str) -> Result<(), Error> {
    host::remove_file(path).map_err(Error::from_wit)
}

/// Decodes file contents, naming the file when they are not UTF-8.
fn decode_utf8(path: &str, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        Error::InvalidInput(format!(
            "`{path}` is not valid UTF-8 (first invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Normalises granted paths and drops those inside another granted path, so
/// that [`walk_granted`] walks each file once.
fn outermost_roots(paths: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut roots: Vec<String> = paths.into_iter().map(|p| normalize(&p)).collect();
    roots.sort();
    roots.dedup();
    if roots.iter().any(|r| r == ".") {
        return vec![".".to_string()];
    }
    roots
        .iter()
        .filter(|r| !roots.iter().any(|outer| outer != *r && is_below(r, outer)))
        .cloned()
        .collect()
}

/// `./src/` and `src` name the same grant; the empty path is the root.
fn normalize(path: &str) -> String {
    let mut p = path.trim();
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    let p = p.trim_end_matches('/');
    if p.is_empty() {
        ".".to_string()
    } else {
        p.to_string()
    }
}

/// Component-wise prefix: `src/gen` is below `src`, `src2` is not.
fn is_below(path: &str, outer: &str) -> bool {
    path.strip_prefix(outer)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Conversions between these types and the generated bindings of the
/// `workspace` interface.
mod wire {
    use super::*;

    pub(super) fn grant(g: host::Grant) -> Grant {
        Grant {
            path: g.path,
            writable: g.writable,
        }
    }

    fn entry_kind(k: host::EntryKind) -> EntryKind {
        match k {
            host::EntryKind::File => EntryKind::File,
            host::EntryKind::Directory => EntryKind::Directory,
            host::EntryKind::Symlink => EntryKind::Symlink,
            host::EntryKind::Other => EntryKind::Other,
        }
    }

    pub(super) fn entries(list: Vec<host::Entry>) -> Vec<Entry> {
        list.into_iter()
            .map(|e| Entry {
                path: e.path,
                kind: entry_kind(e.kind),
                size: e.size,
                withheld: e.withheld,
            })
            .collect()
    }

    pub(super) fn metadata(m: host::Metadata) -> Metadata {
        Metadata {
            path: m.path,
            kind: entry_kind(m.kind),
            size: m.size,
            modified_ms: m.modified_ms,
            writable: m.writable,
        }
    }

    pub(super) fn search_query(q: &SearchQuery) -> host::SearchQuery {
        host::SearchQuery {
            pattern: q.pattern.clone(),
            literal: q.literal,
            case_insensitive: q.case_insensitive,
            path: q.path.clone(),
            glob: q.glob.clone(),
            max_matches: q.max_matches,
        }
    }

    pub(super) fn search_result(r: host::SearchResult) -> SearchResult {
        SearchResult {
            matches: r
                .matches
                .into_iter()
                .map(|m| SearchMatch {
                    path: m.path,
                    line: m.line,
                    text: m.text,
                })
                .collect(),
            withheld: r.withheld,
            truncated: r.truncated,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn granted_files_splits_readable_files_from_withheld_entries() {
        let entry = |path: &str, kind, withheld: Option<&str>| super::Entry {
            path: path.into(),
            kind,
            size: 1,
            withheld: withheld.map(Into::into),
        };
        let split = super::split_entries(vec![
            entry(".env", super::EntryKind::File, Some(".env")),
            entry("src", super::EntryKind::Directory, None),
            entry("src/a.rs", super::EntryKind::File, None),
            entry("link", super::EntryKind::Symlink, None),
        ]);
        assert_eq!(split.files.len(), 1);
        assert_eq!(split.files[0].path, "src/a.rs");
        assert_eq!(
            split.withheld[0].sentence(),
            "withheld by the deny-list (not read): .env (rule `.env`)"
        );
    }

    use super::*;

    fn roots(paths: &[&str]) -> Vec<String> {
        outermost_roots(paths.iter().map(|p| p.to_string()))
    }

    #[test]
    fn nested_grants_are_walked_once() {
        assert_eq!(roots(&["src", "src/gen", "docs"]), ["docs", "src"]);
        assert_eq!(roots(&["src/gen", "./src/"]), ["src"]);
    }

    #[test]
    fn sibling_with_common_prefix_is_not_nested() {
        assert_eq!(roots(&["src", "src2"]), ["src", "src2"]);
    }

    #[test]
    fn root_grant_covers_everything() {
        assert_eq!(roots(&["src", ".", "docs"]), ["."]);
        assert_eq!(roots(&["./"]), ["."]);
        assert!(roots(&[]).is_empty());
    }

    #[test]
    fn invalid_utf8_names_the_path() {
        let err = decode_utf8("bin/blob", vec![b'o', b'k', 0xff]);
        assert_eq!(
            err,
            Err(Error::InvalidInput(
                "`bin/blob` is not valid UTF-8 (first invalid byte at offset 2)".into()
            ))
        );
        assert_eq!(decode_utf8("a", b"hi".to_vec()), Ok("hi".to_string()));
    }

    #[test]
    fn search_query_defaults_and_builders() {
        let q = SearchQuery::new("TODO");
        assert_eq!(
            (
                q.literal,
                q.case_insensitive,
                q.path.as_str(),
                q.glob.as_deref(),
                q.max_matches
            ),
            (false, false, ".", None, 1000)
        );
        let q = q
            .literal()
            .case_insensitive()
            .in_path("src")
            .glob("**/*.rs")
            .max_matches(5);
        assert_eq!(
            (
                q.literal,
                q.case_insensitive,
                q.path.as_str(),
                q.glob.as_deref(),
                q.max_matches
            ),
            (true, true, "src", Some("**/*.rs"), 5)
        );
    }

    #[test]
    fn the_query_reaches_the_wire_unchanged() {
        let q = SearchQuery::new("a+")
            .case_insensitive()
            .in_path("src")
            .glob("*.rs")
            .max_matches(7);
        let w = wire::search_query(&q);
        assert_eq!(
            (
                w.pattern.as_str(),
                w.literal,
                w.case_insensitive,
                w.path.as_str(),
                w.glob.as_deref(),
                w.max_matches
            ),
            ("a+", false, true, "src", Some("*.rs"), 7)
        );
    }

    #[test]
    fn listings_and_results_keep_every_field() {
        let listed = wire::entries(vec![host::Entry {
            path: ".env".into(),
            kind: host::EntryKind::Symlink,
            size: 0,
            withheld: Some(".env".into()),
        }]);
        assert_eq!(
            listed,
            [Entry {
                path: ".env".into(),
                kind: EntryKind::Symlink,
                size: 0,
                withheld: Some(".env".into()),
            }]
        );
        let result = wire::search_result(host::SearchResult {
            matches: vec![host::SearchMatch {
                path: "a.rs".into(),
                line: 3,
                text: "TODO".into(),
            }],
            withheld: vec![".env".into()],
            truncated: true,
        });
        assert_eq!(
            result,
            SearchResult {
                matches: vec![SearchMatch {
                    path: "a.rs".into(),
                    line: 3,
                    text: "TODO".into(),
                }],
                withheld: vec![".env".into()],
                truncated: true,
            }
        );
    }
}
