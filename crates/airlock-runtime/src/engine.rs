//! The wasmtime engine, configured once per process for many short runs.
//!
//! - Components are compiled with Cranelift and cached on disk (see [`crate::cache`]).
//! - A pooling allocator, sized for a handful of concurrent skills rather
//!   than wasmtime's default of 1000 slots of 4 GiB each.
//! - Epoch interruption: a ticker thread advances the epoch every
//!   [`EPOCH_TICK`]; a store's deadline is a number of ticks, so a runaway
//!   loop is stopped at the profile's wall-clock limit.

use crate::profile::MAX_MEMORY_MIB;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// How often the epoch advances. A deadline is accurate to about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The WebAssembly stack a skill may use. Deep recursion past it traps with
/// "call stack exhausted" instead of overflowing the host's stack.
pub const MAX_WASM_STACK_BYTES: usize = 512 * 1024;

/// Skill instances that may be alive at once in one process.
pub const MAX_CONCURRENT_SKILLS: u32 = 16;

/// Core instances, memories and tables one component may create. A Rust
/// skill built for `wasm32-wasip2` uses a few of each.
pub const MAX_CORE_INSTANCES_PER_SKILL: u32 = 32;
/// See [`MAX_CORE_INSTANCES_PER_SKILL`].
pub const MAX_MEMORIES_PER_SKILL: u32 = 4;
/// See [`MAX_CORE_INSTANCES_PER_SKILL`].
pub const MAX_TABLES_PER_SKILL: u32 = 16;
/// Memory slots in the pool: a Rust skill has one linear memory, so two per
/// concurrent skill leaves room to spare. Each slot reserves 4 GiB of address
/// space plus guard pages (virtual, not resident): wasmtime can then skip
/// bounds checks on every memory access.
pub const TOTAL_MEMORY_SLOTS: u32 = MAX_CONCURRENT_SKILLS * 2;
/// Elements one table may hold (function pointers for indirect calls).
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Build the engine.
pub fn new_engine() -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(MAX_CONCURRENT_SKILLS)
        .total_core_instances(MAX_CONCURRENT_SKILLS * MAX_CORE_INSTANCES_PER_SKILL)
        .total_memories(TOTAL_MEMORY_SLOTS)
        .total_tables(MAX_CONCURRENT_SKILLS * MAX_TABLES_PER_SKILL)
        .total_stacks(MAX_CONCURRENT_SKILLS)
        .max_memories_per_component(MAX_MEMORIES_PER_SKILL)
        .max_tables_per_component(MAX_TABLES_PER_SKILL)
        .table_elements(MAX_TABLE_ELEMENTS)
        .max_memory_size(usize::try_from(MAX_MEMORY_MIB * 1024 * 1024).unwrap_or(usize::MAX));

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK_BYTES)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config)
}

/// Advances an engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Start ticking `engine`. Without a ticker no deadline could be
    /// enforced, so failing to start one is an error (fail closed).
    pub fn start(engine: &Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let engine = engine.weak();
        std::thread::Builder::new()
            .name("airlock-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Self { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Ticks for a deadline of `ms` milliseconds (at least one).
pub fn deadline_ticks_ms(ms: u128) -> u64 {
    let tick_ms = EPOCH_TICK.as_millis().max(1);
    u64::try_from(ms.div_ceil(tick_ms))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Ticks for a deadline of `seconds`.
pub fn deadline_ticks(seconds: u64) -> u64 {
    let tick_ms = EPOCH_TICK.as_millis() as u64;
    seconds.saturating_mul(1000).div_ceil(tick_ms).max(1)
}
