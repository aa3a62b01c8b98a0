//! Where a run's profile comes from, attacked through the `airlock` binary:
//! a file planted under a profile's name in the working directory, a
//! profile changed after the officer reviewed a plugin against it, and a
//! trusted key publishing an "upgrade" of another publisher's plugin.
#![allow(clippy::unwrap_used)]

use crate::support::{airlock_command, describe, ok, refused, sha256_hex, text};
use airlock_tests::{guests, test_model, workspace};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// A permissive profile, as a repository could ship it under a built-in's
/// name: the whole workspace writable, edits without asking, no model.
const PLANTED: &str = "name = \"planted\"\ndescription = \"shipped by the repository\"\n\n[[grant]]\npath = \".\"\naccess = \"read-write\"\n\n[edits]\nmode = \"allow\"\n";

/// `airlock --home HOME ARGS` run from `cwd`, without a terminal.
fn airlock_in(cwd: &Path, home: &Path, args: &[&str]) -> Output {
    airlock_command(home)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run the airlock binary")
}

/// An officer's home with publisher keys, and a scratch directory for keys,
/// manifests and packages.
struct Officer {
    home: tempfile::TempDir,
    files: tempfile::TempDir,
}

impl Officer {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
            files: tempfile::tempdir().unwrap(),
        }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn file(&self, name: &str) -> String {
        self.files.path().join(name).to_str().unwrap().to_string()
    }

    /// `airlock ARGS` from the scratch directory.
    fn run(&self, args: &[&str]) -> Output {
        airlock_in(self.files.path(), self.home(), args)
    }

    /// A key pair for `publisher`, trusted under the same name; its fingerprint.
    fn publisher(&self, publisher: &str) -> String {
        let prefix = self.file(publisher);
        ok(&self.run(&[
            "plugin",
            "keygen",
            "--publisher",
            publisher,
            "--out",
            &prefix,
        ]));
        ok(&self.run(&["trust", "add", publisher, &format!("{prefix}.pub")]));
        let public = std::fs::read_to_string(format!("{prefix}.pub")).unwrap();
        public
            .lines()
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    }

    /// Pack and sign `component` with `manifest` as `publisher`.
    fn pack(&self, publisher: &str, component: &str, manifest: &str, out: &str) -> String {
        let manifest_path = self.file(&format!("{out}.toml"));
        std::fs::write(&manifest_path, manifest).unwrap();
        let package = self.file(out);
        ok(&self.run(&[
            "plugin",
            "pack",
            component,
            "--manifest",
            &manifest_path,
            "--key",
            &self.file(&format!("{publisher}.key")),
            "-o",
            &package,
        ]));
        package
    }

    /// The `hello` guest as `publisher`'s plugin, version `version`.
    fn hello(&self, publisher: &str, version: &str) -> String {
        let manifest = format!(
            "name = \"hello\"\nversion = \"{version}\"\ndescription = \"Greets its input\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"{publisher}\"\n\n[capabilities]\nworkspace-read = [\".\"]\n"
        );
        self.pack(
            publisher,
            guests::HELLO,
            &manifest,
            &format!("hello-{publisher}-{version}.airlock"),
        )
    }
}

/// The profile a run used, from its JSON report.
fn report_profile(out: &Output) -> (String, String) {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", describe(out)));
    (
        report["profile"].as_str().unwrap_or_default().to_string(),
        report["profile_digest"]
            .as_str()
            .or(report["profile-digest"].as_str())
            .unwrap_or_default()
            .to_string(),
    )
}

/// The built-in profile's text, as shipped.
fn builtin_text(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sandbox-profiles")
        .join(format!("{name}.toml"));
    std::fs::read_to_string(path).unwrap()
}

