"""How a batch is cut into chunks and how a chunk runs; and running it here, serially.

The process pool is :mod:`wasinn_nb.batch.pool`, Dask :mod:`wasinn_nb.batch.cluster`. Each
yields rows in input order. Pool and Dask workers get the job once, unpack it once and
keep its compiled module and models warm (:func:`~wasinn_nb.batch.job.warm`); chunks name the
job by its key. Chunks shrink towards the end of a batch (:func:`chunk_sizes`), so that no
worker is left with a long last chunk while the others have nothing to do.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from wasinn_nb.batch.job import Job, Row, dumps, job_key, run_item, warm

__all__ = [
    "chunk_sizes",
    "chunks",
    "cores",
    "failed_rows",
    "plan_chunks",
    "run_chunk",
    "serial_rows",
]

#: Most items in one chunk; chunks are cut to about 1/(CHUNKS_PER_WORKER x workers) of what is left.
MAX_CHUNK = 16
CHUNKS_PER_WORKER = 4


def cores() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def chunk_sizes(count: int, workers: int, *, largest: int = MAX_CHUNK) -> list[int]:
    """How many of ``count`` items each chunk takes: a share of what is left, so they shrink.

    Each chunk is 1/(4 x ``workers``) of the items not yet given out, at most ``largest`` and
    at least 1: early chunks are large (little overhead), the last ones single items, so the
    workers finish together.

    Example:
        >>> chunk_sizes(40, 2)
        [5, 5, 4, 4, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]
    """
    sizes: list[int] = []
    left = count
    while left > 0:
        size = max(1, min(largest, math.ceil(left / (CHUNKS_PER_WORKER * workers))))
        sizes.append(size)
        left -= size
    return sizes


def plan_chunks(count: int, workers: int, chunk: int | None) -> list[int]:
    """Sizes of ``chunk`` items each (the last may be smaller), or :func:`chunk_sizes`' if None.

    Example:
        >>> plan_chunks(5, 2, 2)
        [2, 2, 1]
    """
    if chunk is None:
        return chunk_sizes(count, workers)
    return [chunk] * (count // chunk) + ([count % chunk] if count % chunk else [])


def chunks(items: Sequence[str], sizes: Sequence[int]) -> list[list[str]]:
    """``items`` cut into lists of these ``sizes`` (as :func:`plan_chunks` gives them).

    Example:
        >>> chunks(["a", "b", "c"], [2, 1])
        [['a', 'b'], ['c']]
    """
    parts, start = [], 0
    for size in sizes:
        parts.append(list(items[start : start + size]))
        start += size
    return [part for part in parts if part]


def serial_rows(job: Job, items: Sequence[str]) -> Iterator[Row]:
    """Run every item here, one after the other, on the shared batch runner."""
    payload = dumps(job)
    state = warm(job_key(payload), payload)
    for item in items:
        yield run_item(state, item)


def run_chunk(key: str, payload: bytes | str, items: list[str]) -> list[Row]:
    """A worker's part: the job's bytes, or the file holding them (read if the job is new here)."""
    source = payload if isinstance(payload, bytes) else Path(payload).read_bytes
    state = warm(key, source)
    return [run_item(state, item) for item in items]


def failed_rows(items: Sequence[str], reason: str) -> list[Row]:
    """Error rows for items that did not get to run to the end."""
    return [{"input": item, "exit_code": None, "error": reason} for item in items]
