//! `airlock doctor`: the posture of this installation, one finding per
//! check, each green (ok), amber (warn: works, but not as a managed
//! workstation should be) or red (fail: something Airlock relies on is
//! missing or broken), with the fix. Read-only: nothing is created or
//! changed, except the model store's fingerprints that a full hash
//! (`deep`) refreshes, as `airlock model verify` does.
//!
//! The checks, in order: the command sandbox (bubblewrap, user
//! namespaces, seccomp, a trial), the admin policy, proxy variables, the
//! inference engine, the state directory, the trust store, the installed
//! plugins, the pinned models and the audit log.

use crate::config::Config;
use airlock_audit::files::{Layout, audit_dir};
use airlock_audit::verify;
use airlock_exec::posture::{self, Posture};
use airlock_inference::models::{ModelStore, VerifyStatus};
use airlock_inference::settings::BackendKind;
use airlock_policy::admin::{POLICY_FILE_ENV, Policy, SYSTEM_POLICY_PATH};
use airlock_trust::store::PluginStore;
use airlock_trust::trust::TrustStore;
use serde::Serialize;
use std::path::Path;

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// As it should be.
    Ok,
    /// Works, but not as a managed workstation should be.
    Warn,
    /// Something Airlock relies on is missing or broken.
    Fail,
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check's name (stable, for `--json` readers).
    pub check: &'static str,
    /// How it came out.
    pub level: Level,
    /// What was found, in one line.
    pub summary: String,
    /// More lines worth reading (each a fact).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// How to fix it (for warn and fail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Finding {
    fn new(check: &'static str, level: Level, summary: impl Into<String>) -> Self {
        Self {
            check,
            level,
            summary: summary.into(),
            details: Vec::new(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    fn details(mut self, details: Vec<String>) -> Self {
        self.details = details;
        self
    }
}

/// What to examine.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// The state directory (`--home`, `$AIRLOCK_HOME`, …); `None` when none
    /// can be found.
    pub home: Option<&'a Path>,
    /// The configuration file named with `--config`, if any.
    pub config: Option<&'a Path>,
    /// Hash every pinned model file in full (slow: ~1 s per GiB).
    pub deep: bool,
    /// The user running Airlock (its effective uid).
    pub uid: u32,
}

/// The proxy variables a program on this machine may take a route out of
/// the enclave from (curl, pip, git, most HTTP libraries read them).
pub const PROXY_VARIABLES: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "ALL_PROXY",
];

/// Run every check. `env` reads an environment variable; `progress` gets
/// (model name, bytes hashed, total) while `deep` hashes models.
pub fn examine(
    options: &Options<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    progress: &dyn Fn(&str, u64, u64),
) -> Vec<Finding> {
    let mut out = sandbox(&posture::examine(), options.uid);
    let policy = admin_policy(&mut out);
    out.push(proxies(env));
    out.push(engine(options.config));
    let Some(home) = options.home else {
        out.push(
            Finding::new(
                "state-directory",
                Level::Fail,
                "no state directory: neither $AIRLOCK_HOME, $XDG_STATE_HOME nor $HOME is set",
            )
            .fix("set AIRLOCK_HOME, or pass --home DIR"),
        );
        return out;
    };
    out.push(state_directory(home, options.uid));
    out.push(trust_store(home, policy.as_ref()));
    out.push(plugins(home, policy.as_ref(), options.deep));
    out.push(models(home, options.deep, progress));
    out.push(audit_log(home));
    out
}

/// The worst level of `findings` (`Ok` for none).
pub fn worst(findings: &[Finding]) -> Level {
    findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok)
}

