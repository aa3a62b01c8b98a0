//! The `access` records of workspace calls, typed
//! ([`crate::audit::schema::Access`]): what each call adds to the record's
//! `op`, `path` and `allowed` (`docs/audit.md`).

use crate::audit::schema::{Access, Search};
use crate::bindings::types::Error;
use crate::bindings::workspace_api::SearchResult;

/// A count for an audit record.
pub(super) fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// `list-dir`, `walk`: how many entries the call returned.
pub(super) fn entries(access: Access, entries: usize) -> Access {
    Access {
        entries: Some(count(entries)),
        ..access
    }
}

/// `stat`: the file's size.
pub(super) fn size(access: Access, size: u64) -> Access {
    Access {
        size: Some(size),
        ..access
    }
}

/// `read-file` (no `offset`) and `read-range`: the bytes returned.
pub(super) fn read(access: Access, offset: Option<u64>, bytes: usize) -> Access {
    Access {
        offset,
        bytes: Some(count(bytes)),
        ..access
    }
}

/// `search`: what was looked for, and each file that matched, once, in
/// path order.
pub(super) fn search(
    access: Access,
    pattern: String,
    glob: Option<String>,
    result: &SearchResult,
) -> Access {
    let files: std::collections::BTreeSet<&str> =
        result.matches.iter().map(|m| m.path.as_str()).collect();
    Access {
        search: Some(Search {
            pattern,
            glob,
            matches: count(result.matches.len()),
            files_matched: files.into_iter().map(str::to_string).collect(),
            truncated: result.truncated,
        }),
        ..access
    }
}

/// `write-file`, before the file is written: the new contents' size and
/// hash, and whether they replace a file.
pub(super) fn write(access: Access, contents: &[u8], replaces: bool) -> Access {
    Access {
        bytes: Some(count(contents.len())),
        sha256: Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            contents,
        ))),
        replaces: Some(replaces),
        ..access
    }
}

/// `remove-file`, before the file is removed: its size.
pub(super) fn remove(access: Access, bytes: u64) -> Access {
    Access {
        bytes: Some(bytes),
        ..access
    }
}

/// A call that failed for a reason other than a denial (a denial has its
/// own record, from the journal).
pub(super) fn failed(access: Access, error: &Error) -> Access {
    Access {
        error: Some(crate::host::types::message(error)),
        ..access
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    //! Each record as the typed payload writes it, against the `json!`
    //! object the host wrote before the typed schema, for the same inputs:
    //! the canonical bytes (sorted keys) are the same.

    use super::*;
    use crate::bindings::workspace_api::SearchMatch;
    use serde_json::{Value, json};

    /// What the host wrote before: the call's detail with `op`, `path` and
    /// `allowed` added.
    fn before(op: &str, path: &str, detail: Value) -> String {
        let mut data = detail;
        let obj = data.as_object_mut().unwrap();
        obj.insert("op".into(), op.into());
        obj.insert("path".into(), path.into());
        obj.insert("allowed".into(), true.into());
        data.to_string()
    }

    fn now(access: &Access) -> String {
        serde_json::to_value(access).unwrap().to_string()
    }

    fn base(op: &str, path: &str) -> Access {
        Access::new(op, path, true)
    }

    #[test]
    fn reads_and_listings_write_the_bytes_they_wrote_before() {
        let cases = [
            (
                entries(base("list-dir", "src"), 3),
                before("list-dir", "src", json!({ "entries": 3usize })),
            ),
            (
                entries(base("walk", "."), 0),
                before("walk", ".", json!({ "entries": 0usize })),
            ),
            (
                size(base("stat", "a.txt"), 1234),
                before("stat", "a.txt", json!({ "size": 1234u64 })),
            ),
            (
                read(base("read-file", "a.txt"), None, 10),
                before("read-file", "a.txt", json!({ "bytes": 10usize })),
            ),
            (
                read(base("read-range", "a.txt"), Some(5), 7),
                before(
                    "read-range",
                    "a.txt",
                    json!({ "offset": 5u64, "bytes": 7usize }),
                ),
            ),
        ];
        for (typed, old) in cases {
            assert_eq!(now(&typed), old);
        }
    }

    #[test]
    fn a_search_writes_the_bytes_it_wrote_before() {
        let hit = |path: &str, line| SearchMatch {
            path: path.into(),
            line,
            text: "hello".into(),
        };
        let result = SearchResult {
            matches: vec![hit("src/b.rs", 3), hit("src/a.rs", 1), hit("src/b.rs", 9)],
            withheld: vec![".env".into()],
            truncated: true,
        };
        for glob in [None, Some("*.rs".to_string())] {
            let typed = search(base("search", "src"), "hello".into(), glob.clone(), &result);
            let files: std::collections::BTreeSet<&str> =
                result.matches.iter().map(|m| m.path.as_str()).collect();
            let old = before(
                "search",
                "src",
                json!({
                    "pattern": "hello",
                    "glob": glob,
                    "matches": result.matches.len(),
                    "files-matched": files,
                    "truncated": result.truncated,
                }),
            );
            assert_eq!(now(&typed), old);
        }
    }

    #[test]
    fn changes_and_failures_write_the_bytes_they_wrote_before() {
        let contents = b"new contents\n";
        for replaces in [false, true] {
            let typed = write(base("write-file", "a.txt"), contents, replaces);
            let old = before(
                "write-file",
                "a.txt",
                json!({
                    "bytes": contents.len() as u64,
                    "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(contents)),
                    "replaces": replaces,
                }),
            );
            assert_eq!(now(&typed), old);
        }
        assert_eq!(
            now(&remove(base("remove-file", "a.txt"), 12)),
            before("remove-file", "a.txt", json!({ "bytes": 12u64 }))
        );
        assert_eq!(
            now(&base("create-dir", "new/dir")),
            before("create-dir", "new/dir", json!({}))
        );
        for error in [
            Error::NotFound("gone.txt".into()),
            Error::limit("limits.max-bytes-read", 10, 20),
            Error::Io("disk full".into()),
        ] {
            let old = json!({
                "op": "write-file",
                "path": "gone.txt",
                "allowed": true,
                "error": crate::host::types::message(&error),
            });
            assert_eq!(
                now(&failed(base("write-file", "gone.txt"), &error)),
                old.to_string()
            );
            assert_eq!(
                now(&failed(base("read-file", "gone.txt"), &error)),
                before(
                    "read-file",
                    "gone.txt",
                    json!({ "error": crate::host::types::message(&error) })
                )
            );
        }
    }
}
