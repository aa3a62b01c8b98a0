//! The one place where the host's bindings to the `airlock:skill` WIT package
//! are generated. The generated code stays private to the crate; the rest of
//! the host uses the curated re-exports below.

mod generated {
    wasmtime::component::bindgen!({
        world: "skill",
        path: "../../wit",
        // Inference calls wait on an engine: they are async so the wait never
        // blocks a thread of the runtime. Every other host call is quick and sync.
        imports: {
            "airlock:skill/inference": async | trappable,
            default: trappable,
        },
        exports: { default: async },
        with: {
            "airlock:skill/inference.completion-stream": crate::host::inference::CompletionStream,
        },
    });
}

pub use generated::SkillPre;
pub use generated::airlock::skill::exec as exec_api;
pub use generated::airlock::skill::inference as inference_api;
pub use generated::airlock::skill::log as log_api;
pub use generated::airlock::skill::types;
pub use generated::airlock::skill::workspace as workspace_api;
