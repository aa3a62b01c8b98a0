//! Host implementations of the `airlock:skill` interfaces, one module per
//! WIT interface, and the WASI subset a skill is linked with.

pub mod exec;
pub mod inference;
pub mod log;
pub mod types;
pub mod wasi;
pub mod workspace;
