//! `repo-map`: an Airlock skill that maps the workspace for a coding agent:
//! languages, sizes and line counts, and an outline of each source file.
//!
//! Only this file talks to the host; detection, outlining and rendering are
//! pure and tested natively.

mod language;
mod map;
mod options;
mod outline;
mod report;

use airlock_sdk::workspace::{self, GrantedFiles};
use airlock_sdk::{Capability, Error, Output, Request, Skill, SkillInfo, log};

use crate::map::{Extract, FileInfo, MAX_READ_BYTES, RepoMap};
use crate::options::Options;

/// Progress is reported every this many files.
const PROGRESS_EVERY: u64 = 200;

/// The skill.
pub struct RepoMapSkill;

impl Skill for RepoMapSkill {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "repo-map".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Maps the workspace: languages, sizes, line counts and a symbol outline \
                      of each source file. Args: format=text|json, symbols=true|false, \
                      max-symbols-per-file=N."
                .to_string(),
            capabilities: vec![Capability::WorkspaceRead(".".to_string())],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let options = Options::from_request(&request)?;
        for key in &options.unknown {
            log::warn(&format!(
                "repo-map ignores unknown argument `{key}` \
                 (known: format, symbols, max-symbols-per-file)"
            ));
        }
        let granted = workspace::granted_files()?;
        let extract = Extract {
            symbols: options.symbols,
            max_symbols: options.max_symbols_per_file,
        };
        let map = build(granted, extract);
        Ok(Output::text(report::render(options.format, &map)))
    }
}

/// Reads every readable file (within the size cap) into a map; withheld
/// files are listed as such, never read.
fn build(granted: GrantedFiles, extract: Extract) -> RepoMap {
    let mut map = RepoMap {
        withheld: granted.withheld,
        ..RepoMap::default()
    };
    let mut progress = log::Progress::new(granted.files.len(), PROGRESS_EVERY, "mapping files");
    for entry in &granted.files {
        progress.tick();
        let info = if entry.size > MAX_READ_BYTES {
            FileInfo::unread(&entry.path, entry.size, "larger than 1 MiB, not read")
        } else if map.incomplete.is_some() {
            // Keep listing what is left, by name and size, after a limit
            // stopped reading: a partial map is still a map.
            FileInfo::unread(&entry.path, entry.size, "not read: read limit reached")
        } else {
            match workspace::read(&entry.path) {
                Ok(bytes) => map::analyze(&entry.path, &bytes, extract),
                Err(err @ Error::LimitExceeded { .. }) => {
                    map.incomplete = Some(err.to_string());
                    FileInfo::unread(&entry.path, entry.size, "not read: read limit reached")
                }
                Err(err) => FileInfo::unread(&entry.path, entry.size, format!("not read: {err}")),
            }
        };
        map.files.push(info);
    }
    map
}
