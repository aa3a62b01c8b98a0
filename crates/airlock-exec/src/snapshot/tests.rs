//! Unit tests of the snapshot: what is copied, what changes are found.
use super::*;

fn deny() -> DenyList {
    DenyList::new::<&str>(&[]).expect("deny-list")
}

fn take(root: &Path, parent: &Path, scratch: &dyn Fn(&[u8]) -> bool) -> Snapshot {
    take_with(root, parent, scratch, HardLinks::Withhold)
}

fn take_with(
    root: &Path,
    parent: &Path,
    scratch: &dyn Fn(&[u8]) -> bool,
    hard_links: HardLinks,
) -> Snapshot {
    let deny = deny();
    Snapshot::take(&SnapshotSpec {
        root,
        grants: vec![Vec::new()],
        deny: &deny,
        exclude: vec![root.join(".state")],
        is_scratch: scratch,
        max_bytes: 1 << 30,
        hard_links,
        parent,
    })
    .expect("snapshot")
}

#[test]
fn secrets_state_and_scratch_are_not_copied_and_git_is_a_mount_point() {
    let ws = tempfile::tempdir().expect("ws");
    let tmp = tempfile::tempdir().expect("tmp");
    let w = ws.path();
    std::fs::create_dir_all(w.join("src")).expect("src");
    std::fs::create_dir_all(w.join(".git/objects")).expect(".git");
    std::fs::create_dir_all(w.join(".state/cache")).expect(".state");
    std::fs::create_dir_all(w.join("target/debug")).expect("target");
    std::fs::create_dir_all(w.join(OsStr::from_bytes(b"\xff"))).expect("non-utf8");
    std::fs::write(w.join("src/main.rs"), "fn main() {}\n").expect("write");
    std::fs::write(w.join(".env"), "SECRET=1\n").expect("write");
    std::fs::write(w.join(OsStr::from_bytes(b"\xff/.env")), "SECRET=2\n").expect("write");
    std::fs::write(w.join(".state/cache/cache.key"), "key").expect("write");
    std::fs::write(w.join("target/debug/big"), "built").expect("write");
    let scratch = |p: &[u8]| p == b"target" || p.starts_with(b"target/");
    let snap = take(w, tmp.path(), &scratch);
    let c = snap.path();
    assert!(c.join("src/main.rs").is_file());
    assert!(!c.join(".env").exists());
    assert!(!c.join(OsStr::from_bytes(b"\xff/.env")).exists());
    assert!(c.join(OsStr::from_bytes(b"\xff")).is_dir());
    assert!(!c.join(".state").exists());
    assert!(!c.join("target").exists());
    assert!(c.join(".git").is_dir());
    assert!(!c.join(".git/objects").exists(), "mounted, not copied");
    assert_eq!(snap.vcs_dirs(), [b".git".to_vec()]);
}

