//! `secret-scan`: an Airlock skill that finds credentials committed to the
//! workspace: cloud keys, tokens, private keys, passwords in configuration
//! and database URLs.
//!
//! Only this file talks to the host; the rule engine ([`scanner`]) and the
//! renderers ([`report`]) are pure and tested natively.

mod options;
mod placeholder;
mod redact;
mod report;
mod rules;
mod scanner;

use airlock_sdk::workspace::{self, GrantedFiles};
use airlock_sdk::{Capability, Error, Output, Request, Skill, SkillInfo, log};

use crate::options::Options;
use crate::report::{Report, SkipReason, Skipped};
use crate::scanner::{FileScan, MAX_FILE_BYTES};

/// Progress is reported every this many files: often enough to show life,
/// rarely enough not to fill the run's output budget.
const PROGRESS_EVERY: u64 = 200;

/// The skill.
pub struct SecretScan;

impl Skill for SecretScan {
    fn describe() -> SkillInfo {
        SkillInfo {
            name: "secret-scan".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            summary: "Finds credentials in the workspace (cloud keys, tokens, private keys, \
                      passwords in config and URLs); shows them redacted. \
                      Args: format=text|json|sarif, min-severity=low|medium|high|critical."
                .to_string(),
            capabilities: vec![Capability::WorkspaceRead(".".to_string())],
        }
    }

    fn run(request: Request) -> Result<Output, Error> {
        let options = Options::from_request(&request)?;
        for key in &options.unknown {
            log::warn(&format!(
                "secret-scan ignores unknown argument `{key}` (known: format, min-severity)"
            ));
        }
        let mut report = scan(workspace::granted_files()?);
        report.keep_at_least(options.min_severity);
        let text = report::render(options.format, &report);
        Ok(Output::text(text).with_findings(report.findings))
    }
}

/// Reads and scans every readable file. Withheld files are reported, never
/// read (the host would refuse anyway): they are what the scan could not see.
fn scan(granted: GrantedFiles) -> Report {
    let mut report = Report {
        withheld: granted.withheld,
        ..Report::default()
    };
    let mut progress = log::Progress::new(granted.files.len(), PROGRESS_EVERY, "scanning files");
    for entry in &granted.files {
        progress.tick();
        if entry.size > MAX_FILE_BYTES {
            report.skipped.push(Skipped {
                path: entry.path.clone(),
                reason: SkipReason::TooLarge { bytes: entry.size },
            });
            continue;
        }
        match workspace::read(&entry.path) {
            Ok(bytes) => match scanner::scan_file(&entry.path, &bytes) {
                FileScan::Binary => report.skipped.push(Skipped {
                    path: entry.path.clone(),
                    reason: SkipReason::Binary,
                }),
                FileScan::Text(findings) => {
                    report.files_scanned += 1;
                    report.findings.extend(findings);
                }
            },
            Err(err @ Error::LimitExceeded { .. }) => {
                // Every further read would fail the same way: stop, and say
                // the result is partial rather than pretend it is clean.
                report.incomplete = Some(err.to_string());
                break;
            }
            Err(err) => report.skipped.push(Skipped {
                path: entry.path.clone(),
                reason: SkipReason::Unreadable(err.to_string()),
            }),
        }
    }
    report
}
