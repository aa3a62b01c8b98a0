//! The data of one run's store: the WASI context, the resource table, each
//! interface's state and the memory limiter, and the views the linker hands
//! each host interface.

use crate::host::inference::{InferenceState, InferenceView};
use crate::host::log::LogView;
use crate::host::workspace::{WorkspaceState, WorkspaceView};
use crate::journal::Journal;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The data of one run's store.
pub struct RunState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) workspace: WorkspaceState,
    pub(crate) journal: Journal,
    pub(crate) inference: InferenceState,
    pub(crate) exec: crate::host::exec::ExecState,
    pub(crate) limiter: MemoryLimiter,
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl RunState {
    pub(crate) fn workspace_view(&mut self) -> WorkspaceView<'_> {
        WorkspaceView {
            state: &mut self.workspace,
            journal: &mut self.journal,
        }
    }

    pub(crate) fn inference_view(&mut self) -> InferenceView<'_> {
        InferenceView {
            state: &mut self.inference,
            table: &mut self.table,
            journal: &mut self.journal,
        }
    }

    pub(crate) fn exec_view(&mut self) -> crate::host::exec::ExecView<'_> {
        crate::host::exec::ExecView {
            state: &mut self.exec,
            workspace: &mut self.workspace,
            journal: &mut self.journal,
        }
    }

    pub(crate) fn log_view(&mut self) -> LogView<'_> {
        LogView {
            journal: &mut self.journal,
        }
    }
}

/// Enforces the profile's memory limit and records a refused growth, so a
/// memory bomb is reported as such rather than as the guest's abort.
pub(crate) struct MemoryLimiter {
    pub(crate) max_bytes: usize,
    pub(crate) refused: Option<usize>,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.refused = Some(self.refused.map_or(desired, |r| r.max(desired)));
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= crate::engine::MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        crate::engine::MAX_CORE_INSTANCES_PER_SKILL as usize
    }

    fn tables(&self) -> usize {
        crate::engine::MAX_TABLES_PER_SKILL as usize
    }

    fn memories(&self) -> usize {
        crate::engine::MAX_MEMORIES_PER_SKILL as usize
    }
}
