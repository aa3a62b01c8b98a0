//! The adversarial suite: a hostile guest tries each classic way out of the
//! sandbox, and each attempt must be refused with its exact message. Each
//! case has its obeyed twin where that makes the refusal meaningful.

use airlock_runtime::Event;
use airlock_tests::{guests, profile, run, symlink, workspace};
use std::path::{Path, PathBuf};

const READ_ALL: &str = "[[grant]]\npath = \".\"\n";
/// Writes allowed without asking: these tests are about the sandbox's
/// rules, not about approvals (those are tested through a terminal).
const WRITE_ALL: &str =
    "[[grant]]\npath = \".\"\naccess = \"read-write\"\n[edits]\nmode = \"allow\"\n";
const DENY_LIST_REASON: &str = "withheld by the deny-list (rule `.env`): secret files are never read or written, whatever the profile grants";

/// A workspace `ws/` with secrets and git internals, next to `outside/`,
/// which must stay unreachable.
struct Fixture {
    _root: tempfile::TempDir,
    ws: PathBuf,
}

fn fixture() -> Fixture {
    let root = workspace(&[
        ("outside/secret.txt", "OUTSIDE SECRET"),
        ("ws/README.md", "readme text"),
        ("ws/src/main.rs", "fn main() { let secret = 1; }"),
        ("ws/.env", "API_KEY=planted-secret"),
        ("ws/config/.env.production", "DB_PASSWORD=planted"),
        ("ws/deploy/server.pem", "-----BEGIN PRIVATE KEY-----"),
        ("ws/home/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----"),
        ("ws/.git/config", "[core]"),
        ("ws/.git/hooks/pre-commit", "#!/bin/sh\nexit 0\n"),
    ]);
    let ws = root.path().join("ws");
    symlink(&ws, "../outside", "escape");
    symlink(&ws, "/etc/passwd", "abs-escape");
    symlink(&ws, ".env", "innocent.txt");
    symlink(&ws, "../README.md", "src/readme-link");
    symlink(&ws, "loop-b", "loop-a");
    symlink(&ws, "loop-a", "loop-b");
    Fixture { _root: root, ws }
}

