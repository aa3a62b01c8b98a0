//! Where Airlock keeps its state: the audit log, the model and plugin
//! stores, the trust store, the compile cache and undo records.

use std::path::PathBuf;

/// The environment variable that overrides Airlock's home directory.
pub const HOME_ENV: &str = "AIRLOCK_HOME";

/// Airlock's state directory: `$AIRLOCK_HOME`, else `$XDG_STATE_HOME/airlock`,
/// else `~/.local/state/airlock`.
pub fn default_home() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os(HOME_ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(home));
    }
    if let Some(state) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(state).join("airlock"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|h| PathBuf::from(h).join(".local/state/airlock"))
}
