//! The compile cache must never become a code-injection path: an entry that
//! was modified or forged is detected, removed and recompiled, never loaded.

use airlock_runtime::Airlock;
use airlock_tests::guests;
use std::cell::RefCell;
use std::path::Path;

fn entries(home: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(home.join("cache"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cwasm"))
        .collect()
}

fn compile(airlock: &Airlock) -> (bool, Vec<String>) {
    let warnings = RefCell::new(Vec::new());
    let compiled = airlock
        .compile(Path::new(guests::HELLO), &|_| {}, &|w| {
            warnings.borrow_mut().push(w.to_string())
        })
        .unwrap();
    (compiled.from_cache, warnings.into_inner())
}

#[test]
fn second_load_comes_from_the_cache() {
    let home = tempfile::tempdir().unwrap();
    let airlock = Airlock::new(Some(home.path())).unwrap();
    assert_eq!(compile(&airlock), (false, vec![]));
    assert_eq!(compile(&airlock), (true, vec![]));
    let key = home.path().join("cache/cache.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "the cache key is private");
    let dir_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(home.path().join("cache"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(dir_mode & 0o777, 0o700);
}

#[test]
fn tampered_cache_entry_is_rejected_and_recompiled() {
    let home = tempfile::tempdir().unwrap();
    let airlock = Airlock::new(Some(home.path())).unwrap();
    compile(&airlock);
    let entry = entries(home.path()).pop().unwrap();
    let mut bytes = std::fs::read(&entry).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&entry, &bytes).unwrap();

    let (from_cache, warnings) = compile(&airlock);
    assert!(!from_cache, "a tampered entry is never loaded");
    assert_eq!(
        warnings,
        vec![format!(
            "cache entry {} failed authentication (it was modified or forged); it was removed and the component will be recompiled",
            entry.display()
        )]
    );
    assert_eq!(
        compile(&airlock),
        (true, vec![]),
        "the recompiled entry is used next time"
    );
}

#[test]
fn entry_forged_with_another_key_is_rejected() {
    // An attacker who can write the cache but not read the key cannot make
    // an entry that passes: copy an entry authenticated under another key.
    let home_a = tempfile::tempdir().unwrap();
    let home_b = tempfile::tempdir().unwrap();
    let a = Airlock::new(Some(home_a.path())).unwrap();
    let b = Airlock::new(Some(home_b.path())).unwrap();
    compile(&a);
    let forged = entries(home_a.path()).pop().unwrap();
    let target = home_b
        .path()
        .join("cache")
        .join(forged.file_name().unwrap());
    std::fs::copy(&forged, &target).unwrap();
    let (from_cache, warnings) = compile(&b);
    assert!(!from_cache);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("failed authentication"),
        "{warnings:?}"
    );
}

#[test]
fn truncated_cache_entry_is_rejected() {
    let home = tempfile::tempdir().unwrap();
    let airlock = Airlock::new(Some(home.path())).unwrap();
    compile(&airlock);
    let entry = entries(home.path()).pop().unwrap();
    std::fs::write(&entry, b"short").unwrap();
    let (from_cache, warnings) = compile(&airlock);
    assert!(!from_cache);
    assert!(
        warnings[0].ends_with("is truncated; it was removed and the component will be recompiled"),
        "{warnings:?}"
    );
}
