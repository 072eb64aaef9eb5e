"""Per-phase timings of a guest against calling its backend directly, in the same session."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from wasinn_nb.results import PHASES, RunResult

__all__ = ["BenchReport", "bench_guest"]


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


def bench_guest(run_once: Callable[[], RunResult], repeat: int) -> BenchReport:
    """Run the guest ``repeat`` times (after one warm-up) and its graphs directly as often."""
    run_once()
    guest_runs, direct_runs = [], []
    for _ in range(repeat):
        result = run_once()
        guest_runs.append(result.timings.seconds)
        direct_runs.append(_direct(result))
    guest = {p: statistics.median(r[p] for r in guest_runs) for p in PHASES}
    direct = {p: statistics.median(r[p] for r in direct_runs) for p in direct_runs[0]}
    return BenchReport(repeat, guest, direct)
