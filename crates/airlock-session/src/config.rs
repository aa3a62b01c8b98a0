//! Airlock's configuration file: which inference engine answers skills, where
//! it is, and per-model settings.
//!
//! The file is TOML, parsed strictly: an unknown key or a bad value is an
//! error naming `file:line:column`, the key, and what to write instead. Every
//! key is documented, with its default, in `docs/models.md`. A missing
//! *default* file means every default (the embedded engine); a file named
//! with `--config` must exist.

// Ambient std::fs allowed: reads the configuration file.
#![allow(clippy::disallowed_methods)]

use airlock_core::names::{self, NameKind};
use airlock_core::toml_errors::{location, toml_message};
use airlock_inference::endpoint::Endpoint;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Where the documentation of every key lives (quoted in error messages).
const DOCS: &str = "docs/models.md";

/// Longest connect or read timeout accepted, in seconds (one day): longer is
/// a typo, and a stuck server would hold a skill for that long.
pub const MAX_TIMEOUT_SECONDS: u64 = 86_400;

/// Most llama.cpp threads accepted: more than any machine this runs on has.
pub const MAX_THREADS: u32 = 1024;

/// Most sessions' contexts `engine.kept-contexts` may keep per model: each
/// holds a whole context window's KV cache, so more is a typo or a memory
/// exhaustion waiting to happen.
pub const MAX_KEPT_CONTEXTS: u32 = 64;

/// Largest `context-length` accepted, in tokens.
pub const MAX_CONTEXT_LENGTH: u32 = 1 << 20;

/// The checked configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The `[engine]` table.
    pub engine: EngineSettings,
    /// The `[models.NAME]` tables, by Airlock model name.
    pub models: BTreeMap<String, ModelSettings>,
    /// The `[audit]` table.
    pub audit: airlock_audit::AuditOptions,
    /// The file it was read from; `None` when no file exists and every
    /// default applies.
    pub source: Option<PathBuf>,
}

pub use airlock_inference::settings::{BackendKind, EngineConfig, EngineSettings, ModelSettings};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file named with `--config` does not exist.
    #[error(
        "configuration file {} does not exist; create it (every key is in {DOCS}) or leave out --config to use the defaults",
        path.display()
    )]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Malformed TOML, an unknown key, or a value that is not allowed.
    #[error("{location}: {message}")]
    Invalid {
        /// `file:line:column`.
        location: String,
        /// What is wrong, naming the key, and how to fix it.
        message: String,
    },
}

/// The file as written: strict, every value spanned for error locations.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ConfigFile {
    #[serde(default)]
    engine: Option<Spanned<EngineFile>>,
    #[serde(default)]
    models: BTreeMap<Spanned<String>, ModelFile>,
    #[serde(default)]
    audit: Option<AuditFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct AuditFile {
    identity: Option<Spanned<String>>,
    redact_secrets: Option<bool>,
    rotate_mib: Option<Spanned<u64>>,
}

