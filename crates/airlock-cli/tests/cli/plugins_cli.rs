//! Signed plugins through the `airlock` binary, as a publisher and an officer
//! use them: keys, packages, the trust store, install with its capability
//! review, runs by name with their re-checks, and every refusal with its
//! exact message.
#![allow(clippy::unwrap_used)]

use crate::support::{
    admin_policy, airlock, airlock_command, airlock_with_policy, ok, refused, sha256_hex, text,
};
use airlock_tests::{guests, workspace};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const HELLO_MANIFEST: &str = "name = \"hello\"\nversion = \"VERSION\"\ndescription = \"Greets its input\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"acme\"\n\n[capabilities]\nworkspace-read = [\"src\"]\nmodels = [\"smollm2\"]\n";

/// A publisher (key pair in `files`) and an officer's home.
struct Fixture {
    home: tempfile::TempDir,
    files: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let fixture = Self {
            home: tempfile::tempdir().unwrap(),
            files: tempfile::tempdir().unwrap(),
        };
        let prefix = fixture.file("acme");
        ok(&fixture.run(&["plugin", "keygen", "--publisher", "acme", "--out", &prefix]));
        fixture
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn file(&self, name: &str) -> String {
        self.files.path().join(name).to_str().unwrap().to_string()
    }

    fn run(&self, args: &[&str]) -> Output {
        airlock(self.home(), args)
    }

    fn fingerprint(&self) -> String {
        let public = std::fs::read_to_string(self.file("acme.pub")).unwrap();
        let line = public.lines().next().unwrap();
        line.rsplit(' ').next().unwrap().to_string()
    }

    fn trust(&self) {
        ok(&self.run(&["trust", "add", "acme", &self.file("acme.pub")]));
    }

    /// Pack and sign `component` with `manifest`, as `out`.
    fn pack(&self, component: &str, manifest: &str, out: &str) -> String {
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
            &self.file("acme.key"),
            "-o",
            &package,
        ]));
        package
    }

    fn hello(&self, version: &str) -> String {
        self.pack(
            guests::HELLO,
            &HELLO_MANIFEST.replace("VERSION", version),
            &format!("hello-{version}.airlock"),
        )
    }

    fn install(&self, package: &str) -> Output {
        self.run(&["plugin", "install", package, "--yes"])
    }

    fn installed(&self, file: &str) -> PathBuf {
        self.home().join("plugins/hello/0.1.0").join(file)
    }
}