#[test]
fn changes_are_listed_and_forbidden_ones_marked() {
    let ws = tempfile::tempdir().expect("ws");
    let tmp = tempfile::tempdir().expect("tmp");
    let w = ws.path();
    std::fs::create_dir_all(w.join("src")).expect("src");
    std::fs::write(w.join("src/a.txt"), "a\n").expect("write");
    std::fs::write(w.join("src/gone.txt"), "g\n").expect("write");
    std::fs::write(w.join("same.txt"), "s\n").expect("write");
    let scratch = |p: &[u8]| p == b"target" || p.starts_with(b"target/");
    let snap = take(w, tmp.path(), &scratch);
    let c = snap.path().to_path_buf();
    std::fs::write(c.join("src/a.txt"), "changed\n").expect("write");
    std::fs::remove_file(c.join("src/gone.txt")).expect("rm");
    std::fs::write(c.join("new.sh"), "#!/bin/sh\n").expect("write");
    std::fs::set_permissions(c.join("new.sh"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    std::fs::write(c.join(".env"), "X=1\n").expect("write");
    std::fs::create_dir_all(c.join("target/debug")).expect("target");
    std::fs::write(c.join("target/debug/out"), vec![0u8; 1000]).expect("write");
    std::os::unix::fs::symlink("/etc/passwd", c.join("link")).expect("symlink");
    let (changes, scratch_bytes) = snap.changes(&deny(), &scratch).expect("changes");
    assert_eq!(scratch_bytes, 1000);
    let by_path: BTreeMap<&[u8], &ChangeKind> = changes
        .iter()
        .map(|c| (c.path.as_slice(), &c.kind))
        .collect();
    assert!(
        matches!(by_path[&b"src/a.txt"[..]], ChangeKind::Modify { content, .. } if content == b"changed\n")
    );
    assert!(matches!(
        by_path[&b"src/gone.txt"[..]],
        ChangeKind::Delete { .. }
    ));
    assert!(matches!(
        by_path[&b"new.sh"[..]],
        ChangeKind::Create {
            executable: true,
            ..
        }
    ));
    assert!(
        matches!(by_path[&b".env"[..]], ChangeKind::NotApplied(why) if why.contains("deny-list"))
    );
    assert!(
        matches!(by_path[&b"link"[..]], ChangeKind::NotApplied(why) if why.contains("symbolic"))
    );
    assert!(!by_path.contains_key(&b"same.txt"[..]));
    assert!(!by_path.keys().any(|p| p.starts_with(b"target")));
}

#[test]
fn a_workspace_over_the_size_limit_is_refused_naming_the_key() {
    let ws = tempfile::tempdir().expect("ws");
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(ws.path().join("big"), vec![1u8; 2 << 20]).expect("write");
    let deny = deny();
    let err = Snapshot::take(&SnapshotSpec {
        root: ws.path(),
        grants: vec![Vec::new()],
        deny: &deny,
        exclude: Vec::new(),
        is_scratch: &|_| false,
        max_bytes: 1 << 20,
        hard_links: HardLinks::Withhold,
        parent: tmp.path(),
    })
    .err()
    .expect("refused");
    assert!(
        err.to_string().contains("commands.max-snapshot-mib"),
        "{err}"
    );
}

#[test]
fn hard_links_are_withheld_unless_allowed_and_never_to_a_secret() {
    let ws = tempfile::tempdir().expect("ws");
    let tmp = tempfile::tempdir().expect("tmp");
    let w = ws.path();
    std::fs::create_dir_all(w.join("a/.ssh")).expect("mkdir");
    std::fs::create_dir_all(w.join(".state")).expect("mkdir");
    std::fs::write(w.join("z.env"), "ordinary\n").expect("write");
    std::fs::write(w.join(".env"), "SECRET=1\n").expect("write");
    std::fs::write(w.join("a/.ssh/id_rsa"), "KEY\n").expect("write");
    std::fs::write(w.join(".state/cache.key"), "STATE\n").expect("write");
    std::fs::write(w.join("shared.txt"), "shared\n").expect("write");
    // Names that sort before and after the secrets they link to.
    std::fs::hard_link(w.join(".env"), w.join("0-notes.txt")).expect("link");
    std::fs::hard_link(w.join(".env"), w.join("zz-notes.txt")).expect("link");
    std::fs::hard_link(w.join("a/.ssh/id_rsa"), w.join("b.txt")).expect("link");
    std::fs::hard_link(w.join(".state/cache.key"), w.join("c.txt")).expect("link");
    std::fs::hard_link(w.join("shared.txt"), w.join("shared-too.txt")).expect("link");
    let none = |_: &[u8]| false;

    let snap = take(w, tmp.path(), &none);
    let c = snap.path();
    for name in [
        "0-notes.txt",
        "zz-notes.txt",
        "b.txt",
        "c.txt",
        "shared.txt",
        "shared-too.txt",
    ] {
        assert!(!c.join(name).exists(), "{name} is withheld by default");
        assert!(snap.links_withheld().contains(name.as_bytes()), "{name}");
    }
    assert!(c.join("z.env").is_file());

    let snap = take_with(w, tmp.path(), &none, HardLinks::Allow);
    let c = snap.path();
    for name in ["0-notes.txt", "zz-notes.txt", "b.txt", "c.txt"] {
        assert!(
            !c.join(name).exists(),
            "{name} is a secret under another name"
        );
    }
    assert_eq!(
        std::fs::read_to_string(c.join("shared-too.txt")).expect("copied"),
        "shared\n"
    );
    // A command that writes where a withheld link was is not applied.
    std::fs::write(c.join("0-notes.txt"), "overwritten\n").expect("write");
    let (changes, _) = snap.changes(&deny(), &none).expect("changes");
    let change = changes
        .iter()
        .find(|c| c.path == b"0-notes.txt")
        .expect("reported");
    assert!(
        matches!(&change.kind, ChangeKind::NotApplied(why) if why.contains("hard link")),
        "{change:?}"
    );
}

#[test]
fn version_control_folders_in_any_case_are_not_copied() {
    let ws = tempfile::tempdir().expect("ws");
    let tmp = tempfile::tempdir().expect("tmp");
    let w = ws.path();
    std::fs::create_dir_all(w.join("sub/.GIT")).expect("mkdir");
    std::fs::create_dir_all(w.join(".hg")).expect("mkdir");
    std::fs::write(w.join("sub/.GIT/config"), "[remote]").expect("write");
    std::fs::write(w.join(".hg/hgrc"), "[paths]").expect("write");
    let snap = take(w, tmp.path(), &|_| false);
    assert!(!snap.path().join("sub/.GIT").exists());
    assert!(!snap.path().join(".hg").exists());
    assert!(
        snap.vcs_dirs().is_empty(),
        "only a `.git` folder is mounted"
    );
}
