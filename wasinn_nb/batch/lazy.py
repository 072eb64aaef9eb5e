"""``map_guest(…, lazy=True)``: the batch as a dask DataFrame that runs when it is computed.

A dask DataFrame must know its columns before anything runs, and a batch's columns are those
of the guest's results (``label``, ``score``… for a classifier, ``shares`` for a segmenter,
whatever ``postprocess`` returns). So the first items run at once, one at a time until one
succeeds (at most :data:`PROBES`); their rows are the first partition and fix the columns and
dtypes. Every other partition is one chunk of items, run on the cluster when computed, with the
rows in input order and the index running on across partitions (divisions are known).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wasinn_nb.batch.cluster import DaskRun
from wasinn_nb.batch.executors import chunks, plan_chunks, run_chunk
from wasinn_nb.batch.frame import conform, to_frame
from wasinn_nb.batch.job import Job, Row

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

__all__ = ["PROBES", "lazy_frame"]

#: Items run at once, one after another until one succeeds, to learn the frame's columns.
PROBES = 4


def lazy_frame(job: Job, items: Sequence[str], client: Any, chunk: int | None) -> dd.DataFrame:
    """A dask DataFrame of the batch: the first rows computed now, the rest chunk by chunk later.

    The job is scattered to every worker once; the frame's graph holds its future, so it stays
    on the cluster while the frame is alive. ``chunk``: items per partition (default: shrinking
    chunks, see :func:`~wasinn_nb.batch.executors.plan_chunks`). Computing the frame is dask's
    work: a worker that dies under an item fails the computation, as with any dask task (the
    eager frame makes that item an error row instead).
    """
    import dask.config
    import dask.dataframe as dd
    from dask.delayed import delayed

    run = DaskRun.start(client, job)
    probed: list[Row] = []
    for item in items[:PROBES]:
        probed.append(run.alone(item))  # an item that kills its worker is an error row here too
        if probed[-1]["error"] is None:
            break
    key, payload = run.key, run.payload
    first = _indexed(to_frame(probed), 0)
    meta = first.iloc[:0]
    rest = items[len(probed) :]
    parts, starts, offset = [delayed(first)], [0], len(probed)
    for part in chunks(rest, plan_chunks(len(rest), run.workers, chunk)):
        starts.append(offset)
        parts.append(delayed(_partition)(key, payload, part, offset, meta))
        offset += len(part)
    divisions = (*starts, len(items) - 1)
    # Cells hold lists and dicts (top-K, shares): dask's text conversion would turn them to str.
    with dask.config.set({"dataframe.convert-string": False}):
        frame: dd.DataFrame = dd.from_delayed(parts, meta=meta, divisions=divisions,
                                              verify_meta=False)  # fmt: skip
    return frame


def _partition(key: str, payload: bytes, items: list[str], start: int, meta: pd.DataFrame) -> Any:
    """One chunk's rows on a worker, in ``meta``'s columns and dtypes, indexed from ``start``."""
    return _indexed(conform(to_frame(run_chunk(key, payload, items)), meta), start)


def _indexed(frame: pd.DataFrame, start: int) -> pd.DataFrame:
    import pandas as pd

    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame
