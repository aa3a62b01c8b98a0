//! Messages and progress for the user.
//!
//! Everything logged is kept with the run's record and counts against the
//! profile's `limits.max-output-bytes`, so log what helps a human follow the
//! run, not every file touched.

use crate::__private::airlock::skill::log as host;

/// A message useful when debugging the skill.
pub fn debug(msg: &str) {
    host::log(host::Level::Debug, msg);
}

/// A message about normal progress.
pub fn info(msg: &str) {
    host::log(host::Level::Info, msg);
}

/// Something the user should know about, though the run goes on.
pub fn warn(msg: &str) {
    host::log(host::Level::Warn, msg);
}

/// Something went wrong.
pub fn error(msg: &str) {
    host::log(host::Level::Error, msg);
}

/// Progress of long work: `done` of `total` units (`total` 0 when unknown).
pub fn progress(done: u64, total: u64, msg: &str) {
    host::progress(done, total, msg);
}
