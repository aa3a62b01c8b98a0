//! The one place where the host's bindings to the `airlock:skill` WIT package
//! are generated. The generated code stays private to the crate; the rest of
//! the host uses the curated re-exports below.

mod generated {
    wasmtime::component::bindgen!({
        world: "skill",
        path: "../wit",
        imports: { default: trappable },
        exports: { default: async },
    });
}

pub use generated::SkillPre;
pub use generated::airlock::skill::log as log_api;
pub use generated::airlock::skill::types;
pub use generated::airlock::skill::workspace as workspace_api;
