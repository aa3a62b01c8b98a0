//! `airlock run` with a model, end to end as a user runs it: the model pinned
//! with `airlock model add`, granted by a profile, checked before the run,
//! streamed to the terminal; and the refusals when any of that is not so.
#![allow(clippy::unwrap_used)]

use crate::support::{AIRLOCK, admin_policy, airlock, airlock_with_policy, scrub, text};
use airlock_tests::{guests, test_model, workspace};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `airlock --home HOME ARGS` inside a network namespace of its own (only a
/// down loopback device): whatever it tried, no packet could leave this
/// machine.
fn airlock_without_network(home: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "--map-root-user", AIRLOCK, "--home"])
        .arg(home)
        .args(args);
    let out = scrub(&mut cmd, &home.join("no-config"))
        .output()
        .expect("run unshare (util-linux): these tests need a private network namespace");
    assert!(
        !text(&out.stderr).starts_with("unshare:"),
        "cannot create a network namespace: {}",
        text(&out.stderr)
    );
    out
}

/// A fresh home with the test model pinned as `smollm2` (the name the
/// shipped `assistant` profile grants), and one-thread engine settings.
fn home_with_model() -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let model = test_model();
    let out = airlock(
        home.path(),
        &["model", "add", model.to_str().unwrap(), "--name", "smollm2"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = home.path().join("config.toml");
    std::fs::write(&config, "[engine]\nthreads = 1\n").unwrap();
    (home, config)
}

/// `airlock [--config CONFIG] run SKILL --profile assistant --workspace WS EXTRA...`.
fn run_assistant(
    home: &Path,
    config: Option<&Path>,
    skill: &str,
    ws: &Path,
    extra: &[&str],
) -> Output {
    let mut args = Vec::new();
    if let Some(config) = config {
        args.extend(["--config", config.to_str().unwrap()]);
    }
    args.extend([
        "run",
        skill,
        "--allow-unsigned",
        "--profile",
        "assistant",
        "--workspace",
    ]);
    args.push(ws.to_str().unwrap());
    args.extend(extra);
    airlock(home, &args)
}

fn stored_file(home: &Path) -> PathBuf {
    std::fs::read_dir(home.join("models"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "gguf"))
        .unwrap()
}

#[test]
fn explain_streams_a_real_answer_and_cites_its_sources() {
    let (home, config) = home_with_model();
    let ws = workspace(&[
        (
            "src/calc.py",
            "def add(a, b):\n    \"\"\"Add two numbers.\"\"\"\n    return a + b\n",
        ),
        (".env", "PASSWORD=never-read\n"),
    ]);
    let out = run_assistant(
        home.path(),
        Some(&config),
        guests::EXPLAIN,
        ws.path(),
        &["--input", "What does the add function do?"],
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let (answer, sources) = stdout.split_once("Sources:").unwrap();
    assert!(answer.trim().len() > 10, "no answer: {stdout}");
    assert!(sources.contains("src/calc.py"), "{stdout}");
    assert!(
        !stdout.contains(".env") || stdout.contains("withheld"),
        "{stdout}"
    );
    assert!(
        stderr.contains("[model] smollm2 (sha256:b179c9523d0e"),
        "{stderr}"
    );
}

#[test]
fn json_reports_the_answer_and_the_inference_used() {
    let (home, config) = home_with_model();
    let ws = workspace(&[]);
    let out = run_assistant(
        home.path(),
        Some(&config),
        guests::INFER,
        ws.path(),
        &["--input", "Say hello.", "--arg", "max-tokens=8", "--json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "ok");
    assert_eq!(report["inference"]["calls"], 1);
    let answer: serde_json::Value =
        serde_json::from_str(report["output"].as_str().unwrap()).unwrap();
    assert_eq!(answer["model"], "smollm2");
    let call = report["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "inference")
        .unwrap();
    assert_eq!(
        call["digest"],
        format!("sha256:{}", airlock_tests::TEST_MODEL_SHA256)
    );
    // Prompt tokens read vs reused, per call and for the run: the run's one
    // call starts cold (runs never share what the engine kept).
    assert!(call["prompt_tokens"].as_u64().unwrap() > 0, "{call}");
    assert_eq!(call["prompt_tokens_reused"], 0, "{call}");
    assert_eq!(report["inference"]["prompt-tokens-reused"], 0, "{report}");
}

#[test]
fn a_drifted_model_refuses_the_run_showing_both_digests() {
    let (home, config) = home_with_model();
    let stored = stored_file(home.path());
    let mut perms = std::fs::metadata(&stored).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&stored, perms).unwrap();
    let mut bytes = std::fs::read(&stored).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&stored, &bytes).unwrap();

    let ws = workspace(&[]);
    let out = run_assistant(home.path(), Some(&config), guests::INFER, ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("drifted"), "{stderr}");
    assert!(
        stderr.contains(airlock_tests::TEST_MODEL_SHA256),
        "the pinned digest is shown: {stderr}"
    );
    assert!(text(&out.stdout).is_empty(), "the skill never ran");
}

#[test]
fn a_granted_model_missing_from_the_store_is_a_setup_error() {
    let home = tempfile::tempdir().unwrap();
    let ws = workspace(&[]);
    let out = run_assistant(home.path(), None, guests::INFER, ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("smollm2"), "{stderr}");
    assert!(stderr.contains("airlock model add"), "{stderr}");
}

#[test]
fn a_non_loopback_endpoint_in_the_config_is_refused_before_the_run() {
    let (home, _) = home_with_model();
    let ws = workspace(&[]);
    for endpoint in ["http://10.0.0.1:11434", "http://example.com"] {
        let config = home.path().join("remote.toml");
        std::fs::write(
            &config,
            format!("[engine]\nbackend = \"ollama\"\nendpoint = \"{endpoint}\"\n"),
        )
        .unwrap();
        let out = airlock_without_network(
            home.path(),
            &[
                "--config",
                config.to_str().unwrap(),
                "run",
                guests::INFER,
                "--allow-unsigned",
                "--profile",
                "assistant",
                "--workspace",
                ws.path().to_str().unwrap(),
            ],
        );
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{endpoint}: {stderr}");
        assert!(stderr.contains(endpoint), "{stderr}");
        assert!(stderr.contains("refused"), "{stderr}");
    }
}

#[test]
fn a_skill_that_abandons_an_answer_midway_exits_cleanly() {
    // The engine is still decoding when the skill returns; the process must
    // stop it and wait rather than exit under llama.cpp (which crashed).
    let (home, config) = home_with_model();
    let ws = workspace(&[]);
    for _ in 0..4 {
        let out = run_assistant(
            home.path(),
            Some(&config),
            guests::INFER,
            ws.path(),
            &[
                "--input",
                "Tell me a long story.",
                "--arg",
                "case=abandon",
                "--arg",
                "max-tokens=300",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
}

#[test]
fn a_skill_sees_the_context_the_engine_runs_with() {
    let (home, config) = home_with_model();
    let ws = workspace(&[]);
    let out = run_assistant(
        home.path(),
        Some(&config),
        guests::INFER,
        ws.path(),
        &["--arg", "case=models", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let models: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // SmolLM2 is trained on 8192 tokens; with no setting the engine caps at 4096.
    assert_eq!(models[0]["context-length"], 4096, "{models}");
    assert_eq!(models[0]["family"], "llama");
    assert_eq!(models[0]["name"], "smollm2");
}

// ---- The admin policy's model pins, and who runs the model server ----

use airlock_tests::ollama_fixture::{FixtureConfig, OllamaFixture};
use std::os::unix::fs::{MetadataExt, PermissionsExt};

fn pin_entry(name: &str, hex: &str) -> String {
    format!("[models]\nallowed = [{{ name = \"{name}\", sha256 = \"{hex}\" }}]\n")
}

/// `run INFER --profile assistant` with `config` and an optional policy.
fn run_infer(
    home: &Path,
    config: &Path,
    policy: Option<&Path>,
    ws: &Path,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "--config",
        config.to_str().unwrap(),
        "run",
        guests::INFER,
        "--allow-unsigned",
        "--profile",
        "assistant",
        "--workspace",
        ws.to_str().unwrap(),
    ];
    args.extend(extra);
    airlock_with_policy(home, policy, &args)
}

#[test]
fn a_model_re_pinned_after_the_admins_review_is_refused_naming_both_digests() {
    let Some((_dir, policy)) =
        admin_policy(&pin_entry("smollm2", airlock_tests::TEST_MODEL_SHA256))
    else {
        return;
    };
    let (home, config) = home_with_model();
    let ws = workspace(&[]);
    // The reviewed model runs.
    let out = run_infer(
        home.path(),
        &config,
        Some(&policy),
        ws.path(),
        &["--arg", "case=models", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // The user re-pins the name to another file, with Airlock's own command.
    let other = home.path().join("other.gguf");
    let mut bytes = std::fs::read(test_model()).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&other, &bytes).unwrap();
    let out = airlock(
        home.path(),
        &[
            "model",
            "add",
            other.to_str().unwrap(),
            "--name",
            "smollm2",
            "--replace",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let list = text(&airlock(home.path(), &["model", "list", "--json"]).stdout);
    let new_digest = list
        .split("sha256:")
        .nth(1)
        .map(|rest| rest[..64].to_string())
        .unwrap();
    assert_ne!(new_digest, airlock_tests::TEST_MODEL_SHA256);

    let out = run_infer(
        home.path(),
        &config,
        Some(&policy),
        ws.path(),
        &["--arg", "case=models", "--quiet"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "model `smollm2` is pinned in the model store ({}) to sha256:{new_digest}, but the admin policy allows `smollm2` only as sha256:{} ([models] allowed in $AIRLOCK_POLICY_FILE ({}))",
            home.path().join("models.lock").display(),
            airlock_tests::TEST_MODEL_SHA256,
            policy.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("--replace"), "the fix is named: {stderr}");
    assert!(out.stdout.is_empty(), "the skill never ran");
}

/// A home whose lock pins `smollm2` to the fixture's Ollama model (pinned
/// with `airlock model pin`, as a user does), and a config for `fixture`.
fn home_with_ollama_model(fixture: &OllamaFixture) -> (tempfile::TempDir, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("ollama.toml");
    std::fs::write(
        &config,
        format!(
            "[engine]\nbackend = \"ollama\"\nendpoint = \"{}\"\n",
            fixture.url()
        ),
    )
    .unwrap();
    let out = airlock(
        home.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "model",
            "pin",
            "smollm2",
            "--ollama",
            "llama3.2:1b",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    (home, config)
}

fn chats(fixture: &OllamaFixture) -> usize {
    fixture
        .requests()
        .iter()
        .filter(|r| r.path == "/api/chat")
        .count()
}

#[test]
fn an_ollama_server_reporting_another_digest_than_the_admins_pin_is_refused() {
    let reviewed = FixtureConfig::default().digest;
    let Some((_dir, policy)) = admin_policy(&pin_entry("smollm2", &reviewed)) else {
        return;
    };
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let (home, config) = home_with_ollama_model(&fixture);
    let ws = workspace(&[]);
    // Ollama serves the reviewed model: the skill gets its answer.
    let out = run_infer(home.path(), &config, Some(&policy), ws.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(chats(&fixture), 1);

    // `ollama pull` replaced the tag with another model: the server's own
    // digest no longer matches the pin, and nothing is asked.
    let replaced = "5".repeat(64);
    let pulled = OllamaFixture::start(FixtureConfig {
        digest: replaced.clone(),
        ..FixtureConfig::default()
    });
    let moved = home.path().join("pulled.toml");
    std::fs::write(
        &moved,
        format!(
            "[engine]\nbackend = \"ollama\"\nendpoint = \"{}\"\n",
            pulled.url()
        ),
    )
    .unwrap();
    let out = run_infer(home.path(), &moved, Some(&policy), ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("sha256:{reviewed}")), "{stderr}");
    assert!(stderr.contains(&format!("sha256:{replaced}")), "{stderr}");
    assert_eq!(chats(&pulled), 0, "nothing was asked of the other model");

    // The admin pins another digest than the user's lock: refused before
    // the server is even asked.
    let Some((_dir2, other_policy)) = admin_policy(&pin_entry("smollm2", &"7".repeat(64))) else {
        return;
    };
    let before = fixture.requests().len();
    let out = run_infer(home.path(), &config, Some(&other_policy), ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "to sha256:{reviewed}, but the admin policy allows `smollm2` only as sha256:{}",
            "7".repeat(64)
        )),
        "{stderr}"
    );
    assert_eq!(
        fixture.requests().len(),
        before,
        "the server was not contacted"
    );
}

#[test]
fn a_server_not_run_by_the_configured_user_is_refused_before_anything_is_sent() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let (home, config) = home_with_ollama_model(&fixture);
    let ws = workspace(&[]);
    let me = std::fs::metadata(home.path()).unwrap().uid();
    let other = me.wrapping_add(4242);
    // The fixture runs as this user; the configuration says another runs
    // the server (as when Ollama runs as its own `ollama` user).
    let strict = home.path().join("strict.toml");
    std::fs::write(
        &strict,
        format!(
            "[engine]\nbackend = \"ollama\"\nendpoint = \"{}\"\nserver-uid = {other}\n",
            fixture.url()
        ),
    )
    .unwrap();
    let before = fixture.requests().len();
    let out = run_infer(home.path(), &strict, None, ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}/ is served by a process of uid {me} (the socket listening on 127.0.0.1:{}), not uid {other} (engine.server-uid in {})",
            fixture.url(),
            fixture.port(),
            strict.display()
        )),
        "{stderr}"
    );
    assert_eq!(fixture.requests().len(), before, "nothing was sent");

    // With the right uid (here: the default, this user) it runs.
    let out = run_infer(home.path(), &config, None, ws.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// A stand-in for a model server that another local user started on the
/// port while the real one was down: it answers like Ollama (the same model
/// and digest) and records every request to `log`.
const IMPOSTOR: &str = r#"
import http.server, json, sys
port, digest, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def _answer(self, body):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self._answer({"models": [{"name": "llama3.2:1b", "model": "llama3.2:1b", "digest": digest}]})
    def do_POST(self):
        self._answer({"message": {"role": "assistant", "content": "pwned"}, "done": True, "eval_count": 1})
    def log_message(self, *args):
        pass
s = http.server.HTTPServer(("127.0.0.1", port), H)
print("ready", flush=True)
s.serve_forever()
"#;

/// The impostor, running as `nobody` (uid 65534); killed when dropped.
struct Impostor(std::process::Child);

impl Drop for Impostor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_impostor(port: u16, digest: &str, log: &Path) -> Impostor {
    use std::io::BufRead;
    use std::os::unix::process::CommandExt;
    let python = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("a system python3 that user nobody can run (/usr/bin/python3)");
    let mut child = Command::new(python)
        .args(["-c", IMPOSTOR, &port.to_string(), digest])
        .arg(log)
        .uid(65534)
        .gid(65534)
        .current_dir("/")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the impostor did not start");
    Impostor(child)
}

#[test]
fn another_users_server_on_the_model_port_is_refused() {
    let fixture = OllamaFixture::start(FixtureConfig::default());
    let (home, _) = home_with_ollama_model(&fixture);
    let port = fixture.port();
    let me = std::fs::metadata(home.path()).unwrap().uid();
    if me != 0 {
        // Starting a listener as another user needs root; the same
        // decision is made on the kernel's table as a fixture.
        eprintln!(
            "not root: checking another user's listener with a /proc/net/tcp fixture instead of a real one"
        );
        use airlock_runtime::inference::endpoint::Endpoint;
        use airlock_runtime::inference::listener::{
            Family, OwnerError, ServerOwner, check_owner, parse_table,
        };
        let table = format!(
            "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: {:08X}:{port:04X} 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 4711 1 0000000000000000 100 0 0 10 0\n",
            u32::from_ne_bytes([127, 0, 0, 1])
        );
        let listeners = parse_table(&table, Family::V4).unwrap();
        let endpoint = Endpoint::parse(&fixture.url()).unwrap();
        assert!(matches!(
            check_owner(&endpoint, &ServerOwner::current_user(), &listeners),
            Err(OwnerError::Foreign(m)) if m.contains("uid 65534")
        ));
        return;
    }
    // The real server goes down; `nobody` takes its port, serving the very
    // digest that was pinned.
    drop(fixture);
    let mut tries = 0;
    while std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
        tries += 1;
        assert!(tries < 1000, "port {port} was not freed");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let log_dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(log_dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let log = log_dir.path().join("requests.log");
    let _impostor = start_impostor(port, &FixtureConfig::default().digest, &log);

    let config = home.path().join("ollama.toml");
    let ws = workspace(&[("notes.md", "the quarterly numbers\n")]);
    let out = run_infer(home.path(), &config, None, ws.path(), &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "http://127.0.0.1:{port}/ is served by a process of uid 65534 (the socket listening on 127.0.0.1:{port}), not uid 0 (the default: the user running airlock"
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "the skill never ran");

    // Pinning from it is refused too: its digest is not to be trusted.
    let out = airlock(
        home.path(),
        &[
            "--config",
            config.to_str().unwrap(),
            "model",
            "pin",
            "other",
            "--ollama",
            "llama3.2:1b",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("uid 65534"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&log).unwrap_or_default(),
        "",
        "nothing was sent to the impostor"
    );
}

#[test]
fn the_openai_engine_checks_the_servers_user_and_the_admins_pin() {
    use airlock_tests::llama_server::{LlamaServer, SERVED_NAME};
    let server = LlamaServer::start();
    let (home, _) = home_with_model();
    let ws = workspace(&[]);
    let write_config = |file: &str, extra: &str| {
        let path = home.path().join(file);
        std::fs::write(
            &path,
            format!(
                "[engine]\nbackend = \"openai-compatible\"\nendpoint = \"{}\"\n{extra}[models.smollm2]\nserved-as = \"{SERVED_NAME}\"\n",
                server.url()
            ),
        )
        .unwrap();
        path
    };
    let config = write_config("openai.toml", "");
    let out = run_infer(
        home.path(),
        &config,
        None,
        ws.path(),
        &["--arg", "case=models", "--quiet"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let me = std::fs::metadata(home.path()).unwrap().uid();
    let strict = write_config("strict.toml", &format!("server-uid = {}\n", me + 1));
    let out = run_infer(
        home.path(),
        &strict,
        None,
        ws.path(),
        &["--arg", "case=models", "--quiet"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("is served by a process of uid {me}")),
        "{stderr}"
    );

    // The server reports no digest: the admin's pin is held against the
    // store's digest for the name, which stands for the file it serves.
    let Some((_dir, policy)) = admin_policy(&pin_entry("smollm2", &"e".repeat(64))) else {
        return;
    };
    let out = run_infer(
        home.path(),
        &config,
        Some(&policy),
        ws.path(),
        &["--arg", "case=models", "--quiet"],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "to sha256:{}, but the admin policy allows `smollm2` only as sha256:{}",
            airlock_tests::TEST_MODEL_SHA256,
            "e".repeat(64)
        )),
        "{stderr}"
    );
}