/// Largest `audit.rotate-mib` accepted.
pub const MAX_ROTATE_MIB: u64 = 4096;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct EngineFile {
    backend: Option<Spanned<BackendKind>>,
    endpoint: Option<Spanned<String>>,
    threads: Option<Spanned<u32>>,
    kept_contexts: Option<Spanned<u32>>,
    connect_timeout_seconds: Option<Spanned<u64>>,
    read_timeout_seconds: Option<Spanned<u64>>,
    server_uid: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ModelFile {
    context_length: Option<Spanned<u32>>,
    served_as: Option<Spanned<String>>,
}

impl Config {
    /// `$XDG_CONFIG_HOME/airlock/config.toml`, else
    /// `~/.config/airlock/config.toml`; `None` without either variable.
    pub fn default_path() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(dir).join("airlock/config.toml"));
        }
        std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|h| PathBuf::from(h).join(".config/airlock/config.toml"))
    }

    /// Load `explicit` (which must exist), else the default file (whose
    /// absence means every default).
    pub fn load(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let (path, required) = match explicit {
            Some(path) => (path.to_path_buf(), true),
            None => match Self::default_path() {
                Some(path) => (path, false),
                None => return Ok(Self::default()),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return if required {
                    Err(ConfigError::Missing { path })
                } else {
                    Ok(Self::default())
                };
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        Self::parse(&text, Some(&path))
    }

    /// Parse and check configuration text; `source` is the file it came
    /// from (used in error locations and kept in [`Config::source`]).
    pub fn parse(text: &str, source: Option<&Path>) -> Result<Self, ConfigError> {
        let origin =
            source.map_or_else(|| "configuration".to_string(), |p| p.display().to_string());
        let at = |span: Option<Range<usize>>, message: String| ConfigError::Invalid {
            location: location(&origin, text, span),
            message,
        };
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| at(e.span(), toml_message(&e, text, DOCS)))?;

        let mut engine = EngineSettings::default();
        let engine_span = file.engine.as_ref().map(Spanned::span);
        let raw = file.engine.map(Spanned::into_inner).unwrap_or_default();
        if let Some(backend) = &raw.backend {
            engine.backend = *backend.get_ref();
        }
        if let Some(endpoint) = &raw.endpoint {
            let parsed = Endpoint::parse(endpoint.get_ref())
                .map_err(|e| at(Some(endpoint.span()), format!("engine.endpoint: {e}")))?;
            engine.endpoint = Some(parsed);
        }
        if engine.backend != BackendKind::Embedded && engine.endpoint.is_none() {
            let span = raw.backend.as_ref().map(Spanned::span).or(engine_span);
            let example = match engine.backend {
                BackendKind::Ollama => "http://127.0.0.1:11434",
                _ => "http://127.0.0.1:8080",
            };
            return Err(at(
                span,
                format!(
                    "engine.backend = \"{}\" needs engine.endpoint, the server's address on this machine; add `endpoint = \"{example}\"` to [engine]",
                    engine.backend
                ),
            ));
        }
        engine.server_uid = raw.server_uid;
        if let Some(threads) = &raw.threads {
            let n = *threads.get_ref();
            if n > MAX_THREADS {
                return Err(at(
                    Some(threads.span()),
                    format!(
                        "engine.threads = {n} is too many: write 0 (use every core) or a number up to {MAX_THREADS}"
                    ),
                ));
            }
            engine.threads = n;
        }
        if let Some(kept) = &raw.kept_contexts {
            let n = *kept.get_ref();
            if n > MAX_KEPT_CONTEXTS {
                return Err(at(
                    Some(kept.span()),
                    format!(
                        "engine.kept-contexts = {n} is too many: each kept context holds a whole context window in memory; write 0 (no prefix reuse) or a number up to {MAX_KEPT_CONTEXTS}"
                    ),
                ));
            }
            engine.kept_contexts = n;
        }
        for (key, value, slot) in [
            (
                "connect-timeout-seconds",
                &raw.connect_timeout_seconds,
                &mut engine.timeouts.connect,
            ),
            (
                "read-timeout-seconds",
                &raw.read_timeout_seconds,
                &mut engine.timeouts.read,
            ),
        ] {
            let Some(value) = value else { continue };
            let secs = *value.get_ref();
            if !(1..=MAX_TIMEOUT_SECONDS).contains(&secs) {
                return Err(at(
                    Some(value.span()),
                    format!(
                        "engine.{key} = {secs} is out of range: it must be between 1 and {MAX_TIMEOUT_SECONDS} seconds"
                    ),
                ));
            }
            *slot = Duration::from_secs(secs);
        }

        let mut models = BTreeMap::new();
        for (name, settings) in file.models {
            let key = name.get_ref();
            names::check(NameKind::Model, key).map_err(|reason| {
                at(
                    Some(name.span()),
                    format!("[models.{key}]: {reason}; use the name the model has in the store (`airlock model list`)"),
                )
            })?;
            let mut checked = ModelSettings::default();
            if let Some(ctx) = &settings.context_length {
                let n = *ctx.get_ref();
                if n > MAX_CONTEXT_LENGTH {
                    return Err(at(
                        Some(ctx.span()),
                        format!(
                            "models.{key}.context-length = {n} is too large: write 0 (the model's default) or up to {MAX_CONTEXT_LENGTH} tokens"
                        ),
                    ));
                }
                checked.context_length = (n > 0).then_some(n);
            }
            if let Some(served) = &settings.served_as {
                let s = served.get_ref();
                if s.trim().is_empty() || s.chars().any(char::is_control) {
                    return Err(at(
                        Some(served.span()),
                        format!(
                            "models.{key}.served-as = {s:?} is not a model name; write the name the server lists for the model (or leave the key out to use `{key}`)"
                        ),
                    ));
                }
                checked.served_as = Some(s.clone());
            }
            models.insert(key.clone(), checked);
        }

        let mut audit = airlock_audit::AuditOptions::default();
        if let Some(raw) = file.audit {
            if let Some(identity) = &raw.identity {
                let id = identity.get_ref();
                if id.trim().is_empty() || id.len() > 256 || id.chars().any(char::is_control) {
                    return Err(at(
                        Some(identity.span()),
                        "audit.identity must be a non-empty name of at most 256 bytes without control characters (e.g. \"j.smith@site\")".into(),
                    ));
                }
                audit.identity = Some(id.clone());
            }
            audit.redact_secrets = raw.redact_secrets.unwrap_or(false);
            if let Some(mib) = &raw.rotate_mib {
                let n = *mib.get_ref();
                if !(1..=MAX_ROTATE_MIB).contains(&n) {
                    return Err(at(
                        Some(mib.span()),
                        format!(
                            "audit.rotate-mib = {n} is out of range: it must be between 1 and {MAX_ROTATE_MIB}"
                        ),
                    ));
                }
                audit.rotate_bytes = n * 1024 * 1024;
            }
        }

        Ok(Self {
            engine,
            models,
            audit,
            source: source.map(Path::to_path_buf),
        })
    }

    /// The settings for model `name` (all defaults when it has no table).
    pub fn model(&self, name: &str) -> ModelSettings {
        self.models.get(name).cloned().unwrap_or_default()
    }

    /// Where the configuration came from, for messages: the file, or a
    /// note that defaults are in use and where the file would be.
    pub fn describe_source(&self) -> String {
        match (&self.source, Self::default_path()) {
            (Some(path), _) => path.display().to_string(),
            (None, Some(default)) => format!("defaults (no {})", default.display()),
            (None, None) => "defaults".to_string(),
        }
    }
}

