"""Where items run: in this process, in a local process pool, or on a Dask cluster.

Each yields rows in input order. Pool and Dask workers unpack the job once and keep its
compiled module and models warm (:func:`~wasinn_nb.batch.job.warm`); the pool itself stays up
between batches, as a Dask cluster does.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from wasinn_nb.batch.job import Job, Row, dumps, run_item, warm
from wasinn_nb.errors import first_line

__all__ = ["chunks", "cores", "dask_rows", "pool_rows", "serial_rows", "shutdown_pools"]


def cores() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    """``items`` cut into lists of ``size`` (the last may be shorter).

    Example:
        >>> chunks(["a", "b", "c"], 2)
        [['a', 'b'], ['c']]
    """
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def serial_rows(job: Job, items: Sequence[str]) -> Iterator[Row]:
    """Run every item here, one after the other, on the shared runner."""
    state = warm(dumps(job))
    for item in items:
        yield run_item(state, item)


def _run_chunk(payload: bytes, items: list[str]) -> list[Row]:
    state = warm(payload)
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


def pool_rows(job: Job, items: Sequence[str], workers: int, chunk: int) -> Iterator[Row]:
    """Run the items on a warm pool of ``workers`` processes; rows come back in input order.

    The job goes with each chunk and is unpacked once per worker. If a worker process dies
    (killed, out of memory), its chunk's items and those still waiting become error rows.
    """
    pool = _pool(workers)
    payload = dumps(job.with_threads(1))
    parts = chunks(items, chunk)
    futures = [pool.submit(_run_chunk, payload, part) for part in parts]
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


def dask_rows(job: Job, items: Sequence[str], client: Any, chunk: int) -> Iterator[Row]:
    """Run the items on a Dask cluster: the job goes once to each worker, then chunks follow."""
    payload = client.scatter(dumps(job.with_threads(1)), broadcast=True, hash=False)
    futures = [client.submit(_run_chunk, payload, part, pure=False)
               for part in chunks(items, chunk)]  # fmt: skip
    try:
        for future in futures:
            yield from future.result()
    finally:
        client.cancel(futures)
