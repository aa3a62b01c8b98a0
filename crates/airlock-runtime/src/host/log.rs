//! `airlock:skill/log`: messages and progress for the user.
//!
//! Messages count against the profile's output budget. A single message over
//! [`MAX_MESSAGE_BYTES`] is resource abuse, not a log line: the run is stopped.

use crate::bindings::log_api::{self as api, Level as WitLevel};
use crate::journal::{Abort, Event, Journal, Level};
use wasmtime::component::HasData;

/// The largest message one `log` or `progress` call may pass. Large data
/// belongs in the run's output, not in the log.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// What each call costs the output budget beyond its text, so that a flood
/// of empty messages is bounded too.
pub const PER_CALL_OVERHEAD_BYTES: u64 = 32;

/// The borrowed view the generated `Host` trait is implemented on.
pub struct LogView<'a> {
    /// The run's journal.
    pub journal: &'a mut Journal,
}

/// Marker for `add_to_linker`.
pub struct HasLog;

impl HasData for HasLog {
    type Data<'a> = LogView<'a>;
}

/// Add `airlock:skill/log` to a linker.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut wasmtime::component::Linker<T>,
    view: fn(&mut T) -> LogView<'_>,
) -> wasmtime::Result<()> {
    api::add_to_linker::<T, HasLog>(linker, view)
}

impl LogView<'_> {
    fn admit(&mut self, call: &str, message: &str) -> wasmtime::Result<()> {
        if message.len() > MAX_MESSAGE_BYTES {
            let text = format!(
                "the skill passed a {}-byte message to log::{call}; one call may pass at most {MAX_MESSAGE_BYTES} bytes",
                message.len()
            );
            self.journal.abort(Abort::Abuse(text.clone()));
            return Err(wasmtime::Error::msg(text));
        }
        self.journal
            .charge_output(
                message.len() as u64 + PER_CALL_OVERHEAD_BYTES,
                &format!("a log::{call} message"),
            )
            .map_err(|abort| match abort {
                Abort::Limit { message, .. } | Abort::Abuse(message) | Abort::Audit(message) => {
                    wasmtime::Error::msg(message)
                }
            })
    }
}

impl api::Host for LogView<'_> {
    fn log(&mut self, level: WitLevel, message: String) -> wasmtime::Result<()> {
        self.journal.host_call("log::log")?;
        self.admit("log", &message)?;
        let level = match level {
            WitLevel::Debug => Level::Debug,
            WitLevel::Info => Level::Info,
            WitLevel::Warn => Level::Warn,
            WitLevel::Error => Level::Error,
        };
        self.journal.record(Event::Log { level, message });
        self.journal.audit_check()
    }

    fn print(&mut self, text: String) -> wasmtime::Result<()> {
        self.journal.host_call("log::print")?;
        self.admit("print", &text)?;
        self.journal.print(text);
        Ok(())
    }

    fn progress(&mut self, done: u64, total: u64, message: String) -> wasmtime::Result<()> {
        self.journal.host_call("log::progress")?;
        self.admit("progress", &message)?;
        self.journal.record(Event::Progress {
            done,
            total,
            message,
        });
        Ok(())
    }
}
