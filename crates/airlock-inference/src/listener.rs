//! Who runs a loopback model server: the owner of its listening socket.
//!
//! Any local user can listen on a free loopback port. When the configured
//! server is down (or not yet started), another user's process can take its
//! port and answer in its place: read every prompt, and answer whatever it
//! likes. So before Airlock talks to a loopback server it looks up the
//! listening sockets that would accept the connection in `/proc/net/tcp` and
//! `/proc/net/tcp6` and requires each to be owned by the configured uid
//! (`engine.server-uid`, the admin policy's `[models] server-uid`, or by
//! default the user running Airlock).
//!
//! Linux lets a second socket share a listening port (`SO_REUSEPORT`) only
//! for the same effective uid, so while the right server listens, no other
//! user can listen beside it. What is not covered: the moment between this
//! check and the connection (the server would have to die and another user
//! bind the port in between); and a process of the configured user itself.

// Ambient std::fs allowed: reads /proc/net/tcp{,6} to find who owns a model server's socket.
#![allow(clippy::disallowed_methods)]

use super::EngineError;
use super::endpoint::Endpoint;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The `st` column value of a listening socket (`TCP_LISTEN`).
const TCP_LISTEN: &str = "0A";

/// The tables read, IPv4 first.
const TABLES: [(&str, Family); 2] = [
    ("/proc/net/tcp", Family::V4),
    ("/proc/net/tcp6", Family::V6),
];

/// Which table a line is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `/proc/net/tcp`.
    V4,
    /// `/proc/net/tcp6`.
    V6,
}

/// A listening TCP socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listener {
    /// The address and port it is bound to (unspecified: every address).
    pub local: SocketAddr,
    /// Its owner's uid.
    pub uid: u32,
}

/// The uid a loopback server must run as, and where that was decided (for
/// messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOwner {
    /// The uid.
    pub uid: u32,
    /// Where it was set: `engine.server-uid in FILE`, `[models] server-uid
    /// in FILE`, or the default.
    pub setting: String,
}

impl ServerOwner {
    /// The default: the user running Airlock (its effective uid).
    pub fn current_user() -> Self {
        Self {
            uid: rustix::process::geteuid().as_raw(),
            setting: "the default: the user running airlock; set engine.server-uid to the uid that runs the server".into(),
        }
    }
}

/// Why the server was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerError {
    /// Nothing listens on any of the endpoint's addresses.
    NotListening(String),
    /// A listener that would take the connection is someone else's.
    Foreign(String),
    /// The socket tables could not be read or parsed.
    Unreadable(String),
}

/// A line of a socket table that does not parse (the table is not used:
/// fail closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// Fewer than the 8 columns up to `uid`.
    #[error("line {line}: too few columns: `{text}`")]
    TooFewColumns {
        /// The line number, from 1 (the header is line 1).
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// `local_address` is not `ADDR:PORT` in the table's family.
    #[error("line {line}: bad local address: `{text}`")]
    BadLocalAddress {
        /// The line number, from 1.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
    /// `uid` is not a number.
    #[error("line {line}: bad uid: `{text}`")]
    BadUid {
        /// The line number, from 1.
        line: usize,
        /// The line, trimmed.
        text: String,
    },
}

/// Why the socket tables could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ListenersError {
    /// A table could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// `/proc/net/tcp` or `/proc/net/tcp6`.
        path: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// A table has a line that does not parse.
    #[error("{path} {error}")]
    Parse {
        /// `/proc/net/tcp` or `/proc/net/tcp6`.
        path: &'static str,
        /// The line.
        error: TableError,
    },
}

/// Every listening socket in one table's text (the contents of
/// `/proc/net/tcp` or `/proc/net/tcp6`). Lines that are not sockets in
/// LISTEN state are skipped; a malformed line is an error (fail closed).
pub fn parse_table(text: &str, family: Family) -> Result<Vec<Listener>, TableError> {
    let mut listeners = Vec::new();
    for (number, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let (line_number, text) = (number + 1, || line.trim().to_string());
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(local), Some(state), Some(uid)) = (fields.get(1), fields.get(3), fields.get(7))
        else {
            return Err(TableError::TooFewColumns {
                line: line_number,
                text: text(),
            });
        };
        if *state != TCP_LISTEN {
            continue;
        }
        let local = parse_socket(local, family).ok_or_else(|| TableError::BadLocalAddress {
            line: line_number,
            text: text(),
        })?;
        let uid = uid.parse().map_err(|_| TableError::BadUid {
            line: line_number,
            text: text(),
        })?;
        listeners.push(Listener { local, uid });
    }
    Ok(listeners)
}

