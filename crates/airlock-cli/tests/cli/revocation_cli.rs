//! Revocations as an officer relies on them: a publisher key, a plugin
//! package or a release key named in a root-owned revocation list is refused
//! everywhere it could come back in (run, install, trust add, bundle verify),
//! with the list and its reason in the message; a bundle carries such a list
//! and installs it where every later run reads it.
#![allow(clippy::unwrap_used)]

use crate::support::{admin_policy, airlock_command, describe, ok, sha256_hex, text, utf8};
use airlock_tests::{guests, workspace};
use std::path::Path;
use std::process::{Output, Stdio};

const HELLO: &str = "name = \"hello\"\nversion = \"0.1.0\"\ndescription = \"Greets its input\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"acme\"\n\n[capabilities]\nworkspace-read = [\"src\"]\n";

/// `airlock --home HOME ARGS` with `$AIRLOCK_REVOKED_FILE` = `revoked`.
fn airlock_revoked(home: &Path, revoked: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = airlock_command(home);
    if let Some(r) = revoked {
        cmd.env("AIRLOCK_REVOKED_FILE", r);
    }
    cmd.args(args).stdin(Stdio::null()).output().unwrap()
}

/// A publisher `acme` with a signed `hello` package, trusted and installed
/// in `home`.
struct Installed {
    dir: tempfile::TempDir,
}

impl Installed {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let i = Self { dir };
        let home = i.home();
        ok(&airlock_revoked(
            &home,
            None,
            &[
                "plugin",
                "keygen",
                "--publisher",
                "acme",
                "--out",
                utf8(&i.path("acme")),
            ],
        ));
        std::fs::write(i.path("hello.toml"), HELLO).unwrap();
        ok(&airlock_revoked(
            &home,
            None,
            &[
                "plugin",
                "pack",
                guests::HELLO,
                "--manifest",
                utf8(&i.path("hello.toml")),
                "--key",
                utf8(&i.path("acme.key")),
                "-o",
                utf8(&i.path("hello.airlock")),
            ],
        ));
        ok(&airlock_revoked(
            &home,
            None,
            &["trust", "add", "acme", utf8(&i.path("acme.pub"))],
        ));
        ok(&airlock_revoked(
            &home,
            None,
            &[
                "plugin",
                "install",
                utf8(&i.path("hello.airlock")),
                "--profile",
                "read-only",
                "--yes",
            ],
        ));
        i
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn home(&self) -> std::path::PathBuf {
        self.path("home")
    }

    fn fingerprint(&self) -> String {
        let out = ok(&airlock_revoked(
            &self.home(),
            None,
            &["trust", "list", "--json"],
        ));
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        v[0]["fingerprint"].as_str().unwrap().to_string()
    }

    fn run(&self, revoked: Option<&Path>) -> Output {
        let ws = workspace(&[("src/a.txt", "x")]);
        airlock_revoked(
            &self.home(),
            revoked,
            &["run", "hello", "-w", utf8(ws.path()), "--input", "you"],
        )
    }
}

#[test]
fn a_revoked_publisher_key_refuses_what_it_signed_everywhere() {
    let i = Installed::new();
    ok(&i.run(None));
    let fp = i.fingerprint();
    let Some((_dir, list)) = admin_policy(&format!(
        "format = \"airlock-revocations-v1\"\n[[publisher-key]]\nfingerprint = \"{fp}\"\nreason = \"key lost on 2026-11-30\"\n"
    )) else {
        return;
    };
    let expect = |out: &Output, what: &str| {
        assert_eq!(out.status.code(), Some(3), "{what}: {}", describe(out));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "revoked by {}: key lost on 2026-11-30",
                list.display()
            )),
            "{what}: {err}"
        );
    };
    expect(&i.run(Some(&list)), "run");
    expect(
        &airlock_revoked(
            &i.home(),
            Some(&list),
            &[
                "plugin",
                "install",
                utf8(&i.path("hello.airlock")),
                "--profile",
                "read-only",
                "--yes",
            ],
        ),
        "install",
    );
    let fresh = i.path("fresh-home");
    expect(
        &airlock_revoked(
            &fresh,
            Some(&list),
            &["trust", "add", "acme", utf8(&i.path("acme.pub"))],
        ),
        "trust add",
    );
    // The doctor names it too.
    let out = airlock_revoked(&i.home(), Some(&list), &["doctor", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let trust = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "trust-store")
        .unwrap();
    assert_eq!(trust["level"], "fail", "{trust}");
    // Without the list, it runs again: nothing else was changed.
    ok(&i.run(None));
}

#[test]
fn a_revoked_plugin_package_refuses_to_run_or_install() {
    let i = Installed::new();
    let sha = sha256_hex(&std::fs::read(i.path("hello.airlock")).unwrap());
    let Some((_dir, list)) = admin_policy(&format!(
        "format = \"airlock-revocations-v1\"\n[[plugin]]\nsha256 = \"{sha}\"\nreason = \"CVE-2026-0001\"\n"
    )) else {
        return;
    };
    for out in [
        i.run(Some(&list)),
        airlock_revoked(
            &i.path("other-home"),
            Some(&list),
            &["plugin", "install", utf8(&i.path("hello.airlock")), "--yes"],
        ),
    ] {
        assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("the package sha256 {sha}")) && err.contains("CVE-2026-0001"),
            "{err}"
        );
    }
}

#[test]
fn a_revocation_list_others_can_change_refuses_every_run() {
    let i = Installed::new();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("revoked.toml");
    std::fs::write(&list, "format = \"airlock-revocations-v1\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&list, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = i.run(Some(&list));
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("revocation list {}", list.display()))
            && err.contains("writable by group or others"),
        "{err}"
    );
}
