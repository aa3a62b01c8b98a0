//! The loopback-only rule for HTTP engines, and the one HTTP client they use.
//!
//! An endpoint must be `http://` to a loopback address: an IP in 127.0.0.0/8,
//! `::1`, or the name `localhost`, which is resolved once, when the
//! configuration is loaded, and only accepted if every address it resolves to
//! is loopback. Any other host name is refused without being resolved, so no
//! lookup ever leaves the machine. The client then connects to those checked
//! addresses only: no proxies from the environment, no redirects, connect and
//! read timeouts.
//!
//! It also holds what both HTTP engines share to read an answer: a bounded
//! line reader for NDJSON and server-sent events, error phrases that say what
//! the server did, and the task that feeds a [`TokenStream`](super::TokenStream).

use super::{EngineError, StreamEvent, StreamSender};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// A checked loopback HTTP endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    url: reqwest::Url,
    addrs: Vec<SocketAddr>,
}

/// Why an endpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("endpoint `{endpoint}` refused: {reason}")]
pub struct EndpointError {
    /// The endpoint as written.
    pub endpoint: String,
    /// Why, and what to write instead.
    pub reason: String,
}

/// Why the addresses `localhost` resolved to are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// It resolved to nothing.
    #[error("`localhost` resolves to no address")]
    NoAddress,
    /// One of them is not a loopback address.
    #[error(
        "`localhost` resolves to {0}, which is not a loopback address (check /etc/hosts). {only}",
        only = ONLY_LOOPBACK
    )]
    NotLoopback(IpAddr),
}

/// Connect and read timeouts for an HTTP engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Time to establish the TCP connection.
    pub connect: Duration,
    /// Longest silence while reading a response (between streamed pieces).
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(120),
        }
    }
}

const ONLY_LOOPBACK: &str = "Airlock talks only to inference servers on this machine; use http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT";

impl Endpoint {
    /// Check `raw` against the loopback-only rule.
    pub fn parse(raw: &str) -> Result<Self, EndpointError> {
        let refuse = |reason: String| EndpointError {
            endpoint: raw.to_string(),
            reason,
        };
        let url = reqwest::Url::parse(raw).map_err(|e| refuse(format!("not a URL ({e})")))?;
        if url.scheme() != "http" {
            return Err(refuse(format!(
                "scheme `{}` is not supported: the server is on this machine, so plain http:// is used",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(refuse("credentials in the URL are not supported".into()));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| refuse("no port".into()))?;
        let addrs = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(name)) if name.eq_ignore_ascii_case("localhost") => {
                let resolved: Vec<SocketAddr> = ("localhost", port)
                    .to_socket_addrs()
                    .map_err(|e| refuse(format!("`localhost` does not resolve ({e})")))?
                    .collect();
                check_resolved(&resolved).map_err(|e| refuse(e.to_string()))?;
                resolved
            }
            Some(url::Host::Domain(name)) => {
                return Err(refuse(format!(
                    "host `{name}` is a name other than localhost, and names are not resolved (a lookup could leave the machine). {ONLY_LOOPBACK}"
                )));
            }
            None => return Err(refuse("no host".into())),
        };
        if let Some(bad) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(refuse(format!(
                "{} is not a loopback address. {ONLY_LOOPBACK}",
                bad.ip()
            )));
        }
        Ok(Self { url, addrs })
    }

    /// The URL as configured.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// `path` (e.g. `/api/chat`) on this endpoint, after any base path the
    /// endpoint was configured with; the endpoint's query and fragment are
    /// dropped.
    pub fn join(&self, path: &str) -> reqwest::Url {
        let mut url = self.url.clone();
        let base = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!("{base}{path}"));
        url.set_query(None);
        url.set_fragment(None);
        url
    }

    /// The checked addresses the client may connect to.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The HTTP client for this endpoint: connects only to the checked
    /// addresses, ignores proxy settings, follows no redirect.
    pub fn client(&self, timeouts: Timeouts) -> Result<reqwest::Client, EndpointError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .read_timeout(timeouts.read)
            .http1_only()
            .user_agent(concat!("airlock/", env!("CARGO_PKG_VERSION")));
        if let Some(url::Host::Domain(name)) = self.url.host() {
            // Pin the name to the addresses checked at load time, so a later
            // lookup cannot send the connection elsewhere.
            builder = builder.resolve_to_addrs(name, &self.addrs);
        }
        builder.build().map_err(|e| EndpointError {
            endpoint: self.url.to_string(),
            reason: format!("cannot build the HTTP client: {e}"),
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.url.as_str())
    }
}

/// `localhost` must resolve, and only to loopback addresses.
pub fn check_resolved(addrs: &[SocketAddr]) -> Result<(), ResolveError> {
    if addrs.is_empty() {
        return Err(ResolveError::NoAddress);
    }
    if let Some(bad) = addrs.iter().find(|a| !a.ip().is_loopback()) {
        return Err(ResolveError::NotLoopback(bad.ip()));
    }
    Ok(())
}