/// `ADDR:PORT` as the kernel prints it: the address as 32-bit words in host
/// byte order (`%08X` each), the port in hex.
fn parse_socket(text: &str, family: Family) -> Option<SocketAddr> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words = |n: usize| -> Option<Vec<[u8; 4]>> {
        if addr.len() != 8 * n {
            return None;
        }
        (0..n)
            .map(|i| {
                let word = addr.get(8 * i..8 * i + 8)?;
                u32::from_str_radix(word, 16).ok().map(u32::to_ne_bytes)
            })
            .collect()
    };
    let ip = match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(*words(1)?.first()?)),
        Family::V6 => {
            let mut bytes = [0u8; 16];
            for (i, word) in words(4)?.into_iter().enumerate() {
                bytes.get_mut(4 * i..4 * i + 4)?.copy_from_slice(&word);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
    };
    Some(SocketAddr::new(ip, port))
}

/// Every listening TCP socket of this network namespace. A missing
/// `/proc/net/tcp6` (IPv6 disabled) counts as none.
pub fn listeners() -> Result<Vec<Listener>, ListenersError> {
    let mut all = Vec::new();
    for (path, family) in TABLES {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if family == Family::V6 && e.kind() == std::io::ErrorKind::NotFound => {
                continue;
            }
            Err(source) => return Err(ListenersError::Read { path, source }),
        };
        all.extend(
            parse_table(&text, family).map_err(|error| ListenersError::Parse { path, error })?,
        );
    }
    Ok(all)
}

/// The listeners that could accept a connection to `target`: bound to it,
/// or to every address of its family; for IPv4, also IPv6 sockets bound to
/// every address or to the IPv4-mapped address (dual-stack sockets; whether
/// one is `IPV6_V6ONLY` is not in the table, so it counts).
pub fn accepting(listeners: &[Listener], target: SocketAddr) -> Vec<Listener> {
    listeners
        .iter()
        .filter(|l| l.local.port() == target.port())
        .filter(|l| match (target.ip(), l.local.ip()) {
            (IpAddr::V4(want), IpAddr::V4(have)) => have == want || have.is_unspecified(),
            (IpAddr::V6(want), IpAddr::V6(have)) => have == want || have.is_unspecified(),
            (IpAddr::V4(want), IpAddr::V6(have)) => {
                have.is_unspecified() || have.to_ipv4_mapped() == Some(want)
            }
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        })
        .copied()
        .collect()
}

/// Check that every socket that would accept a connection to `endpoint`
/// is owned by `owner.uid`, and that at least one listens. `listeners` is
/// the current table ([`listeners`]), passed in so tests can use fixtures.
pub fn check_owner(
    endpoint: &Endpoint,
    owner: &ServerOwner,
    listeners: &[Listener],
) -> Result<(), OwnerError> {
    let mut found = 0;
    for addr in endpoint.addrs() {
        for listener in accepting(listeners, *addr) {
            found += 1;
            if listener.uid != owner.uid {
                return Err(OwnerError::Foreign(format!(
                    "{endpoint} is served by a process of uid {} (the socket listening on {}), not uid {} ({}): another local user may have taken the port while the server was down. Nothing was sent to it. Check who listens (`ss -ltnpe sport = :{}`), restart the real server, or set the uid that runs it",
                    listener.uid,
                    listener.local,
                    owner.uid,
                    owner.setting,
                    addr.port()
                )));
            }
        }
    }
    if found == 0 {
        let addrs: Vec<String> = endpoint.addrs().iter().map(ToString::to_string).collect();
        return Err(OwnerError::NotListening(format!(
            "cannot be reached (nothing listens on {}, so a connection would be refused); is the server running?",
            addrs.join(" or ")
        )));
    }
    Ok(())
}

/// [`check_owner`] on the current socket table.
pub fn check_endpoint(endpoint: &Endpoint, owner: &ServerOwner) -> Result<(), OwnerError> {
    let table = listeners().map_err(|e| {
        OwnerError::Unreadable(format!(
            "cannot check which user serves {endpoint}: {e}; Airlock does not talk to a loopback server it cannot identify"
        ))
    })?;
    check_owner(endpoint, owner, &table)
}

/// [`check_endpoint`] for an engine described as `who` (`Ollama at URL`),
/// as the engine's error: a foreign or unidentifiable server is
/// [`EngineError::UntrustedServer`] (the run is refused), nothing
/// listening is [`EngineError::Unavailable`].
pub(crate) fn check_server(
    who: &str,
    endpoint: &Endpoint,
    owner: &ServerOwner,
) -> Result<(), EngineError> {
    check_endpoint(endpoint, owner).map_err(|e| match e {
        OwnerError::NotListening(m) => EngineError::Unavailable(format!("{who} {m}")),
        OwnerError::Foreign(m) | OwnerError::Unreadable(m) => EngineError::UntrustedServer(m),
    })
}

#[cfg(test)]
mod tests;