impl EngineConfig for Config {
    fn engine(&self) -> &EngineSettings {
        &self.engine
    }

    fn model(&self, name: &str) -> ModelSettings {
        Config::model(self, name)
    }

    fn describe_source(&self) -> String {
        Config::describe_source(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Some(Path::new("config.toml")))
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn empty_file_means_every_default() {
        let c = parse("").unwrap();
        assert_eq!(c.engine, EngineSettings::default());
        assert_eq!(c.engine.backend, BackendKind::Embedded);
        assert_eq!(c.engine.timeouts.connect, Duration::from_secs(5));
        assert_eq!(c.engine.timeouts.read, Duration::from_secs(120));
        assert!(c.models.is_empty());
        assert_eq!(c.source.as_deref(), Some(Path::new("config.toml")));
    }

    #[test]
    fn full_file_parses() {
        let c = parse(
            r#"
[engine]
backend = "ollama"
endpoint = "http://127.0.0.1:11434"
threads = 4
kept-contexts = 3
connect-timeout-seconds = 2
read-timeout-seconds = 30

[models.smollm2]
context-length = 2048
served-as = "SmolLM2"

[models."llama3.2"]
"#,
        )
        .unwrap();
        assert_eq!(c.engine.backend, BackendKind::Ollama);
        assert_eq!(
            c.engine.endpoint.as_ref().unwrap().url().as_str(),
            "http://127.0.0.1:11434/"
        );
        assert_eq!(c.engine.threads, 4);
        assert_eq!(c.engine.effective_threads(), 4);
        assert_eq!(c.engine.kept_contexts, 3);
        assert_eq!(c.engine.timeouts.connect, Duration::from_secs(2));
        assert_eq!(c.engine.timeouts.read, Duration::from_secs(30));
        assert_eq!(
            c.model("smollm2"),
            ModelSettings {
                context_length: Some(2048),
                served_as: Some("SmolLM2".into())
            }
        );
        assert_eq!(c.model("llama3.2"), ModelSettings::default());
        assert_eq!(c.model("absent"), ModelSettings::default());
    }

    #[test]
    fn kept_contexts_defaults_to_two_and_is_bounded() {
        assert_eq!(parse("").unwrap().engine.kept_contexts, 2);
        assert_eq!(
            parse("[engine]\nkept-contexts = 0\n")
                .unwrap()
                .engine
                .kept_contexts,
            0
        );
        let e = error("[engine]\nkept-contexts = 500\n");
        assert!(e.contains("engine.kept-contexts = 500"), "{e}");
        assert!(e.contains("config.toml:2"), "{e}");
    }

    #[test]
    fn zero_context_length_means_the_default() {
        let c = parse("[models.m]\ncontext-length = 0\n").unwrap();
        assert_eq!(c.model("m").context_length, None);
    }

    #[test]
    fn unknown_key_is_named_with_its_location() {
        let e = error("[engine]\nbackend = \"embedded\"\nthread = 2\n");
        assert!(e.starts_with("config.toml:3:1: "), "{e}");
        assert!(e.contains("unknown field `thread`"), "{e}");
        assert!(e.contains("`threads`"), "the allowed keys are listed: {e}");
        assert!(e.contains("docs/models.md"), "{e}");

        let e = error("[models.m]\ncontext = 10\n");
        assert!(e.starts_with("config.toml:2:1: "), "{e}");
        assert!(e.contains("unknown field `context`"), "{e}");

        let e = error("[engin]\n");
        assert!(e.starts_with("config.toml:1:2: "), "{e}");
        assert!(e.contains("unknown field `engin`"), "{e}");
    }

    #[test]
    fn bad_backend_lists_the_choices() {
        let e = error("[engine]\nbackend = \"vllm\"\n");
        assert!(e.starts_with("config.toml:2:11: "), "{e}");
        assert!(
            e.contains("embedded") && e.contains("openai-compatible"),
            "{e}"
        );
    }

    #[test]
    fn malformed_toml_is_located() {
        let e = error("[engine]\nthreads = \n");
        assert!(e.starts_with("config.toml:2:"), "{e}");
    }

    #[test]
    fn http_backend_without_endpoint_names_the_key() {
        let e = error("[engine]\nbackend = \"ollama\"\n");
        assert!(e.starts_with("config.toml:2:11: "), "{e}");
        assert!(e.contains("engine.endpoint"), "{e}");
        assert!(e.contains("http://127.0.0.1:11434"), "{e}");
        let e = error("[engine]\nbackend = \"openai-compatible\"\n");
        assert!(e.contains("engine.endpoint"), "{e}");
    }

    #[test]
    fn non_loopback_endpoints_are_refused_at_load() {
        for (endpoint, why) in [
            (
                "http://10.0.0.1:11434",
                "10.0.0.1 is not a loopback address",
            ),
            ("http://example.com", "names are not resolved"),
            ("https://127.0.0.1:11434", "scheme `https`"),
            ("http://[2001:db8::1]:8080", "not a loopback address"),
        ] {
            let e = error(&format!(
                "[engine]\nbackend = \"ollama\"\nendpoint = \"{endpoint}\"\n"
            ));
            assert!(e.starts_with("config.toml:3:12: engine.endpoint: "), "{e}");
            assert!(e.contains(why), "{endpoint}: {e}");
        }
        // Refused even when the embedded engine does not use it.
        let e = error("[engine]\nendpoint = \"http://10.0.0.1:11434\"\n");
        assert!(e.contains("not a loopback address"), "{e}");
    }

    #[test]
    fn loopback_endpoints_are_accepted() {
        for endpoint in [
            "http://127.0.0.1:11434",
            "http://[::1]:8080",
            "http://127.0.0.2:1",
        ] {
            let c = parse(&format!(
                "[engine]\nbackend = \"openai-compatible\"\nendpoint = \"{endpoint}\"\n"
            ))
            .unwrap();
            assert!(c.engine.endpoint.is_some());
        }
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let e = error("[engine]\nconnect-timeout-seconds = 0\n");
        assert!(e.starts_with("config.toml:2:27: "), "{e}");
        assert!(e.contains("engine.connect-timeout-seconds = 0"), "{e}");
        let e = error("[engine]\nthreads = 5000\n");
        assert!(e.contains("engine.threads = 5000"), "{e}");
        let e = error("[engine]\nthreads = -1\n");
        assert!(e.starts_with("config.toml:2:11: "), "{e}");
        let e = error("[models.m]\ncontext-length = 99999999\n");
        assert!(e.contains("models.m.context-length"), "{e}");
        let e = error("[models.m]\nserved-as = \"\"\n");
        assert!(e.contains("models.m.served-as"), "{e}");
    }

    #[test]
    fn model_table_names_follow_the_store_rule() {
        let e = error("[models.\"Big Model\"]\n");
        assert!(e.starts_with("config.toml:1:9: "), "{e}");
        assert!(e.contains("[models.Big Model]"), "{e}");
    }

    #[test]
    fn missing_explicit_file_is_an_error_but_missing_default_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.toml");
        let e = Config::load(Some(&missing)).unwrap_err();
        assert!(matches!(e, ConfigError::Missing { .. }), "{e}");
        assert!(e.to_string().contains("nope.toml"), "{e}");

        let present = dir.path().join("c.toml");
        std::fs::write(&present, "[engine]\nthreads = 3\n").unwrap();
        let c = Config::load(Some(&present)).unwrap();
        assert_eq!(c.engine.threads, 3);
        assert_eq!(c.source.as_deref(), Some(present.as_path()));
    }
}
