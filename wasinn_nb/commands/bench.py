"""``bench``: per-phase timings of a guest against calling its backend directly, in one session."""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.commands.run import run_guest
from wasinn_nb.errors import GuestError
from wasinn_nb.progress import progress
from wasinn_nb.results import PHASES, RunResult

__all__ = ["BenchReport", "bench", "bench_guest"]


@dataclass(frozen=True)
class BenchReport:
    """Median seconds per phase over the guest runs, and of the direct backend calls."""

    runs: int
    guest: dict[str, float]
    direct: dict[str, float]

    def format(self) -> str:
        """A text table: phase, guest ms, direct ms."""
        lines = [f"{'phase':<12} {'guest ms':>10} {'direct ms':>10}   ({self.runs} runs, median)"]
        for phase in PHASES:
            direct = self.direct.get(phase)
            shown = f"{direct * 1e3:10.2f}" if direct is not None else f"{'':>10}"
            lines.append(f"{phase:<12} {self.guest[phase] * 1e3:10.2f} {shown}")
        if self.direct.get("total"):
            ratio = self.guest["total"] / self.direct["total"]
            lines.append(f"guest total / direct total: {ratio:.2f}x")
        return "\n".join(lines)


def _direct(result: RunResult) -> dict[str, float]:
    """Time set_input/compute/get_output on the same graphs and inputs, without wasm."""
    seconds = dict.fromkeys(("set_input", "compute", "get_output"), 0.0)
    for context, graph in result.context_graphs.items():
        inputs = [r for r in result.input_records if r.context == context]
        outputs = [r for r in result.output_records if r.context == context]
        direct = graph.init_context()
        start = time.perf_counter()
        for record in inputs:
            direct.set_input(record.index, record.array)
        bound = time.perf_counter()
        direct.compute()
        computed = time.perf_counter()
        for record in outputs:
            direct.get_output(record.index).copy()
        seconds["set_input"] += bound - start
        seconds["compute"] += computed - bound
        seconds["get_output"] += time.perf_counter() - computed
    seconds["total"] = sum(seconds.values())
    return seconds


def bench_guest(
    run_once: Callable[[], RunResult],
    repeat: int,
    *,
    show_progress: bool = False,
    file: TextIO | None = None,
) -> BenchReport:
    """Run the guest ``repeat`` times (after one warm-up) and its graphs directly as often.

    ``show_progress`` counts the runs on a bar (:mod:`wasinn_nb.progress`; text on ``file``).

    Example:
        >>> import wasinn_nb
        >>> noop = '(module (memory (export "memory") 1) (func (export "_start")))'
        >>> bench_guest(lambda: wasinn_nb.run(noop), 2).runs
        2
    """
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    run_once()
    guest_runs, direct_runs = [], []
    runs = progress(range(repeat), desc="bench", unit="run", enabled=show_progress, file=file)
    for _ in runs:
        result = run_once()
        guest_runs.append(result.timings.seconds)
        direct_runs.append(_direct(result))
    guest = {p: statistics.median(r[p] for r in guest_runs) for p in PHASES}
    direct = {p: statistics.median(r[p] for r in direct_runs) for p in direct_runs[0]}
    return BenchReport(repeat, guest, direct)


def bench(args: argparse.Namespace, session: Session) -> Outcome[BenchReport]:
    """``bench``: the guest's phases against the same graphs and inputs called directly."""
    with open(os.devnull, "w") as discard:  # noqa: PTH123 - the guest's output is not timed
        quiet = Session(discard, session.err, interactive=True)

        def run_once() -> RunResult:
            result = run_guest(args.module, args, quiet, record=True)
            if not result.ok:
                status = result.exit_code
                raise GuestError(f"{result.module} exited with status {status} during bench")
            return result

        report = bench_guest(run_once, args.repeat, show_progress=not args.quiet, file=session.err)
    return Outcome(report, "" if args.quiet else report.format())
