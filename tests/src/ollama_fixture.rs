//! A **test fixture**, not Ollama: a tiny HTTP/1.1 server on `127.0.0.1:0`
//! that replays the response shapes of Ollama's documented API
//! (<https://github.com/ollama/ollama/blob/main/docs/api.md>) so the Ollama
//! backend can be tested without installing Ollama:
//!
//! - `GET /api/tags`: `{"models": [{"name", "model", "digest", ...}]}`, the
//!   digest as bare hex and configurable (to test drift);
//! - `POST /api/chat`: with `"stream": true` (Ollama's default) NDJSON
//!   objects `{"message": {"role": "assistant", "content": PIECE}, "done":
//!   false}` sent as HTTP chunks, then a last object with `"done": true`,
//!   `done_reason`, `prompt_eval_count` and `eval_count`; with `"stream":
//!   false` that last object alone, holding the whole answer. An unknown
//!   model gets 404 `{"error": "model \"x\" not found, try pulling it first"}`.
//!
//! It records every request (method, path, JSON body) so tests can assert
//! what the backend sent, and it can misbehave on purpose: close the
//! connection mid-answer, stall without closing, or send a line that never
//! ends.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How `/api/chat` ends its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Normally, with the `done` object.
    Complete,
    /// Close the connection after this many pieces (a killed server).
    CloseAfter(usize),
    /// Send this many pieces, then go silent for a minute without closing.
    StallAfter(usize),
    /// Send one line that never ends (up to 64 MiB, or until the client
    /// closes the connection).
    EndlessLine,
}

/// What the fixture serves.
#[derive(Debug, Clone)]
pub struct FixtureConfig {
    /// The model name `/api/tags` lists and `/api/chat` accepts.
    pub model: String,
    /// Its digest as Ollama reports it: bare lowercase hex.
    pub digest: String,
    /// The answer, piece by piece (one NDJSON line each when streamed).
    pub answer: Vec<String>,
    /// What `prompt_eval_count` reports.
    pub prompt_tokens: u32,
    /// Pause before each streamed piece.
    pub piece_delay: Duration,
    /// How the answer ends.
    pub ending: Ending,
}

impl Default for FixtureConfig {
    fn default() -> Self {
        Self {
            model: "llama3.2:1b".into(),
            digest: "baf6a787fdffd633537aa2eb51cfd54cb93ff08e28040095462bb63daf552878".into(),
            answer: ["The", " sky", " is", " blue", "."]
                .map(String::from)
                .to_vec(),
            prompt_tokens: 26,
            piece_delay: Duration::ZERO,
            ending: Ending::Complete,
        }
    }
}

/// A request the fixture received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/api/chat`.
    pub path: String,
    /// The body parsed as JSON (`Null` when empty or not JSON).
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    /// Streams the client abandoned (a write failed before the end).
    abandoned: Mutex<usize>,
    stop: AtomicBool,
}

/// The running fixture; stops accepting connections when dropped.
pub struct OllamaFixture {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl OllamaFixture {
    /// Serve `config` on a free loopback port.
    pub fn start(config: FixtureConfig) -> Self {
        Self::start_on("127.0.0.1:0", config)
    }

    /// Serve `config` on `addr` (a loopback address).
    pub fn start_on(addr: &str, config: FixtureConfig) -> Self {
        let listener = TcpListener::bind(addr).expect("bind the Ollama fixture");
        let addr = listener.local_addr().expect("fixture address");
        let shared = Arc::new(Shared::default());
        let config = Arc::new(config);
        let accept_shared = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = accept_shared.clone();
                let config = config.clone();
                std::thread::spawn(move || serve(conn, &config, &shared));
            }
        });
        Self { addr, shared }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The last `/api/chat` body received.
    pub fn last_chat(&self) -> Value {
        self.requests()
            .into_iter()
            .rev()
            .find(|r| r.path == "/api/chat")
            .map(|r| r.body)
            .expect("the fixture received no /api/chat request")
    }

    /// How many streamed answers the client stopped reading (the
    /// connection was closed while pieces were still being sent).
    pub fn abandoned(&self) -> usize {
        *self.shared.abandoned.lock().unwrap()
    }
}

