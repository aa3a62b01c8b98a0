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

/// Part of the skill's answer, shown on the user's terminal now: a streamed
/// model answer, say. Printed text is the start of the run's output; the text
/// returned from [`Skill::run`](crate::Skill::run) follows it, so print the
/// answer as it arrives and return only what comes after (sources, a summary).
///
/// No newline is added: pass the pieces exactly as they should appear.
pub fn print(text: &str) {
    host::print(text);
}

/// Progress of long work: `done` of `total` units (`total` 0 when unknown).
pub fn progress(done: u64, total: u64, msg: &str) {
    host::progress(done, total, msg);
}

/// Progress over a known number of items, reported every `every` items so
/// that a long walk shows life without filling the run's output budget.
#[derive(Debug)]
pub struct Progress {
    done: u64,
    total: u64,
    every: u64,
    message: String,
}

impl Progress {
    /// Progress over `total` items, reported every `every` items (at least 1).
    pub fn new(total: usize, every: u64, message: impl Into<String>) -> Self {
        Self {
            done: 0,
            total: u64::try_from(total).unwrap_or(u64::MAX),
            every: every.max(1),
            message: message.into(),
        }
    }

    /// One more item done.
    pub fn tick(&mut self) {
        self.done += 1;
        if self.done.is_multiple_of(self.every) {
            progress(self.done, self.total, &self.message);
        }
    }
}
