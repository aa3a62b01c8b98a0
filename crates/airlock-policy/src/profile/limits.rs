//! Resource limits of one run, with their defaults and allowed ranges.

use serde::Serialize;

/// The limits a run is held to. Built from a profile's `[limits]` table; a key
/// that is not set takes the default documented on each field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Limits {
    /// Wall-clock deadline for the whole run. Default 30 s.
    pub wall_clock_seconds: u64,
    /// Linear memory the skill may grow to. Default 256 MiB.
    pub memory_mib: u64,
    /// Bytes the skill may read from the workspace in one run. Default 256 MiB.
    pub max_bytes_read: u64,
    /// Bytes the skill may write in one run. Default 16 MiB.
    pub max_bytes_written: u64,
    /// Bytes of output (log messages, captured stdout/stderr, final text). Default 1 MiB.
    pub max_output_bytes: u64,
    /// Directory entries the skill may list or walk in one run. Default 20 000.
    pub max_files_listed: u64,
    /// Denials recorded (audit log and the run's report) in one run; the
    /// next one stops the run. Default 1 000.
    pub max_denials: u64,
    /// Calls the skill may make to the `airlock:skill` interfaces in one run,
    /// cheap ones (`stat`, `grants`, zero-length reads) included; the next
    /// one stops the run. Default 1 000 000.
    pub max_host_calls: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            wall_clock_seconds: 30,
            memory_mib: 256,
            max_bytes_read: 256 * MIB,
            max_bytes_written: 16 * MIB,
            max_output_bytes: MIB,
            max_files_listed: 20_000,
            max_denials: 1_000,
            max_host_calls: 1_000_000,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// The most memory any profile may grant. The engine's pooling allocator
/// reserves address space for this much per instance slot.
pub const MAX_MEMORY_MIB: u64 = 1024;

/// The allowed range of each limit key, with its unit for messages.
pub(crate) struct LimitRange {
    pub key: &'static str,
    pub min: u64,
    pub max: u64,
}

pub(crate) const RANGES: &[LimitRange] = &[
    LimitRange {
        key: "wall-clock-seconds",
        min: 1,
        max: 3600,
    },
    // A Rust guest needs a few MiB for its stack and data before `main`.
    LimitRange {
        key: "memory-mib",
        min: 8,
        max: MAX_MEMORY_MIB,
    },
    LimitRange {
        key: "max-bytes-read",
        min: 0,
        max: 64 * 1024 * MIB,
    },
    LimitRange {
        key: "max-bytes-written",
        min: 0,
        max: 64 * 1024 * MIB,
    },
    LimitRange {
        key: "max-output-bytes",
        min: 1024,
        max: 256 * MIB,
    },
    LimitRange {
        key: "max-files-listed",
        min: 1,
        max: 10_000_000,
    },
    // Each recorded denial is an audit record and an event the run keeps in
    // memory until it ends (a few hundred bytes): 100 000 is tens of MB.
    LimitRange {
        key: "max-denials",
        min: 1,
        max: 100_000,
    },
    // Most calls write an audit record (a few hundred bytes); the ceiling
    // keeps one run's share of the log to a few GB at worst.
    LimitRange {
        key: "max-host-calls",
        min: 1,
        max: 10_000_000,
    },
];

pub(crate) fn range(key: &str) -> &'static LimitRange {
    RANGES.iter().find(|r| r.key == key).unwrap_or(&RANGES[0])
}
