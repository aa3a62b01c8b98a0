//! A run's deadline, which stands still while a person is deciding at an
//! approval prompt: time spent reading a diff is not the skill's time. A
//! run can also be cancelled from outside ([`Cancel`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The run's deadline plus the time spent waiting for people.
#[derive(Debug, Clone)]
pub struct RunClock {
    deadline: Instant,
    waited_ms: Arc<AtomicU64>,
    cancel: Cancel,
}

impl RunClock {
    /// A clock whose deadline is `deadline` (before any waiting).
    pub fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            waited_ms: Arc::new(AtomicU64::new(0)),
            cancel: Cancel::default(),
        }
    }

    /// The same clock, stopped early when `cancel` is cancelled.
    pub fn with_cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// The run's cancel handle.
    pub fn cancel(&self) -> &Cancel {
        &self.cancel
    }

    /// Time spent waiting for a person, in total.
    pub fn waited(&self) -> Duration {
        Duration::from_millis(self.waited_ms.load(Ordering::Relaxed))
    }

    /// Add time spent waiting for a person.
    pub fn add_wait(&self, wait: Duration) {
        let ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        self.waited_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The deadline now: the original one moved by the waiting.
    pub fn at(&self) -> Instant {
        self.deadline + self.waited()
    }

    /// Whether the deadline has passed (or the run was cancelled).
    pub fn passed(&self) -> bool {
        self.cancel.is_cancelled() || Instant::now() >= self.at()
    }
}

/// A way to stop a run from outside it (Ctrl-C in `airlock chat`): the
/// skill is interrupted at its next instruction, and a model answer being
/// generated is dropped, which stops the engine.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    notify: Arc<tokio::sync::Notify>,
}

impl Cancel {
    /// A handle nobody has cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stop the run (idempotent).
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Completes once the run is cancelled.
    pub async fn cancelled(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }
}
