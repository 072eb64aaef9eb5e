"""``pipeline``: run a graph of wasm operators over inputs; one block of lines per input."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.commands.run import backend_options, preloads_from
from wasinn_nb.results.pipeline import describe_value
from wasinn_nb.runtime import Limits

if TYPE_CHECKING:
    from wasinn_nb.pipeline import PipelineItem, PipelineResult

__all__ = ["pipeline", "report"]


def pipeline(args: argparse.Namespace, session: Session) -> Outcome[PipelineResult]:
    """Run the graph over the inputs; the exit status is 1 if any input failed."""
    from wasinn_nb.pipeline import parse_param, run_pipeline  # not at import: `wasinn run`

    params: dict[str, dict[str, str]] = {}
    for text in args.params:
        operation, key, value = parse_param(text)
        params.setdefault(operation, {})[key] = value
    given = {"memory": args.max_memory, "model_bytes": args.max_model_bytes,
             "tensor_bytes": args.max_tensor_bytes}  # fmt: skip
    result = run_pipeline(
        args.graph, args.inputs, params=params, preload=preloads_from(args),
        backend=args.backend, backend_options=backend_options(args), timeout=args.timeout,
        item_timeout=args.item_timeout,
        limits=Limits(**{k: v for k, v in given.items() if v is not None}),
    )  # fmt: skip
    failed = result.errors
    problem = None
    if failed:
        problem = f"{len(failed)} of {len(result)} inputs failed (first: {failed[0].source}: " \
                  f"{failed[0].error})"  # fmt: skip
    return Outcome(result, report(result), status=1 if failed else 0, problem=problem)


def report(result: PipelineResult) -> str:
    """Per input: its stages' times, then what reached each sink (text as it is)."""
    lines: list[str] = []
    for item in result:
        lines += _item_lines(item)
    per_item = {op: seconds / max(1, len(result)) for op, seconds in result.timings().items()}
    times = " · ".join(f"{op} {s * 1e3:.1f} ms" for op, s in per_item.items() if s > 0)
    lines.append(f"{result.graph}: {len(result)} inputs, {len(result.errors)} failed; "
                 f"per input: {times or '-'}")  # fmt: skip
    return "\n".join(lines)


def _item_lines(item: PipelineItem) -> list[str]:
    if not item.ok:
        return [f"{item.source}: error: {item.error}"]
    lines = [f"{item.source}:"]
    for sink, values in item.sinks.items():
        for value in values:
            text = _text(value)
            if text is not None:
                lines += [f"  {sink}: {line}" for line in text.splitlines()]
            else:
                lines.append(f"  {sink}: {describe_value(value)}")
    if not item.sinks:
        lines.append("  (no output: dropped)")
    return lines


def _text(value: object) -> str | None:
    if not isinstance(value, bytes):
        return None
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(c.isprintable() or c in "\n\t" for c in text) else None