/// Longest line a streaming server may send (one NDJSON object, one SSE
/// field). A server that sends more without a newline is broken; it does not
/// get to fill the host's memory.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// Largest whole (non-streamed) response body read.
pub(crate) const MAX_BODY: usize = 8 << 20;

/// How much of a server's error text a message quotes, in characters.
const MAX_ERROR_TEXT: usize = 300;

/// How much of an error response body is read to find its message.
const MAX_ERROR_BODY: usize = 64 << 10;

/// A phrase for a request that got no response: `cannot be reached (...)`.
pub(crate) fn request_failed(error: &reqwest::Error, timeouts: Timeouts) -> String {
    if error.is_connect() {
        if error.is_timeout() || root_cause(error).contains("timed out") {
            format!(
                "cannot be reached: no connection within {} s; is the server running?",
                timeouts.connect.as_secs_f32()
            )
        } else {
            format!(
                "cannot be reached ({}); is the server running?",
                root_cause(error)
            )
        }
    } else if error.is_timeout() {
        format!("did not answer within {} s", timeouts.read.as_secs_f32())
    } else {
        format!("did not answer ({})", root_cause(error))
    }
}

/// A phrase for a response body that could not be read to its end.
fn read_failed(error: &reqwest::Error, timeouts: Timeouts) -> String {
    if error.is_timeout() {
        format!("went silent for {} s", timeouts.read.as_secs_f32())
    } else {
        format!("closed the connection ({})", root_cause(error))
    }
}

/// The innermost error's message: reqwest's own is only "error decoding
/// response body" or "error sending request".
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = error;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}

/// A phrase for a response that is not a success: the status and the
/// server's own error text (`{"error": "..."}`, `{"error": {"message": ...}}`
/// or `{"detail": ...}`), shortened.
pub(crate) async fn status_failed(response: reqwest::Response, timeouts: Timeouts) -> String {
    let status = response.status();
    let body = read_body(response, MAX_ERROR_BODY, timeouts)
        .await
        .unwrap_or_default();
    let text = error_text(&body);
    if text.is_empty() {
        format!("answered HTTP {status}")
    } else {
        format!("answered HTTP {status}: {text}")
    }
}

/// The message in an error body, on one line and at most
/// [`MAX_ERROR_TEXT`] characters.
fn error_text(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => {
            let found = json
                .get("error")
                .map(|e| e.get("message").unwrap_or(e))
                .or_else(|| json.get("detail"));
            match found {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => json.to_string(),
            }
        }
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX_ERROR_TEXT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// Read a whole response body, refusing one over `max` bytes.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    max: usize,
    timeouts: Timeouts,
) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| read_failed(&e, timeouts))?
    {
        if body.len() + chunk.len() > max {
            return Err(format!("sent a response over {} bytes", max));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `GET path` on `endpoint`, its JSON body parsed as `T`. The error is a
/// phrase to follow the server's description ("did not answer ...").
pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    endpoint: &Endpoint,
    path: &str,
    timeouts: Timeouts,
) -> Result<T, String> {
    let response = client
        .get(endpoint.join(path))
        .send()
        .await
        .map_err(|e| request_failed(&e, timeouts))?;
    if !response.status().is_success() {
        let status = status_failed(response, timeouts).await;
        return Err(format!("did not answer GET {path}: it {status}"));
    }
    let body = read_body(response, MAX_BODY, timeouts).await?;
    serde_json::from_slice(&body)
        .map_err(|e| format!("sent a GET {path} answer that does not parse: {e}"))
}

/// Splits a streamed body into lines (NDJSON, server-sent events) as it
/// arrives, without trusting the server with memory: a line is at most
/// [`MAX_LINE`] bytes.
pub(crate) struct LineReader {
    response: reqwest::Response,
    timeouts: Timeouts,
    buf: Vec<u8>,
    /// Bytes of `buf` known to hold no newline.
    scanned: usize,
    eof: bool,
}

impl LineReader {
    /// Read `response`'s body line by line.
    pub(crate) fn new(response: reqwest::Response, timeouts: Timeouts) -> Self {
        Self {
            response,
            timeouts,
            buf: Vec::new(),
            scanned: 0,
            eof: false,
        }
    }

    /// The next line without its `\n` or `\r\n`; `None` at the end of the
    /// body. An error is a phrase saying what the server did.
    pub(crate) async fn next_line(&mut self) -> Result<Option<String>, String> {
        loop {
            if let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + at;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.scanned = 0;
                return utf8(line).map(Some);
            }
            self.scanned = self.buf.len();
            if self.buf.len() > MAX_LINE {
                return Err(format!(
                    "sent a line longer than {MAX_LINE} bytes without a line break"
                ));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                self.scanned = 0;
                return utf8(std::mem::take(&mut self.buf)).map(Some);
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buf.extend_from_slice(&chunk),
                Ok(None) => self.eof = true,
                Err(e) => return Err(read_failed(&e, self.timeouts)),
            }
        }
    }
}

