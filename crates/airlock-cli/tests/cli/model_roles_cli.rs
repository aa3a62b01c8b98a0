//! The officer chooses the model: a plugin's signed manifest asks for a
//! model role, the profile maps the role to a pinned model, and the same
//! package runs on another model once the officer maps the role elsewhere
//! and reviews it again. Driven through the binary as a publisher and an
//! officer would, on the real test model.
#![allow(clippy::unwrap_used)]

use crate::support::{airlock, ok, refused, sha256_hex, text, utf8};
use airlock_tests::{guests, test_model, workspace};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The inference test skill, asking for the role `code` and nothing by name.
const INFER_MANIFEST: &str = "name = \"infer\"\nversion = \"0.1.0\"\ndescription = \"Asks the model as told\"\nwit-version = \"0.1.0\"\n\n[publisher]\nname = \"acme\"\n\n[capabilities]\nmodel-roles = [\"code\"]\nmin-context = 2048\n";

/// A profile granting the models `a` and `b`, mapping `code` to `model`.
fn officer_profile(model: &str) -> String {
    format!(
        "name = \"officer\"\n\n[inference]\nmodels = [\"a\", \"b\"]\nmax-calls = 4\n\n[inference.roles]\ncode = \"{model}\"\n"
    )
}

/// A publisher's key and an officer's home, with the test model pinned
/// twice, as `a` and `b` (the store keeps one file for both names), and a
/// one-thread engine.
struct Officer {
    home: tempfile::TempDir,
    files: tempfile::TempDir,
}

impl Officer {
    fn new() -> Self {
        let o = Self {
            home: tempfile::tempdir().unwrap(),
            files: tempfile::tempdir().unwrap(),
        };
        std::fs::write(o.config(), "[engine]\nthreads = 1\n").unwrap();
        let model = test_model();
        for name in ["a", "b"] {
            ok(&o.run(&["model", "add", utf8(&model), "--name", name]));
        }
        let key = o.file("acme");
        ok(&o.run(&["plugin", "keygen", "--publisher", "acme", "--out", &key]));
        ok(&o.run(&["trust", "add", "acme", &o.file("acme.pub")]));
        o
    }

    fn config(&self) -> PathBuf {
        self.home.path().join("config.toml")
    }

    fn file(&self, name: &str) -> String {
        utf8(&self.files.path().join(name)).to_string()
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let config = self.config();
        let mut all = vec!["--config", utf8(&config)];
        all.extend(args);
        airlock(self.home.path(), &all)
    }

    /// `airlock plugin pack` + sign, once: the package file.
    fn signed_package(&self) -> String {
        let manifest = self.file("manifest.toml");
        std::fs::write(&manifest, INFER_MANIFEST).unwrap();
        let package = self.file("infer-0.1.0.airlock");
        ok(&self.run(&[
            "plugin",
            "pack",
            guests::INFER,
            "--manifest",
            &manifest,
            "--key",
            &self.file("acme.key"),
            "-o",
            &package,
        ]));
        package
    }

    /// `airlock run infer --json` asking the model for a few tokens: the
    /// model the skill was answered by, and the run's id.
    fn ask(&self, ws: &Path) -> (String, String) {
        let out = self.run(&[
            "run",
            "infer",
            "-w",
            utf8(ws),
            "--input",
            "Say hello.",
            "--arg",
            "max-tokens=4",
            "--json",
        ]);
        let report: Value = serde_json::from_str(&ok(&out)).unwrap();
        assert_eq!(report["signed"], true, "{report}");
        let answer: Value = serde_json::from_str(report["output"].as_str().unwrap()).unwrap();
        (
            answer["model"].as_str().unwrap().to_string(),
            report["run_id"].as_str().unwrap().to_string(),
        )
    }

    /// The models the audit log recorded at the start of run `id`.
    fn recorded_models(&self, id: &str) -> Vec<String> {
        let log = ok(&self.run(&["audit", "show", "--json"]));
        let start = log
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|r| r["kind"] == "run-start" && r["run"] == id)
            .expect("the run's start record");
        start["data"]["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_string())
            .collect()
    }
}

