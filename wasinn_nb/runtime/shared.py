"""The process-wide runner behind :func:`wasinn_nb.run`, the CLI and the magics."""

from __future__ import annotations

import atexit
import gc
import threading
from collections.abc import Sequence

from wasinn_nb.results import RunResult
from wasinn_nb.runtime.runner import ModuleSource, Runner

__all__ = ["default_runner", "run"]

# wasmtime objects free themselves through ctypes in __del__. Free them at exit while ctypes
# still works, not during interpreter teardown (which prints "Exception ignored" noise).
atexit.register(gc.collect)

_default: Runner | None = None
_default_lock = threading.Lock()


def default_runner() -> Runner:
    """The process-wide runner used by :func:`run` (and the magics)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runner()
            atexit.register(_default.close)
        return _default


def run(module: ModuleSource, args: Sequence[str] = (), **options: object) -> RunResult:
    """Run a guest with the shared runner; see :meth:`Runner.run` for the options.

    Example:
        >>> import wasinn_nb
        >>> wasinn_nb.run('(module (memory (export "memory") 1) (func (export "_start")))').ok
        True
    """
    return default_runner().run(module, args, **options)  # type: ignore[arg-type]
