//! What the inference benches share.

use std::path::PathBuf;

/// The GGUF the benches run: `AIRLOCK_BENCH_MODEL`, else the coding model
/// `scripts/fetch-coder-model` fetched; `None` without either.
pub fn model_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AIRLOCK_BENCH_MODEL") {
        return Some(PathBuf::from(path));
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/coder-model/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf");
    path.is_file().then_some(path)
}
