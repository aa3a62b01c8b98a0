//! Airlock's integration tests: one binary, one module per concern.

// Ambient std::fs allowed: test code builds its fixtures with std::fs.
#![allow(clippy::disallowed_methods)]
#![allow(clippy::unwrap_used)]

mod adversarial;
mod architecture;
mod cache;
mod inference;
mod inference_http;
mod inference_skills_http;
mod limits;
mod network;
mod plugins;
mod plugins_inference;
mod profiles;
mod smoke;
mod versions;
