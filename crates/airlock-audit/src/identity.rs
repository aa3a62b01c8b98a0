//! Who and where: the OS user (by uid, which a user cannot fake), the name
//! the password database gives it, the configured site identity, the host.

use serde::{Deserialize, Serialize};
use std::os::unix::fs::MetadataExt;

/// The identity recorded with every run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Identity {
    /// The effective user id of the process (as the kernel reports it in
    /// this process's user namespace).
    pub uid: u32,
    /// The user's name from /etc/passwd (else `$USER`).
    pub user: String,
    /// The site identity from the configuration's `audit.identity`, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configured: Option<String>,
    /// The host name.
    pub host: String,
}

impl Identity {
    /// The identity of this process.
    pub fn current(configured: Option<String>) -> Self {
        let uid = uid();
        Self {
            uid,
            user: user_name(uid)
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| format!("uid-{uid}")),
            configured,
            host: hostname(),
        }
    }
}

/// The effective uid of this process (the owner of its /proc entry).
pub fn uid() -> u32 {
    std::fs::metadata("/proc/self").map_or(u32::MAX, |m| m.uid())
}

fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

/// The host name (from the kernel).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}