/// Bubblewrap, user namespaces, seccomp and the trial.
fn sandbox(p: &Posture, uid: u32) -> Vec<Finding> {
    let mut out = Vec::new();
    out.push(match (p.bwrap, &p.bwrap_version) {
        (Some(path), Some(v)) => Finding::new("bubblewrap", Level::Ok, format!("bubblewrap {v} at {path}")),
        (Some(path), None) => Finding::new(
            "bubblewrap",
            Level::Fail,
            format!("{path} is there but `{path} --version` did not answer"),
        )
        .fix("reinstall it: `apt-get install --reinstall bubblewrap`"),
        (None, _) => Finding::new(
            "bubblewrap",
            Level::Fail,
            "bubblewrap (bwrap) is not installed: skills cannot run commands",
        )
        .fix("`apt-get install bubblewrap` (scripts/setup does it), or carry its Debian package across"),
    });

    let mut facts = Vec::new();
    if let Some(n) = p.max_user_namespaces {
        facts.push(format!("user.max_user_namespaces = {n}"));
    }
    if let Some(on) = p.unprivileged_userns_clone {
        facts.push(format!(
            "kernel.unprivileged_userns_clone = {}",
            u8::from(on)
        ));
    }
    if let Some(on) = p.apparmor_restricts_userns {
        facts.push(format!(
            "kernel.apparmor_restrict_unprivileged_userns = {}",
            u8::from(on)
        ));
    }
    let disabled = p.max_user_namespaces == Some(0) || p.unprivileged_userns_clone == Some(false);
    let apparmor = p.apparmor_restricts_userns == Some(true);
    out.push(if p.trial.is_ok() {
        let how = if uid == 0 {
            "available (running as root, bubblewrap needs no user namespace)"
        } else if apparmor {
            "available: AppArmor restricts unprivileged user namespaces, and allows bubblewrap's"
        } else {
            "available to unprivileged users"
        };
        Finding::new("namespaces", Level::Ok, format!("namespaces {how}")).details(facts)
    } else if disabled && uid != 0 {
        Finding::new(
            "namespaces",
            Level::Fail,
            "unprivileged user namespaces are disabled, so bubblewrap cannot isolate commands",
        )
        .details(facts)
        .fix("`sudo sysctl -w user.max_user_namespaces=15000 kernel.unprivileged_userns_clone=1`, and the same in /etc/sysctl.d/ to keep it")
    } else if apparmor && uid != 0 {
        Finding::new(
            "namespaces",
            Level::Fail,
            "AppArmor restricts unprivileged user namespaces and does not allow bubblewrap's",
        )
        .details(facts)
        .fix("load the AppArmor profile that allows bwrap (Ubuntu 24.04: `sudo apparmor_parser -r /etc/apparmor.d/bwrap-userns-restrict`), or `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`")
    } else {
        Finding::new(
            "namespaces",
            Level::Warn,
            "the kernel's settings do not explain why the sandbox trial failed (see `sandbox`)",
        )
        .details(facts)
    });

    out.push(if p.seccomp_ready() {
        Finding::new(
            "seccomp",
            Level::Ok,
            "seccomp filters available (the kernel offers kill_process and errno)",
        )
    } else {
        Finding::new(
            "seccomp",
            Level::Fail,
            match &p.seccomp_actions {
                Some(a) => format!("the kernel's seccomp lacks kill_process or errno (it offers: {a})"),
                None => "the kernel offers no seccomp filters (/proc/sys/kernel/seccomp/actions_avail is missing)".into(),
            },
        )
        .fix("run on a kernel built with CONFIG_SECCOMP_FILTER (every distribution kernel since Linux 4.14 is)")
    });

    out.push(match &p.trial {
        Ok(()) => Finding::new(
            "sandbox",
            Level::Ok,
            "a command can be isolated: bubblewrap ran `true` with every namespace, no capabilities and Airlock's seccomp filter",
        ),
        Err(why) => Finding::new(
            "sandbox",
            Level::Fail,
            format!("a command cannot be isolated here: {why}"),
        )
        .fix("fix the checks above; until then every command a skill asks for is refused (nothing runs unisolated)"),
    });
    out
}

