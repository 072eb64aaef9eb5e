"""Where items run: in this process, in a local process pool, or on a Dask cluster.

Each yields rows in input order. Pool and Dask workers get the job once, unpack it once and
keep its compiled module and models warm (:func:`~wasinn_nb.batch.job.warm`); chunks name the
job by its key. The pool itself stays up between batches, as a Dask cluster does. Chunks shrink
towards the end of a batch (:func:`chunk_sizes`), so that no worker is left with a long last
chunk while the others have nothing to do.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import multiprocessing
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from wasinn_nb.batch.job import Job, Row, dumps, job_key, run_item, warm
from wasinn_nb.errors import first_line

__all__ = ["chunk_sizes", "chunks", "cores", "dask_rows", "plan_chunks", "pool_rows", "run_chunk",
           "serial_rows", "shutdown_pools"]  # fmt: skip

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


def chunks(items: Sequence[str], sizes: Sequence[int] | int) -> list[list[str]]:
    """``items`` cut into lists of these ``sizes`` (or of one size; the last may be shorter).

    Example:
        >>> chunks(["a", "b", "c"], 2)
        [['a', 'b'], ['c']]
        >>> chunks(["a", "b", "c"], [2, 1])
        [['a', 'b'], ['c']]
    """
    if isinstance(sizes, int):
        sizes = [sizes] * math.ceil(len(items) / sizes)
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


def _init_worker() -> None:
    """A pool worker's start: leave Ctrl-C to the parent (it stops the batch)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ProcessPoolExecutor:
    """The process pool of ``workers`` processes, started on first use and kept warm.

    Workers are spawned (no wasmtime state is forked). Each keeps the last job it ran — its
    compiled module and loaded models — so a rerun of the same batch starts at full speed.
    """
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
            _pools[workers] = pool
        return pool


@atexit.register
def shutdown_pools() -> None:
    """Stop the warm worker processes (they are started again when a batch needs them)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


def _forget(pool: ProcessPoolExecutor) -> None:
    with _pools_lock:
        for key, known in list(_pools.items()):
            if known is pool:
                del _pools[key]


@contextlib.contextmanager
def _job_file(payload: bytes) -> Iterator[str]:
    """The job's bytes in a private file for the pool's workers, removed when the batch ends."""
    handle, path = tempfile.mkstemp(prefix="wasinn-job-", suffix=".pickle")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        yield path
    finally:
        Path(path).unlink(missing_ok=True)


def pool_rows(job: Job, items: Sequence[str], workers: int, sizes: Sequence[int]) -> Iterator[Row]:
    """Run the items on a warm pool of ``workers`` processes; rows come back in input order.

    The job goes to the workers as a file they read once; each chunk names it by its key. If
    a worker process dies (killed, out of memory), its chunk's items and those still waiting
    become error rows.
    """
    pool = _pool(workers)
    payload = dumps(job.with_threads(1))
    key = job_key(payload)
    parts = chunks(items, sizes)
    with _job_file(payload) as path:
        futures = [pool.submit(run_chunk, key, path, part) for part in parts]
        try:
            for part, future in zip(parts, futures, strict=True):
                try:
                    rows = future.result()
                except BrokenProcessPool as error:
                    _forget(pool)
                    reason = f"the worker process died: {first_line(error)}"
                    rows = [{"input": item, "exit_code": None, "error": reason} for item in part]
                yield from rows
        finally:
            for future in futures:
                future.cancel()


def dask_rows(job: Job, items: Sequence[str], client: Any, sizes: Sequence[int]) -> Iterator[Row]:
    """Run the items on a Dask cluster: the job goes once to each worker, then chunks follow."""
    data = dumps(job.with_threads(1))
    key = job_key(data)
    payload = client.scatter(data, broadcast=True, hash=False)
    futures = [client.submit(run_chunk, key, payload, part, pure=False)
               for part in chunks(items, sizes)]  # fmt: skip
    try:
        for future in futures:
            yield from future.result()
    finally:
        client.cancel(futures)