fn flip_bit(path: &str, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Where each entry's data starts: [manifest, signature, component].
fn entry_offsets(package: &[u8]) -> [usize; 3] {
    let mut at = 16;
    let mut out = [0; 3];
    for slot in &mut out {
        let name_len = u16::from_be_bytes([package[at], package[at + 1]]) as usize;
        at += 2 + name_len;
        let size = u64::from_be_bytes(package[at..at + 8].try_into().unwrap()) as usize;
        at += 8;
        *slot = at;
        at += size;
    }
    out
}

#[test]
fn a_signed_package_installs_with_its_review_and_runs_by_name() {
    let f = Fixture::new();
    f.trust();
    let package = f.hello("0.1.0");
    let out = ok(&f.install(&package));
    let fp = f.fingerprint();
    let digest = sha256_hex(&std::fs::read(&package).unwrap());
    assert!(
        out.contains(&format!("Package    {package} (sha256 {digest})")),
        "{out}"
    );
    assert!(
        out.contains("Plugin     hello 0.1.0: Greets its input"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Publisher  acme, signed with key {fp} (trusted as `acme`)"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "Component  sha256 {}",
            sha256_hex(&std::fs::read(guests::HELLO).unwrap())
        )),
        "{out}"
    );
    assert!(out.contains("Requested capabilities, and what profile `read-only` grants (the skill gets the overlap):"), "{out}");
    assert!(
        out.contains("  workspace-read   src                  granted: src"),
        "{out}"
    );
    assert!(
        out.contains("  model            smollm2              NOT granted"),
        "{out}"
    );
    assert!(out.contains("Requested but not granted by `read-only` (the skill runs without them):\n  model smollm2"), "{out}");

    let ws = workspace(&[("src/a.txt", "x\n")]);
    let ws = ws.path().to_str().unwrap();
    let run = f.run(&["run", "hello", "-w", ws, "--input", "officer"]);
    assert_eq!(ok(&run).trim(), "hello, officer");
    let summary = text(&run.stderr);
    assert!(
        summary
            .lines()
            .any(|l| l.ends_with("· 0 finding(s) · signed by acme")),
        "{summary}"
    );
    assert!(summary.contains("audit: run "), "{summary}");

    let json = f.run(&["run", "hello", "-w", ws, "--json"]);
    let report: serde_json::Value = serde_json::from_str(&ok(&json)).unwrap();
    assert_eq!(report["signed"], true);
    assert_eq!(report["signer"]["fingerprint"], fp.as_str());
    assert_eq!(report["signer"]["trusted_as"], "acme");

    let list = ok(&f.run(&["plugin", "list"]));
    assert!(list.starts_with("hello "), "{list}");
    assert!(ok(&f.run(&["plugin", "verify"])).starts_with("ok       hello 0.1.0"));
    ok(&f.run(&["plugin", "remove", "hello"]));
    let gone = f.run(&["run", "hello", "-w", ws]);
    assert_eq!(gone.status.code(), Some(2));
    assert_eq!(
        text(&gone.stderr).trim_end(),
        "error: no plugin named `hello` is installed and there is no file hello (see `airlock plugin list`)"
    );
}

#[test]
fn one_flipped_bit_in_the_component_is_refused() {
    let f = Fixture::new();
    f.trust();
    let package = f.hello("0.1.0");
    let bytes = std::fs::read(&package).unwrap();
    let [_, _, component] = entry_offsets(&bytes);
    flip_bit(&package, bytes.len() - 100);
    let tampered = std::fs::read(&package).unwrap();
    let expected = sha256_hex(&bytes[component..]);
    let found = sha256_hex(&tampered[component..]);
    assert_eq!(
        refused(&f.install(&package)),
        format!(
            "error: refused: the component in {package} has sha256 {found}, but its signed manifest says {expected}: the component was modified after it was signed"
        )
    );
    assert!(!f.home().join("plugins/hello").join("0.1.0").exists());
}

#[test]
fn one_flipped_bit_in_the_manifest_is_refused() {
    let f = Fixture::new();
    f.trust();
    let package = f.hello("0.1.0");
    let bytes = std::fs::read(&package).unwrap();
    // `Greets` becomes `Gseets`: still a valid manifest, no longer the signed one.
    let at = bytes.windows(6).position(|w| w == b"Greets").unwrap() + 1;
    flip_bit(&package, at);
    assert_eq!(
        refused(&f.install(&package)),
        format!(
            "error: refused: the signature of {package} does not verify with the key of `acme` ({}): the package was modified after it was signed",
            f.fingerprint()
        )
    );
}

#[test]
fn one_flipped_bit_in_the_signature_is_refused() {
    let f = Fixture::new();
    f.trust();
    let package = f.hello("0.1.0");
    let [_, signature, _] = entry_offsets(&std::fs::read(&package).unwrap());
    flip_bit(&package, signature + 17);
    assert_eq!(
        refused(&f.install(&package)),
        format!(
            "error: refused: the signature of {package} does not verify with the key of `acme` ({}): the package was modified after it was signed",
            f.fingerprint()
        )
    );
}

#[test]
fn a_key_not_in_the_trust_store_is_refused() {
    let f = Fixture::new();
    let package = f.hello("0.1.0");
    assert_eq!(
        refused(&f.install(&package)),
        format!(
            "error: refused: {package} is signed by key {} (publisher `acme`), which is not in the trust store; if you trust this publisher, add their public key with `airlock trust add NAME KEY.pub` and check that it shows this fingerprint",
            f.fingerprint()
        )
    );
}