impl Drop for OllamaFixture {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// Serve one connection (keep-alive: several requests).
fn serve(conn: TcpStream, config: &FixtureConfig, shared: &Shared) {
    let mut reader = BufReader::new(conn.try_clone().expect("clone the connection"));
    let mut conn = conn;
    loop {
        let Some((method, path, body)) = read_request(&mut reader) else {
            return;
        };
        shared.requests.lock().unwrap().push(Recorded {
            method: method.clone(),
            path: path.clone(),
            body: body.clone(),
        });
        let keep_going = match (method.as_str(), path.as_str()) {
            ("GET", "/api/tags") => {
                let tags = json!({"models": [{
                    "name": config.model,
                    "model": config.model,
                    "modified_at": "2024-10-01T10:00:00.000000000Z",
                    "size": 1_321_098_329u64,
                    "digest": config.digest,
                    "details": {"format": "gguf", "family": "llama", "parameter_size": "1.2B", "quantization_level": "Q8_0"}
                }]});
                respond_json(&mut conn, "200 OK", &tags)
            }
            ("POST", "/api/chat") => chat(&mut conn, &body, config, shared),
            _ => respond_json(
                &mut conn,
                "404 Not Found",
                &json!({"error": format!("{method} {path} is not part of the fixture")}),
            ),
        };
        if !keep_going {
            return;
        }
    }
}

/// One request: method, path and the body as JSON. `None` when the client
/// closed the connection.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Value)> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Some((method, path, body))
}

fn respond_json(conn: &mut TcpStream, status: &str, body: &Value) -> bool {
    let body = body.to_string();
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .is_ok()
}

fn chunk(conn: &mut TcpStream, line: &Value) -> std::io::Result<()> {
    chunk_raw(conn, &format!("{line}\n"))
}

fn chunk_raw(conn: &mut TcpStream, data: &str) -> std::io::Result<()> {
    write!(conn, "{:x}\r\n{data}\r\n", data.len())?;
    conn.flush()
}

/// `/api/chat`, as Ollama answers it.
fn chat(conn: &mut TcpStream, body: &Value, config: &FixtureConfig, shared: &Shared) -> bool {
    let model = body["model"].as_str().unwrap_or_default();
    if model != config.model {
        return respond_json(
            conn,
            "404 Not Found",
            &json!({"error": format!("model \"{model}\" not found, try pulling it first")}),
        );
    }
    let limit = body["options"]["num_predict"]
        .as_u64()
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let pieces: Vec<&String> = config.answer.iter().take(limit).collect();
    let done_reason = if pieces.len() < config.answer.len() {
        "length"
    } else {
        "stop"
    };
    let done = |content: String| {
        json!({
            "model": config.model,
            "created_at": "2024-10-01T10:00:01.000000000Z",
            "message": {"role": "assistant", "content": content},
            "done_reason": done_reason,
            "done": true,
            "total_duration": 4_883_583_458u64,
            "load_duration": 1_334_875u64,
            "prompt_eval_count": config.prompt_tokens,
            "prompt_eval_duration": 342_546_000u64,
            "eval_count": pieces.len(),
            "eval_duration": 4_535_599_000u64
        })
    };
    // Ollama streams unless told not to.
    if body["stream"] == Value::Bool(false) {
        let whole: String = pieces.iter().map(|p| p.as_str()).collect();
        return respond_json(conn, "200 OK", &done(whole));
    }
    if write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .is_err()
    {
        return false;
    }
    if config.ending == Ending::EndlessLine {
        let junk = format!("{{\"message\": {{\"content\": \"{}", "x".repeat(64 << 10));
        for _ in 0..1024 {
            if chunk_raw(conn, &junk).is_err() {
                *shared.abandoned.lock().unwrap() += 1;
                break;
            }
        }
        return false;
    }
    for (i, piece) in pieces.iter().enumerate() {
        match config.ending {
            Ending::CloseAfter(n) if i == n => {
                let _ = conn.shutdown(Shutdown::Both);
                return false;
            }
            Ending::StallAfter(n) if i == n => {
                std::thread::sleep(Duration::from_secs(60));
                return false;
            }
            _ => {}
        }
        std::thread::sleep(config.piece_delay);
        let line = json!({
            "model": config.model,
            "created_at": "2024-10-01T10:00:01.000000000Z",
            "message": {"role": "assistant", "content": piece},
            "done": false
        });
        if chunk(conn, &line).is_err() {
            *shared.abandoned.lock().unwrap() += 1;
            return false;
        }
    }
    if chunk(conn, &done(String::new())).is_err() || write!(conn, "0\r\n\r\n").is_err() {
        *shared.abandoned.lock().unwrap() += 1;
        return false;
    }
    true
}
