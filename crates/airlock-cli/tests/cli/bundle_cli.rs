//! `airlock bundle` as the release team and the officer use it: a bundle is
//! created and signed, verified and installed all or nothing, and every
//! tampering on the way across the gap is refused with exit 3, named, with
//! nothing installed: a flipped bit, a missing file, an added file, an
//! edited manifest, an unknown release key, an older bundle.
#![allow(clippy::unwrap_used)]

use crate::support::{airlock, describe, expect_code, ok, text, utf8};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A release team's workspace: a key pair and a tree to bundle.
struct Release {
    dir: tempfile::TempDir,
}

impl Release {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let r = Self { dir };
        ok(&airlock(
            &r.home(),
            &[
                "plugin",
                "keygen",
                "--publisher",
                "release-team",
                "--out",
                utf8(&r.path("release")),
            ],
        ));
        r.write("bin/airlock", "#!/bin/sh\necho airlock 1\n", true);
        r.write("profiles/team.toml", "# the team's profile\n", false);
        r.write("models/small.gguf", &"weights ".repeat(10_000), false);
        r.write("licenses/NOTICE", "Apache-2.0\n", false);
        r
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn home(&self) -> PathBuf {
        self.path("home")
    }

    fn write(&self, rel: &str, content: &str, executable: bool) {
        let path = self.path("tree").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// `airlock bundle create` of the tree as it is now.
    fn create(&self, serial: u64) -> PathBuf {
        let out = self.path(&format!("airlock-{serial}.bundle"));
        let stdout = ok(&airlock(
            &self.home(),
            &[
                "bundle",
                "create",
                "--from",
                utf8(&self.path("tree")),
                "--key",
                utf8(&self.path("release.key")),
                "--serial",
                &serial.to_string(),
                "-o",
                utf8(&out),
            ],
        ));
        assert!(stdout.contains(&format!("serial {serial}")), "{stdout}");
        out
    }
}

/// The officer's side: a prefix and a profile directory, empty at first.
struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn prefix(&self) -> PathBuf {
        self.dir.path().join("usr-local")
    }

    fn profiles(&self) -> PathBuf {
        self.dir.path().join("etc-airlock-profiles")
    }

    fn run(&self, verb: &str, bundle: &Path, key: &Path) -> std::process::Output {
        let mut args = vec!["bundle", verb, utf8(bundle), "--key", utf8(key)];
        let (prefix, profiles) = (self.prefix(), self.profiles());
        if verb == "install" {
            args.extend(["--prefix", utf8(&prefix), "--profile-dir", utf8(&profiles)]);
        }
        airlock(&self.dir.path().join("home"), &args)
    }

    /// Every path under the machine's prefix and profile directory.
    fn files(&self) -> Vec<String> {
        let mut out = Vec::new();
        for root in [self.prefix(), self.profiles()] {
            let mut pending = vec![root];
            while let Some(d) = pending.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        pending.push(p.clone());
                    }
                    out.push(
                        p.strip_prefix(self.dir.path())
                            .unwrap()
                            .display()
                            .to_string(),
                    );
                }
            }
        }
        out.sort();
        out
    }
}

/// Rewrite the tar `bundle` into `out` through `edit`, which sees each
/// entry's path and data and returns what to write (`None` drops it).
fn rewrite(
    bundle: &Path,
    out: &Path,
    mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: Option<(&str, &[u8])>,
) {
    let mut archive = tar::Archive::new(std::fs::File::open(bundle).unwrap());
    let mut builder = tar::Builder::new(std::fs::File::create(out).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if let Some(data) = edit(&path, data) {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            builder.append_data(&mut h, &path, data.as_slice()).unwrap();
        }
    }
    if let Some((path, data)) = extra {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        builder.append_data(&mut h, path, data).unwrap();
    }
    builder.finish().unwrap();
}