/// The admin policy in force, as a finding; the policy when it loads.
fn admin_policy(out: &mut Vec<Finding>) -> Option<Policy> {
    match crate::admin::policy() {
        Ok(policy) => {
            out.push(describe_policy(&policy));
            Some(policy)
        }
        Err(e) => {
            out.push(
                Finding::new(
                    "admin-policy",
                    Level::Fail,
                    format!("the admin policy cannot be established, so every run is refused: {e}"),
                )
                .fix("fix the file named above (docs/policy.md lists every key); `airlock policy show` checks it"),
            );
            None
        }
    }
}

fn describe_policy(policy: &Policy) -> Finding {
    let files: Vec<String> = policy.sources.files.iter().map(|f| f.to_string()).collect();
    let mut facts = vec![
        format!(
            "unsigned components: {}",
            if policy.allow_unsigned {
                "may run with --allow-unsigned"
            } else {
                "refused"
            }
        ),
        match &policy.trusted_publishers {
            Some(keys) => format!("plugin publishers: only {} listed key(s)", keys.len()),
            None => "plugin publishers: any key the user trusts".into(),
        },
        format!(
            "profile ceiling: {}",
            if policy.profile_ceiling.is_some() {
                "set"
            } else {
                "none"
            }
        ),
    ];
    facts.push(match &policy.models.allowed {
        Some(models) => format!("models: only {} pinned digest(s)", models.len()),
        None => "models: any the user pins".into(),
    });
    facts.push(format!(
        "revocations: {} (publisher keys, plugin packages, release keys; {}/*.toml)",
        policy.revoked.entries.len(),
        airlock_policy::admin::REVOKED_DIR
    ));
    if files.is_empty() {
        Finding::new(
            "admin-policy",
            Level::Warn,
            format!("no admin policy ({SYSTEM_POLICY_PATH} absent, ${POLICY_FILE_ENV} unset): the built-in defaults of a developer machine apply"),
        )
        .details(facts)
        .fix(format!("on a managed workstation, write {SYSTEM_POLICY_PATH} (root-owned, mode 644; every key in docs/policy.md) and check it with `airlock policy show`"))
    } else {
        Finding::new(
            "admin-policy",
            Level::Ok,
            format!(
                "in force from {} (root-owned, writable by no one else)",
                files.join(" and ")
            ),
        )
        .details(facts)
    }
}

fn proxies(env: &dyn Fn(&str) -> Option<String>) -> Finding {
    let set: Vec<&str> = PROXY_VARIABLES
        .iter()
        .copied()
        .filter(|v| env(v).is_some_and(|x| !x.trim().is_empty()))
        .collect();
    if set.is_empty() {
        Finding::new("proxy", Level::Ok, "no proxy variables set")
    } else {
        Finding::new(
            "proxy",
            Level::Fail,
            format!(
                "proxy variables are set ({}): Airlock's inference client ignores them, but they are a route out for every other tool",
                set.join(", ")
            ),
        )
        .fix("unset them where they are set (/etc/environment, shell profiles, systemd units)")
    }
}

fn engine(explicit: Option<&Path>) -> Finding {
    let config = match Config::load(explicit) {
        Ok(c) => c,
        Err(e) => {
            return Finding::new(
                "engine",
                Level::Fail,
                format!("the configuration cannot be used, so no model can answer: {e}"),
            )
            .fix("fix the file named above (every key is in docs/models.md)");
        }
    };
    let source = config.describe_source();
    let summary = match (&config.engine.backend, &config.engine.endpoint) {
        (BackendKind::Embedded, _) => {
            "embedded llama.cpp in Airlock's own process: no server, nothing on the network".into()
        }
        (kind, Some(endpoint)) => format!(
            "{} at {endpoint}, a loopback address (any other is refused when the file is read)",
            kind.as_str()
        ),
        (kind, None) => format!("{} at its default loopback address", kind.as_str()),
    };
    Finding::new("engine", Level::Ok, summary).details(vec![
        format!("configuration: {source}"),
        "no other address can be configured: the file is read strictly and its endpoint is the only one".into(),
    ])
}

