"""The local process pool: warm workers, started once and kept; a crashing item is isolated.

Workers are spawned (no wasmtime state is forked) and each keeps the last job it ran, so a
rerun of the same batch starts at full speed. The job goes to them as a private file they
read once (:func:`job_file`).

A worker process can die under an item — a backend aborting on a bad model, the kernel's
out-of-memory killer. ``ProcessPoolExecutor`` then fails every chunk still running or waiting,
so :class:`PoolRun` goes on: the items of the chunks that were running (the first ``workers``
unfinished ones, as chunks start in order) run again one at a time on a fresh pool, which
finds the one that kills its worker (an error row) and gives the others their rows; then the
chunks that had not started run as before.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from wasinn_nb.batch.executors import chunks, failed_rows, plan_chunks, run_chunk
from wasinn_nb.batch.job import Job, Row, worker_payload
from wasinn_nb.errors import first_line

__all__ = ["PoolRun", "job_file", "pool_rows", "shutdown_pools"]

_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _init_worker() -> None:
    """A pool worker's start: leave Ctrl-C to the parent (it stops the batch)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pool(workers: int) -> ProcessPoolExecutor:
    """The process pool of ``workers`` processes, started on first use and kept warm."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker)
            _pools[workers] = pool
        return pool


def _forget(pool: ProcessPoolExecutor) -> None:
    """Drop a broken pool (the next batch, or the next round of this one, starts another)."""
    with _pools_lock:
        for key, known in list(_pools.items()):
            if known is pool:
                del _pools[key]
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def shutdown_pools() -> None:
    """Stop the warm worker processes (they are started again when a batch needs them)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def job_file(payload: bytes) -> Iterator[str]:
    """The job's bytes in a private file for the pool's workers, removed when the batch ends."""
    handle, path = tempfile.mkstemp(prefix="wasinn-job-", suffix=".pickle")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
        yield path
    finally:
        Path(path).unlink(missing_ok=True)


def pool_rows(job: Job, items: Sequence[str], workers: int, chunk: int | None) -> Iterator[Row]:
    """Run the items on a warm pool of ``workers`` processes; rows come back in input order.

    Chunks are :func:`plan_chunks`' (made again for what is left after a worker died).
    """
    key, payload = worker_payload(job)
    with job_file(payload) as path:
        yield from PoolRun(key, path, workers, chunk).rows(items)


class PoolRun:
    """One batch on the pool: rounds of chunks, and single items after a worker died."""

    def __init__(self, key: str, path: str, workers: int, chunk: int | None) -> None:
        self.key, self.path, self.workers, self.chunk = key, path, workers, chunk

    def rows(self, items: Sequence[str]) -> Iterator[Row]:
        """Every item's row, in order, as soon as it and those before it are done."""
        ready: dict[str, Row] = {}
        shown = 0

        def in_order() -> Iterator[Row]:
            nonlocal shown
            while shown < len(items) and items[shown] in ready:
                yield ready.pop(items[shown])
                shown += 1

        todo = list(items)
        while todo:
            unfinished: list[list[str]] = []
            parts = chunks(todo, plan_chunks(len(todo), self.workers, self.chunk))
            for part, rows in self._round(parts):
                if rows is None:
                    unfinished.append(part)
                else:
                    ready.update((row["input"], row) for row in rows)
                yield from in_order()
            running = [item for part in unfinished[: self.workers] for item in part]
            for item in running:
                ready[item] = self._alone(item)
                yield from in_order()
            todo = [item for part in unfinished[self.workers :] for item in part]

    def _round(self, parts: list[list[str]]) -> Iterator[tuple[list[str], list[Row] | None]]:
        """Each part with its rows, or None for the parts a dead worker took down."""
        pool = _pool(self.workers)
        futures = [pool.submit(run_chunk, self.key, self.path, part) for part in parts]
        try:
            broken = False
            for part, future in zip(parts, futures, strict=True):
                rows = _rows_of(future)
                if rows is None and not broken:
                    broken = True
                    _forget(pool)
                yield part, rows
        finally:
            for future in futures:
                future.cancel()

    def _alone(self, item: str) -> Row:
        """One item on a pool with nothing else running: its row, or why its worker died."""
        pool = _pool(self.workers)
        try:
            return pool.submit(run_chunk, self.key, self.path, [item]).result()[0]
        except BrokenProcessPool as error:
            _forget(pool)
            reason = f"the worker process died running it: {first_line(error)}"
            return failed_rows([item], reason)[0]


def _rows_of(future: Future[list[Row]]) -> list[Row] | None:
    try:
        return future.result()
    except BrokenProcessPool:
        return None
