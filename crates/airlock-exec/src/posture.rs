//! What this machine offers the command sandbox, for `airlock doctor`:
//! bubblewrap and its version, the kernel's user namespaces and seccomp,
//! AppArmor's restriction of unprivileged user namespaces (Ubuntu 23.10
//! on), and a trial of the isolation a command gets: bubblewrap with every
//! namespace, no capabilities and the seccomp filter, running `true`.

// Ambient std::fs allowed: reads the kernel's settings under /proc/sys.
#![allow(clippy::disallowed_methods)]

use super::isolate::bwrap;
use super::seccomp::SeccompFd;
use std::path::Path;
use std::process::{Command, Stdio};

/// What was found. `None` where the kernel does not say (an older kernel,
/// or a setting that does not exist on this distribution).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posture {
    /// The bubblewrap binary Airlock uses, if installed.
    pub bwrap: Option<&'static str>,
    /// Its version (`bwrap --version`, e.g. "0.8.0").
    pub bwrap_version: Option<String>,
    /// `/proc/sys/user/max_user_namespaces`: 0 disables user namespaces.
    pub max_user_namespaces: Option<u64>,
    /// `kernel.unprivileged_userns_clone` (Debian's switch; absent elsewhere).
    pub unprivileged_userns_clone: Option<bool>,
    /// `kernel.apparmor_restrict_unprivileged_userns` (Ubuntu 23.10 on): when
    /// set, only programs with an AppArmor profile that allows it may create
    /// user namespaces.
    pub apparmor_restricts_userns: Option<bool>,
    /// The seccomp actions the kernel offers
    /// (`/proc/sys/kernel/seccomp/actions_avail`); the filter needs
    /// `kill_process` and `errno`.
    pub seccomp_actions: Option<String>,
    /// The trial: `Ok` when a command could be isolated here, else why not
    /// (bubblewrap's own message).
    pub trial: Result<(), String>,
}

impl Posture {
    /// Whether the kernel offers the seccomp actions the filter uses.
    pub fn seccomp_ready(&self) -> bool {
        self.seccomp_actions.as_deref().is_some_and(|a| {
            let actions: Vec<&str> = a.split_whitespace().collect();
            actions.contains(&"kill_process") && actions.contains(&"errno")
        })
    }
}

fn sysctl(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn flag(path: &str) -> Option<bool> {
    sysctl(path).and_then(|v| match v.as_str() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    })
}

/// `bwrap --version` prints "bubblewrap 0.8.0".
fn version(bwrap: &str) -> Option<String> {
    let out = Command::new(bwrap)
        .arg("--version")
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let word = text.split_whitespace().last()?;
    Some(word.to_string())
}

/// Isolate `true` the way a command is isolated (every namespace, no
/// capabilities, the seccomp filter), over a read-only view of `/`.
fn trial(bwrap: &str) -> Result<(), String> {
    let truth = ["/usr/bin/true", "/bin/true"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .ok_or("no `true` program in /usr/bin or /bin to try the sandbox with")?;
    let seccomp = SeccompFd::new().map_err(|e| e.to_string())?;
    let out = Command::new(bwrap)
        .args(["--unshare-all", "--die-with-parent", "--new-session"])
        .args(["--cap-drop", "ALL"])
        .args(seccomp.args())
        .args(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"])
        .args(["--", truth])
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {bwrap}: {e}"))?;
    drop(seccomp);
    if out.status.success() {
        Ok(())
    } else {
        let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
        Err(if said.is_empty() {
            format!("{bwrap} failed ({})", out.status)
        } else {
            said
        })
    }
}

/// Examine this machine (runs bubblewrap twice; about 10 ms).
pub fn examine() -> Posture {
    let bwrap = bwrap();
    Posture {
        bwrap,
        bwrap_version: bwrap.and_then(version),
        max_user_namespaces: sysctl("/proc/sys/user/max_user_namespaces")
            .and_then(|v| v.parse().ok()),
        unprivileged_userns_clone: flag("/proc/sys/kernel/unprivileged_userns_clone"),
        apparmor_restricts_userns: flag("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
        seccomp_actions: sysctl("/proc/sys/kernel/seccomp/actions_avail"),
        trial: match bwrap {
            Some(b) => trial(b),
            None => Err("bubblewrap (bwrap) is not installed".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_needs_kill_process_and_errno() {
        let mut p = examine();
        p.seccomp_actions =
            Some("kill_process kill_thread trap errno user_notif trace log allow".into());
        assert!(p.seccomp_ready());
        p.seccomp_actions = Some("kill_thread trap errno allow".into());
        assert!(!p.seccomp_ready());
        p.seccomp_actions = None;
        assert!(!p.seccomp_ready());
    }
}