#[test]
fn a_bundle_is_verified_installed_and_a_newer_one_reports_what_changed() {
    let release = Release::new();
    let key = release.path("release.pub");
    let b3 = release.create(3);
    let machine = Machine::new();
    let stdout = ok(&machine.run("verify", &b3, &key));
    assert!(stdout.contains("verified: serial 3"), "{stdout}");
    assert!(stdout.contains("4 file(s)"), "{stdout}");
    assert!(machine.files().is_empty(), "verify installs nothing");

    let stdout = ok(&machine.run("install", &b3, &key));
    assert!(stdout.contains("installed bundle serial 3"), "{stdout}");
    let binary = machine.prefix().join("bin/airlock");
    assert_eq!(
        std::fs::read_to_string(&binary).unwrap(),
        "#!/bin/sh\necho airlock 1\n"
    );
    assert_eq!(
        std::fs::metadata(&binary).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert!(machine.profiles().join("team.toml").is_file());
    assert!(
        machine
            .prefix()
            .join("share/airlock/models/small.gguf")
            .is_file()
    );
    assert!(
        stdout.contains(&format!("added    {}", binary.display())),
        "{stdout}"
    );

    // The next release: the binary changes, the notice goes, a profile comes.
    release.write("bin/airlock", "#!/bin/sh\necho airlock 2\n", true);
    std::fs::remove_file(release.path("tree/licenses/NOTICE")).unwrap();
    release.write("profiles/review.toml", "# another\n", false);
    let b4 = release.create(4);
    let stdout = ok(&machine.run("install", &b4, &key));
    assert!(
        stdout.contains("installed bundle serial 4 (was 3)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("replaced {}", binary.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("removed  ") && stdout.contains("licenses/NOTICE"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "added    {}",
            machine.profiles().join("review.toml").display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("(2 file(s) unchanged)"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&binary).unwrap(),
        "#!/bin/sh\necho airlock 2\n"
    );
    assert!(
        !machine
            .prefix()
            .join("share/airlock/licenses/NOTICE")
            .exists()
    );
    // Nothing left behind: no staging directory, no .airlock-old/new files.
    let left: Vec<String> = machine
        .files()
        .into_iter()
        .filter(|f| f.contains(".incoming-") || f.contains(".airlock-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // The older bundle is refused now, and nothing changes.
    let before = machine.files();
    let out = machine.run("install", &b3, &key);
    let err = text(&expect_code_stderr(&out, 3));
    assert!(
        err.contains("bundle serial 3, older than the installed serial 4"),
        "{err}"
    );
    assert_eq!(machine.files(), before);
    assert_eq!(
        std::fs::read_to_string(&binary).unwrap(),
        "#!/bin/sh\necho airlock 2\n"
    );
}

/// Assert exit `code`; the stderr bytes.
#[track_caller]
fn expect_code_stderr(out: &std::process::Output, code: i32) -> Vec<u8> {
    expect_code(out, code);
    out.stderr.clone()
}

/// `verify` and `install` of `bundle` are both refused with exit 3, the
/// message holds `expected`, and nothing is installed.
#[track_caller]
fn refused_and_nothing_installed(bundle: &Path, key: &Path, expected: &str) {
    let machine = Machine::new();
    for verb in ["verify", "install"] {
        let out = machine.run(verb, bundle, key);
        assert_eq!(out.status.code(), Some(3), "{verb}: {}", describe(&out));
        let err = text(&out.stderr);
        assert!(
            err.contains(expected),
            "{verb}: expected {expected:?} in: {err}"
        );
        assert!(
            err.contains(utf8(bundle)),
            "{verb}: the bundle is named: {err}"
        );
    }
    assert!(
        !machine.prefix().exists() && !machine.profiles().exists(),
        "nothing installed, no directory made, no staging left: {:?}",
        machine.files()
    );
}

#[test]
fn a_flipped_bit_in_a_file_is_refused_and_nothing_installed() {
    let release = Release::new();
    let bundle = release.create(1);
    let bad = release.path("flipped.bundle");
    // One bit of the model's bytes, in place in the archive.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.windows(8).position(|w| w == b"weights ").unwrap() + 5000;
    bytes[at] ^= 0x01;
    std::fs::write(&bad, bytes).unwrap();
    refused_and_nothing_installed(&bad, &release.path("release.pub"), "`models/small.gguf` in");
}

#[test]
fn a_missing_file_is_refused_and_nothing_installed() {
    let release = Release::new();
    let bundle = release.create(1);
    let bad = release.path("missing.bundle");
    rewrite(
        &bundle,
        &bad,
        |path, data| (path != "profiles/team.toml").then_some(data),
        None,
    );
    refused_and_nothing_installed(
        &bad,
        &release.path("release.pub"),
        "`profiles/team.toml` is listed in",
    );
}

#[test]
fn an_added_file_is_refused_and_nothing_installed() {
    let release = Release::new();
    let bundle = release.create(1);
    let bad = release.path("extra.bundle");
    rewrite(
        &bundle,
        &bad,
        |_, data| Some(data),
        Some(("bin/backdoor", b"#!/bin/sh\n")),
    );
    refused_and_nothing_installed(&bad, &release.path("release.pub"), "holds `bin/backdoor`");
}

#[test]
fn an_edited_manifest_is_refused_and_nothing_installed() {
    let release = Release::new();
    let bundle = release.create(1);
    let bad = release.path("edited.bundle");
    // Raise the serial, as an attacker replaying an old bundle as new would.
    rewrite(
        &bundle,
        &bad,
        |path, data| {
            if path == "MANIFEST.toml" {
                let text = String::from_utf8(data).unwrap();
                Some(text.replacen("serial = 1", "serial = 9", 1).into_bytes())
            } else {
                Some(data)
            }
        },
        None,
    );
    refused_and_nothing_installed(
        &bad,
        &release.path("release.pub"),
        "signature does not match its manifest",
    );
}

#[test]
fn a_bundle_signed_by_an_unknown_key_is_refused_and_nothing_installed() {
    let release = Release::new();
    let bundle = release.create(1);
    // The officer trusts another release key.
    let other = Release::new();
    let out = airlock(
        &other.home(),
        &[
            "plugin",
            "keygen",
            "--publisher",
            "someone",
            "--out",
            utf8(&other.path("someone")),
        ],
    );
    ok(&out);
    refused_and_nothing_installed(
        &bundle,
        &other.path("someone.pub"),
        "is signed by release key SHA256:",
    );
}

#[test]
fn a_file_that_is_not_a_bundle_is_refused_with_what_it_is_not() {
    let release = Release::new();
    let not = release.path("not.bundle");
    std::fs::write(&not, vec![0x55; 4096]).unwrap();
    let machine = Machine::new();
    let out = machine.run("verify", &not, &release.path("release.pub"));
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        text(&out.stderr).contains("is not a valid Airlock bundle"),
        "{}",
        describe(&out)
    );
}

#[test]
fn register_trusts_the_publisher_pins_the_model_and_installs_the_plugin_so_it_runs_by_name() {
    let release = Release::new();
    // The release carries a publisher's key, a plugin it signed, the profile
    // it runs under, and a real model.
    let acme = release.path("acme");
    ok(&airlock(
        &release.home(),
        &[
            "plugin",
            "keygen",
            "--publisher",
            "acme",
            "--out",
            utf8(&acme),
        ],
    ));
    let manifest = release.path("hello.toml");
    std::fs::write(
        &manifest,
        "name = \"hello\"\nversion = \"0.1.0\"\ndescription = \"Greets its input\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"acme\"\n\n[capabilities]\nworkspace-read = [\"src\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(release.path("tree/plugins")).unwrap();
    std::fs::create_dir_all(release.path("tree/keys")).unwrap();
    ok(&airlock(
        &release.home(),
        &[
            "plugin",
            "pack",
            airlock_tests::guests::HELLO,
            "--manifest",
            utf8(&manifest),
            "--key",
            utf8(&release.path("acme.key")),
            "-o",
            utf8(&release.path("tree/plugins/hello-0.1.0.airlock")),
        ],
    ));
    std::fs::copy(release.path("acme.pub"), release.path("tree/keys/acme.pub")).unwrap();
    release.write(
        "plugins/install.toml",
        "[[plugin]]\npackage = \"hello-0.1.0.airlock\"\nprofile = \"read-only\"\n",
        false,
    );
    std::fs::remove_file(release.path("tree/models/small.gguf")).unwrap();
    std::fs::copy(
        airlock_tests::test_model(),
        release.path("tree/models/smollm2.gguf"),
    )
    .unwrap();
    let bundle = release.create(1);

    let machine = Machine::new();
    let user = machine.dir.path().join("engineer-state");
    let (prefix, profiles) = (machine.prefix(), machine.profiles());
    let install_registered = || {
        airlock(
            &user,
            &[
                "bundle",
                "install",
                utf8(&bundle),
                "--key",
                utf8(&release.path("release.pub")),
                "--prefix",
                utf8(&prefix),
                "--profile-dir",
                utf8(&profiles),
                "--register",
            ],
        )
    };
    let stdout = ok(&install_registered());
    assert!(stdout.contains("trusted `acme`"), "{stdout}");
    assert!(stdout.contains("added `smollm2`"), "{stdout}");
    assert!(stdout.contains("Plugin     hello 0.1.0"), "{stdout}");

    assert!(ok(&airlock(&user, &["trust", "list"])).contains("acme"));
    assert!(ok(&airlock(&user, &["model", "list"])).contains("smollm2"));
    let ws = airlock_tests::workspace(&[("src/a.txt", "x")]);
    let out = airlock(
        &user,
        &["run", "hello", "-w", utf8(ws.path()), "--input", "officer"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // Each step is its own admin action in the engineer's audit log.
    let log = ok(&airlock(
        &user,
        &["audit", "show", "--json", "--limit", "0"],
    ));
    for action in ["bundle install", "trust add", "model add", "plugin install"] {
        assert!(
            log.contains(&format!("\"action\":\"{action}\"")),
            "{action}: {log}"
        );
    }

    // Again: everything is already there, nothing is duplicated.
    let stdout = ok(&install_registered());
    assert!(stdout.contains("is already trusted as `acme`"), "{stdout}");
    assert!(
        stdout.contains("already installed from this package"),
        "{stdout}"
    );
}

#[test]
fn plugin_new_beside_an_installed_bundle_uses_its_sdk_and_vendored_crates() {
    // The layout `bundle install` leaves: PREFIX/bin/airlock and the sources
    // with the SDK and the vendored crates under PREFIX/share/airlock/src.
    let machine = Machine::new();
    let prefix = machine.prefix();
    let src = prefix.join("share/airlock/src");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::create_dir_all(src.join("sdk")).unwrap();
    std::fs::create_dir_all(src.join("vendor")).unwrap();
    std::fs::write(
        src.join("sdk/Cargo.toml"),
        "[package]\nname = \"airlock-sdk\"\n",
    )
    .unwrap();
    let binary = prefix.join("bin/airlock");
    if std::fs::hard_link(crate::support::AIRLOCK, &binary).is_err() {
        std::fs::copy(crate::support::AIRLOCK, &binary).unwrap();
    }
    let project = machine.dir.path().join("my-skill");
    let out = airlock_tests::cli::hermetic(utf8(&binary), &machine.dir.path().join("home"))
        .args(["plugin", "new", "my-skill", "--dir", utf8(&project)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let cargo = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    let sdk = src.join("sdk").canonicalize().unwrap();
    assert!(
        cargo.contains(&format!("path = \"{}\"", sdk.display())),
        "{cargo}"
    );
    let config = std::fs::read_to_string(project.join(".cargo/config.toml")).unwrap();
    assert!(
        config.contains("replace-with = \"airlock-vendored\""),
        "{config}"
    );
    assert!(
        config.contains(&format!("directory = \"{}\"", src.join("vendor").display())),
        "{config}"
    );

    // Built from a source tree (this test binary), it points at that tree's
    // SDK and writes no source replacement.
    let other = machine.dir.path().join("from-source");
    ok(&airlock(
        &machine.dir.path().join("home"),
        &["plugin", "new", "from-source", "--dir", utf8(&other)],
    ));
    assert!(!other.join(".cargo/config.toml").exists());
}

#[test]
fn a_bundle_signed_by_a_revoked_release_key_is_refused_with_the_reason() {
    let release = Release::new();
    let bundle = release.create(1);
    let fp = text(&std::fs::read(release.path("release.pub")).unwrap())
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let Some((_dir, list)) = crate::support::admin_policy(&format!(
        "format = \"airlock-revocations-v1\"\n[[release-key]]\nfingerprint = \"{fp}\"\nreason = \"release key retired\"\n"
    )) else {
        return;
    };
    let machine = Machine::new();
    for verb in ["verify", "install"] {
        let mut args = vec!["bundle", verb, utf8(&bundle), "--key"];
        let key = release.path("release.pub");
        args.push(utf8(&key));
        let (prefix, profiles) = (machine.prefix(), machine.profiles());
        if verb == "install" {
            args.extend(["--prefix", utf8(&prefix), "--profile-dir", utf8(&profiles)]);
        }
        let out = crate::support::airlock_command(&machine.dir.path().join("home"))
            .env("AIRLOCK_REVOKED_FILE", &list)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{verb}: {}", describe(&out));
        let err = text(&out.stderr);
        assert!(
            err.contains("release key retired") && err.contains(&fp),
            "{verb}: {err}"
        );
    }
    assert!(!machine.prefix().exists());
}

#[test]
fn a_bundle_installs_its_revocation_list_where_every_run_reads_it() {
    let release = Release::new();
    let sha = "b".repeat(64);
    release.write(
        "revoked/bundle.toml",
        &format!("format = \"airlock-revocations-v1\"\n[[plugin]]\nsha256 = \"{sha}\"\nreason = \"withdrawn in release 2\"\n"),
        false,
    );
    let bundle = release.create(2);
    let machine = Machine::new();
    let revoked = machine.dir.path().join("etc-airlock-revoked.d");
    let (prefix, profiles) = (machine.prefix(), machine.profiles());
    ok(&airlock(
        &machine.dir.path().join("home"),
        &[
            "bundle",
            "install",
            utf8(&bundle),
            "--key",
            utf8(&release.path("release.pub")),
            "--prefix",
            utf8(&prefix),
            "--profile-dir",
            utf8(&profiles),
            "--revocation-dir",
            utf8(&revoked),
        ],
    ));
    let list = revoked.join("bundle.toml");
    assert!(list.is_file());
    // Read as runs read it: root-owned, and in force.
    let out = crate::support::airlock_command(&machine.dir.path().join("home"))
        .env("AIRLOCK_REVOKED_FILE", &list)
        .args(["policy", "show", "--json"])
        .output()
        .unwrap();
    let shown = ok(&out);
    assert!(
        shown.contains(&sha) && shown.contains("withdrawn in release 2"),
        "{shown}"
    );
}
