//! `airlock model ...` with the real test model (SmolLM2-135M-Instruct Q4_1,
//! fetched by `scripts/fetch-test-model`), and the store's drift checks.
#![allow(clippy::unwrap_used)]

use crate::support::{airlock, ok, text};
use airlock_runtime::inference::ModelSource;
use airlock_runtime::models::{ModelError, ModelStore};
use airlock_session::config::{BackendKind, Config};
use airlock_tests::{TEST_MODEL_SHA256, test_model};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

const NAME: &str = "smollm2-135m-instruct.q4_1";

/// A home with the test model added under its default name.
fn home_with_model() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let model = test_model();
    let out = airlock(home.path(), &["model", "add", model.to_str().unwrap()]);
    let stdout = ok(&out);
    assert!(stdout.contains(&format!("added `{NAME}`")), "{stdout}");
    let stored = home
        .path()
        .join("models")
        .join(format!("sha256-{TEST_MODEL_SHA256}.gguf"));
    (home, stored)
}

/// Flip one byte in the middle of `path`, keeping its size.
fn tamper(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let middle = f.metadata().unwrap().len() / 2;
    let mut byte = [0u8];
    f.seek(SeekFrom::Start(middle)).unwrap();
    f.read_exact(&mut byte).unwrap();
    f.seek(SeekFrom::Start(middle)).unwrap();
    f.write_all(&[byte[0] ^ 0xff]).unwrap();
    f.sync_all().unwrap();
}

