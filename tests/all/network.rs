//! Network: a component that imports `wasi:sockets` (as any guest using
//! `std::net` does) or `wasi:http` is refused at load, before any code runs,
//! and the refusal names the import.

use airlock_runtime::LoadError;
use airlock_tests::{airlock, guests};
use std::path::Path;

fn load_error(path: &str) -> LoadError {
    match airlock().load(Path::new(path)) {
        Ok(_) => panic!("{path} must be refused"),
        Err(e) => e,
    }
}

#[test]
fn tcp_connect_guest_is_refused_before_running() {
    // The guest would print CONNECTED if it ever ran; it never gets the chance.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let err = load_error(guests::NET_TCP);
    let LoadError::NetworkImport { import, .. } = &err else {
        panic!("expected a network refusal, got {err}");
    };
    assert!(import.starts_with("wasi:sockets/"), "{import}");
    assert_eq!(
        err.to_string(),
        format!(
            "refused to run {}: it imports `{import}`. Airlock never grants network access to skills (no sockets, no DNS, no HTTP), so this component cannot run",
            guests::NET_TCP
        )
    );
    assert!(
        listener.accept().is_err(),
        "nothing connected to the loopback listener"
    );
}

#[test]
fn dns_lookup_guest_is_refused_before_running() {
    let err = load_error(guests::NET_DNS);
    let LoadError::NetworkImport { import, .. } = &err else {
        panic!("expected a network refusal, got {err}");
    };
    assert!(import.starts_with("wasi:sockets/"), "{import}");
}

#[test]
fn inspection_shows_the_network_imports() {
    let compiled = airlock()
        .compile(Path::new(guests::NET_TCP), &|_| {}, &|_| {})
        .unwrap();
    let interface = compiled.interface(airlock().engine());
    let sockets: Vec<&String> = interface
        .imports
        .iter()
        .filter(|i| i.starts_with("wasi:sockets/"))
        .collect();
    assert!(
        sockets.iter().any(|i| i.starts_with("wasi:sockets/tcp")),
        "imports: {:?}",
        interface.imports
    );
}

#[test]
fn a_skill_without_network_imports_has_none() {
    let compiled = airlock()
        .compile(Path::new(guests::ADVERSARY), &|_| {}, &|_| {})
        .unwrap();
    let interface = compiled.interface(airlock().engine());
    assert!(
        !interface
            .imports
            .iter()
            .any(|i| i.starts_with("wasi:sockets/") || i.starts_with("wasi:http/")),
        "{:?}",
        interface.imports
    );
    assert!(
        interface
            .imports
            .iter()
            .any(|i| i.starts_with("airlock:skill/workspace@0.1.0"))
    );
}
