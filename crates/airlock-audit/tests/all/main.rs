//! Tamper, crash and rotation tests of the audit log (library level).
//!
//! Every test writes a real log through the public API in a temporary home,
//! then changes its files the way an attacker (or a crash) would, and checks
//! what a user would check: `verify_log`'s verdict, and the record, line and
//! reason its failure names.

// Ambient std::fs allowed: test code builds its fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod concurrency;
mod crash;
mod errors;
mod rotation;
mod schema;
mod support;
mod tamper;
