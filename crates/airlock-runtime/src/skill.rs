//! Loading a skill: read the component, compile it (or load it from the
//! authenticated cache), check its imports against what Airlock provides,
//! and pre-link it for fast instantiation.
//!
//! Every check here happens before any of the skill's code runs.

// Ambient std::fs allowed: reads the component file the user names.
#![allow(clippy::disallowed_methods)]

use crate::bindings::SkillPre;
use crate::cache::{ComponentCache, Lookup};
use crate::host::wasi::{NETWORK_INTERFACES, PROVIDED_INTERFACES};
use crate::state::RunState;
use airlock_core::imports::{
    EXEC, INFERENCE, Imported, READ_FUNCTIONS, WORKSPACE, WRITE_FUNCTIONS,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker};

pub use airlock_core::wit_version::{WIT_PACKAGE, WIT_VERSION, wit_compatible};

/// A compiled component, not yet checked against policy.
pub struct Compiled {
    /// Where it was read from.
    pub path: PathBuf,
    /// sha256 of the component file, hex.
    pub digest: String,
    /// Size of the component file.
    pub size: u64,
    /// Whether it came from the cache.
    pub from_cache: bool,
    pub(crate) component: Component,
}

/// What a component imports and exports, for `inspect` and for checks.
#[derive(Debug, Clone, Serialize)]
pub struct Interface {
    /// Imported interface and function names, e.g. `wasi:cli/stdout@0.2.6`.
    pub imports: Vec<String>,
    /// Exported names, e.g. `describe`, `run`.
    pub exports: Vec<String>,
}

/// A skill that passed every load-time check and is ready to instantiate.
pub struct LoadedSkill {
    /// The compiled component.
    pub compiled: Compiled,
    /// Its imports and exports.
    pub interface: Interface,
    pub(crate) pre: SkillPre<RunState>,
}

/// Why a component cannot be run. Nothing of it has run.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read skill {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a WebAssembly component (or a broken one).
    #[error(
        "{} is not a valid WebAssembly component: {reason}\n  hint: build skills with `cargo build --target wasm32-wasip2` (a core module or a wasm32-wasip1 file is not a component)",
        path.display()
    )]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// The component imports network interfaces.
    #[error(
        "refused to run {}: it imports `{import}`. Airlock never grants network access to skills (no sockets, no DNS, no HTTP), so this component cannot run",
        path.display()
    )]
    NetworkImport {
        /// The file.
        path: PathBuf,
        /// The first network import found.
        import: String,
    },
    /// The component imports something Airlock does not provide.
    #[error(
        "refused to run {}: it imports `{import}`, which Airlock does not provide (skills may import only {})",
        path.display(),
        PROVIDED_INTERFACES.iter().map(|p| format!("{p}*")).collect::<Vec<_>>().join(", ")
    )]
    UnsupportedImport {
        /// The file.
        path: PathBuf,
        /// The import.
        import: String,
    },
    /// Built for another `airlock:skill` version.
    #[error(
        "refused to run {}: it was built for {WIT_PACKAGE}@{found}, and this host speaks {WIT_PACKAGE}@{WIT_VERSION}; rebuild the skill with airlock-sdk {WIT_VERSION} or use an Airlock that speaks {found}",
        path.display()
    )]
    WitVersion {
        /// The file.
        path: PathBuf,
        /// The version it targets.
        found: String,
    },
    /// It does not export the `skill` world's functions.
    #[error("{} is not an Airlock skill: {reason}", path.display())]
    NotASkill {
        /// The file.
        path: PathBuf,
        /// What is missing.
        reason: String,
    },
    /// Compilation failed for another reason.
    #[error("cannot compile {}: {reason}", path.display())]
    Compile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Compile `path`, using the cache when it holds an authentic entry.
/// `on_compile` is called before a (slow) compilation starts;
/// `on_warning` receives cache warnings.
pub fn compile(
    engine: &Engine,
    cache: Option<&ComponentCache>,
    path: &Path,
    on_compile: &dyn Fn(&str),
    on_warning: &dyn Fn(&str),
) -> Result<Compiled, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let digest = hex::encode(Sha256::digest(&bytes));
    let size = bytes.len() as u64;
    if let Some(cache) = cache {
        match cache.get(engine, &digest) {
            Lookup::Hit(component) => {
                return Ok(Compiled {
                    path: path.to_path_buf(),
                    digest,
                    size,
                    from_cache: true,
                    component,
                });
            }
            Lookup::Miss => {}
            Lookup::Rejected(warning) => on_warning(&warning),
        }
    }
    if !is_component_binary(&bytes) {
        return Err(LoadError::NotAComponent {
            path: path.to_path_buf(),
            reason: if bytes.starts_with(b"\0asm") {
                "it is a core WebAssembly module, not a component".into()
            } else {
                "it does not start with the WebAssembly magic bytes".into()
            },
        });
    }
    on_compile(&digest);
    let artifact = engine
        .precompile_component(&bytes)
        .map_err(|e| LoadError::NotAComponent {
            path: path.to_path_buf(),
            reason: format!("{e:#}"),
        })?;
    if let Some(cache) = cache
        && let Err(e) = cache.put(&digest, &artifact)
    {
        on_warning(&format!("could not write the compile cache: {e}"));
    }
    let component = deserialize_fresh(engine, &artifact).map_err(|e| LoadError::Compile {
        path: path.to_path_buf(),
        reason: format!("{e:#}"),
    })?;
    Ok(Compiled {
        path: path.to_path_buf(),
        digest,
        size,
        from_cache: false,
        component,
    })
}