fn state_directory(home: &Path, uid: u32) -> Finding {
    match airlock_core::statefs::exposure(home, uid) {
        Ok(None) => Finding::new(
            "state-directory",
            Level::Ok,
            format!(
                "{} does not exist yet: the first command creates it, owner-only (0700)",
                home.display()
            ),
        ),
        Ok(Some(problems)) if problems.is_empty() => Finding::new(
            "state-directory",
            Level::Ok,
            format!(
                "{}: owned by you (uid {uid}), nothing in it writable by others",
                home.display()
            ),
        ),
        Ok(Some(problems)) => {
            let n = problems.len();
            let mut shown: Vec<String> = problems.into_iter().take(10).collect();
            if n > shown.len() {
                shown.push(format!("… and {} more", n - shown.len()));
            }
            Finding::new(
                "state-directory",
                Level::Fail,
                format!(
                    "{}: {n} problem(s): someone else could change what Airlock trusts or records",
                    home.display()
                ),
            )
            .details(shown)
            .fix(format!(
                "`chmod -R go-w {0}`, remove symbolic links, and `chown -R` to you what another user owns",
                home.display()
            ))
        }
        Err(e) => Finding::new(
            "state-directory",
            Level::Fail,
            format!("cannot examine {}: {e}", home.display()),
        )
        .fix("make it readable by you"),
    }
}

fn trust_store(home: &Path, policy: Option<&Policy>) -> Finding {
    let keys = TrustStore::open(home).list();
    if keys.is_empty() {
        return Finding::new(
            "trust-store",
            Level::Warn,
            "no publisher keys trusted: no signed plugin can be installed or run",
        )
        .fix("`airlock trust add NAME KEY.pub`, after checking the key's fingerprint with its publisher");
    }
    let mut details = Vec::new();
    let mut outside = 0;
    let mut revoked_keys = 0;
    for (name, key) in &keys {
        let fingerprint = key.fingerprint();
        if let Some(revoked) = policy.and_then(|p| p.revoked.publisher_key(&fingerprint)) {
            revoked_keys += 1;
            details.push(format!(
                "{name}: {fingerprint} (publisher `{}`) is {revoked}",
                key.publisher
            ));
            continue;
        }
        let allowed = policy.is_none_or(|p| p.allows_publisher(&fingerprint));
        if !allowed {
            outside += 1;
        }
        details.push(format!(
            "{name}: {fingerprint} (publisher `{}`){}",
            key.publisher,
            if allowed {
                ""
            } else {
                ", NOT in the admin policy's trusted-publishers: what it signs is refused"
            }
        ));
    }
    if revoked_keys > 0 {
        return Finding::new(
            "trust-store",
            Level::Fail,
            format!(
                "{revoked_keys} of {} trusted publisher key(s) are revoked",
                keys.len()
            ),
        )
        .details(details)
        .fix("`airlock trust remove NAME` for each; what they signed is refused anyway");
    }
    let finding = Finding::new(
        "trust-store",
        if outside > 0 { Level::Warn } else { Level::Ok },
        format!("{} publisher key(s) trusted", keys.len()),
    )
    .details(details);
    if outside > 0 {
        finding.fix("remove the keys the administrator does not allow (`airlock trust remove NAME`), or ask for them to be listed")
    } else {
        finding
    }
}

