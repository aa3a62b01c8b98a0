//! A run's deadline, which stands still while a person is deciding at an
//! approval prompt: time spent reading a diff is not the skill's time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The run's deadline plus the time spent waiting for people.
#[derive(Debug, Clone)]
pub struct RunClock {
    deadline: Instant,
    waited_ms: Arc<AtomicU64>,
}

impl RunClock {
    /// A clock whose deadline is `deadline` (before any waiting).
    pub fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            waited_ms: Arc::new(AtomicU64::new(0)),
        }
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

    /// Whether the deadline has passed.
    pub fn passed(&self) -> bool {
        Instant::now() >= self.at()
    }
}
