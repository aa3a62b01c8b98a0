//! stdin and stdout for the MCP session, with a filter in front of the SDK:
//! every line that is not a JSON-RPC 2.0 message gets the JSON-RPC error a
//! client expects (`-32700` parse error, `-32600` invalid request) and the
//! session goes on. Lines that pass go to the SDK unchanged; its replies and
//! the filter's share one writer, so they never interleave.
//!
//! What rmcp 3.11 does on its own, measured: a line that is not JSON is
//! dropped without a reply; JSON that is not a message gets `-32600` without
//! an `id`; and a notification, response or error before `initialize` ends
//! the session. The filter answers the first two properly and drops the
//! third (there is nothing to answer) with a note on stderr.

use serde_json::{Value, json};
use std::io::{BufRead, Read, Write};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, DuplexStream};

/// The longest message accepted, in bytes (a tool call's arguments are a
/// few KB; 16 MiB leaves room for large inputs). A longer line is never held
/// in memory: it gets a `-32600` error and is skipped as it arrives.
pub const MAX_LINE: u64 = 16 * 1024 * 1024;

/// What to do with one input line.
#[derive(Debug, PartialEq)]
pub enum Check {
    /// A JSON-RPC 2.0 message: the SDK handles it.
    Forward,
    /// Blank: nothing to do.
    Skip,
    /// Not one: this error goes back.
    Reply(Value),
}

/// Judge one line of input.
pub fn check(line: &[u8]) -> Check {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Check::Skip;
    }
    let value: Value = match serde_json::from_slice(line) {
        Ok(v) => v,
        Err(e) => return Check::Reply(error(Value::Null, -32700, &format!("Parse error: {e}"))),
    };
    match &value {
        Value::Object(map) => {
            let id = map.get("id").cloned().unwrap_or(Value::Null);
            if map.get("jsonrpc") != Some(&Value::String("2.0".into())) {
                return Check::Reply(error(
                    id,
                    -32600,
                    "Invalid Request: not a JSON-RPC 2.0 message (\"jsonrpc\": \"2.0\" is missing)",
                ));
            }
            if !map.contains_key("method")
                && !map.contains_key("result")
                && !map.contains_key("error")
            {
                return Check::Reply(error(
                    id,
                    -32600,
                    "Invalid Request: a message needs a method, a result or an error",
                ));
            }
            Check::Forward
        }
        Value::Array(_) => Check::Reply(error(
            Value::Null,
            -32600,
            "Invalid Request: batches are not supported; send one message per line",
        )),
        _ => Check::Reply(error(
            Value::Null,
            -32600,
            "Invalid Request: a message must be a JSON object",
        )),
    }
}

/// Where the session stands, as far as the filter can tell.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub enum Phase {
    /// No `initialize` request has gone to the SDK yet.
    #[default]
    BeforeInitialize,
    /// One has.
    Initializing,
}

/// Before `initialize`, the SDK takes only requests: anything else would
/// end the session, so it is dropped (a notification or a stray response
/// has no reply to give). Returns whether to forward `line`, which
/// [`check`] passed, and the phase after it.
pub fn admit(phase: Phase, line: &[u8]) -> (bool, Phase) {
    if phase == Phase::Initializing {
        return (true, phase);
    }
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(line) else {
        return (false, phase);
    };
    let is_request = map.get("method").is_some_and(Value::is_string)
        && map.get("id").is_some_and(|id| !id.is_null());
    if !is_request {
        return (false, phase);
    }
    let initialize = map.get("method").and_then(Value::as_str) == Some("initialize")
        && map.get("params").is_some_and(Value::is_object);
    if initialize {
        (true, Phase::Initializing)
    } else {
        (true, phase)
    }
}

/// Read past the next newline, holding at most one buffer of input at a
/// time. Whether a newline came (`false`: end of input or a read error).
fn skip_line(input: &mut impl BufRead) -> bool {
    loop {
        let (found, used) = match input.fill_buf() {
            Ok([]) | Err(_) => return false,
            Ok(buf) => match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (true, i + 1),
                None => (false, buf.len()),
            },
        };
        input.consume(used);
        if found {
            return true;
        }
    }
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// What the stdout thread writes.
enum Out {
    Line(String),
    /// Everything before this is written: say so.
    Flushed(tokio::sync::oneshot::Sender<()>),
}

/// The session's end: what the SDK wrote last reaches stdout.
pub struct Drain {
    forwarder: tokio::task::JoinHandle<()>,
    out: std::sync::mpsc::Sender<Out>,
}

impl Drain {
    /// Wait until the SDK's last reply is written to stdout (call after the
    /// SDK's session ended; it closes its output then). Bounded, so that a
    /// client that stopped reading cannot hold the process.
    pub async fn finish(self) {
        let bounded = Duration::from_secs(5);
        let _ = tokio::time::timeout(bounded, self.forwarder).await;
        let (done, written) = tokio::sync::oneshot::channel();
        if self.out.send(Out::Flushed(done)).is_ok() {
            let _ = tokio::time::timeout(bounded, written).await;
        }
    }
}