#[test]
fn add_list_show_verify_tamper_remove() {
    let (home, stored) = home_with_model();
    let h = home.path();

    // The copy is read-only, in an owner-only directory.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&stored), 0o444);
    assert_eq!(mode(&h.join("models")), 0o700);
    let lock = std::fs::read_to_string(h.join("models.lock")).unwrap();
    assert!(
        lock.contains(&format!("digest = \"sha256:{TEST_MODEL_SHA256}\"")),
        "{lock}"
    );
    assert!(lock.contains("[model.fingerprint]"), "{lock}");

    let list = ok(&airlock(h, &["model", "list"]));
    assert!(list.contains(NAME), "{list}");
    assert!(list.contains("gguf"), "{list}");
    assert!(list.contains("93.8 MiB"), "{list}");
    assert!(list.contains(TEST_MODEL_SHA256), "{list}");

    let json: serde_json::Value =
        serde_json::from_str(&ok(&airlock(h, &["model", "list", "--json"]))).unwrap();
    assert_eq!(json[0]["name"], NAME);
    assert_eq!(json[0]["size"], 98_362_432);
    assert_eq!(json[0]["digest"], format!("sha256:{TEST_MODEL_SHA256}"));

    let show = ok(&airlock(h, &["model", "show", NAME]));
    assert!(show.contains("architecture  llama"), "{show}");
    assert!(show.contains("quantization  Q4_1"), "{show}");
    assert!(show.contains("license       apache-2.0"), "{show}");
    assert!(show.contains("chat template:"), "{show}");
    assert!(
        show.contains("<|im_start|>"),
        "the ChatML template is shown:\n{show}"
    );
    assert!(show.contains("context       8192 tokens"), "{show}");
    assert!(
        show.contains("tokenizer.ggml.tokens") && show.contains("[49152 × string]"),
        "long arrays are shown by length:\n{show}"
    );
    let show_json: serde_json::Value =
        serde_json::from_str(&ok(&airlock(h, &["model", "show", NAME, "--json"]))).unwrap();
    assert_eq!(show_json["architecture"], "llama");
    assert!(show_json["parameters"].as_u64().unwrap() > 100_000_000);
    assert_eq!(
        show_json["metadata"]["tokenizer.ggml.tokens"]["length"],
        49152
    );

    let verify = ok(&airlock(h, &["model", "verify"]));
    assert!(verify.starts_with("ok "), "{verify}");
    assert!(verify.contains(TEST_MODEL_SHA256), "{verify}");

    // Adding the same file again changes nothing.
    let again = ok(&airlock(
        h,
        &["model", "add", test_model().to_str().unwrap()],
    ));
    assert!(again.contains("already in the store"), "{again}");

    tamper(&stored);
    let out = airlock(h, &["model", "verify"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(stdout.contains("DRIFTED"), "{stdout}");
    assert!(
        stdout.contains(&format!("pinned in the lock:  sha256:{TEST_MODEL_SHA256}")),
        "{stdout}"
    );
    let found = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("stored file now has: sha256:"))
        .unwrap();
    assert_eq!(found.len(), 64);
    assert_ne!(found, TEST_MODEL_SHA256);
    assert!(
        stderr.contains("1 of 1 model(s) failed verification"),
        "{stderr}"
    );
    let json: serde_json::Value = serde_json::from_str(&text(
        &airlock(h, &["model", "verify", NAME, "--json"]).stdout,
    ))
    .unwrap();
    assert_eq!(json[0]["status"], "drifted");

    // `show` refuses a drifted file rather than parsing it.
    let out = airlock(h, &["model", "show", NAME]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("has drifted"),
        "{}",
        text(&out.stderr)
    );

    // Adding the trusted file again heals the store.
    let healed = ok(&airlock(
        h,
        &["model", "add", test_model().to_str().unwrap()],
    ));
    assert!(healed.contains("already in the store"), "{healed}");
    ok(&airlock(h, &["model", "verify", NAME]));

    let removed = ok(&airlock(h, &["model", "remove", NAME]));
    assert!(removed.contains(&format!("removed `{NAME}`")), "{removed}");
    assert!(!stored.exists());
    let out = airlock(h, &["model", "list"]);
    assert_eq!(text(&out.stdout), "");
    assert!(text(&out.stderr).contains("no models pinned"));
    let out = airlock(h, &["model", "remove", NAME]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(&format!("no model named `{NAME}`")));
}

#[test]
fn spec_trusts_an_unchanged_file_and_refuses_a_tampered_one() {
    let (home, stored) = home_with_model();
    let store = ModelStore::open(home.path());
    let config = Config::default();

    let spec = store.spec(NAME, &config).unwrap();
    assert_eq!(spec.digest, format!("sha256:{TEST_MODEL_SHA256}"));
    assert_eq!(
        spec.source,
        ModelSource::Gguf {
            path: stored.clone()
        }
    );
    // Unset: the trained context (8192) capped at the embedded engine's 4096.
    assert_eq!(spec.context_length, 4096);

    // Tamper, then put the modification time back: only ctime (which no
    // unprivileged call can restore) tells the cheap check to re-hash.
    let before = std::fs::metadata(&stored).unwrap().modified().unwrap();
    tamper(&stored);
    let f = std::fs::File::options().write(true).open(&stored).unwrap();
    f.set_modified(before).unwrap();
    drop(f);
    assert_eq!(
        std::fs::metadata(&stored).unwrap().modified().unwrap(),
        before
    );
    match store.spec(NAME, &config) {
        Err(ModelError::Drift {
            name,
            pinned,
            found,
            ..
        }) => {
            assert_eq!(name, NAME);
            assert_eq!(pinned, format!("sha256:{TEST_MODEL_SHA256}"));
            assert_ne!(found, pinned);
        }
        other => panic!("expected drift, got {other:?}"),
    }
    let message = store.spec(NAME, &config).unwrap_err().to_string();
    assert!(message.contains("has drifted"), "{message}");
    assert!(
        message.contains(&format!("airlock model add COPY --name {NAME}")),
        "the fix is named: {message}"
    );

    // A file swapped for a different inode with the same content is
    // re-hashed, found intact, and trusted again.
    let home2 = tempfile::tempdir().unwrap();
    let store2 = ModelStore::open(home2.path());
    store2
        .add(&test_model(), Some("m"), false, &|_, _| {})
        .unwrap();
    let path = store2
        .dir()
        .join(format!("sha256-{TEST_MODEL_SHA256}.gguf"));
    let copy = home2.path().join("copy.gguf");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::rename(&copy, &path).unwrap();
    let spec = store2.spec("m", &config).unwrap();
    assert_eq!(spec.source, ModelSource::Gguf { path });

    // Other engines.
    let mut served = Config::parse(
        "[engine]\nbackend = \"openai-compatible\"\nendpoint = \"http://127.0.0.1:8080\"\n[models.m]\nserved-as = \"SmolLM2\"\ncontext-length = 1024\n",
        None,
    )
    .unwrap();
    let spec = store2.spec("m", &served).unwrap();
    assert_eq!(
        spec.source,
        ModelSource::Served {
            model: "SmolLM2".into()
        }
    );
    assert_eq!(spec.context_length, 1024);
    served.engine.backend = BackendKind::Ollama;
    let e = store2.spec("m", &served).unwrap_err().to_string();
    assert!(
        e.contains("is a GGUF file") && e.contains("`ollama`"),
        "{e}"
    );
}

#[test]
fn a_file_that_is_not_gguf_is_refused_and_nothing_is_added() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let file = h.join("weights.bin");
    std::fs::write(&file, b"PK\x03\x04 a zip, not a model").unwrap();
    let out = airlock(h, &["model", "add", file.to_str().unwrap(), "--name", "w"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{} is not a GGUF file", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("it starts with \"PK\\x03\\x04"), "{stderr}");
    assert!(!h.join("models.lock").exists());
    assert_eq!(text(&airlock(h, &["model", "list"]).stdout), "");

    // GGUF magic but nothing llama.cpp can load: named, and not added.
    let truncated = h.join("truncated.gguf");
    let mut head = vec![0u8; 64 * 1024];
    std::fs::File::open(test_model())
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    std::fs::write(&truncated, &head).unwrap();
    let out = airlock(h, &["model", "add", truncated.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{} could not be loaded by llama.cpp",
            truncated.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("truncated"), "{stderr}");
    assert!(!h.join("models.lock").exists());

    let out = airlock(
        h,
        &["model", "add", h.join("absent.gguf").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("absent.gguf"));
}

#[test]
fn names_are_checked_and_taken_names_guarded() {
    let (home, _) = home_with_model();
    let h = home.path();
    let model = test_model();
    let model = model.to_str().unwrap();

    let out = airlock(h, &["model", "add", model, "--name", "Smol LM"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("`Smol LM` is not a valid model name"),
        "{stderr}"
    );
    assert!(stderr.contains("lowercase letters"), "{stderr}");

    // A second name for the same file shares the stored copy.
    ok(&airlock(h, &["model", "add", model, "--name", "smol"]));
    let list = ok(&airlock(h, &["model", "list"]));
    assert!(list.contains("smol ") && list.contains(NAME), "{list}");
    let removed = ok(&airlock(h, &["model", "remove", "smol"]));
    assert!(
        removed.contains("kept"),
        "the other name still uses it: {removed}"
    );
    ok(&airlock(h, &["model", "verify", NAME]));

    // A different file under a taken name needs --replace.
    let other = h.join("other.gguf");
    std::fs::copy(test_model(), &other).unwrap();
    {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&other)
            .unwrap();
        f.write_all(&[0u8; 32]).unwrap();
    }
    let out = airlock(
        h,
        &["model", "add", other.to_str().unwrap(), "--name", NAME],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a different model is already pinned"),
        "{stderr}"
    );
    let replaced = ok(&airlock(
        h,
        &[
            "model",
            "add",
            other.to_str().unwrap(),
            "--name",
            NAME,
            "--replace",
        ],
    ));
    assert!(replaced.contains("replaced"), "{replaced}");
    let old = h
        .join("models")
        .join(format!("sha256-{TEST_MODEL_SHA256}.gguf"));
    assert!(!old.exists(), "the replaced file is deleted");
}

#[test]
fn invalid_lock_and_config_are_reported_with_their_location() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::write(
        h.join("models.lock"),
        "version = 1\n\n[[model]]\nnam = \"x\"\n",
    )
    .unwrap();
    let out = airlock(h, &["model", "list"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:4:1:", h.join("models.lock").display())),
        "{stderr}"
    );
    assert!(stderr.contains("unknown field `nam`"), "{stderr}");

    let config = h.join("config.toml");
    std::fs::write(
        &config,
        "[engine]\nbackend = \"ollama\"\nendpoint = \"http://10.0.0.1:11434\"\n",
    )
    .unwrap();
    let out = airlock(
        h,
        &[
            "model",
            "pin",
            "llama",
            "--ollama",
            "llama3.2:1b",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:3:12:", config.display())),
        "{stderr}"
    );
    assert!(stderr.contains("not a loopback address"), "{stderr}");

    let out = airlock(
        h,
        &[
            "--config",
            h.join("nope.toml").to_str().unwrap(),
            "model",
            "pin",
            "x",
            "--ollama",
            "y",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("does not exist"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn help_teaches_where_the_store_is_and_that_nothing_is_downloaded() {
    let home = tempfile::tempdir().unwrap();
    let help = ok(&airlock(home.path(), &["model", "--help"]));
    assert!(help.contains("$AIRLOCK_HOME/models/"), "{help}");
    assert!(help.contains("never downloads"), "{help}");
    assert!(help.contains("airlock model add"), "{help}");
    let help = ok(&airlock(home.path(), &["model", "verify", "--help"]));
    assert!(help.contains("3   a model drifted"), "{help}");
    for sub in ["add", "pin", "list", "show", "remove"] {
        let help = ok(&airlock(home.path(), &["model", sub, "--help"]));
        assert!(help.contains("airlock model"), "{sub}: {help}");
    }
}

#[test]
fn pin_records_the_digest_ollama_reports() {
    use airlock_tests::ollama_fixture::{FixtureConfig, OllamaFixture};
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let digest = FixtureConfig::default().digest;
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let config = h.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[engine]\nbackend = \"ollama\"\nendpoint = \"{}\"\n",
            fixture.url()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    let out = ok(&airlock(
        h,
        &[
            "--config",
            config,
            "model",
            "pin",
            "llama",
            "--ollama",
            "llama3.2:1b",
        ],
    ));
    assert!(
        out.contains(&format!(
            "pinned `llama` to Ollama's llama3.2:1b: sha256:{digest}"
        )),
        "{out}"
    );
    let again = ok(&airlock(
        h,
        &[
            "--config",
            config,
            "model",
            "pin",
            "llama",
            "--ollama",
            "llama3.2:1b",
        ],
    ));
    assert!(again.contains("already pinned"), "{again}");

    let list = ok(&airlock(h, &["model", "list"]));
    assert!(list.contains("ollama") && list.contains(&digest), "{list}");
    assert!(list.contains("(llama3.2:1b)"), "{list}");
    let verify = ok(&airlock(h, &["model", "verify"]));
    assert!(verify.starts_with("not checked  llama"), "{verify}");

    let store = ModelStore::open(h);
    let loaded = Config::load(Some(Path::new(config))).unwrap();
    let spec = store.spec("llama", &loaded).unwrap();
    assert_eq!(spec.digest, format!("sha256:{digest}"));
    assert_eq!(
        spec.source,
        ModelSource::Ollama {
            model: "llama3.2:1b".into()
        }
    );

    let out = airlock(
        h,
        &[
            "--config", config, "model", "pin", "other", "--ollama", "mistral",
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("does not have `mistral`"), "{stderr}");
    assert!(stderr.contains("it has: llama3.2:1b"), "{stderr}");
}