/// A repository that ships files named `read-only`, `assistant` and `coder`
/// (a permissive profile each) is the working directory: every bare name
/// still means the built-in profile, for `profile show`, for a run of a
/// bare component under the default profile, and for `airlock run explain`
/// (installed, reviewed against the built-in `assistant`).
#[test]
fn file_named_read_only_in_cwd_is_ignored() {
    let officer = Officer::new();
    let repo = workspace(&[
        ("read-only", PLANTED),
        ("assistant", PLANTED),
        ("coder", PLANTED),
        ("README.md", "# a repository\n"),
    ]);
    let home = officer.home();

    for name in ["read-only", "assistant", "coder"] {
        let shown = ok(&airlock_in(repo.path(), home, &["profile", "show", name]));
        assert!(
            shown.contains(&format!("source   built-in profile `{name}`")),
            "{name}: {shown}"
        );
        assert!(!shown.contains("planted"), "{name}: {shown}");
        let digest = sha256_hex(builtin_text(name).as_bytes());
        assert!(shown.contains(&format!("sha256   {digest}")), "{shown}");
    }

    // A bare component under the default profile (read-only).
    let run = airlock_in(
        repo.path(),
        home,
        &[
            "run",
            guests::HELLO,
            "--allow-unsigned",
            "-w",
            ".",
            "--json",
            "--input",
            "x",
        ],
    );
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    let (profile, digest) = report_profile(&run);
    assert_eq!(profile, "read-only");
    assert_eq!(digest, sha256_hex(builtin_text("read-only").as_bytes()));

    // `airlock run explain`, installed against the built-in `assistant`.
    officer.publisher("airlock-demo");
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/explain/manifest.toml"),
    )
    .unwrap();
    let package = officer.pack(
        "airlock-demo",
        guests::EXPLAIN,
        &manifest,
        "explain.airlock",
    );
    ok(&officer.run(&[
        "plugin",
        "install",
        &package,
        "--profile",
        "assistant",
        "--yes",
    ]));
    let model = test_model();
    ok(&officer.run(&["model", "add", model.to_str().unwrap(), "--name", "smollm2"]));
    // `file=` names a file that is not there: explain stops before asking
    // the model, and its report still says which profile it ran under.
    let run = airlock_in(
        repo.path(),
        home,
        &[
            "run",
            "explain",
            "-w",
            ".",
            "--json",
            "--arg",
            "file=no-such-file.rs",
        ],
    );
    let (profile, digest) = report_profile(&run);
    assert_eq!(profile, "assistant", "{}", describe(&run));
    assert_eq!(digest, sha256_hex(builtin_text("assistant").as_bytes()));
}

/// A bare name that is neither built-in nor admin-installed is an error
/// that lists the profiles and says how to use a file; the same value as a
/// path reads the file.
#[test]
fn unknown_bare_name_never_reads_the_file_of_that_name() {
    let home = tempfile::tempdir().unwrap();
    let repo = workspace(&[("team", PLANTED)]);
    let out = airlock_in(repo.path(), home.path(), &["profile", "show", "team"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert_eq!(
        text(&out.stderr).trim_end(),
        "error: no profile named `team`: the built-in profiles are read-only, workspace-write, locked-down, assistant, coder; none is admin-installed in /etc/airlock/profiles; a bare name is never read from the current directory: to use a file, give a path such as ./team.toml"
    );
    let shown = ok(&airlock_in(
        repo.path(),
        home.path(),
        &["profile", "show", "./team"],
    ));
    assert!(shown.contains("profile  planted"), "{shown}");
}

/// A directory as an administrator would make it: owned by root, mode 0755.
/// `None` when the tests do not run as root.
fn admin_dir() -> Option<tempfile::TempDir> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    if std::fs::metadata(dir.path()).unwrap().uid() != 0 {
        eprintln!("skipped: admin profiles must be root-owned, and these tests do not run as root");
        return None;
    }
    Some(dir)
}

/// A bare name selects a root-owned profile the administrator installed;
/// one that others could change is refused (exit 3), never skipped.
#[test]
fn a_bare_name_selects_an_admin_installed_profile_only_if_root_owned() {
    let Some(dir) = admin_dir() else { return };
    let home = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let file = dir.path().join("team.toml");
    std::fs::write(&file, "name = \"team\"\n[[grant]]\npath = \"src\"\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let show = |args: &[&str]| {
        airlock_command(home.path())
            .args(args)
            .current_dir(cwd.path())
            .env("AIRLOCK_PROFILE_DIR", dir.path())
            .output()
            .unwrap()
    };
    let shown = ok(&show(&["profile", "show", "team"]));
    assert!(
        shown.contains(&format!("source   admin profile {}", file.display())),
        "{shown}"
    );
    let listed = ok(&show(&["profile", "list"]));
    assert!(listed.lines().any(|l| l.starts_with("team ")), "{listed}");

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
    let message = refused(&show(&["profile", "show", "team"]));
    assert_eq!(
        message,
        format!(
            "error: refusing the admin profile {0}: it is writable by group or others (mode 0664), so someone other than root could change it; fix: `sudo chown root:root {0} && sudo chmod 644 {0}`",
            file.display()
        )
    );
}

/// The officer reviews `hello` against a profile file; the file is then
/// edited to grant more. A run by name is refused (exit 3), naming the
/// plugin, the profile, both hashes and the command that reviews it again;
/// after that review (by a relative path, which means the same file from
/// any other directory) it runs again.
#[test]
fn profile_changed_since_install_is_refused() {
    let officer = Officer::new();
    officer.publisher("acme");
    let package = officer.hello("acme", "0.1.0");
    let reviewed = "name = \"team\"\n[[grant]]\npath = \"src\"\n";
    let profile = PathBuf::from(officer.file("team.toml"));
    std::fs::write(&profile, reviewed).unwrap();
    ok(&officer.run(&[
        "plugin",
        "install",
        &package,
        "--profile",
        profile.to_str().unwrap(),
        "--yes",
    ]));
    let ws = workspace(&[("src/a.txt", "x\n"), ("secret.txt", "s\n")]);
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |cwd: &Path| {
        airlock_in(
            cwd,
            officer.home(),
            &[
                "run",
                "hello",
                "-w",
                ws.path().to_str().unwrap(),
                "--input",
                "officer",
            ],
        )
    };
    assert_eq!(ok(&run(elsewhere.path())).trim(), "hello, officer");

    let widened = format!("{reviewed}[[grant]]\npath = \".\"\naccess = \"read-write\"\n");
    std::fs::write(&profile, &widened).unwrap();
    let store_package = officer.home().join("plugins/hello/0.1.0/package.airlock");
    let message = refused(&run(elsewhere.path()));
    assert_eq!(
        message,
        format!(
            "error: refused to run plugin hello 0.1.0: its profile ({0}) changed since the install review: the text reviewed had sha256 {1}, it now has sha256 {2}; review it again: `airlock plugin install {3} --profile {0}`, or choose a profile for this run with --profile",
            profile.canonicalize().unwrap().display(),
            sha256_hex(reviewed.as_bytes()),
            sha256_hex(widened.as_bytes()),
            store_package.display()
        )
    );

    // The fix the message names: review it again (here from the profile's
    // directory, by a relative path), then it runs from anywhere.
    let review = ok(&officer.run(&[
        "plugin",
        "install",
        store_package.to_str().unwrap(),
        "--profile",
        "./team.toml",
        "--yes",
    ]));
    assert!(review.contains("Reviewed hello 0.1.0 against"), "{review}");
    assert_eq!(ok(&run(elsewhere.path())).trim(), "hello, officer");

    // A record from before the pin (no profile-source, no profile-sha256)
    // is refused too: what it reviewed is not known.
    let record_path = officer.home().join("plugins/hello/0.1.0/install.json");
    let mut record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&record_path).unwrap()).unwrap();
    let fields = record.as_object_mut().unwrap();
    assert!(fields.remove("profile-source").is_some(), "{fields:?}");
    assert!(fields.remove("profile-sha256").is_some(), "{fields:?}");
    std::fs::write(&record_path, serde_json::to_string(&record).unwrap()).unwrap();
    let message = refused(&run(elsewhere.path()));
    assert!(
        message.starts_with(
            "error: refused to run plugin hello 0.1.0: its install record names the profile"
        ),
        "{message}"
    );
    assert!(
        message.contains("review it again: `airlock plugin install"),
        "{message}"
    );
}

