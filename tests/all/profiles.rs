//! Golden tests for invalid profiles: every file in `tests/profiles/invalid/`
//! must be refused with exactly the text in its `.expected` file (file, line,
//! column, key, and how to fix it). `AIRLOCK_BLESS=1` rewrites the expected
//! files; review the diff before committing.

use airlock_runtime::Profile;
use airlock_runtime::profile::{ProfileSource, builtin_names};
use std::path::{Path, PathBuf};

fn invalid_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/invalid")
}

#[test]
fn invalid_profiles_fail_with_their_golden_message() {
    let bless = std::env::var_os("AIRLOCK_BLESS").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir(invalid_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "the golden set is missing");
    let mut mismatches = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let shown = PathBuf::from("profiles/invalid").join(file.file_name().unwrap());
        let err = match Profile::parse(&text, ProfileSource::File(shown)) {
            Ok(_) => panic!("{} must be refused", file.display()),
            Err(e) => format!("{e}\n"),
        };
        let expected_file = file.with_extension("expected");
        if bless {
            std::fs::write(&expected_file, &err).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_file).unwrap_or_else(|_| {
            panic!(
                "missing {}; run with AIRLOCK_BLESS=1",
                expected_file.display()
            )
        });
        if expected != err {
            mismatches.push(format!(
                "{}:\n  expected: {expected}  actual:   {err}",
                file.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn shipped_profiles_are_valid_and_documented() {
    let readme = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../sandbox-profiles/README.md"),
    )
    .unwrap();
    for name in builtin_names() {
        let p = Profile::builtin(name).unwrap();
        assert_eq!(p.name, name);
        assert!(
            readme.contains(&format!("`{name}`")),
            "sandbox-profiles/README.md does not describe `{name}`"
        );
    }
    for key in [
        "name",
        "description",
        "deny",
        "[[grant]]",
        "path",
        "access",
        "wall-clock-seconds",
        "memory-mib",
        "max-bytes-read",
        "max-bytes-written",
        "max-output-bytes",
        "max-files-listed",
        "max-denials",
        "max-host-calls",
        "[inference]",
        "models",
        "max-calls",
        "max-prompt-tokens",
        "max-completion-tokens",
        "default-max-tokens",
        "max-call-seconds",
    ] {
        assert!(
            readme.contains(&format!("`{key}`")),
            "sandbox-profiles/README.md does not document `{key}`"
        );
    }
}

#[test]
fn the_default_profile_reads_and_never_writes() {
    let p = Profile::builtin("read-only").unwrap();
    assert!(!p.allows_writes());
    assert_eq!(p.limits.max_bytes_written, 0);
    let locked = Profile::builtin("locked-down").unwrap();
    assert!(!locked.allows_writes());
    assert!(locked.limits.memory_mib <= p.limits.memory_mib);
    assert!(locked.limits.wall_clock_seconds <= p.limits.wall_clock_seconds);
}

#[test]
fn unknown_profile_name_lists_the_builtins() {
    let err = Profile::load("readonly").unwrap_err();
    assert_eq!(
        err.to_string(),
        "no profile named `readonly`: the built-in profiles are read-only, workspace-write, locked-down, assistant, coder; none is admin-installed in /etc/airlock/profiles; a bare name is never read from the current directory: to use a file, give a path such as ./readonly.toml"
    );
}

#[test]
fn missing_profile_file_is_named() {
    let err = Profile::load("./nope/profile.toml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read profile ./nope/profile.toml: No such file or directory (os error 2)"
    );
}