fn utf8(line: Vec<u8>) -> Result<String, String> {
    String::from_utf8(line).map_err(|_| "sent a line that is not UTF-8".to_string())
}

/// Why a streaming task stopped early.
pub(crate) enum Halt {
    /// The reader dropped its [`TokenStream`](super::TokenStream): stop quietly.
    Cancelled,
    /// The engine failed; the reader gets this error.
    Failed(EngineError),
}

impl From<EngineError> for Halt {
    fn from(e: EngineError) -> Self {
        Self::Failed(e)
    }
}

/// Send one event; [`Halt::Cancelled`] if nobody reads the stream any more.
pub(crate) async fn emit(tx: &StreamSender, event: StreamEvent) -> Result<(), Halt> {
    tx.send(Ok(event)).await.map_err(|_| Halt::Cancelled)
}

/// Run `work` (which writes to a clone of `tx`) on the current tokio
/// runtime. It is dropped, closing its connection, as soon as the reader
/// drops the stream; its error, if any, is the stream's last item.
pub(crate) fn spawn_stream<F>(who: &str, tx: StreamSender, work: F) -> Result<(), EngineError>
where
    F: Future<Output = Result<(), Halt>> + Send + 'static,
{
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        EngineError::Unavailable(format!(
            "{who} cannot be asked: no async runtime is running (a host bug)"
        ))
    })?;
    runtime.spawn(async move {
        let outcome = tokio::select! {
            outcome = work => outcome,
            () = tx.closed() => Err(Halt::Cancelled),
        };
        if let Err(Halt::Failed(e)) = outcome {
            let _ = tx.send(Err(e)).await;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses_are_accepted() {
        for raw in [
            "http://127.0.0.1:8080",
            "http://127.0.0.2:8080/",
            "http://[::1]:8080",
            "http://localhost:11434",
            "http://LOCALHOST:11434",
        ] {
            let endpoint = Endpoint::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert!(
                endpoint.addrs().iter().all(|a| a.ip().is_loopback()),
                "{raw}"
            );
        }
    }

    #[test]
    fn other_hosts_are_refused_with_the_reason() {
        for (raw, why) in [
            (
                "http://10.0.0.1:11434",
                "10.0.0.1 is not a loopback address",
            ),
            ("http://0.0.0.0:11434", "0.0.0.0 is not a loopback address"),
            ("http://[::ffff:127.0.0.1]:1", "is not a loopback address"),
            ("http://example.com", "names are not resolved"),
            ("http://localhost.example.com:1", "names are not resolved"),
            ("https://127.0.0.1:1", "scheme `https` is not supported"),
            ("http://user:pw@127.0.0.1:1", "credentials in the URL"),
            ("http://user@127.0.0.1:1", "credentials in the URL"),
            ("localhost:8080", "scheme `localhost` is not supported"),
            ("not a url", "not a URL"),
        ] {
            let err = Endpoint::parse(raw).expect_err(raw);
            assert_eq!(err.endpoint, raw);
            assert!(err.to_string().contains(why), "{raw}: {err}");
        }
    }

    #[test]
    fn localhost_resolving_elsewhere_is_refused() {
        let loopback: SocketAddr = "127.0.0.1:80".parse().unwrap_or_else(|e| panic!("{e}"));
        let elsewhere: SocketAddr = "192.0.2.7:80".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(check_resolved(&[loopback]), Ok(()));
        let err = check_resolved(&[loopback, elsewhere]).expect_err("must refuse");
        assert_eq!(
            err.to_string(),
            format!(
                "`localhost` resolves to 192.0.2.7, which is not a loopback address (check /etc/hosts). {ONLY_LOOPBACK}"
            )
        );
        assert_eq!(
            check_resolved(&[]).map_err(|e| e.to_string()),
            Err("`localhost` resolves to no address".to_string())
        );
    }

    #[test]
    fn join_appends_to_the_base_path_and_drops_query_and_fragment() {
        let plain = Endpoint::parse("http://127.0.0.1:8080").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            plain.join("/api/chat").as_str(),
            "http://127.0.0.1:8080/api/chat"
        );
        let based =
            Endpoint::parse("http://127.0.0.1:8080/proxy/?x=1#f").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            based.join("/v1/models").as_str(),
            "http://127.0.0.1:8080/proxy/v1/models"
        );
    }

    #[test]
    fn error_text_finds_the_servers_message_and_shortens_it() {
        assert_eq!(
            error_text(br#"{"error":"model 'x' not found"}"#),
            "model 'x' not found"
        );
        assert_eq!(
            error_text(br#"{"error":{"message":"too long","type":"invalid_request_error"}}"#),
            "too long"
        );
        assert_eq!(error_text(br#"{"detail":"Not Found"}"#), "Not Found");
        assert_eq!(error_text(b"plain\n  text"), "plain text");
        let long = "x".repeat(1000);
        assert_eq!(
            error_text(long.as_bytes()).chars().count(),
            MAX_ERROR_TEXT + 1
        );
    }
}