#[test]
fn an_installed_plugin_runs_on_the_model_the_officer_picked_without_resigning() {
    let o = Officer::new();
    let package = o.signed_package();
    let signed = sha256_hex(&std::fs::read(&package).unwrap());
    let profile = o.file("officer.toml");
    std::fs::write(&profile, officer_profile("a")).unwrap();
    let ws = workspace(&[]);

    // The review says which model a run gets for the role.
    let review = ok(&o.run(&[
        "plugin",
        "install",
        &package,
        "--profile",
        &profile,
        "--yes",
    ]));
    assert!(
        review.contains(
            "  model-role       code                 granted: a (inference.roles.code in the profile)"
        ),
        "{review}"
    );
    assert!(
        review.contains(
            "  min-context      2048 tokens          granted: checked when each run starts"
        ),
        "{review}"
    );
    assert!(
        review.contains("Models a run gets: a (default, role `code`)"),
        "{review}"
    );
    let (model, run) = o.ask(ws.path());
    assert_eq!(model, "a");
    assert_eq!(o.recorded_models(&run), ["a"]);

    // The officer maps `code` to b. The reviewed text changed, so runs are
    // refused until the officer reviews the plugin again...
    std::fs::write(&profile, officer_profile("b")).unwrap();
    let stale = o.run(&["run", "infer", "-w", utf8(ws.path()), "--json"]);
    assert_eq!(stale.status.code(), Some(3), "{}", text(&stale.stderr));
    // ...with the same package file: nothing is signed again.
    let review = ok(&o.run(&[
        "plugin",
        "install",
        &package,
        "--profile",
        &profile,
        "--yes",
    ]));
    assert!(
        review.contains("granted: b (inference.roles.code in the profile)"),
        "{review}"
    );
    assert!(review.contains("Reviewed infer 0.1.0 against"), "{review}");
    let (model, run) = o.ask(ws.path());
    assert_eq!(model, "b");
    assert_eq!(o.recorded_models(&run), ["b"]);
    assert_eq!(sha256_hex(&std::fs::read(&package).unwrap()), signed);

    // `plugin show` says the same, for people and for scripts.
    let show = ok(&o.run(&["plugin", "show", "infer"]));
    assert!(
        show.contains("Models a run gets: b (default, role `code`)"),
        "{show}"
    );
    let json: Value =
        serde_json::from_str(&ok(&o.run(&["plugin", "show", "infer", "--json"]))).unwrap();
    assert_eq!(json["models"]["run-gets"], serde_json::json!(["b"]));
    assert_eq!(json["models"]["roles"][0]["role"], "code");
    assert_eq!(json["models"]["roles"][0]["model"], "b");
    assert_eq!(json["models"]["roles"][0]["by"], "profile");
    assert_eq!(json["models"]["min-context"], 2048);
}

#[test]
fn a_role_the_profile_does_not_map_refuses_the_install_and_the_run() {
    let o = Officer::new();
    let package = o.signed_package();
    let profile = o.file("unmapped.toml");
    std::fs::write(&profile, "[inference]\nmodels = [\"a\"]\n").unwrap();
    let out = o.run(&[
        "plugin",
        "install",
        &package,
        "--profile",
        &profile,
        "--yes",
    ]);
    assert_eq!(
        refused(&out),
        format!(
            "error: refused: the plugin asks for a model for role `code`, which profile `unmapped` does not map; map it in the profile ({profile}): [inference.roles] code = \"MODEL\", with MODEL one it grants (\"a\")"
        )
    );
    assert!(
        text(&out.stdout).contains("  model-role       code                 NOT mapped to a model"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !o.home.path().join("plugins/infer").exists(),
        "nothing installed"
    );

    // Installed under a profile that maps it, then run with one that does not.
    let mapped = o.file("mapped.toml");
    std::fs::write(&mapped, officer_profile("a")).unwrap();
    ok(&o.run(&["plugin", "install", &package, "--profile", &mapped, "--yes"]));
    let ws = workspace(&[]);
    let out = o.run(&["run", "infer", "-w", utf8(ws.path()), "--profile", &profile]);
    assert!(
        refused(&out).starts_with(
            "error: refused: the plugin asks for a model for role `code`, which profile `unmapped` does not map"
        ),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_profile_mapping_a_role_to_a_model_it_does_not_grant_fails_to_load_naming_the_key() {
    let o = Officer::new();
    let profile = o.file("wrong.toml");
    std::fs::write(
        &profile,
        "[inference]\nmodels = [\"a\"]\n\n[inference.roles]\ncode = \"qwen2.5-coder-1.5b\"\n",
    )
    .unwrap();
    let out = o.run(&["profile", "check", &profile]);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr).lines().next().unwrap(),
        format!(
            "error: {profile}:5:8: inference.roles.code = \"qwen2.5-coder-1.5b\" maps the role to a model the profile does not grant (inference.models); add \"qwen2.5-coder-1.5b\" to [inference] models, or map `code` to one of the granted \"a\""
        )
    );
}

#[test]
fn a_model_with_a_smaller_context_than_the_plugin_needs_refuses_the_run() {
    let o = Officer::new();
    let package = o.signed_package();
    let profile = o.file("officer.toml");
    std::fs::write(&profile, officer_profile("a")).unwrap();
    ok(&o.run(&[
        "plugin",
        "install",
        &package,
        "--profile",
        &profile,
        "--yes",
    ]));
    // The officer runs `a` with a 1024-token context; the plugin needs 2048.
    std::fs::write(
        o.config(),
        "[engine]\nthreads = 1\n\n[models.a]\ncontext-length = 1024\n",
    )
    .unwrap();
    let ws = workspace(&[]);
    let out = o.run(&["run", "infer", "-w", utf8(ws.path())]);
    assert_eq!(
        refused(&out),
        format!(
            "error: the plugin needs a context of at least 2048 tokens (capabilities.min-context in its manifest), but model `a` granted by the profile `officer` runs with 1024: map the plugin's role to a model with a larger context in the profile's [inference.roles], or raise the context it runs with (models.a.context-length in {})",
            o.config().display()
        )
    );
}
