"""Wasmtime's pooling allocator, for runners that start many short runs one after another.

With it an instance's linear memory, table and stack come from slots the engine reserves once,
and the first :data:`KEEP_RESIDENT` bytes of a memory stay mapped between runs: zeroed with
``memset`` when the instance ends instead of handed back to the kernel and faulted in again by
the next run (the classify guest's ~1,400 page faults per run fall to a few dozen). Each new
instance still starts from zeroed memory and its module's data segments, as with the default
allocator. A batch worker runs one item at a time; a Dask worker one per thread, and a
component a few core instances each: :data:`SLOTS` leaves room for all of them. Each memory slot
reserves 4 GiB of address space (not of memory) up front.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from wasinn_nb.abi.limits import GiB, MiB

if TYPE_CHECKING:
    from wasmtime import Config

__all__ = ["KEEP_RESIDENT", "SLOTS", "use_instance_pool"]

#: Core instances (and memories, tables, stacks) alive at once in one pooled engine.
SLOTS = max(16, 4 * (os.cpu_count() or 1))
#: Bytes of each linear memory kept mapped between runs.
KEEP_RESIDENT = 64 * MiB
#: The largest linear memory a slot holds: wasm32's whole 4 GiB (``Limits.memory`` is checked
#: by each run's store, as without the pool).
MAX_MEMORY = 4 * GiB
#: Elements of a table slot (``Limits.table_elements``' default).
TABLE_ELEMENTS = 1_000_000
MEMORIES_PER_MODULE = 4


def use_instance_pool(config: Config) -> bool:
    """Make engines of ``config`` take instances from a pool; False if this wasmtime cannot.

    The pooling allocator is in wasmtime's C API but not in wasmtime-py's ``Config``; it is set
    through the package's own ctypes bindings (wasmtime-py is pinned below 51 in pyproject).
    """
    try:
        from wasmtime import _ffi as ffi

        new = ffi.wasmtime_pooling_allocation_config_new
        set_strategy = ffi.wasmtime_pooling_allocation_strategy_set
    except (ImportError, AttributeError):  # pragma: no cover - a wasmtime without it
        return False
    pool = new()
    try:
        for setter, value in (
            (ffi.wasmtime_pooling_allocation_config_total_core_instances_set, SLOTS),
            (ffi.wasmtime_pooling_allocation_config_total_component_instances_set, SLOTS),
            (ffi.wasmtime_pooling_allocation_config_total_memories_set, SLOTS),
            (ffi.wasmtime_pooling_allocation_config_total_tables_set, SLOTS),
            (ffi.wasmtime_pooling_allocation_config_total_stacks_set, SLOTS),
            (ffi.wasmtime_pooling_allocation_config_max_memories_per_module_set,
             MEMORIES_PER_MODULE),
            (ffi.wasmtime_pooling_allocation_config_max_memory_size_set, MAX_MEMORY),
            (ffi.wasmtime_pooling_allocation_config_table_elements_set, TABLE_ELEMENTS),
            (ffi.wasmtime_pooling_allocation_config_linear_memory_keep_resident_set,
             KEEP_RESIDENT),
        ):  # fmt: skip
            setter(pool, value)
        set_strategy(config.ptr(), pool)
    finally:
        ffi.wasmtime_pooling_allocation_config_delete(pool)
    return True
