"""What a run returns: the guest's exit status and output, the tensors it exchanged, timings.

Plain data: nothing here knows about wasm, backends or how results are displayed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from wasinn_nb.enums import NnErrno
from wasinn_nb.results.display import RichDisplay

__all__ = ["PHASES", "CallRecord", "RunResult", "TensorRecord", "Timings"]

#: Timed phases of a run, in order. ``load`` covers every load/load_by_name call.
PHASES = ("compile", "instantiate", "load", "init", "set_input", "compute", "get_output", "total")

_PHASE_OF_CALL = {
    "load": "load",
    "load_by_name": "load",
    "load_by_name_with_config": "load",
    "init_execution_context": "init",
    "set_input": "set_input",
    "compute": "compute",
    "compute_single": "compute",
    "get_output": "get_output",
    "get_output_single": "get_output",
    "tensor": "set_input",  # wasi:nn (WIT): a tensor's data crossing into the host
    "tensor_data": "get_output",  # and an output's data crossing back
}


@dataclass(frozen=True)
class CallRecord:
    """One wasi-nn call the guest made."""

    name: str
    errno: NnErrno
    seconds: float


@dataclass(frozen=True)
class TensorRecord:
    """A tensor that crossed the ABI: an input the guest set, or an output it read."""

    context: int
    index: int
    array: npt.NDArray[np.generic]


@dataclass(frozen=True)
class Timings:
    """Seconds spent per phase (see :data:`PHASES`)."""

    seconds: Mapping[str, float]

    @classmethod
    def collect(
        cls, calls: Mapping[str, float], *, compile: float, instantiate: float, total: float
    ) -> Timings:
        """Add up the seconds of each wasi-nn call per phase, plus the runner's wasm phases.

        Example:
            >>> t = Timings.collect({"load": 0.2, "load_by_name": 0.1, "compute": 0.5},
            ...                     compile=0.01, instantiate=0.02, total=1.0)
            >>> round(t["load"], 3), t["compute"], t["get_output"]
            (0.3, 0.5, 0.0)
        """
        seconds = dict.fromkeys(PHASES, 0.0)
        seconds.update(compile=compile, instantiate=instantiate, total=total)
        for name, spent in calls.items():
            phase = _PHASE_OF_CALL.get(name)
            if phase:
                seconds[phase] += spent
        return cls(seconds)

    def __getitem__(self, phase: str) -> float:
        return self.seconds[phase]

    def format(self) -> str:
        """One line: ``compile 1.2 ms · load 180.3 ms · …``."""
        return " · ".join(f"{p} {self.seconds[p] * 1e3:.1f} ms" for p in PHASES)


@dataclass(frozen=True)
class RunResult(RichDisplay):
    """The outcome of running a guest.

    Attributes:
        module: The module that ran (a path, or ``<bytes>``/``<wat>``).
        args: The guest's arguments (without the program name).
        exit_code: The guest's exit status; ``None`` if it trapped or timed out.
        error: Why it did not exit normally (trap message, timeout), else ``None``.
        stdout: What the guest wrote to stdout (its last ``Limits.captured_bytes`` characters,
            after a note of how many were dropped).
        stderr: The same for stderr, with the host's ``[wasinn]`` lines.
        input_records: Each tensor passed to ``set_input``, with its context and index (when
            recording, up to ``Limits.tensor_bytes``).
        output_records: Each tensor read with ``get_output``, likewise.
        calls: The wasi-nn calls (the first ``Limits.call_records``), with errno and duration.
        context_graphs: The compiled graph behind each execution context (for benchmarks).
        host_log: One line per failed wasi-nn call, explaining the errno the guest got.
        timings: Seconds per phase.
    """

    module: str
    args: tuple[str, ...]
    exit_code: int | None
    error: str | None
    stdout: str
    stderr: str
    input_records: tuple[TensorRecord, ...] = ()
    output_records: tuple[TensorRecord, ...] = ()
    calls: tuple[CallRecord, ...] = ()
    host_log: tuple[str, ...] = ()
    timings: Timings = field(default_factory=lambda: Timings(dict.fromkeys(PHASES, 0.0)))
    context_graphs: Mapping[int, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """Whether the guest exited with status 0."""
        return self.exit_code == 0

    @property
    def inputs(self) -> tuple[npt.NDArray[np.generic], ...]:
        """The input tensors, in the order the guest set them."""
        return tuple(r.array for r in self.input_records)

    @property
    def outputs(self) -> tuple[npt.NDArray[np.generic], ...]:
        """The output tensors, in the order the guest first read them."""
        return tuple(r.array for r in self.output_records)

    def __repr__(self) -> str:
        status = f"exit {self.exit_code}" if self.error is None else f"failed: {self.error}"
        shapes = ", ".join(f"{'x'.join(map(str, a.shape))} {a.dtype.name}" for a in self.outputs)
        total = self.timings["total"] * 1e3
        return f"<RunResult {self.module} {status}; outputs [{shapes}]; {total:.0f} ms>"
