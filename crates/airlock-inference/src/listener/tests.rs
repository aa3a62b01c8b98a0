#![allow(clippy::unwrap_used)]

use super::*;

// Lines as a little-endian Linux prints them (x86_64, aarch64): each 32-bit
// word of the address in host byte order, so 127.0.0.1 is `0100007F`.
const TCP: &str = "\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2CAA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 48712 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21154 1 0000000000000000 100 0 0 10 0
   2: 0100007F:2CAA 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000  1000        0 50333 1 0000000000000000 20 4 30 10 -1
   3: 0200007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 50400 1 0000000000000000 100 0 0 10 0
";

const TCP6: &str = "\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31337 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 21156 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  4242        0 31338 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000001000000:1F91 00000000000000000000000001000000:A0B2 01 00000000:00000000 00:00000000 00000000  1000        0 31339 1 0000000000000000 20 4 30 10 -1
";

fn sock(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn owner(uid: u32) -> ServerOwner {
    ServerOwner {
        uid,
        setting: "engine.server-uid in config.toml".into(),
    }
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint::parse(url).unwrap()
}

fn fixture() -> Vec<Listener> {
    let mut all = parse_table(TCP, Family::V4).unwrap();
    all.extend(parse_table(TCP6, Family::V6).unwrap());
    all
}

#[cfg(target_endian = "little")]
#[test]
fn the_kernel_tables_are_parsed_listening_sockets_only() {
    assert_eq!(
        parse_table(TCP, Family::V4).unwrap(),
        vec![
            Listener {
                local: sock("127.0.0.1:11434"),
                uid: 998
            },
            Listener {
                local: sock("0.0.0.0:22"),
                uid: 0
            },
            Listener {
                local: sock("127.0.0.2:8080"),
                uid: 1000
            },
        ]
    );
    assert_eq!(
        parse_table(TCP6, Family::V6).unwrap(),
        vec![
            Listener {
                local: sock("[::1]:8080"),
                uid: 1000
            },
            Listener {
                local: sock("[::]:22"),
                uid: 0
            },
            Listener {
                local: sock("[::ffff:127.0.0.1]:3000"),
                uid: 4242
            },
        ]
    );
}

#[test]
fn a_malformed_table_is_an_error_not_an_empty_one() {
    let header = "  sl  local_address rem_address   st\n";
    for (line, why) in [
        ("   0: 0100007F:2CAA 00000000:0000\n", "too few columns"),
        (
            "   0: 0100007G:2CAA 00000000:0000 0A 0:0 0:0 0 998 0 1\n",
            "bad local address",
        ),
        (
            "   0: 0100007F 00000000:0000 0A 0:0 0:0 0 998 0 1\n",
            "bad local address",
        ),
        (
            "   0: 0100007F:2CAA 00000000:0000 0A 0:0 0:0 0 -1 0 1\n",
            "bad uid",
        ),
    ] {
        let err = parse_table(&format!("{header}{line}"), Family::V4)
            .unwrap_err()
            .to_string();
        assert_eq!(err, format!("line 2: {why}: `{}`", line.trim()));
    }
    // An IPv4-length address in the IPv6 table.
    let err = parse_table(
        &format!("{header}   0: 0100007F:2CAA 00000000:0000 0A 0:0 0:0 0 998 0 1\n"),
        Family::V6,
    )
    .unwrap_err();
    assert!(
        matches!(err, TableError::BadLocalAddress { line: 2, .. }),
        "{err}"
    );
    assert_eq!(parse_table(header, Family::V4).unwrap(), vec![]);
}

#[cfg(target_endian = "little")]
#[test]
fn the_sockets_that_would_accept_a_connection_are_found() {
    let all = fixture();
    // Exact IPv4 address.
    assert_eq!(
        accepting(&all, sock("127.0.0.1:11434")),
        vec![Listener {
            local: sock("127.0.0.1:11434"),
            uid: 998
        }]
    );
    // The IPv4 wildcard and the IPv6 wildcard (dual stack) both accept.
    let ssh: Vec<u32> = accepting(&all, sock("127.0.0.1:22"))
        .iter()
        .map(|l| l.uid)
        .collect();
    assert_eq!(ssh, vec![0, 0]);
    // An IPv4-mapped IPv6 socket accepts IPv4 connections.
    assert_eq!(accepting(&all, sock("127.0.0.1:3000")).len(), 1);
    // Another loopback address, another port, another family: no.
    assert!(accepting(&all, sock("127.0.0.1:8080")).is_empty());
    assert_eq!(accepting(&all, sock("127.0.0.2:8080")).len(), 1);
    assert_eq!(accepting(&all, sock("[::1]:8080")).len(), 1);
    assert!(accepting(&all, sock("[::1]:11434")).is_empty());
    assert!(accepting(&all, sock("[::1]:3000")).is_empty());
}

#[cfg(target_endian = "little")]
#[test]
fn the_owner_must_be_the_configured_uid() {
    let all = fixture();
    let ollama = endpoint("http://127.0.0.1:11434");
    assert_eq!(check_owner(&ollama, &owner(998), &all), Ok(()));
    let Err(OwnerError::Foreign(message)) = check_owner(&ollama, &owner(1000), &all) else {
        panic!("another uid must be refused");
    };
    assert!(
        message.starts_with(
            "http://127.0.0.1:11434/ is served by a process of uid 998 (the socket listening on 127.0.0.1:11434), not uid 1000 (engine.server-uid in config.toml)"
        ),
        "{message}"
    );
    assert!(message.contains("ss -ltnpe sport = :11434"), "{message}");

    // IPv6 loopback.
    assert_eq!(
        check_owner(&endpoint("http://[::1]:8080"), &owner(1000), &all),
        Ok(())
    );
    assert!(matches!(
        check_owner(&endpoint("http://[::1]:8080"), &owner(998), &all),
        Err(OwnerError::Foreign(_))
    ));

    // A dual-stack wildcard of another user would take IPv4 connections too.
    assert!(matches!(
        check_owner(&endpoint("http://127.0.0.1:22"), &owner(1000), &all),
        Err(OwnerError::Foreign(_))
    ));

    // Nothing listens: refused before any connection is tried.
    let Err(OwnerError::NotListening(message)) =
        check_owner(&endpoint("http://127.0.0.1:9"), &owner(1000), &all)
    else {
        panic!("a port nobody listens on must be refused");
    };
    assert_eq!(
        message,
        "cannot be reached (nothing listens on 127.0.0.1:9, so a connection would be refused); is the server running?"
    );
}

#[test]
fn a_real_listener_is_found_with_this_processs_uid() {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = socket.local_addr().unwrap().port();
    let me = ServerOwner::current_user();
    let url = format!("http://127.0.0.1:{port}");
    assert_eq!(check_endpoint(&endpoint(&url), &me), Ok(()));
    let other = owner(me.uid.wrapping_add(4242));
    assert!(matches!(
        check_endpoint(&endpoint(&url), &other),
        Err(OwnerError::Foreign(_))
    ));
    drop(socket);
    assert!(matches!(
        check_endpoint(&endpoint(&url), &me),
        Err(OwnerError::NotListening(_))
    ));
}
