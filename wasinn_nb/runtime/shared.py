"""The process-wide runner behind :func:`wasinn_nb.run`, the CLI and the magics."""

from __future__ import annotations

import atexit
import gc
import threading
from collections.abc import Sequence

from wasinn_nb.results import RunResult
from wasinn_nb.runtime.runner import ModuleSource, Runner, stop_all

__all__ = ["batch_runner", "default_runner", "run"]

_default: Runner | None = None
_batch: Runner | None = None
_default_lock = threading.Lock()


def default_runner() -> Runner:
    """The process-wide runner used by :func:`run` (and the magics)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runner()
        return _default


def batch_runner() -> Runner:
    """The process-wide runner for batches: instances from a pool, models shared.

    A run's memory stays mapped for the next one (:mod:`~wasinn_nb.runtime.instance_pool`);
    compiled models are :func:`default_runner`'s, so a notebook's batch reuses them.
    """
    global _batch
    graphs = default_runner().graphs
    with _default_lock:
        if _batch is None:
            _batch = Runner(graphs=graphs, instance_pool=True)
        return _batch


@atexit.register
def _shutdown() -> None:
    """Stop what still runs, then free wasmtime's objects while ctypes still works.

    Left to interpreter teardown, wasmtime objects print "Exception ignored" noise from their
    ``__del__``; an engine freed under a guest thread still running can abort the process. A
    run abandoned in an uncancellable backend call keeps its engine: the process exit frees it.
    """
    if stop_all("the process is exiting"):
        for runner in (_batch, _default):
            if runner is not None:
                runner.close()
    gc.collect()


def run(module: ModuleSource, args: Sequence[str] = (), **options: object) -> RunResult:
    """Run a guest with the shared runner; see :meth:`Runner.run` for the options.

    Example:
        >>> import wasinn_nb
        >>> wasinn_nb.run('(module (memory (export "memory") 1) (func (export "_start")))').ok
        True
    """
    return default_runner().run(module, args, **options)  # type: ignore[arg-type]