/// Two publishers' keys are trusted. `evil` packs a higher version of
/// `acme`'s plugin `hello`: the install is refused (exit 3), naming both
/// keys, and `acme`'s version stays. With --transfer-publisher the officer
/// moves it on purpose, and the audit log records the transfer.
#[test]
fn other_publisher_cannot_upgrade_plugin() {
    let officer = Officer::new();
    let acme = officer.publisher("acme");
    let evil = officer.publisher("evil");
    ok(&officer.run(&[
        "plugin",
        "install",
        &officer.hello("acme", "0.1.0"),
        "--yes",
    ]));
    let takeover = officer.hello("evil", "9.0.0");
    let message = refused(&officer.run(&["plugin", "install", &takeover, "--yes"]));
    assert_eq!(
        message,
        format!(
            "error: refused: hello is installed from publisher key {acme} (trusted as `acme` at install), but this package is signed by another key, {evil} (trusted as `evil`); only the installed plugin's publisher may publish its upgrades. If the plugin has really moved to the new publisher, confirm it with both, then install with --transfer-publisher (the audit log records the transfer), or remove it first with `airlock plugin remove hello`"
        )
    );
    let list = ok(&officer.run(&["plugin", "list"]));
    assert!(list.starts_with("hello                0.1.0"), "{list}");
    assert!(list.contains(&acme), "{list}");

    // The same publisher's upgrade goes in.
    ok(&officer.run(&[
        "plugin",
        "install",
        &officer.hello("acme", "0.2.0"),
        "--yes",
    ]));

    let moved = ok(&officer.run(&[
        "plugin",
        "install",
        &takeover,
        "--yes",
        "--transfer-publisher",
    ]));
    assert!(
        moved.contains(&format!(
            "Transfer   the installed hello is signed by another key, {acme} (trusted as `acme`); installing moves it to the key above"
        )),
        "{moved}"
    );
    let list = ok(&officer.run(&["plugin", "list"]));
    assert!(list.starts_with("hello                9.0.0"), "{list}");
    let log = ok(&officer.run(&["audit", "show", "--json", "--limit", "0"]));
    let transfer = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|r| r.to_string().contains("plugin publisher transfer"))
        .unwrap_or_else(|| panic!("no transfer record in the audit log:\n{log}"));
    let details = transfer.to_string();
    assert!(
        details.contains(&acme) && details.contains(&evil),
        "{details}"
    );
}
