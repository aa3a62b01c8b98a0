//! A real third-party OpenAI-compatible server for the HTTP backend's tests:
//! llama-cpp-python's `llama_cpp.server` (built by `scripts/setup-test-server`
//! into `target/llama-server-venv`) serving the test model on a free loopback
//! port.
//!
//! The server runs under a small `sh` guard that holds a pipe from this
//! process: when the test process exits, however it exits, the pipe closes
//! and the guard kills the server, so no server outlives its tests even when
//! it was shared through a `static`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The name the test server serves the model under (`/v1/models`).
pub const SERVED_NAME: &str = "smollm2-135m-instruct";

/// How long the server may take to load the model and answer `/v1/models`.
const STARTUP: Duration = Duration::from_secs(180);

/// Starts the server, then waits for the guard's stdin to close (the test
/// process ended, or [`LlamaServer`] was dropped) and kills it.
const GUARD: &str = r#"
"$0" -m llama_cpp.server "$@" >&2 &
echo "$!"
read -r _ignored
kill -9 "$!" 2>/dev/null
wait
"#;

/// A running llama-cpp-python server; killed when dropped.
pub struct LlamaServer {
    guard: Child,
    /// Closing it tells the guard to kill the server.
    guard_stdin: Option<ChildStdin>,
    pid: u32,
    /// Set once the server was killed, so its pid is never signalled again.
    killed: AtomicBool,
    port: u16,
    log: tempfile::NamedTempFile,
}

/// The virtual environment's python, or a panic saying how to build it.
fn python() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = std::env::var_os("AIRLOCK_TEST_SERVER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/llama-server-venv/bin/python"));
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup-test-server to build llama-cpp-python's server (about 8 minutes)",
        python.display()
    );
    python
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("find a free loopback port")
        .port()
}

impl LlamaServer {
    /// Start a server for the test model and wait until it answers.
    pub fn start() -> Self {
        let model = crate::test_model();
        let port = free_port();
        let log = tempfile::NamedTempFile::new().expect("server log file");
        let mut guard = Command::new("sh")
            .arg("-c")
            .arg(GUARD)
            .arg(python())
            .arg("--model")
            .arg(&model)
            .args(["--model_alias", SERVED_NAME])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--n_threads", "2"])
            // Its llama.cpp is built with OpenMP, whose threads spin while
            // they wait: on a busy 2-core machine that made generation ~30x
            // slower (1.4 s instead of 40 ms per token). Waiting passively
            // costs nothing when the machine is idle.
            .env("OMP_WAIT_POLICY", "PASSIVE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.reopen().expect("reopen the server log")))
            .spawn()
            .expect("start sh for llama-cpp-python's server");
        let guard_stdin = guard.stdin.take();
        let mut pid = String::new();
        let mut stdout = guard.stdout.take().expect("guard stdout");
        let mut byte = [0u8];
        while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            pid.push(char::from(byte[0]));
        }
        let pid = pid
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("the server guard printed no pid (`{pid}`)"));
        let server = Self {
            guard,
            guard_stdin,
            pid,
            killed: AtomicBool::new(false),
            port,
            log,
        };
        server.wait_ready();
        server
    }

    /// One server for the whole test process, started on first use.
    pub fn shared() -> &'static Self {
        static SERVER: std::sync::OnceLock<LlamaServer> = std::sync::OnceLock::new();
        SERVER.get_or_init(Self::start)
    }

    /// A turn on the shared server. llama-cpp-python serves one request at a
    /// time and, by default, ends a running stream early when another
    /// request arrives (`interrupt_requests`), so tests take turns.
    pub async fn turn() -> tokio::sync::MutexGuard<'static, ()> {
        static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        TURN.lock().await
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the server wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn alive(&self) -> bool {
        PathBuf::from(format!("/proc/{}", self.pid)).exists()
            && !std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
                .unwrap_or_default()
                .contains(") Z ")
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        loop {
            if let Some(status) = get(self.port, "/v1/models")
                && status.starts_with("HTTP/1.1 200")
            {
                return;
            }
            assert!(
                self.alive(),
                "llama-cpp-python's server exited before it answered; its stderr:\n{}",
                self.log()
            );
            assert!(
                start.elapsed() < STARTUP,
                "llama-cpp-python's server did not answer /v1/models within {STARTUP:?}; its stderr:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Kill the server at once (SIGKILL), as a crash would.
    pub fn kill(&self) {
        if self.killed.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-9", &self.pid.to_string()])
            .status();
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        self.kill();
        drop(self.guard_stdin.take());
        let _ = self.guard.wait();
    }
}

/// A plain HTTP/1.0 GET; the response's status line, if any.
fn get(port: u16, path: &str) -> Option<String> {
    let mut conn = TcpStream::connect(("127.0.0.1", port)).ok()?;
    conn.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(conn, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    conn.read_to_string(&mut response).ok()?;
    response.lines().next().map(str::to_string)
}
