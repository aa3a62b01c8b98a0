//! # airlock-sdk
//!
//! Write Airlock skills in Rust.
//!
//! A skill is a WebAssembly component (WASI preview 2) that the `airlock`
//! host runs under a sandbox profile. The skill sees only the workspace paths
//! the profile grants, never the network, never secret files, and only within
//! the profile's limits. This crate hides the generated WIT bindings of the
//! `airlock:skill` world behind plain Rust types:
//!
//! * implement [`Skill`] and export it with [`export_skill!`];
//! * read and write the workspace with the functions in [`workspace`];
//! * talk to the user with [`log`] (and stream an answer with [`log::print`]);
//! * ask a local language model with [`inference`];
//! * run the build or the tests with [`exec`] (after a person's yes, with no network);
//! * report structured [`Finding`]s in the [`Output`].
//!
//! Every host call returns [`Error`], which can be passed straight back from
//! [`Skill::run`] with `?`, so a refusal by the sandbox reaches the user
//! exactly as the host phrased it.
//!
//! ## Example
//!
//! A skill that counts `TODO` markers in the granted files. Build it with
//! `cargo build --target wasm32-wasip2 --release` from a crate with
//! `crate-type = ["cdylib"]`.
//!
//! ```no_run
//! use airlock_sdk::workspace::{self, SearchQuery};
//! use airlock_sdk::{Capability, Error, Finding, Output, Request, Severity, Skill, SkillInfo};
//!
//! struct TodoCount;
//!
//! impl Skill for TodoCount {
//!     fn describe() -> SkillInfo {
//!         SkillInfo {
//!             name: "todo-count".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             summary: "Counts TODO markers in the workspace.".into(),
//!             capabilities: vec![Capability::WorkspaceRead(".".into())],
//!         }
//!     }
//!
//!     fn run(request: Request) -> Result<Output, Error> {
//!         let marker = request.arg("marker").unwrap_or("TODO");
//!         let result = workspace::search(&SearchQuery::new(marker).literal())?;
//!         airlock_sdk::log::info(&format!("{} matches", result.matches.len()));
//!
//!         let findings = result
//!             .matches
//!             .iter()
//!             .map(|m| {
//!                 Finding::new("todo", Severity::Note, m.text.trim()).at(&m.path, m.line, 1)
//!             })
//!             .collect();
//!         let mut text = format!("{} {marker} markers", result.matches.len());
//!         if !result.withheld.is_empty() {
//!             text.push_str(&format!(" ({} files withheld)", result.withheld.len()));
//!         }
//!         Ok(Output::text(text).with_findings(findings))
//!     }
//! }
//!
//! airlock_sdk::export_skill!(TodoCount);
//! ```
//!
//! Run it:
//!
//! ```text
//! airlock run target/wasm32-wasip2/release/todo_count.wasm --workspace . --profile read-only
//! ```
#![deny(missing_docs)]

mod answer;
mod error;
pub mod exec;
mod finding;
mod glue;
pub mod inference;
pub mod log;
mod skill;
pub mod workspace;

pub use error::Error;
pub use finding::{Finding, Severity};
pub use inference::InferenceError;
pub use skill::{Capability, Output, Request, Skill, SkillInfo};

/// The `airlock:skill` WIT version this SDK speaks; stamped into `describe()`
/// so the host can tell which contract a skill was built against.
pub const WIT_VERSION: &str = "0.1.0";

/// Exports a [`Skill`] as the component's `describe` and `run`.
///
/// Write it once, at the crate root of a `cdylib` crate:
///
/// ```no_run
/// # use airlock_sdk::{Error, Output, Request, Skill, SkillInfo};
/// struct MySkill;
/// # impl Skill for MySkill {
/// #     fn describe() -> SkillInfo {
/// #         SkillInfo { name: "my-skill".into(), version: "0.1.0".into(),
/// #                     summary: "Says hello.".into(), capabilities: vec![] }
/// #     }
/// #     fn run(_: Request) -> Result<Output, Error> { Ok(Output::text("hello")) }
/// # }
/// airlock_sdk::export_skill!(MySkill);
/// ```
#[macro_export]
macro_rules! export_skill {
    ($ty:ty) => {
        // The generated export macro only accepts a plain identifier, and the
        // skill type implements the SDK's trait rather than the generated one,
        // so a private adapter type bridges the two.
        const _: () = {
            struct AirlockSkillExport;

            impl $crate::__private::Guest for AirlockSkillExport {
                fn describe() -> $crate::__private::SkillInfo {
                    $crate::__private::describe_glue::<$ty>()
                }

                fn run(
                    request: $crate::__private::RunRequest,
                ) -> ::core::result::Result<$crate::__private::RunOutput, $crate::__private::Error>
                {
                    $crate::__private::run_glue::<$ty>(request)
                }
            }

            $crate::__private::__export_skill_world!(
                AirlockSkillExport with_types_in $crate::__private
            );
        };
    };
}

/// The generated bindings and the glue [`export_skill!`] expands to. Not part
/// of the API: anything here may change in any release.
#[doc(hidden)]
pub mod __private {
    wit_bindgen::generate!({
        path: "../wit",
        world: "skill",
        pub_export_macro: true,
        export_macro_name: "__export_skill_world",
        default_bindings_module: "$crate::__private",
    });

    /// `describe` of skill `T`, in WIT types.
    pub fn describe_glue<T: crate::Skill>() -> SkillInfo {
        crate::glue::skill_info_to_wit(T::describe())
    }

    /// `run` of skill `T`, in WIT types.
    pub fn run_glue<T: crate::Skill>(request: RunRequest) -> Result<RunOutput, Error> {
        T::run(crate::glue::request(request))
            .map(crate::glue::output_to_wit)
            .map_err(crate::Error::into_wit)
    }
}

/// Compiles the README's example as a doctest, so the guide cannot drift
/// from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    /// The constant must track the package version in `wit/`, or hosts would
    /// be told the wrong contract.
    #[test]
    fn wit_version_matches_the_wit_package() {
        let world = include_str!("../../wit/world.wit");
        let expected = format!("package airlock:skill@{};", super::WIT_VERSION);
        assert!(
            world.contains(&expected),
            "wit/world.wit lacks `{expected}`"
        );
    }
}
