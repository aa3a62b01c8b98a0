//! A program in a real pseudo-terminal (stdin, stdout and stderr are the
//! terminal, which is also its controlling terminal, `/dev/tty`), for the
//! tests of approval prompts and `airlock chat`.
//!
//! The terminal is read with non-blocking reads and short sleeps rather than
//! `Expect::expect`, which polls without sleeping: on a small machine running
//! tests in parallel, several spinning readers would starve the very
//! processes they wait for.

use expectrl::Expect;
pub use expectrl::process::unix::{Signal, WaitStatus};
use expectrl::session::OsSession;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a terminal expectation may take. Generous: the first prompt of a
/// test comes after compiling the skill in a fresh home (and for the agent,
/// several calls of the model), and the machine may be busy with other
/// builds and tests.
pub const PTY_TIMEOUT: Duration = Duration::from_secs(240);

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `airlock` in a pseudo-terminal: stdin, stdout and stderr are the terminal,
/// which is also its controlling terminal (`/dev/tty`).
pub struct Pty {
    session: OsSession,
    /// Everything the process printed so far.
    seen: Vec<u8>,
    /// Where the next [`Pty::wait_for`] starts looking.
    cursor: usize,
    eof: bool,
}

impl Pty {
    /// Start `cmd` with `args` in a new pseudo-terminal.
    pub fn spawn(mut cmd: Command, args: &[String]) -> Self {
        cmd.args(args);
        let session = expectrl::Session::spawn(cmd).expect("spawn airlock in a pseudo-terminal");
        Self {
            session,
            seen: Vec::new(),
            cursor: 0,
            eof: false,
        }
    }

    /// Read whatever is available now, without blocking.
    pub fn pump(&mut self) {
        let mut buf = [0u8; 4096];
        while !self.eof {
            match self.session.try_read(&mut buf) {
                // The terminal's other side is closed: the process has ended.
                Ok(0) => self.eof = true,
                Ok(n) => self.seen.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Linux reports a pseudo-terminal whose other side closed as EIO.
                Err(e) if e.raw_os_error() == Some(5) => self.eof = true,
                Err(e) => panic!("reading the terminal failed: {e}\n{}", self.transcript()),
            }
        }
    }

    pub fn transcript(&self) -> String {
        text(&self.seen)
    }

    /// Wait until the terminal shows `needle` (after what earlier waits
    /// found); returns what came between.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PTY_TIMEOUT;
        loop {
            self.pump();
            let rest = &self.seen[self.cursor..];
            if let Some(at) = rest
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
            {
                let between = text(&rest[..at]);
                self.cursor += at + needle.len();
                return between;
            }
            assert!(
                !self.eof,
                "the program ended without printing {needle:?}; the terminal showed:\n{}",
                self.transcript()
            );
            assert!(
                Instant::now() < deadline,
                "no {needle:?} on the terminal within {PTY_TIMEOUT:?}; it showed:\n{}",
                self.transcript()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Type `keys` (a carriage return is the Enter key).
    pub fn send(&mut self, keys: &str) {
        self.session.send(keys).expect("type on the terminal");
    }

    /// Read to the end, then reap the process: its exit status and everything
    /// it printed.
    pub fn finish(mut self) -> (WaitStatus, String) {
        let deadline = Instant::now() + PTY_TIMEOUT;
        while !self.eof {
            self.pump();
            assert!(
                Instant::now() < deadline,
                "airlock did not end within {PTY_TIMEOUT:?}; the terminal showed:\n{}",
                self.transcript()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let status = self.session.get_process().wait().expect("wait for airlock");
        (status, self.transcript())
    }

    /// Kill the process with SIGKILL, as a crash would end it, and reap it.
    pub fn kill(mut self) -> (WaitStatus, String) {
        self.session
            .get_process_mut()
            .kill(Signal::SIGKILL)
            .expect("send SIGKILL");
        let status = self.session.get_process().wait().expect("wait for airlock");
        self.pump();
        (status, self.transcript())
    }
}
