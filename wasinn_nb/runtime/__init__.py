"""Running guests: the engine, module and graph caches, a fresh store per run, interrupts.

Example:
    >>> from wasinn_nb.runtime import Runner
    >>> guest = '(module (func (export "_start")) (memory (export "memory") 1))'
    >>> result = Runner(cache_dir=None).run(guest)
    >>> result.exit_code, result.stdout
    (0, '')
"""

from wasinn_nb.abi.limits import Limits, format_size, parse_size
from wasinn_nb.runtime.component_guest import ComponentGuest
from wasinn_nb.runtime.dirs import DirMapping
from wasinn_nb.runtime.graphs import GraphCache, RunModels
from wasinn_nb.runtime.preload import Preload
from wasinn_nb.runtime.runner import ModuleSource, Runner
from wasinn_nb.runtime.shared import batch_runner, default_runner, run

__all__ = [
    "ComponentGuest",
    "DirMapping",
    "GraphCache",
    "Limits",
    "ModuleSource",
    "Preload",
    "RunModels",
    "Runner",
    "batch_runner",
    "default_runner",
    "format_size",
    "parse_size",
    "run",
]
