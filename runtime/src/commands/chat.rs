//! `airlock chat`: an interactive session with the coding agent.

use crate::exit::{Exit, Failure};
use clap::Args;
use std::path::{Path, PathBuf};

pub const HELP: &str = "";

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The workspace the agent works on.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub workspace: PathBuf,
}

pub fn chat(
    _args: ChatArgs,
    _home: Option<PathBuf>,
    _config: Option<&Path>,
) -> Result<Exit, Failure> {
    Err(Failure::new(Exit::Internal, "not yet"))
}
