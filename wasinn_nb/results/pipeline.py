"""What an operator pipeline produces: per item, every stage's output, verdict and time.

Plain data: :mod:`wasinn_nb.pipeline` fills these in, :mod:`wasinn_nb.viz.display` draws them.

Example:
    >>> import numpy as np
    >>> stage = StageRecord("softmax", "map", np.array([0.25, 0.75], np.float32), 0.001)
    >>> item = PipelineItem("photo.jpg", (stage,), {"sink": (stage.value,)})
    >>> item["softmax"].tolist(), item.ok
    ([0.25, 0.75], True)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy.typing as npt

from wasinn_nb.results.display import RichDisplay

__all__ = ["PipelineItem", "PipelineResult", "StageRecord", "Value", "describe_value"]

#: What flows between operators: raw bytes, or a tensor.
Value = bytes | npt.NDArray[Any]


def describe_value(value: Value | None) -> str:
    r"""A short summary of a value: ``u8[1x224x224x3]``, ``32 bytes``, or the text if short.

    Example:
        >>> import numpy as np
        >>> describe_value(np.zeros((1, 3), np.float32)), describe_value(b"955 banana 0.97\n")
        ('float32[1x3]', "'955 banana 0.97'")
    """
    if value is None:
        return "-"
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8").strip()
        except UnicodeDecodeError:
            return f"{len(value):,} bytes"
        if len(text) <= 60 and text.isprintable():
            return repr(text)
        return f"{len(value):,} bytes"
    return f"{value.dtype.name}[{'x'.join(map(str, value.shape))}]"


@dataclass(frozen=True)
class StageRecord:
    """One operation's work on one item.

    Attributes:
        operation: The operation's name in the graph.
        kind: Its ``operationType``: source, map, filter, branch, concatenate or sink.
        value: What it passed on: a map's output; the item itself for the others; ``None``
            when it dropped the item or failed.
        seconds: Wall-clock time of its call (copies in and out included).
        verdict: A filter's or branch's answer (``None`` for the others).
        error: Why it failed, if it did.
    """

    operation: str
    kind: str
    value: Value | None
    seconds: float
    verdict: bool | None = None
    error: str | None = None


@dataclass(frozen=True)
class PipelineItem(RichDisplay):
    """One input's way through the graph: every stage, what reached each sink, any error."""

    source: str
    stages: tuple[StageRecord, ...]
    sinks: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether no stage failed."""
        return self.error is None

    @property
    def seconds(self) -> float:
        """Time of all its stages together."""
        return sum(stage.seconds for stage in self.stages)

    def __getitem__(self, operation: str) -> Value | None:
        """The last value ``operation`` passed on for this item (``KeyError`` if it never ran)."""
        for stage in reversed(self.stages):
            if stage.operation == operation:
                return stage.value
        raise KeyError(f"operation {operation!r} did not run for {self.source}")

    def __repr__(self) -> str:
        status = "ok" if self.ok else f"error: {self.error}"
        return f"<PipelineItem {self.source}: {len(self.stages)} stages, {status}>"


@dataclass(frozen=True)
class PipelineResult(RichDisplay):
    """Every item of one pipeline run, in input order.

    Attributes:
        graph: The graph's name.
        items: One per input.
        seconds: Wall-clock time of the whole run.
        log: Host lines (failed wasi-nn calls, operator stderr), in order.
    """

    graph: str
    items: tuple[PipelineItem, ...]
    seconds: float = 0.0
    log: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[PipelineItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> PipelineItem:
        return self.items[index]

    @property
    def errors(self) -> tuple[PipelineItem, ...]:
        """The items that failed."""
        return tuple(item for item in self.items if not item.ok)

    def timings(self) -> dict[str, float]:
        """Seconds per operation, summed over the items (in the order they first ran)."""
        totals: dict[str, float] = {}
        for item in self.items:
            for stage in item.stages:
                totals[stage.operation] = totals.get(stage.operation, 0.0) + stage.seconds
        return totals

    def rows(self) -> list[dict[str, Any]]:
        """One flat row per item and stage, e.g. for ``pandas.DataFrame(result.rows())``."""
        return [
            {"source": item.source, "operation": s.operation, "kind": s.kind,
             "value": describe_value(s.value), "verdict": s.verdict, "ms": s.seconds * 1e3,
             "error": s.error}
            for item in self.items
            for s in item.stages
        ]  # fmt: skip

    def __repr__(self) -> str:
        failed = len(self.errors)
        return (
            f"<PipelineResult {self.graph}: {len(self.items)} items, {failed} failed, "
            f"{self.seconds * 1e3:.1f} ms>"
        )