fn plugins(home: &Path, policy: Option<&Policy>, deep: bool) -> Finding {
    let store = PluginStore::open(home);
    let trust = TrustStore::open(home);
    let all = store.list();
    if all.is_empty() {
        return Finding::new("plugins", Level::Ok, "no plugins installed");
    }
    let mut details = Vec::new();
    let mut bad = 0;
    for installed in &all {
        let what = format!("{} {}", installed.manifest.name, installed.manifest.version);
        let result = store
            .check(installed, &trust, deep)
            .map_err(|e| e.to_string())
            .and_then(|signer| match policy {
                Some(p) => airlock_trust::admit::check_publisher(p, &signer, &what)
                    .and_then(|()| {
                        airlock_trust::admit::check_package(
                            p,
                            &installed.record.package.sha256,
                            &what,
                        )
                    })
                    .map(|()| signer)
                    .map_err(|e| e.to_string()),
                None => Ok(signer),
            });
        match result {
            Ok(signer) => details.push(format!(
                "{what}: intact, signed by `{}` ({})",
                signer.trusted_as, signer.fingerprint
            )),
            Err(e) => {
                bad += 1;
                details.push(format!("{what}: REFUSED: {e}"));
            }
        }
    }
    let how = if deep {
        "hashed in full"
    } else {
        "files unchanged since installed"
    };
    if bad > 0 {
        Finding::new(
            "plugins",
            Level::Fail,
            format!("{bad} of {} installed plugin(s) would be refused", all.len()),
        )
        .details(details)
        .fix("reinstall each from its signed package (`airlock plugin install PKG`), or remove it (`airlock plugin remove NAME`)")
    } else {
        Finding::new(
            "plugins",
            Level::Ok,
            format!(
                "{} installed plugin(s), each signed by a trusted key ({how})",
                all.len()
            ),
        )
        .details(details)
    }
}

fn models(home: &Path, deep: bool, progress: &dyn Fn(&str, u64, u64)) -> Finding {
    let store = ModelStore::open(home);
    let results = if deep {
        store.verify(None, progress)
    } else {
        store.survey()
    };
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            return Finding::new(
                "models",
                Level::Fail,
                format!("the model store cannot be read: {e}"),
            )
            .fix(format!(
                "restore {} from a backup, or re-add the models",
                store.lock_path().display()
            ));
        }
    };
    if results.is_empty() {
        return Finding::new("models", Level::Ok, "no models pinned");
    }
    let failed = results.iter().filter(|r| r.status.is_failure()).count();
    let changed = results
        .iter()
        .filter(|r| matches!(r.status, VerifyStatus::Changed { .. }))
        .count();
    let details = results
        .iter()
        .map(|r| format!("{}: {}", r.name, r.status.describe()))
        .collect();
    let how = if deep {
        "each file hashed in full"
    } else {
        "sizes and file metadata; --deep hashes every file"
    };
    let n = results.len();
    if failed > 0 {
        Finding::new(
            "models",
            Level::Fail,
            format!("{failed} of {n} pinned model(s) would be refused ({how})"),
        )
        .details(details)
        .fix("restore each from a trusted copy (`airlock model add COPY --name NAME`) or remove its pin (`airlock model remove NAME`)")
    } else if changed > 0 {
        Finding::new(
            "models",
            Level::Warn,
            format!("{changed} of {n} pinned model file(s) changed since last hashed ({how})"),
        )
        .details(details)
        .fix("`airlock doctor --deep` or `airlock model verify` hashes them now")
    } else {
        Finding::new(
            "models",
            Level::Ok,
            format!("{n} pinned model(s) match their pins ({how})"),
        )
        .details(details)
    }
}

