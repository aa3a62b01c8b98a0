//! The environment a command gets: rebuilt from an allowlist, never
//! inherited, so no token, key, proxy or agent socket reaches it.

// Ambient std::fs allowed: keeps the caller's PATH entries that are directories.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;

/// Variables passed through from the caller, when set.
pub const PASSED: &[&str] = &[
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TERM",
    "TZ",
    "USER",
    "LOGNAME",
    "RUSTUP_TOOLCHAIN",
];

/// The command's environment, from the caller's: `PATH` (existing
/// directories only), the allowlisted variables, `HOME` pointing at the
/// sandbox's private `/tmp`, and settings that keep build tools offline.
pub fn build(caller: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let path = caller
        .get("PATH")
        .map(|p| {
            p.split(':')
                .filter(|d| d.starts_with('/') && std::path::Path::new(d).is_dir())
                .collect::<Vec<_>>()
                .join(":")
        })
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    env.insert("PATH".into(), path);
    for key in PASSED {
        if let Some(value) = caller.get(*key) {
            env.insert((*key).to_string(), value.clone());
        }
    }
    env.insert("HOME".into(), "/tmp".into());
    // Build tools that would fetch go offline (there is no network anyway;
    // this makes them fail fast with a clear message instead of timing out).
    env.insert("CARGO_NET_OFFLINE".into(), "true".into());
    env.insert("PIP_NO_INDEX".into(), "1".into());
    env.insert("npm_config_offline".into(), "true".into());
    env.insert("GOFLAGS".into(), "-mod=mod".into());
    env.insert("GOPROXY".into(), "off".into());
    // Toolchains installed under the caller's home stay usable (read-only).
    for key in ["RUSTUP_HOME", "CARGO_HOME"] {
        if let Some(value) = caller.get(key) {
            env.insert(key.to_string(), value.clone());
        }
    }
    if let Some(home) = caller.get("HOME") {
        for (key, sub) in [("RUSTUP_HOME", ".rustup"), ("CARGO_HOME", ".cargo")] {
            let dir = std::path::Path::new(home).join(sub);
            if !env.contains_key(key) && dir.is_dir() {
                env.insert(key.to_string(), dir.display().to_string());
            }
        }
    }
    env
}

/// This process's environment as a map (non-UTF-8 entries left out).
pub fn current() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_proxies_and_sockets_are_not_passed() {
        let caller: BTreeMap<String, String> = [
            ("PATH", "/usr/bin:relative:/nonexistent-dir"),
            ("LANG", "C.UTF-8"),
            ("AWS_SECRET_ACCESS_KEY", "k"),
            ("GITHUB_TOKEN", "t"),
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("SSH_AUTH_SOCK", "/tmp/agent"),
            ("HOME", "/home/u"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let env = build(&caller);
        assert_eq!(env.get("PATH").map(String::as_str), Some("/usr/bin"));
        assert_eq!(env.get("LANG").map(String::as_str), Some("C.UTF-8"));
        assert_eq!(env.get("HOME").map(String::as_str), Some("/tmp"));
        for secret in [
            "AWS_SECRET_ACCESS_KEY",
            "GITHUB_TOKEN",
            "HTTPS_PROXY",
            "SSH_AUTH_SOCK",
        ] {
            assert!(!env.contains_key(secret), "{secret} leaked");
        }
    }
}
