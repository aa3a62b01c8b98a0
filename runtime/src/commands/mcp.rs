//! `airlock mcp`: installed skills as MCP tools over stdio.

use crate::exit::{Exit, Failure};
use clap::Args;
use std::path::{Path, PathBuf};

pub const HELP: &str = "";

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The workspace the agent works on.
    #[arg(short, long, value_name = "DIR", default_value = ".")]
    pub workspace: PathBuf,
}

pub fn mcp(
    _args: McpArgs,
    _home: Option<PathBuf>,
    _config: Option<&Path>,
) -> Result<Exit, Failure> {
    Err(Failure::new(Exit::Internal, "not yet"))
}
