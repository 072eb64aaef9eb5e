"""Where items run: in this process, in a local process pool, or on a Dask cluster.

Each yields rows in input order. Pool and Dask workers get the job once (the pool's
initializer; Dask: scattered to every worker) and keep its compiled module and models warm.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from wasinn_nb.batch.job import Job, Row, dumps, run_item, warm

__all__ = ["chunks", "cores", "dask_rows", "pool_rows", "serial_rows"]


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


_payload: bytes = b""


def _init_worker(payload: bytes) -> None:
    """A pool worker's start: leave Ctrl-C to the parent; compile the module, load the models."""
    global _payload
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _payload = payload
    warm(payload)


def _pool_chunk(items: list[str]) -> list[Row]:
    return _run_chunk(_payload, items)


def pool_rows(job: Job, items: Sequence[str], workers: int, chunk: int) -> Iterator[Row]:
    """Run the items on ``workers`` fresh processes (spawned: no wasmtime state is forked)."""
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                               initargs=(dumps(job.with_threads(1)),))  # fmt: skip
    futures: list[Future[list[Row]]] = []
    try:
        futures = [pool.submit(_pool_chunk, part) for part in chunks(items, chunk)]
        for future in futures:
            yield from future.result()
    finally:
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


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