fn audit_log(home: &Path) -> Finding {
    let dir = audit_dir(home);
    let layout = Layout::new(&dir);
    // A listing error is left to the verification, which reports it.
    if layout.segments().is_ok_and(|s| s.is_empty()) {
        // Only whether the head file exists: a head with no log file left
        // means the log was removed.
        #[allow(clippy::disallowed_methods)]
        let head = layout.head().exists();
        if head {
            return Finding::new(
                "audit-log",
                Level::Fail,
                format!(
                    "{}: the log files are gone but the head that tracks them is there: the log was removed",
                    dir.display()
                ),
            )
            .fix("report it to the security officer and restore the log from its backup or export; `airlock audit verify --export FILE` checks an export");
        }
        return Finding::new(
            "audit-log",
            Level::Ok,
            format!(
                "no audit log in {} yet: the first run creates it",
                dir.display()
            ),
        );
    }
    let report = verify::verify_log(&dir, &[]);
    let mut details = vec![format!(
        "{} record(s) in {} file(s), {} checkpoint(s), {} record(s) after the last not yet sealed",
        report.records, report.files, report.checkpoints, report.unsealed
    )];
    details.extend(report.warnings.iter().cloned());
    match &report.failure {
        None => Finding::new(
            "audit-log",
            Level::Ok,
            format!("{} verifies: chain and checkpoints intact", dir.display()),
        )
        .details(details),
        Some(problem) => Finding::new(
            "audit-log",
            Level::Fail,
            format!(
                "{} does not verify: {} ({} line {})",
                dir.display(),
                problem.reason,
                problem.file,
                problem.line
            ),
        )
        .details(details)
        .fix("keep the log as it is (it is the evidence) and report it to the security officer; `airlock audit verify` shows the first problem; docs/audit.md \"Tamper evidence\""),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_proxy_variable_is_red_and_named() {
        let f = proxies(&env(&[
            ("https_proxy", "http://10.1.1.1:3128"),
            ("LANG", "C"),
        ]));
        assert_eq!(f.level, Level::Fail);
        assert!(f.summary.contains("https_proxy"), "{}", f.summary);
        assert!(f.fix.is_some());
        let f = proxies(&env(&[("LANG", "C"), ("no_proxy", "localhost")]));
        assert_eq!(f.level, Level::Ok);
    }

    fn posture() -> Posture {
        Posture {
            bwrap: Some("/usr/bin/bwrap"),
            bwrap_version: Some("0.8.0".into()),
            max_user_namespaces: Some(15000),
            unprivileged_userns_clone: None,
            apparmor_restricts_userns: None,
            seccomp_actions: Some(
                "kill_process kill_thread trap errno user_notif trace log allow".into(),
            ),
            trial: Ok(()),
        }
    }

    fn level(findings: &[Finding], check: &str) -> Level {
        findings.iter().find(|f| f.check == check).unwrap().level
    }

    #[test]
    fn apparmor_restricting_namespaces_is_named_with_its_fix() {
        let mut p = posture();
        p.apparmor_restricts_userns = Some(true);
        p.trial = Err("bwrap: setting up uid map: Permission denied".into());
        let found = sandbox(&p, 1000);
        let ns = found.iter().find(|f| f.check == "namespaces").unwrap();
        assert_eq!(ns.level, Level::Fail);
        assert!(ns.summary.contains("AppArmor"), "{}", ns.summary);
        assert!(
            ns.fix
                .as_deref()
                .unwrap()
                .contains("apparmor_restrict_unprivileged_userns=0")
        );
        assert_eq!(level(&found, "sandbox"), Level::Fail);
        // Allowed through bubblewrap's own AppArmor profile: fine.
        p.trial = Ok(());
        assert_eq!(level(&sandbox(&p, 1000), "namespaces"), Level::Ok);
    }

    #[test]
    fn disabled_user_namespaces_are_named_with_the_sysctl() {
        let mut p = posture();
        p.max_user_namespaces = Some(0);
        p.trial = Err("bwrap: No permissions to creating new namespace".into());
        let found = sandbox(&p, 1000);
        let ns = found.iter().find(|f| f.check == "namespaces").unwrap();
        assert_eq!(ns.level, Level::Fail);
        assert!(ns.fix.as_deref().unwrap().contains("max_user_namespaces"));
    }

    #[test]
    fn no_bubblewrap_and_no_seccomp_are_red() {
        let mut p = posture();
        p.bwrap = None;
        p.bwrap_version = None;
        p.seccomp_actions = None;
        p.trial = Err("bubblewrap (bwrap) is not installed".into());
        let found = sandbox(&p, 0);
        assert_eq!(level(&found, "bubblewrap"), Level::Fail);
        assert_eq!(level(&found, "seccomp"), Level::Fail);
        assert_eq!(level(&found, "sandbox"), Level::Fail);
        assert_eq!(worst(&found), Level::Fail);
        assert_eq!(worst(&sandbox(&posture(), 0)), Level::Ok);
    }
}
