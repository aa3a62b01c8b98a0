//! What a stored GGUF file says about itself (`airlock model show`), and the
//! check that llama.cpp can load a file before it enters the store.

use super::{LockedModel, ModelError, ModelStore, gguf};
use crate::embedded::llama_backend;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What `airlock model show` presents: the lock entry plus what the GGUF
/// file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ModelInfo {
    /// The lock entry.
    pub model: LockedModel,
    /// The stored file.
    pub path: PathBuf,
    /// `general.architecture` (`llama`, `qwen2`, ...).
    pub architecture: Option<String>,
    /// Number of parameters (weights).
    pub parameters: u64,
    /// The quantization, from `general.file_type` (`Q4_1`, `Q4_K_M`, ...).
    pub quantization: Option<String>,
    /// The context length it was trained with, in tokens.
    pub context_length: Option<u64>,
    /// `general.license`.
    pub license: Option<String>,
    /// The default chat template (Jinja), if the file has one.
    pub chat_template: Option<String>,
    /// GGUF format version.
    pub gguf_version: u32,
    /// Number of tensors.
    pub tensors: u64,
    /// Every metadata key and value, in file order (arrays longer than 16
    /// by element type and length only).
    pub metadata: Vec<(String, gguf::Value)>,
}

impl ModelStore {
    /// Read what a stored GGUF file says about itself, after the cheap
    /// check (a drifted file is refused, not parsed).
    pub fn metadata(&self, name: &str) -> Result<ModelInfo, ModelError> {
        let model = self.get(name)?;
        let path = self.check(&model)?;
        let llama = load_vocab_only(&path)?;
        let header = gguf::read_header(&path).map_err(|e| ModelError::Unloadable {
            file: path.clone(),
            reason: format!("its GGUF header cannot be read ({e})"),
        })?;
        let text = |key: &str| {
            header
                .get(key)
                .and_then(gguf::Value::as_str)
                .map(str::to_string)
        };
        let architecture = text("general.architecture");
        let context_length = architecture
            .as_ref()
            .and_then(|a| header.get(&format!("{a}.context_length")))
            .and_then(gguf::Value::as_u64)
            .or_else(|| Some(u64::from(llama.n_ctx_train())).filter(|n| *n > 0));
        let parameters = match llama.n_params() {
            0 => header.parameters,
            n => n,
        };
        let chat_template = llama
            .chat_template(None)
            .ok()
            .and_then(|t| t.to_string().ok())
            .or_else(|| text("tokenizer.chat_template"));
        let quantization = header
            .get("general.file_type")
            .and_then(gguf::Value::as_u64)
            .map(|t| {
                gguf::file_type_name(t).map_or_else(|| format!("file type {t}"), str::to_string)
            });
        Ok(ModelInfo {
            path,
            architecture,
            parameters,
            quantization,
            context_length,
            license: text("general.license"),
            chat_template,
            gguf_version: header.version,
            tensors: header.tensors,
            metadata: header.metadata,
            model,
        })
    }
}

/// Load only the vocabulary and metadata: enough for llama.cpp to parse the
/// whole header, check every tensor lies inside the file and know the
/// architecture, without reading the weights.
fn load_vocab_only(path: &Path) -> Result<LlamaModel, ModelError> {
    if path.to_str().is_none() {
        return Err(ModelError::Unloadable {
            file: path.to_path_buf(),
            reason: "its path is not valid UTF-8, which llama.cpp needs; rename or move it".into(),
        });
    }
    let params = LlamaModelParams::default().with_vocab_only(true);
    LlamaModel::load_from_file(llama_backend()?, path, &params).map_err(|_| {
        ModelError::Unloadable {
            file: path.to_path_buf(),
            // llama.cpp reports nothing more than failure.
            reason: "it is corrupt, truncated, or of an architecture this build of llama.cpp does not support (llama.cpp gives no reason; check the file's sha256 against its source)".into(),
        }
    })
}

pub(super) fn check_loadable(path: &Path) -> Result<(), ModelError> {
    load_vocab_only(path).map(drop)
}
