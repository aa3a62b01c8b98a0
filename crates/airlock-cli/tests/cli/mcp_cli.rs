//! `airlock mcp` driven by a real MCP client nobody here wrote: the official
//! Python SDK from PyPI (`mcp`, installed by scripts/setup-mcp-client,
//! driven by tests/mcp/client.py), and by raw bytes on its stdin for the
//! malformed-input cases. The skills are real plugins, signed and installed
//! as an officer would.

use crate::support::{AIRLOCK, admin_policy, airlock, airlock_command, ok, scrub, text, utf8};
use airlock_tests::guests;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A home whose officer trusts the publisher `acme` and has installed, signed
/// by it, each (component, manifest, profile).
fn home_with(plugins: &[(&str, &str, &str)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("home");
    let keys = home.path().join("keys");
    std::fs::create_dir(&keys).expect("mkdir keys");
    let key = keys.join("acme");
    ok(&airlock(
        home.path(),
        &[
            "plugin",
            "keygen",
            "--publisher",
            "acme",
            "--out",
            utf8(&key),
        ],
    ));
    ok(&airlock(
        home.path(),
        &["trust", "add", "acme", utf8(&keys.join("acme.pub"))],
    ));
    for (i, (component, manifest, profile)) in plugins.iter().enumerate() {
        let manifest_path = keys.join(format!("manifest-{i}.toml"));
        std::fs::write(&manifest_path, manifest).expect("write the manifest");
        let package = keys.join(format!("plugin-{i}.airlock"));
        ok(&airlock(
            home.path(),
            &[
                "plugin",
                "pack",
                component,
                "--manifest",
                utf8(&manifest_path),
                "--key",
                utf8(&keys.join("acme.key")),
                "-o",
                utf8(&package),
            ],
        ));
        ok(&airlock(
            home.path(),
            &[
                "plugin",
                "install",
                utf8(&package),
                "--profile",
                profile,
                "--yes",
            ],
        ));
    }
    home
}

const SECRET_SCAN: &str = "name = \"secret-scan\"\nversion = \"0.1.0\"\ndescription = \"Finds credentials committed to the workspace.\"\nwit-version = \"0.1.0\"\n[publisher]\nname = \"acme\"\n[capabilities]\nworkspace-read = [\".\"]\n";

const WRITER: &str = "name = \"writer\"\nversion = \"0.1.0\"\ndescription = \"Writes a file it is told to (a test skill).\"\nwit-version = \"0.1.0\"\n[publisher]\nname = \"acme\"\n[capabilities]\nworkspace-read = [\".\"]\nworkspace-write = [\".\"]\n# The test guest can also run programs (its `exec` case); this one asks for none it will use.\ncommands = [\"true\"]\n";

/// The Python with the official MCP SDK.
fn mcp_python() -> PathBuf {
    let python = std::env::var_os("AIRLOCK_TEST_MCP_PYTHON").unwrap_or_else(|| {
        panic!(
            "AIRLOCK_TEST_MCP_PYTHON is not set: run scripts/setup-mcp-client (scripts/test does) \
             and set it to the python it prints"
        )
    });
    PathBuf::from(python)
}

/// Run tests/mcp/client.py against `airlock --home HOME mcp ARGS`, making
/// `calls`; its JSON report.
fn client(home: &Path, calls: &[Value], args: &[&str]) -> Value {
    client_with(home, calls, args, false)
}

/// As [`client`]; with `concurrent`, every call is sent at once.
fn client_with(home: &Path, calls: &[Value], args: &[&str], concurrent: bool) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/mcp/client.py");
    let mut cmd = Command::new(mcp_python());
    cmd.arg(script).arg(AIRLOCK);
    if concurrent {
        cmd.arg("--concurrent");
    }
    for call in calls {
        cmd.arg(call.to_string());
    }
    cmd.arg("--").arg("--home").arg(home).arg("mcp").args(args);
    // The client starts `airlock` with this environment.
    let out = scrub(&mut cmd, &home.join("no-config"))
        .output()
        .expect("run the MCP client");
    let stdout = ok(&out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn workspace_with_a_key() -> tempfile::TempDir {
    airlock_tests::workspace(&[
        (
            "deploy.py",
            "# AWS's documented example key, not a real one.\nAWS_ACCESS_KEY_ID = \"AKIAIOSFODNN7EXAMPLE\"\n",
        ),
        ("notes.txt", "old-text\n"),
    ])
}

#[test]
fn an_mcp_client_lists_the_skills_and_gets_secret_scans_findings_audited() {
    let home = home_with(&[(guests::SECRET_SCAN, SECRET_SCAN, "read-only")]);
    let ws = workspace_with_a_key();
    let call =
        serde_json::json!({ "name": "secret-scan", "arguments": { "args": { "format": "text" } } });
    let report = client(home.path(), &[call], &["-w", utf8(ws.path())]);

    assert_eq!(report["server"], "airlock");
    let tools = report["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 1, "{tools:#?}");
    let tool = &tools[0];
    assert_eq!(tool["name"], "secret-scan");
    // The schema comes from what the skill describes.
    let args = &tool["inputSchema"]["properties"]["args"]["properties"];
    assert_eq!(
        args["format"]["description"], "value: text|json|sarif",
        "{tool:#}"
    );
    assert!(args["min-severity"].is_object(), "{tool:#}");

    let result = &report["calls"][0];
    assert_ne!(result["isError"], true, "{result:#}");
    assert_eq!(result["structuredContent"]["status"], "ok", "{result:#}");
    assert_eq!(result["structuredContent"]["denied"], serde_json::json!([]));
    let findings = result["structuredContent"]["findings"]
        .as_array()
        .expect("findings");
    assert!(
        findings
            .iter()
            .any(|f| f["path"] == "deploy.py" && f["rule_id"] == "aws-access-key-id"),
        "{result:#}"
    );
    let shown = result["content"][0]["text"].as_str().expect("text");
    assert!(shown.contains("aws-access-key-id"), "{shown}");
    assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "redacted: {shown}");

    // The call is in the audit trail, and the trail verifies.
    let run = result["structuredContent"]["run-id"]
        .as_str()
        .expect("run id");
    let trail = ok(&airlock(home.path(), &["audit", "show", "--run", run]));
    assert!(trail.contains("secret-scan"), "{trail}");
    assert!(trail.contains("deploy.py"), "{trail}");
    ok(&airlock(home.path(), &["audit", "verify"]));
}

#[test]
fn a_call_that_needs_an_approval_is_denied_cleanly_and_changes_nothing() {
    let home = home_with(&[(guests::ADVERSARY, WRITER, "workspace-write")]);
    let ws = workspace_with_a_key();
    let call = serde_json::json!({
        "name": "writer",
        "arguments": { "args": { "case": "write", "path": "notes.txt", "content": "new-text" } }
    });
    let report = client(home.path(), &[call], &["-w", utf8(ws.path())]);
    let result = &report["calls"][0];
    let shown = result["content"][0]["text"].as_str().expect("text");
    // Nobody can be asked over MCP: the profile's `ask` refuses, naming it,
    // and the call is an error result.
    assert_eq!(result["isError"], true, "{result:#}");
    assert!(shown.contains("edits.mode"), "{result:#}");
    assert!(shown.contains("access-denied"), "{result:#}");
    let denied = &result["structuredContent"]["denied"][0];
    assert_eq!(denied["capability"], "workspace-write", "{result:#}");
    assert_eq!(denied["path"], "notes.txt", "{result:#}");
    assert_eq!(
        std::fs::read_to_string(ws.path().join("notes.txt")).expect("read"),
        "old-text\n"
    );
    let run = result["structuredContent"]["run-id"]
        .as_str()
        .expect("run id");
    let trail = ok(&airlock(
        home.path(),
        &["audit", "show", "--run", run, "--json"],
    ));
    let records: Vec<Value> = trail
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    // The refusal and the denied write are in the trail.
    assert!(
        records.iter().any(|r| r["kind"] == "approval"
            && r["data"]["decision"]["allowed"] == false
            && r["data"]["decision"]["how"] == "non-interactive"),
        "{trail}"
    );
    assert!(
        records.iter().any(|r| r["kind"] == "access"
            && r["data"]["op"] == "workspace-write"
            && r["data"]["allowed"] == false),
        "{trail}"
    );
}

/// `airlock mcp` on pipes, spoken to in raw JSON-RPC lines.
struct Raw {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    replies: std::sync::mpsc::Receiver<String>,
}

impl Raw {
    fn start(home: &Path, workspace: &Path) -> Self {
        let mut child = airlock_command(home)
            .args(["mcp", "-w", utf8(workspace)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start airlock mcp");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, replies) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            replies,
        }
    }

    fn send(&mut self, line: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line).expect("write");
        stdin.write_all(b"\n").expect("write");
        stdin.flush().expect("flush");
    }

    /// The next line on stdout, which must be JSON, within 30 s.
    fn next(&self) -> Value {
        let line = self
            .replies
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("a reply within 30 s");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// Close stdin; what came after, and the exit code.
    fn end(mut self) -> (Vec<String>, Option<i32>) {
        drop(self.stdin.take());
        let mut rest = Vec::new();
        loop {
            match self
                .replies
                .recv_timeout(std::time::Duration::from_secs(60))
            {
                Ok(line) => rest.push(line),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("airlock mcp did not end within 60 s of the end of its input");
                }
            }
        }
        let code = self.child.wait().expect("wait").code();
        (rest, code)
    }
}

const INITIALIZE: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;

#[test]
fn malformed_json_rpc_gets_a_protocol_error_and_the_session_goes_on() {
    let home = home_with(&[(guests::SECRET_SCAN, SECRET_SCAN, "read-only")]);
    let ws = workspace_with_a_key();
    let mut raw = Raw::start(home.path(), ws.path());

    raw.send(b"this is not JSON");
    let reply = raw.next();
    assert_eq!(reply["error"]["code"], -32700, "{reply}");
    assert_eq!(reply["id"], Value::Null);
    raw.send(b"{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"initialize\", \"params\": {");
    assert_eq!(raw.next()["error"]["code"], -32700);
    raw.send(b"[{\"jsonrpc\": \"2.0\", \"id\": 2, \"method\": \"ping\"}]");
    assert_eq!(raw.next()["error"]["code"], -32600);
    raw.send(b"{\"id\": 3, \"method\": \"ping\"}");
    let reply = raw.next();
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert_eq!(reply["id"], 3);
    raw.send(b"\xff\xfe\x00 not UTF-8");
    assert_eq!(raw.next()["error"]["code"], -32700);
    // Before `initialize` the SDK would end the session on anything but a
    // request: a notification or a stray response is dropped (no reply).
    raw.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    raw.send(br#"{"jsonrpc":"2.0","id":99,"result":{}}"#);

    // The session still works: initialize, an unknown method, a tool call.
    raw.send(br#"{"jsonrpc":"2.0","id":10,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#);
    let reply = raw.next();
    assert_eq!(reply["id"], 10, "{reply}");
    assert_eq!(reply["result"]["serverInfo"]["name"], "airlock", "{reply}");
    raw.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    raw.send(br#"{"jsonrpc":"2.0","id":11,"method":"no/such/method"}"#);
    let reply = raw.next();
    assert_eq!(reply["id"], 11);
    assert_eq!(reply["error"]["code"], -32601, "{reply}");
    raw.send(br#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"secret-scan","arguments":{"path":"/etc/shadow"}}}"#);
    let reply = raw.next();
    assert_eq!(reply["id"], 12);
    assert_eq!(reply["error"]["code"], -32602, "{reply}");
    // A call, then the end of input at once: the reply still comes.
    raw.send(br#"{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"secret-scan","arguments":{}}}"#);
    let (rest, code) = raw.end();
    assert_eq!(rest.len(), 1, "one reply after the end of input: {rest:?}");
    let reply: Value = serde_json::from_str(&rest[0]).expect("JSON");
    assert_eq!(reply["id"], 13, "{reply}");
    assert!(
        reply["result"]["structuredContent"]["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{reply}"
    );
    // End of input ends the session normally.
    assert_eq!(code, Some(0));
}

/// The audit records of `home`.
fn audit_records(home: &Path) -> Vec<Value> {
    ok(&airlock(home, &["audit", "show", "--json"]))
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

#[test]
fn a_clients_cancellation_stops_the_run_and_the_session_goes_on() {
    let home = home_with(&[(guests::ADVERSARY, WRITER, "workspace-write")]);
    let ws = workspace_with_a_key();
    let mut raw = Raw::start(home.path(), ws.path());
    raw.send(INITIALIZE);
    assert_eq!(raw.next()["id"], 1);
    raw.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    // Two calls whose skill loops until the profile's 120 s limit, unless
    // cancelled: they run side by side, and the session still answers.
    raw.send(br#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"writer","arguments":{"args":{"case":"loop"}}}}"#);
    raw.send(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"writer","arguments":{"args":{"case":"loop"}}}}"#);
    let started = std::time::Instant::now();
    let count = |kind: &str| {
        audit_records(home.path())
            .into_iter()
            .filter(|r| r["kind"] == kind)
            .collect::<Vec<_>>()
    };
    while count("run-start").len() < 2 {
        assert!(
            started.elapsed().as_secs() < 20,
            "the runs did not start in 20 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    raw.send(br#"{"jsonrpc":"2.0","id":4,"method":"ping"}"#);
    assert_eq!(raw.next()["id"], 4, "a ping is answered while skills run");
    raw.send(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"the user changed their mind"}}"#);
    raw.send(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#);

    let ends = loop {
        let ends = count("run-end");
        if ends.len() == 2 {
            break ends;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "the cancelled runs did not end in 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    for end in &ends {
        assert_eq!(end["data"]["outcome"], "cancelled", "{end}");
        assert!(
            end["data"]["elapsed-ms"]
                .as_u64()
                .is_some_and(|ms| ms < 30_000),
            "stopped by the cancellation, not the 120 s limit: {end}"
        );
    }
    raw.send(br#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#);
    assert_eq!(raw.next()["id"], 5);

    // A cancelled request gets no response (MCP's cancellation rule).
    let (rest, code) = raw.end();
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(code, Some(0));
    ok(&airlock(home.path(), &["audit", "verify"]));
}

#[test]
fn only_installed_plugins_can_be_served() {
    let home = home_with(&[(guests::SECRET_SCAN, SECRET_SCAN, "read-only")]);
    let ws = workspace_with_a_key();
    let out = airlock(
        home.path(),
        &["mcp", "-w", utf8(ws.path()), "--skill", guests::SECRET_SCAN],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout: {}",
        text(&out.stdout)
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("is installed (installed: secret-scan)"),
        "{stderr}"
    );

    let empty = tempfile::tempdir().expect("home");
    let out = airlock(empty.path(), &["mcp", "-w", utf8(ws.path())]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("no plugins are installed"));
}

/// The peak resident memory of a process, in bytes (`VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .expect("VmHWM in /proc status")
        * 1024
}

#[test]
fn mcp_over_long_line_is_refused() {
    let home = home_with(&[(guests::SECRET_SCAN, SECRET_SCAN, "read-only")]);
    let ws = workspace_with_a_key();
    let mut raw = Raw::start(home.path(), ws.path());
    raw.send(b"{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"ping\"}");
    assert_eq!(raw.next()["id"], 0, "the server is up");
    let before = peak_rss(raw.child.id());

    // One line of 256 MiB, sixteen times the longest message accepted.
    {
        let stdin = raw.stdin.as_mut().expect("stdin is open");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..256 {
            stdin.write_all(&chunk).expect("write");
        }
        stdin.write_all(b"\n").expect("write");
        stdin.flush().expect("flush");
    }
    let reply = raw.next();
    assert_eq!(reply["error"]["code"], -32600, "{reply}");
    assert!(
        reply["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("longer than 16777216 bytes")),
        "{reply}"
    );
    // The session goes on.
    raw.send(INITIALIZE);
    let reply = raw.next();
    assert_eq!(reply["id"], 1, "{reply}");
    let grown = peak_rss(raw.child.id()).saturating_sub(before);
    // The accepted 16 MiB are read into one buffer (which may double once);
    // the other 240 MiB must not be kept.
    assert!(
        grown < 96 * 1024 * 1024,
        "the server's peak memory grew by {} MiB for one over-long line",
        grown / (1024 * 1024)
    );
    let (_, code) = raw.end();
    assert_eq!(code, Some(0));
}

#[test]
fn concurrent_mcp_calls_each_run_once_and_none_fails_for_want_of_a_slot() {
    let home = home_with(&[(guests::ADVERSARY, WRITER, "workspace-write")]);
    let ws = workspace_with_a_key();
    // More calls at once than the engine has instance slots (16), each long
    // enough to overlap the others.
    let calls: Vec<Value> = (0..24)
        .map(|_| {
            serde_json::json!({
                "name": "writer",
                "arguments": { "args": { "case": "grants-loop", "n": "20000" } }
            })
        })
        .collect();
    let report = client_with(home.path(), &calls, &["-w", utf8(ws.path())], true);
    let results = report["calls"].as_array().expect("calls");
    assert_eq!(results.len(), 24);
    let mut runs = std::collections::BTreeSet::new();
    for result in results {
        assert_ne!(result["isError"], true, "{result:#}");
        let shown = result["content"][0]["text"].as_str().expect("text");
        assert!(shown.starts_with("ok: 20000\n"), "{shown}");
        runs.insert(
            result["structuredContent"]["run-id"]
                .as_str()
                .expect("run id")
                .to_string(),
        );
    }
    assert_eq!(runs.len(), 24, "each call is its own run");
    let records: Vec<Value> = ok(&airlock(
        home.path(),
        &["audit", "show", "--json", "--limit", "0"],
    ))
    .lines()
    .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    .collect();
    for run in &runs {
        let ends: Vec<&Value> = records
            .iter()
            .filter(|r| r["kind"] == "run-end" && r["run"] == run.as_str())
            .collect();
        assert_eq!(ends.len(), 1, "run {run}: {ends:?}");
        assert_eq!(ends[0]["data"]["outcome"], "ok", "{}", ends[0]);
    }
    ok(&airlock(home.path(), &["audit", "verify"]));
}

/// `airlock mcp ARGS` under the admin policy `policy`, for a client that
/// initializes, lists the tools and closes.
fn mcp_under(home: &Path, policy: &Path, args: &[&str]) -> Output {
    let mut child = airlock_command(home)
        .arg("mcp")
        .args(args)
        .env("AIRLOCK_POLICY_FILE", policy)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start airlock mcp");
    let mut session = INITIALIZE.to_vec();
    session.extend_from_slice(
        b"\n{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\n",
    );
    if let Some(mut stdin) = child.stdin.take() {
        // A refused session has exited already: a closed pipe is expected.
        let _ = stdin.write_all(&session);
    }
    child.wait_with_output().expect("wait for airlock mcp")
}

/// The tool names in a session's `tools/list` answer.
fn listed_tools(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|v| v["id"] == 2)
        .and_then(|v| v["result"]["tools"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t["name"].as_str().map(String::from))
        .collect()
}

#[test]
fn the_admin_policy_can_forbid_airlock_mcp_or_narrow_what_it_serves() {
    let Some((_off_dir, off)) = admin_policy("[mcp]\nallowed = false\n") else {
        return;
    };
    let home = home_with(&[
        (guests::SECRET_SCAN, SECRET_SCAN, "read-only"),
        (guests::ADVERSARY, WRITER, "workspace-write"),
    ]);
    let ws = workspace_with_a_key();
    let ws = utf8(ws.path());

    // Forbidden: refused before anything is served, naming file and key.
    let out = mcp_under(home.path(), &off, &["-w", ws]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        format!(
            "error: `airlock mcp` is forbidden by the admin policy ([mcp] allowed = false in $AIRLOCK_POLICY_FILE ({})): skills' results may not be handed to an MCP front-end on this machine. Run skills with `airlock run` instead, or ask the administrator\n",
            off.display()
        )
    );
    assert!(out.stdout.is_empty(), "no protocol was spoken");

    // Narrowed to one plugin: asking for another is refused; serving all
    // serves only the listed one.
    let Some((_plugins_dir, plugins)) = admin_policy("[mcp]\nplugins = [\"secret-scan\"]\n") else {
        return;
    };
    let out = mcp_under(home.path(), &plugins, &["-w", ws, "--skill", "writer"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with(&format!(
            "error: plugin `writer` may not be served over MCP: the admin policy allows only [mcp] plugins = [\"secret-scan\"] ($AIRLOCK_POLICY_FILE ({}))",
            plugins.display()
        )),
        "{}",
        text(&out.stderr)
    );
    let out = mcp_under(home.path(), &plugins, &["-w", ws]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("airlock mcp: not serving `writer`"),
        "{stderr}"
    );
    assert_eq!(listed_tools(&text(&out.stdout)), vec!["secret-scan"]);

    // Narrowed to one profile: a plugin reviewed under another is refused,
    // and so is a user's file that merely calls itself `read-only`.
    let Some((_profiles_dir, profiles)) = admin_policy("[mcp]\nprofiles = [\"read-only\"]\n")
    else {
        return;
    };
    let out = mcp_under(home.path(), &profiles, &["-w", ws, "--skill", "writer"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "plugin `writer` would be served under the profile `workspace-write` (built-in profile `workspace-write`), which the admin policy does not allow over MCP ([mcp] profiles = [\"read-only\"] in $AIRLOCK_POLICY_FILE ({}))",
            profiles.display()
        )),
        "{stderr}"
    );
    let spoof = home.path().join("spoof.toml");
    std::fs::write(&spoof, "name = \"read-only\"\n[[grant]]\npath = \".\"\n").expect("write");
    let out = mcp_under(
        home.path(),
        &profiles,
        &[
            "-w",
            ws,
            "--skill",
            "secret-scan",
            "--profile",
            utf8(&spoof),
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("which the admin policy does not allow over MCP"),
        "{}",
        text(&out.stderr)
    );
    let out = mcp_under(
        home.path(),
        &profiles,
        &["-w", ws, "--skill", "secret-scan"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(listed_tools(&text(&out.stdout)), vec!["secret-scan"]);
}