#[test]
fn a_key_removed_after_install_refuses_the_run() {
    let f = Fixture::new();
    f.trust();
    ok(&f.install(&f.hello("0.1.0")));
    ok(&f.run(&["trust", "remove", "acme"]));
    let ws = workspace(&[]);
    let out = f.run(&["run", "hello", "-w", ws.path().to_str().unwrap()]);
    assert_eq!(
        refused(&out),
        format!(
            "error: refused: {} is signed by key {} (publisher `acme`), which is not in the trust store; if you trust this publisher, add their public key with `airlock trust add NAME KEY.pub` and check that it shows this fingerprint",
            f.installed("package.airlock").display(),
            f.fingerprint()
        )
    );
}

#[test]
fn a_downgrade_is_refused_naming_both_versions() {
    let f = Fixture::new();
    f.trust();
    ok(&f.install(&f.hello("0.2.0")));
    let older = f.hello("0.1.0");
    assert_eq!(
        refused(&f.install(&older)),
        "error: refused: hello 0.1.0 is older than the installed hello 0.2.0; a downgrade can bring back flaws fixed since. To go back on purpose, remove it first with `airlock plugin remove hello`"
    );
    // An upgrade replaces the older version.
    ok(&f.install(&f.hello("0.3.0")));
    let list = ok(&f.run(&["plugin", "list"]));
    assert!(
        list.contains(" 0.3.0 ") && !list.contains(" 0.2.0 "),
        "{list}"
    );
}

#[test]
fn a_manifest_requesting_less_than_the_component_imports_is_refused() {
    let f = Fixture::new();
    let manifest = f.file("infer.toml");
    std::fs::write(
        &manifest,
        HELLO_MANIFEST
            .replace("VERSION", "0.1.0")
            .replace("models = [\"smollm2\"]\n", ""),
    )
    .unwrap();
    let out = f.run(&["plugin", "pack", guests::INFER, "--manifest", &manifest]);
    assert_eq!(
        refused(&out),
        format!(
            "error: refused to pack {}: {manifest} requests less than the component imports:\n  the component imports `airlock:skill/inference@0.1.0` but the manifest requests no models: add the role it needs to `capabilities.model-roles` (such as [\"chat\"] or [\"code\"]), or the models it asks for by name to `capabilities.models`",
            guests::INFER
        )
    );
    // A skill that writes nothing and reads the workspace: reading is named.
    std::fs::write(
        &manifest,
        HELLO_MANIFEST
            .replace("VERSION", "0.1.0")
            .replace("workspace-read = [\"src\"]\n", ""),
    )
    .unwrap();
    let out = f.run(&[
        "plugin",
        "pack",
        guests::SECRET_SCAN,
        "--manifest",
        &manifest,
    ]);
    let message = refused(&out);
    assert!(
        message.contains("  the component imports `airlock:skill/workspace@0.1.0#")
            && message.ends_with("` but the manifest requests no workspace path: add the paths it reads to `capabilities.workspace-read`"),
        "{message}"
    );
}

