//! `admit` — may this plugin (or bare component) run? — tested through the
//! library alone, without spawning the `airlock` binary and without linking
//! wasmtime.
//!
//! Every test builds a real Airlock home in a temporary directory: a
//! publisher key trusted in the trust store, a package packed and signed
//! through the library's own API and installed into the plugin store, and an
//! admin policy parsed from TOML text. Each checks what a user would check:
//! whether the plugin resolves, to which file and signer, and the refusal
//! and its message when it does not.

// Ambient std::fs allowed: test code builds its fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod resolve;
mod review;
mod roles;
mod support;