/// The SDK's input and output streams, wired to the process's stdin and
/// stdout through the filter, and what ends the session cleanly. Call from
/// inside the Tokio runtime.
pub fn filtered() -> (DuplexStream, DuplexStream, Drain) {
    let (mut to_sdk, sdk_input) = tokio::io::duplex(1 << 20);
    let (sdk_output, from_sdk) = tokio::io::duplex(1 << 20);
    let (out_tx, out_rx) = std::sync::mpsc::channel::<Out>();

    // The one writer of stdout.
    std::thread::spawn(move || {
        let mut out = std::io::stdout().lock();
        for message in out_rx {
            match message {
                Out::Line(line) => {
                    let written = out
                        .write_all(line.as_bytes())
                        .and_then(|()| out.write_all(b"\n"))
                        .and_then(|()| out.flush());
                    if written.is_err() {
                        break;
                    }
                }
                Out::Flushed(done) => {
                    let _ = done.send(());
                }
            }
        }
    });
    let replies = out_tx.clone();
    let sdk_lines = out_tx.clone();
    let forwarder = tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(from_sdk).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if sdk_lines.send(Out::Line(line)).is_err() {
                break;
            }
        }
    });

    // stdin is read on a thread of its own (a blocking read cannot be
    // cancelled); accepted lines reach the SDK through a channel.
    let (in_tx, mut in_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut stdin = stdin.lock();
        let mut phase = Phase::default();
        let reply = |value: Value| replies.send(Out::Line(value.to_string())).is_ok();
        loop {
            let mut line = Vec::new();
            let n = match (&mut stdin).take(MAX_LINE + 1).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if n as u64 > MAX_LINE && !line.ends_with(b"\n") {
                // Skip the rest of the over-long line without keeping it,
                // then say why.
                drop(line);
                if !skip_line(&mut stdin) {
                    let _ = reply(error(
                        Value::Null,
                        -32600,
                        &format!("Invalid Request: a message longer than {MAX_LINE} bytes"),
                    ));
                    break;
                }
                let too_long = error(
                    Value::Null,
                    -32600,
                    &format!("Invalid Request: a message longer than {MAX_LINE} bytes"),
                );
                if !reply(too_long) {
                    break;
                }
                continue;
            }
            match check(&line) {
                Check::Skip => {}
                Check::Forward => {
                    let (forward, next) = admit(phase, &line);
                    phase = next;
                    if !forward {
                        eprintln!(
                            "airlock mcp: ignored a message before `initialize` that is not a request"
                        );
                    } else if in_tx.blocking_send(line).is_err() {
                        break;
                    }
                }
                Check::Reply(value) => {
                    if !reply(value) {
                        break;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        while let Some(mut line) = in_rx.recv().await {
            if !line.ends_with(b"\n") {
                line.push(b'\n');
            }
            if to_sdk.write_all(&line).await.is_err() {
                break;
            }
        }
        // End of input: the SDK sees it and ends the session.
        let _ = to_sdk.shutdown().await;
    });
    (
        sdk_input,
        sdk_output,
        Drain {
            forwarder,
            out: out_tx,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: Check) -> i64 {
        match c {
            Check::Reply(v) => v["error"]["code"].as_i64().unwrap_or_default(),
            other => panic!("expected an error reply, got {other:?}"),
        }
    }

    #[test]
    fn malformed_lines_get_json_rpc_errors() {
        assert_eq!(code(check(b"this is not json\n")), -32700);
        assert_eq!(code(check(b"{\"jsonrpc\": \"2.0\", \"id\": 1,")), -32700);
        assert_eq!(code(check(b"[1, 2]")), -32600);
        assert_eq!(code(check(b"42")), -32600);
        assert_eq!(code(check(b"{\"id\": 3, \"method\": \"ping\"}")), -32600);
        assert_eq!(code(check(b"{\"jsonrpc\": \"2.0\", \"id\": 4}")), -32600);
        assert_eq!(code(check(b"\xff\xfe")), -32700);
        match check(b"{\"id\": 7, \"method\": \"ping\"}") {
            Check::Reply(v) => assert_eq!(v["id"], 7),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_over_long_line_is_skipped_without_keeping_it() {
        // 1 MiB with no newline, read 4 KiB at a time, then the next line.
        let mut input = std::io::BufReader::with_capacity(
            4096,
            std::io::Cursor::new([vec![b'x'; 1 << 20], b"\nnext\n".to_vec()].concat()),
        );
        assert!(skip_line(&mut input));
        let mut rest = String::new();
        input.read_line(&mut rest).expect("read");
        assert_eq!(rest, "next\n");
        assert!(!skip_line(&mut std::io::Cursor::new(
            b"no newline".to_vec()
        )));
    }

    #[test]
    fn messages_pass_and_blank_lines_are_skipped() {
        assert_eq!(
            check(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"),
            Check::Forward
        );
        assert_eq!(check(b"  \n"), Check::Skip);
    }

    #[test]
    fn only_requests_reach_the_sdk_before_initialize() {
        let before = Phase::BeforeInitialize;
        let notification = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
        let response = br#"{"jsonrpc":"2.0","id":1,"result":{}}"#;
        let ping = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
        let initialize = br#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}"#;
        let bad_initialize = br#"{"jsonrpc":"2.0","id":2,"method":"initialize","params":5}"#;
        assert_eq!(admit(before, notification), (false, before));
        assert_eq!(admit(before, response), (false, before));
        assert_eq!(admit(before, ping), (true, before));
        assert_eq!(admit(before, bad_initialize), (true, before));
        assert_eq!(admit(before, initialize), (true, Phase::Initializing));
        let after = Phase::Initializing;
        assert_eq!(admit(after, notification), (true, after));
        assert_eq!(admit(after, response), (true, after));
    }
}