#[test]
fn an_installed_file_modified_after_install_refuses_the_run() {
    let f = Fixture::new();
    f.trust();
    ok(&f.install(&f.hello("0.1.0")));
    let component = f.installed("component.wasm");
    let installed = sha256_hex(&std::fs::read(&component).unwrap());
    std::fs::set_permissions(&component, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut bytes = std::fs::read(&component).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x01;
    std::fs::write(&component, &bytes).unwrap();
    let ws = workspace(&[]);
    let out = f.run(&["run", "hello", "-w", ws.path().to_str().unwrap()]);
    assert_eq!(
        refused(&out),
        format!(
            "error: refused: installed plugin hello 0.1.0 was modified after install: {} has sha256 {}, installed as {installed}; reinstall it from its package with `airlock plugin install`",
            component.display(),
            sha256_hex(&bytes)
        )
    );
    let verify = f.run(&["plugin", "verify", "hello"]);
    assert_eq!(verify.status.code(), Some(3));
    assert!(text(&verify.stdout).starts_with(
        "REFUSED  hello 0.1.0: refused: installed plugin hello 0.1.0 was modified after install"
    ));
}

#[test]
fn a_tampered_cache_artifact_is_detected_and_recompiled_never_loaded() {
    let f = Fixture::new();
    f.trust();
    ok(&f.install(&f.hello("0.1.0")));
    let digest = sha256_hex(&std::fs::read(guests::HELLO).unwrap());
    let entry = std::fs::read_dir(f.home().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(&digest)
        })
        .expect("install compiled the component into the cache");
    let mut bytes = std::fs::read(&entry).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    std::fs::write(&entry, &bytes).unwrap();
    let ws = workspace(&[]);
    let ws = ws.path().to_str().unwrap();
    let out = f.run(&["run", "hello", "-w", ws]);
    assert_eq!(ok(&out).trim(), "hello, world");
    assert!(
        text(&out.stderr).starts_with(&format!(
            "warning: cache entry {} failed authentication (it was modified or forged); it was removed and the component will be recompiled\n",
            entry.display()
        )),
        "{}",
        text(&out.stderr)
    );
    assert_ne!(
        std::fs::read(&entry).unwrap(),
        bytes,
        "a fresh entry replaced it"
    );
    let again = f.run(&["run", "hello", "-w", ws]);
    ok(&again);
    assert!(
        !text(&again.stderr).contains("warning"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn an_unsigned_component_runs_only_with_the_flag_and_says_so() {
    let f = Fixture::new();
    let ws = workspace(&[]);
    let ws = ws.path().to_str().unwrap();
    let out = f.run(&["run", guests::HELLO, "-w", ws]);
    assert_eq!(
        refused(&out),
        format!(
            "error: refused to run {}: it is a bare component that no signature vouches for; install its signed package with `airlock plugin install` and run it by name, or pass --allow-unsigned to run it unsigned while developing it",
            guests::HELLO
        )
    );
    let out = f.run(&["run", guests::HELLO, "-w", ws, "--allow-unsigned"]);
    ok(&out);
    assert!(
        text(&out.stderr)
            .lines()
            .any(|l| l.ends_with("· 0 finding(s) · unsigned")),
        "{}",
        text(&out.stderr)
    );
    let json = f.run(&["run", guests::HELLO, "-w", ws, "--allow-unsigned", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&ok(&json)).unwrap();
    assert_eq!(report["signed"], false);
    assert!(report["signer"].is_null());
}

#[test]
fn an_admin_policy_can_forbid_unsigned_components_even_with_the_flag() {
    let Some((_dir, policy)) = admin_policy("allow-unsigned = false\n") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[]);
    let out = airlock_with_policy(
        home.path(),
        Some(&policy),
        &[
            "run",
            guests::HELLO,
            "--allow-unsigned",
            "-w",
            ws.path().to_str().unwrap(),
        ],
    );
    assert_eq!(
        refused(&out),
        format!(
            "error: refused to run {} unsigned: the admin policy ($AIRLOCK_POLICY_FILE ({})) sets allow-unsigned = false; only installed, signed plugins may run",
            guests::HELLO,
            policy.display()
        )
    );
}

/// The author workflow of sdk/README.md, from template to installed run.
/// Builds the template for wasm32-wasip2 against the local SDK, offline,
/// with the workspace's lock file (so the crates are those already fetched).
#[test]
fn the_author_workflow_from_template_to_installed_run() {
    let f = Fixture::new();
    let project = f.files.path().join("line-count");
    ok(&f.run(&[
        "plugin",
        "new",
        "line-count",
        "--dir",
        project.to_str().unwrap(),
        "--publisher",
        "acme",
    ]));
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    std::fs::copy(root.join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    // Reuse the guest builds' target directory: the SDK is compiled there already.
    let target = Path::new(guests::HELLO).ancestors().nth(3).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&project)
        .args([
            "build",
            "--offline",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target);
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        build.env_remove(var);
    }
    let built = build.output().unwrap();
    assert!(built.status.success(), "{}", text(&built.stderr));
    let wasm = target.join("wasm32-wasip2/release/line_count.wasm");

    f.trust();
    let package = f.file("line-count-0.1.0.airlock");
    ok(&f.run(&[
        "plugin",
        "pack",
        wasm.to_str().unwrap(),
        "--manifest",
        project.join("manifest.toml").to_str().unwrap(),
        "--key",
        &f.file("acme.key"),
        "-o",
        &package,
    ]));
    let review = ok(&f.install(&package));
    assert!(
        review.contains("  workspace-read   .                    granted: ."),
        "{review}"
    );
    let ws = workspace(&[("a.txt", "1\n2\n3\n"), ("b.txt", "4\n")]);
    let out = f.run(&["run", "line-count", "-w", ws.path().to_str().unwrap()]);
    let stdout = ok(&out);
    assert!(stdout.trim_end().ends_with("4  total"), "{stdout}");
    assert!(
        text(&out.stderr)
            .lines()
            .any(|l| l.ends_with("· signed by acme"))
    );
}

#[test]
fn an_admin_policy_can_narrow_the_trusted_publishers() {
    let f = Fixture::new();
    f.trust();
    let package = f.hello("0.1.0");
    let other = format!("SHA256:{}", "0".repeat(64));
    let Some((_dir, policy)) = admin_policy(&format!("trusted-publishers = [\"{other}\"]\n"))
    else {
        return;
    };
    let out = airlock_with_policy(
        f.home(),
        Some(&policy),
        &["plugin", "install", &package, "--yes"],
    );
    assert_eq!(
        refused(&out),
        format!(
            "error: refused: {package} is signed by key {} (`acme`), which the admin policy ($AIRLOCK_POLICY_FILE ({})) does not list in trusted-publishers",
            f.fingerprint(),
            policy.display()
        )
    );
}

#[test]
fn a_passphrase_protected_key_signs_only_with_its_passphrase() {
    let home = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let prefix = files.path().join("acme");
    let with = |passphrase: &str, args: &[&str]| {
        airlock_command(home.path())
            .args(args)
            .env("AIRLOCK_KEY_PASSPHRASE", passphrase)
            .output()
            .unwrap()
    };
    let out = with(
        "correct horse",
        &[
            "plugin",
            "keygen",
            "--publisher",
            "acme",
            "--passphrase",
            "--out",
            prefix.to_str().unwrap(),
        ],
    );
    assert!(ok(&out).contains(", encrypted with your passphrase;"));
    let key = files.path().join("acme.key");
    let manifest = files.path().join("manifest.toml");
    std::fs::write(&manifest, HELLO_MANIFEST.replace("VERSION", "0.1.0")).unwrap();
    let package = files.path().join("hello.airlock");
    let pack = |passphrase: &str| {
        with(
            passphrase,
            &[
                "plugin",
                "pack",
                guests::HELLO,
                "--manifest",
                manifest.to_str().unwrap(),
                "--key",
                key.to_str().unwrap(),
                "-o",
                package.to_str().unwrap(),
            ],
        )
    };
    let wrong = pack("battery staple");
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(
        text(&wrong.stderr).trim_end(),
        format!(
            "error: cannot open secret key {}: wrong passphrase, or the file was modified",
            key.display()
        )
    );
    assert!(ok(&pack("correct horse")).contains("Signed by publisher `acme` with key SHA256:"));
}
