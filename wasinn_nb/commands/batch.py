"""``batch``: run a guest over many inputs, locally or on a Dask scheduler, into a DataFrame."""

from __future__ import annotations

import argparse
import contextlib
from collections import Counter
from typing import Any

from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.commands.run import run_options
from wasinn_nb.im2tensor import TensorSpec

__all__ = ["batch", "summary"]

#: Error rows listed in the report; the rest are counted.
SHOWN_ERRORS = 10


def batch(args: argparse.Namespace, session: Session) -> Outcome[Any]:
    """``batch``: one row per input; the report counts them and names the failures."""
    from wasinn_nb.batch import map_guest  # not at import: `wasinn run` needs none of it
    from wasinn_nb.batch.cluster import connect

    options = run_options(args)
    spec = None
    if args.spec is not None:
        given = {"color": args.color, "layout": args.layout}
        spec = TensorSpec.from_dims(args.spec, **{k: v for k, v in given.items() if v})
    inputs = [item for pattern in args.inputs for item in _expand(pattern)]
    where: Any = connect(args.scheduler) if args.scheduler else contextlib.nullcontext()
    with where as client:
        frame = map_guest(
            args.module, inputs, args=args.args or ["{input}"], spec=spec, workers=args.workers,
            client=client, results=args.results, chunk=args.chunk, progress=not args.quiet,
            log=session.err, **options,
        )  # fmt: skip
    report = summary(frame)
    if frame.attrs.get("interrupted"):
        problem = f"interrupted after {len(frame)} of {len(inputs)} inputs" + (
            f"; rerun with --results {args.results} to go on" if args.results else ""
        )
        return Outcome(frame, report, status=130, problem=problem)
    return Outcome(frame, report)


def _expand(pattern: str) -> list[str]:
    from wasinn_nb.batch import resolve_inputs

    return resolve_inputs(pattern)


def summary(frame: Any) -> str:
    """How many rows finished and failed, the failures' reasons, and the commonest top-1s.

    Example:
        >>> from wasinn_nb.batch import to_frame
        >>> print(summary(to_frame([{"input": "a", "exit_code": 0, "error": None, "label": "cat"},
        ...                         {"input": "b", "exit_code": 1, "error": "exit status 1"}])))
        2 inputs: 1 ok, 1 failed
          b: exit status 1
        top-1: cat 1
    """
    failed = frame[frame["error"].notna()]
    resumed = frame.attrs.get("resumed", 0)
    noun = "input" if len(frame) == 1 else "inputs"
    lines = [f"{len(frame)} {noun}: {len(frame) - len(failed)} ok, {len(failed)} failed"
             + (f" ({resumed} from the results file)" if resumed else "")]  # fmt: skip
    lines += [f"  {row.input}: {row.error}" for row in failed.head(SHOWN_ERRORS).itertuples()]
    if len(failed) > SHOWN_ERRORS:
        lines.append(f"  … and {len(failed) - SHOWN_ERRORS} more")
    if "label" in frame.columns:
        counts = Counter(frame["label"].dropna()).most_common(5)
        lines.append("top-1: " + ", ".join(f"{label} {n}" for label, n in counts))
    return "\n".join(lines)