/// Run one case; return the skill's one-line verdict and the host's denials.
fn attempt(
    profile_toml: &str,
    ws: &Path,
    case: &str,
    path: &str,
) -> (String, Vec<(String, String, String)>) {
    let report = run(
        guests::ADVERSARY,
        &profile(profile_toml),
        ws,
        &[("case", case), ("path", path)],
    )
    .unwrap();
    let denials = report
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Denied {
                capability,
                path,
                reason,
            } => Some((capability.clone(), path.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    (report.output.unwrap(), denials)
}

fn assert_denied(case: &str, path: &str, capability: &str, reason: &str) {
    let f = fixture();
    let profile = if capability == "workspace-write" {
        WRITE_ALL
    } else {
        READ_ALL
    };
    let (out, denials) = attempt(profile, &f.ws, case, path);
    assert_eq!(
        out,
        format!("err: access-denied|{capability}|{path}|{reason}"),
        "case {case} {path}"
    );
    assert_eq!(
        denials,
        vec![(capability.to_string(), path.to_string(), reason.to_string())],
        "the denial is reported to the user"
    );
}

#[test]
fn obeyed_reads_work() {
    let f = fixture();
    assert_eq!(
        attempt(READ_ALL, &f.ws, "read", "README.md").0,
        "ok: readme text"
    );
    assert_eq!(
        attempt(READ_ALL, &f.ws, "read", "./src/../README.md").0,
        "ok: readme text"
    );
    assert_eq!(
        attempt(READ_ALL, &f.ws, "read", "src/readme-link").0,
        "ok: readme text"
    );
    assert_eq!(
        attempt(READ_ALL, &f.ws, "read-range", "README.md").0,
        "ok: read"
    );
}

#[test]
fn traversal_with_dot_dot_is_denied() {
    let reason = "the path climbs above the workspace root with `..`";
    for path in [
        "../outside/secret.txt",
        "src/../../outside/secret.txt",
        "./../outside/secret.txt",
        "src/./../../outside/secret.txt",
        "..",
        "../",
        "..//outside",
    ] {
        assert_denied("read", path, "workspace-read", reason);
    }
}

#[test]
fn absolute_paths_are_denied() {
    let reason = "absolute paths are refused: paths are relative to the workspace root";
    for path in ["/etc/passwd", "//etc/passwd", "/"] {
        assert_denied("read", path, "workspace-read", reason);
    }
}

#[test]
fn symlink_escape_is_denied() {
    assert_denied(
        "read",
        "escape/secret.txt",
        "workspace-read",
        "`escape` is a symbolic link that leads outside the workspace",
    );
    assert_denied(
        "read",
        "abs-escape",
        "workspace-read",
        "`abs-escape` is a symbolic link that leads outside the workspace",
    );
}

#[test]
fn symlink_escape_with_trailing_slash_is_denied() {
    assert_denied(
        "list",
        "escape/",
        "workspace-read",
        "`escape` is a symbolic link that leads outside the workspace",
    );
}

#[test]
fn symlink_to_a_denied_file_is_denied() {
    assert_denied(
        "read",
        "innocent.txt",
        "workspace-read",
        &format!("`innocent.txt` is a symbolic link to a path that is {DENY_LIST_REASON}"),
    );
}

#[test]
fn symlink_loop_is_denied() {
    assert_denied(
        "read",
        "loop-a",
        "workspace-read",
        "resolving it passes through more than 40 symbolic links",
    );
}

#[test]
fn denied_file_in_every_spelling_is_denied() {
    for path in [
        ".env",
        "./.env",
        "src/../.env",
        ".ENV",
        ".Env",
        ".env/",
        "./src/../.env/",
        "src//..//.env",
    ] {
        assert_denied("read", path, "workspace-read", DENY_LIST_REASON);
    }
}

#[test]
fn other_secret_files_are_denied_inside_grants() {
    let pem = "withheld by the deny-list (rule `*.pem`): secret files are never read or written, whatever the profile grants";
    assert_denied("read", "deploy/server.pem", "workspace-read", pem);
    assert_denied("read", "deploy/SERVER.PEM", "workspace-read", pem);
    let ssh = "withheld by the deny-list (rule `.ssh`): secret files are never read or written, whatever the profile grants";
    assert_denied("read", "home/.ssh/id_rsa", "workspace-read", ssh);
    assert_denied("list", "home/.ssh", "workspace-read", ssh);
    let env_prod = "withheld by the deny-list (rule `.env.*`): secret files are never read or written, whatever the profile grants";
    assert_denied("read", "config/.env.production", "workspace-read", env_prod);
}

#[test]
fn denied_files_are_listed_as_withheld_never_as_content() {
    let f = fixture();
    let (out, denials) = attempt(READ_ALL, &f.ws, "list", ".");
    assert!(out.starts_with("ok: "), "{out}");
    assert!(out.contains(".env withheld(.env)"), "{out}");
    assert!(out.contains("README.md File"), "{out}");
    assert!(denials.is_empty(), "listing is not a denial: {denials:?}");

    let (walked, _) = attempt(READ_ALL, &f.ws, "walk", ".");
    for line in [
        "config/.env.production withheld(.env.*)",
        "deploy/server.pem withheld(*.pem)",
        "home/.ssh withheld(.ssh)",
    ] {
        assert!(walked.contains(line), "missing `{line}` in\n{walked}");
    }
    assert!(
        !walked.contains("id_rsa"),
        "nothing below a withheld directory is listed:\n{walked}"
    );
    assert!(
        !walked.contains(".git"),
        "walk neither lists nor enters .git:\n{walked}"
    );
}

#[test]
fn search_never_reads_denied_files() {
    let f = fixture();
    let (out, _) = attempt(READ_ALL, &f.ws, "search", ".");
    // The pattern `secret` is in src/main.rs and in .env; only the first may match.
    assert!(
        out.contains("src/main.rs:1:fn main() { let secret = 1; }"),
        "{out}"
    );
    assert!(
        !out.contains("planted"),
        "a withheld file was searched:\n{out}"
    );
    assert!(out.contains("withheld .env"), "{out}");
    assert!(out.contains("withheld deploy/server.pem"), "{out}");
}

#[test]
fn ambient_filesystem_finds_nothing() {
    let f = fixture();
    let (out, _) = attempt(READ_ALL, &f.ws, "std-fs", "/etc/passwd");
    assert_eq!(out, "err: std::fs|NotFound");
    let (out, _) = attempt(READ_ALL, &f.ws, "std-fs", "README.md");
    assert_eq!(out, "err: std::fs|NotFound", "no preopened directories");
}

#[test]
fn write_without_grant_is_denied() {
    let f = fixture();
    let (out, denials) = attempt(READ_ALL, &f.ws, "write", "src/new.rs");
    let reason =
        "granted read-only: the profile needs `access = \"read-write\"` on a [[grant]] covering it";
    assert_eq!(
        out,
        format!("err: access-denied|workspace-write|src/new.rs|{reason}")
    );
    assert_eq!(denials.len(), 1);
    assert!(!f.ws.join("src/new.rs").exists(), "nothing was written");
}

#[test]
fn write_outside_a_narrow_grant_is_denied() {
    let f = fixture();
    let narrow = "[[grant]]\npath = \"src\"\naccess = \"read-write\"\n[edits]\nmode = \"allow\"\n";
    let (out, _) = attempt(narrow, &f.ws, "write", "README.md");
    assert_eq!(
        out,
        "err: access-denied|workspace-write|README.md|not inside any path the profile grants (granted: src); add a [[grant]] covering it to the profile"
    );
    let (out, _) = attempt(narrow, &f.ws, "write", "src/generated.rs");
    assert_eq!(out, "ok: written");
    assert_eq!(
        std::fs::read_to_string(f.ws.join("src/generated.rs")).unwrap(),
        "written by adversary"
    );
}

#[test]
fn write_to_git_internals_is_denied_even_with_write_grant() {
    let reason = "inside `.git`: version-control internals hold every committed secret and credential URLs; skills never read them; commands see `.git` read-only";
    assert_denied("write", ".git/hooks/pre-commit", "workspace-write", reason);
    assert_denied("write", ".git/config", "workspace-write", reason);
    assert_denied(
        "write",
        "./src/../.git/hooks/post-checkout",
        "workspace-write",
        reason,
    );
    assert_denied("mkdir", ".git/hooks/x", "workspace-write", reason);
    let f = fixture();
    assert_eq!(
        std::fs::read_to_string(f.ws.join(".git/hooks/pre-commit")).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
}

#[test]
fn write_through_symlink_escape_is_denied() {
    assert_denied(
        "write",
        "escape/planted.txt",
        "workspace-write",
        "`escape` is a symbolic link that leads outside the workspace",
    );
}

#[test]
fn write_to_a_denied_file_is_denied() {
    assert_denied("write", ".env", "workspace-write", DENY_LIST_REASON);
}

#[test]
fn granted_write_is_atomic_and_leaves_no_temp_files() {
    let f = fixture();
    let (out, _) = attempt(WRITE_ALL, &f.ws, "write", "README.md");
    assert_eq!(out, "ok: written");
    assert_eq!(
        std::fs::read_to_string(f.ws.join("README.md")).unwrap(),
        "written by adversary"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&f.ws)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".airlock-write-")
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let (out, _) = attempt(WRITE_ALL, &f.ws, "write", "missing-dir/x.txt");
    assert_eq!(
        out,
        "err: not-found|missing-dir (the parent directory of `missing-dir/x.txt`; create it first with create-dir)"
    );
}

#[test]
fn remove_and_create_follow_the_same_rules() {
    let f = fixture();
    assert_eq!(
        attempt(WRITE_ALL, &f.ws, "mkdir", "build/out").0,
        "ok: created"
    );
    assert!(f.ws.join("build/out").is_dir());
    assert_eq!(
        attempt(WRITE_ALL, &f.ws, "rm", "src/main.rs").0,
        "ok: removed"
    );
    assert!(!f.ws.join("src/main.rs").exists());
    let (out, _) = attempt(READ_ALL, &f.ws, "rm", "README.md");
    assert!(
        out.starts_with("err: access-denied|workspace-write|README.md|granted read-only"),
        "{out}"
    );
    assert!(f.ws.join("README.md").exists());
    let (out, _) = attempt(WRITE_ALL, &f.ws, "rm", "innocent.txt");
    assert!(out.starts_with("err: access-denied|workspace-write|innocent.txt|`innocent.txt` is a symbolic link to a path that is withheld by the deny-list (rule `.env`)"), "{out}");
    assert!(f.ws.join(".env").exists());
}

#[test]
fn state_directory_inside_workspace_is_never_writable() {
    let f = fixture();
    let (out, _) = attempt(WRITE_ALL, &f.ws, "write", ".airlock/state.json");
    assert_eq!(
        out,
        "err: access-denied|workspace-write|.airlock/state.json|inside `.airlock`, which is never writable (git hooks and config could run code; Airlock's state is its own)"
    );
}

#[test]
fn stat_reports_writability_from_the_profile() {
    let f = fixture();
    assert_eq!(
        attempt(READ_ALL, &f.ws, "stat", "README.md").0,
        "ok: README.md 11 bytes writable=false"
    );
    assert_eq!(
        attempt(WRITE_ALL, &f.ws, "stat", "README.md").0,
        "ok: README.md 11 bytes writable=true"
    );
    assert_eq!(
        attempt(READ_ALL, &f.ws, "stat", "nope.txt").0,
        "err: not-found|nope.txt"
    );
}

#[test]
fn profile_deny_patterns_add_to_the_builtin_list() {
    let f = fixture();
    let toml = "deny = [\"src/**\"]\n[[grant]]\npath = \".\"\n";
    let (out, _) = attempt(toml, &f.ws, "read", "src/main.rs");
    assert_eq!(
        out,
        "err: access-denied|workspace-read|src/main.rs|withheld by the deny-list (rule `src/**`): secret files are never read or written, whatever the profile grants"
    );
}

#[test]
fn no_grant_means_no_files() {
    let f = fixture();
    let (out, _) = attempt("", &f.ws, "read", "README.md");
    assert_eq!(
        out,
        "err: access-denied|workspace-read|README.md|not inside any path the profile grants (granted: nothing); add a [[grant]] covering it to the profile"
    );
}

#[test]
fn search_of_the_root_covers_every_grant_and_nothing_else() {
    let f = fixture();
    let narrow = "[[grant]]\npath = \"src\"\n";
    let (out, denials) = attempt(narrow, &f.ws, "search", ".");
    assert_eq!(out, "ok: src/main.rs:1:fn main() { let secret = 1; }");
    assert!(denials.is_empty(), "{denials:?}");
}