/// Load an artifact that `precompile_component` returned a moment ago, in
/// this process; it never touched the disk before this call.
#[allow(unsafe_code)]
fn deserialize_fresh(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `artifact` is the in-memory output of `engine.precompile_component`.
    unsafe { Component::deserialize(engine, artifact) }
}

/// A component's layer field: byte 6..8 of the preamble is 1 for components.
fn is_component_binary(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes.starts_with(b"\0asm") && bytes[6..8] == [1, 0]
}

impl Compiled {
    /// Its imports and exports.
    pub fn interface(&self, engine: &Engine) -> Interface {
        let ty = self.component.component_type();
        Interface {
            imports: ty
                .imports(engine)
                .map(|(name, _)| name.to_string())
                .collect(),
            exports: ty
                .exports(engine)
                .map(|(name, _)| name.to_string())
                .collect(),
        }
    }

    /// Check imports against policy and pre-link. Nothing runs.
    pub fn prepare(
        self,
        engine: &Engine,
        linker: &Linker<RunState>,
    ) -> Result<LoadedSkill, LoadError> {
        let interface = self.interface(engine);
        check_imports(&self.path, &interface.imports)?;
        for export in ["describe", "run"] {
            if !interface.exports.iter().any(|e| e == export) {
                return Err(LoadError::NotASkill {
                    path: self.path.clone(),
                    reason: format!(
                        "it does not export `{export}` (skills implement the `{WIT_PACKAGE}/skill` world; use airlock-sdk's `export_skill!`)"
                    ),
                });
            }
        }
        let pre = linker
            .instantiate_pre(&self.component)
            .and_then(SkillPre::new)
            .map_err(|e| LoadError::NotASkill {
                path: self.path.clone(),
                reason: format!("{e:#}"),
            })?;
        Ok(LoadedSkill {
            compiled: self,
            interface,
            pre,
        })
    }
}

/// Refuse network imports, unknown imports, and other WIT versions.
pub fn check_imports(path: &Path, imports: &[String]) -> Result<(), LoadError> {
    if let Some(import) = imports
        .iter()
        .find(|i| NETWORK_INTERFACES.iter().any(|n| i.starts_with(n)))
    {
        return Err(LoadError::NetworkImport {
            path: path.to_path_buf(),
            import: import.clone(),
        });
    }
    if let Some(import) = imports
        .iter()
        .find(|i| !PROVIDED_INTERFACES.iter().any(|p| i.starts_with(p)))
    {
        return Err(LoadError::UnsupportedImport {
            path: path.to_path_buf(),
            import: import.clone(),
        });
    }
    for import in imports {
        if let Some(rest) = import.strip_prefix(&format!("{WIT_PACKAGE}/")) {
            let version = rest.split_once('@').map_or("", |(_, v)| v);
            if !wit_compatible(version) {
                return Err(LoadError::WitVersion {
                    path: path.to_path_buf(),
                    found: if version.is_empty() {
                        "an unversioned package".into()
                    } else {
                        version.into()
                    },
                });
            }
        }
    }
    Ok(())
}

/// What `compiled` imports, function by function: what a plugin's
/// requested capabilities are checked against at pack and install time.
pub fn imported(compiled: &Compiled, engine: &Engine) -> Imported {
    let mut out = Imported::default();
    for (name, item) in compiled.component.component_type().imports(engine) {
        if name.starts_with(INFERENCE) {
            out.inference = Some(name.to_string());
        }
        if name.starts_with(EXEC)
            && let ComponentItem::ComponentInstance(instance) = &item.ty
            && instance
                .exports(engine)
                .any(|(function, _)| function == "run")
        {
            out.exec = Some(format!("{name}#run"));
        }
        if name.starts_with(WORKSPACE)
            && let ComponentItem::ComponentInstance(instance) = item.ty
        {
            for (function, _) in instance.exports(engine) {
                if WRITE_FUNCTIONS.contains(&function) {
                    out.writes.push(format!("{name}#{function}"));
                } else if READ_FUNCTIONS.contains(&function) {
                    out.reads.push(format!("{name}#{function}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn network_imports_are_refused_by_name() {
        let err = check_imports(
            Path::new("x.wasm"),
            &imports(&["wasi:io/streams@0.2.6", "wasi:sockets/tcp@0.2.6"]),
        )
        .expect_err("sockets must be refused");
        assert!(
            err.to_string()
                .starts_with("refused to run x.wasm: it imports `wasi:sockets/tcp@0.2.6`. Airlock never grants network access"),
            "{err}"
        );
        let err = check_imports(
            Path::new("x.wasm"),
            &imports(&["wasi:http/outgoing-handler@0.2.6"]),
        )
        .expect_err("http must be refused");
        assert!(matches!(err, LoadError::NetworkImport { .. }));
    }

    #[test]
    fn unknown_imports_and_versions_are_refused() {
        let err = check_imports(Path::new("x.wasm"), &imports(&["acme:db/query@1.0.0"]))
            .expect_err("unknown");
        assert!(matches!(err, LoadError::UnsupportedImport { .. }), "{err}");
        let err = check_imports(
            Path::new("x.wasm"),
            &imports(&["airlock:skill/workspace@0.2.0"]),
        )
        .expect_err("future version");
        assert!(
            err.to_string().contains(
                "built for airlock:skill@0.2.0, and this host speaks airlock:skill@0.1.0"
            ),
            "{err}"
        );
        check_imports(
            Path::new("x.wasm"),
            &imports(&["airlock:skill/workspace@0.1.3", "wasi:cli/stdout@0.2.6"]),
        )
        .expect("a patch release of the same minor is compatible");
    }
}
