//! Airlock's integration tests: one binary, one module per concern.
#![allow(clippy::unwrap_used)]

mod adversarial;
mod cache;
mod limits;
mod network;
mod plugins;
mod profiles;
mod smoke;
mod versions;
