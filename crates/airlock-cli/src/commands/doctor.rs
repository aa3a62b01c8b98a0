//! `airlock doctor`: the posture of this installation, as findings
//! ([`airlock_session::doctor`]), printed for people or as JSON.

use super::model::Progress;
use super::to_json;
use crate::exit::{Exit, Failure};
use airlock_core::terminal::line;
use airlock_session::doctor::{self, Finding, Level, Options};
use clap::Args;
use std::io::Write;
use std::path::Path;

pub const HELP: &str = "\
Checks, in order (each is ok, WARN or FAIL, with the fix):
  bubblewrap       installed, and its version
  namespaces       user namespaces (and AppArmor's restriction of them)
  seccomp          the kernel's seccomp actions the filter needs
  sandbox          a trial: bubblewrap runs `true` with every namespace, no
                   capabilities and Airlock's seccomp filter
  admin-policy     /etc/airlock/policy.toml (and $AIRLOCK_POLICY_FILE): in force,
                   root-owned, valid; without one, what the defaults allow
  proxy            no http_proxy, https_proxy, all_proxy … variables
  engine           the configured engine is embedded or on loopback, and the
                   configuration names no other address
  state-directory  $AIRLOCK_HOME and everything in it owned by you, writable
                   by no one else, no symbolic links
  trust-store      the publisher keys trusted, and whether the admin policy
                   allows each
  plugins          every installed plugin intact and signed by a trusted key
  models           every pinned model file present with its pinned size and
                   unchanged since it was hashed (--deep: hashed in full again)
  audit-log        the hash chain and checkpoints verify

Nothing is changed, except that a file found intact by hashing gets its
fingerprint refreshed (models with --deep; plugins whose file metadata
changed), as `airlock model verify` and `airlock plugin verify` do. No network
is used.

Examples:
  airlock doctor
  airlock doctor --deep --json > posture.json
  sudo -u engineer airlock doctor --strict || echo 'not ready'

Exit codes:
  0   nothing is red (amber warnings allowed, unless --strict)
  2   usage error
  5   at least one check is red (with --strict: or amber)";

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Hash every pinned model file and installed plugin in full (slow:
    /// about a second per GiB).
    #[arg(long)]
    pub deep: bool,
    /// Count amber warnings as failures in the exit code.
    #[arg(long)]
    pub strict: bool,
    /// Print the findings as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn doctor(
    args: &DoctorArgs,
    home: Option<&Path>,
    config: Option<&Path>,
) -> Result<Exit, Failure> {
    let options = Options {
        home,
        config,
        deep: args.deep,
        uid: rustix::process::geteuid().as_raw(),
    };
    let bar = Progress::new(String::new());
    let findings = doctor::examine(
        &options,
        &|name| std::env::var(name).ok(),
        &|model, done, total| {
            bar.set_message(format!("hashing {model}"));
            bar.update(done, total);
        },
    );
    bar.finish();
    let worst = doctor::worst(&findings);
    let failed = worst == Level::Fail || (args.strict && worst == Level::Warn);
    if args.json {
        let value = serde_json::json!({
            "ok": !failed,
            "worst": worst,
            "checks": findings,
        });
        println!("{}", to_json(&value)?);
    } else {
        print(&findings);
    }
    Ok(if failed {
        Exit::Findings
    } else {
        Exit::Success
    })
}

fn print(findings: &[Finding]) {
    let mut out = std::io::stdout().lock();
    let width = findings.iter().map(|f| f.check.len()).max().unwrap_or(0);
    for f in findings {
        let mark = match f.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        // Paths and messages may hold what a file name or a server put
        // there: shown escaped, never as terminal controls.
        let _ = writeln!(out, "{mark}  {:<width$}  {}", f.check, line(&f.summary));
        for d in &f.details {
            let _ = writeln!(out, "      {:<width$}    {}", "", line(d));
        }
        if let Some(fix) = &f.fix {
            let _ = writeln!(out, "      {:<width$}    fix: {}", "", line(fix));
        }
    }
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let _ = writeln!(
        out,
        "\n{} ok, {} warning(s), {} failure(s)",
        count(Level::Ok),
        count(Level::Warn),
        count(Level::Fail)
    );
}
