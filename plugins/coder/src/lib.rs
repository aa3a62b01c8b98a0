//! `coder`: the coding agent as an Airlock skill. A tool-using loop on the
//! local model: it reads, lists and searches the project, maps it
//! (repo-map) and checks it for committed secrets (secret-scan), changes
//! files and runs the build or the tests (each through the host's approval
//! gates), then answers. The model picks each tool through JSON the engine
//! enforces, so even a small model's calls are valid.
//!
//! Input: the task. Args: `history` (a chat's earlier turns, JSON),
//! `model`, `max-steps`, `max-tokens`. `airlock chat` drives it turn by turn.
//!
//! `agent` talks to the host; `tools`, `context`, `prompt` and `options`
//! are pure and tested natively.

mod actions;
mod agent;
mod attempt;
mod change;
mod context;
mod edit;
mod locate;
mod options;
mod prompt;
mod task;
mod testcmd;
mod tools;

use airlock_sdk::{Capability, Error, Output, Request, Skill, SkillInfo, log};

use crate::options::Options;

/// The skill.
pub struct Coder;

impl Skill for Coder {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "coder".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "The coding agent: reads and searches the project, edits files and runs \
                      the build or tests (after approval), then answers, with a local model. \
                      Input: the task. Args: history=JSON, model=NAME, max-steps=N, \
                      max-tokens=N."
                .to_string(),
            capabilities: vec![
                Capability::WorkspaceRead(".".to_string()),
                Capability::WorkspaceWrite(".".to_string()),
            ],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let options = Options::from_request(&request)?;
        for key in &options.unknown {
            log::warn(&format!(
                "coder ignores unknown argument `{key}` (known: {})",
                Options::known().join(", ")
            ));
        }
        agent::run(&options)
    }
}

airlock_sdk::export_skill!(Coder);
