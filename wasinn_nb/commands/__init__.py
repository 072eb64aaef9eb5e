"""The commands, one function each, used by both front ends (``wasinn`` and ``%wasinn``).

A command takes parsed options and a :class:`Session` and returns an :class:`Outcome`: the
value ``%wasinn`` returns, the report both edges show, the CLI's exit status. Errors are raised
as :class:`~wasinn_nb.errors.WasinnError`; the edges translate them with
:func:`wasinn_nb.errors.describe`.

Example:
    >>> from wasinn_nb.commands import COMMANDS
    >>> sorted(COMMANDS)[:4]
    ['backends', 'batch', 'bench', 'build']
"""

from __future__ import annotations

from wasinn_nb.commands import (
    batch,
    bench,
    build,
    demo,
    fetch,
    models,
    notebooks,
    pipeline,
    run,
    tensors,
)
from wasinn_nb.commands import options as o
from wasinn_nb.commands.base import Command, Outcome, Session

__all__ = ["CLI_COMMANDS", "COMMANDS", "Command", "Outcome", "Session"]

COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("run", "run a wasi-nn WebAssembly guest (exit status is the guest's)",
                o.RUN_OPTIONS, run.run),
        Command("build", "build a guest from Rust or C source (wasm32-wasi, cached); --run runs it",
                o.BUILD_OPTIONS, build.build),
        Command("im2tensor", "convert images to tensor files", o.CONVERT_OPTIONS,
                tensors.convert),
        Command("inspect", "print shape, dtype and per-channel stats of a tensor file",
                o.INSPECT_OPTIONS, tensors.inspect),
        Command("to-png", "turn a tensor file back into an image", o.TO_PNG_OPTIONS,
                tensors.to_png),
        Command("fetch", "fetch models and images (verified by sha256)", o.FETCH_OPTIONS,
                fetch.fetch),
        Command("demo", "segment a road photo with the road-seg guest, write an overlay PNG",
                o.DEMO_OPTIONS, demo.demo),
        Command("notebooks", "copy the walkthrough notebooks into a folder (then: jupyter lab DIR)",
                o.NOTEBOOKS_OPTIONS, notebooks.notebooks),
        Command("batch", "run a guest over many inputs (locally or on Dask) into a table",
                o.BATCH_OPTIONS, batch.batch),
        Command("pipeline", "run a graph of wasm operators (YAML) over inputs, every stage timed",
                o.PIPELINE_OPTIONS, pipeline.pipeline),
        Command("bench", "time a guest's phases against calling its backend directly",
                o.BENCH_OPTIONS, bench.bench),
        Command("backends", "list inference backends: version, devices, encodings", (),
                models.backends),
        Command("preload", "make a model loadable by name in later runs", o.PRELOAD_OPTIONS,
                models.preload),
        Command("models", "list the models preloaded by name", (), models.models),
    )
}  # fmt: skip

#: The commands of the ``wasinn`` CLI: the rest keep state between calls, which only a
#: long-lived kernel has.
CLI_COMMANDS = tuple(name for name in COMMANDS if name not in ("preload", "models"))
