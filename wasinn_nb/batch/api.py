"""``map_guest``: run a guest over many inputs, here, on a process pool or on Dask."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TextIO, overload

from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.batch.cluster import dask_rows
from wasinn_nb.batch.executors import cores, serial_rows
from wasinn_nb.batch.frame import to_frame
from wasinn_nb.batch.inputs import Inputs, resolve_inputs
from wasinn_nb.batch.job import INPUT, Job, Postprocess, Row
from wasinn_nb.batch.pool import pool_rows
from wasinn_nb.batch.store import ResultsFile
from wasinn_nb.errors import SpecError
from wasinn_nb.im2tensor import TensorSpec
from wasinn_nb.progress import note, progress_bar
from wasinn_nb.runtime import Limits

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

__all__ = ["map_guest"]

#: Seconds between rewrites of the results file while a batch runs.
SAVE_EVERY = 2.0


@overload
def map_guest(
    module: str | os.PathLike[str] | bytes,
    inputs: Inputs,
    *,
    args: Sequence[str] = (INPUT,),
    dirs: Iterable[str] = (),
    preload: Iterable[str] = (),
    spec: TensorSpec | None = None,
    backend: str | None = None,
    postprocess: Postprocess | None = None,
    workers: int | None = None,
    client: Any = None,
    results: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    backend_options: BackendOptions | None = None,
    chunk: int | None = None,
    progress: bool = True,
    log: TextIO | None = None,
    lazy: Literal[False] = False,
) -> pd.DataFrame: ...


@overload
def map_guest(
    module: str | os.PathLike[str] | bytes,
    inputs: Inputs,
    *,
    args: Sequence[str] = (INPUT,),
    dirs: Iterable[str] = (),
    preload: Iterable[str] = (),
    spec: TensorSpec | None = None,
    backend: str | None = None,
    postprocess: Postprocess | None = None,
    workers: int | None = None,
    client: Any = None,
    results: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    backend_options: BackendOptions | None = None,
    chunk: int | None = None,
    progress: bool = True,
    log: TextIO | None = None,
    lazy: Literal[True],
) -> dd.DataFrame: ...


def map_guest(
    module: str | os.PathLike[str] | bytes,
    inputs: Inputs,
    *,
    args: Sequence[str] = (INPUT,),
    dirs: Iterable[str] = (),
    preload: Iterable[str] = (),
    spec: TensorSpec | None = None,
    backend: str | None = None,
    postprocess: Postprocess | None = None,
    workers: int | None = None,
    client: Any = None,
    results: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    backend_options: BackendOptions | None = None,
    chunk: int | None = None,
    progress: bool = True,
    log: TextIO | None = None,
    lazy: bool = False,
) -> pd.DataFrame | dd.DataFrame:
    """Run a guest on every input; one DataFrame row per input, in input order.

    Each item is one run of the guest (a fresh instance: a WASI command runs once), with the
    item's folder readable at ``/input`` and ``{input}`` in ``args`` replaced by the item's
    path there. A worker keeps the compiled module and the compiled models between items. A
    failing item becomes a row with a one-line ``error`` (so does one that kills its worker
    process: the others still get theirs); Ctrl-C stops the batch and returns the rows finished
    so far (``frame.attrs["interrupted"]`` is then True). With ``results``,
    rows are written to that file as they come, and a rerun skips the inputs it already has.

    Args:
        module: The guest: a ``.wasm`` path, wasm bytes or WAT text.
        inputs: A folder, a glob (``"photos/*.jpg"``), a list of paths or a DataFrame column.
        args: The guest's arguments, with ``{input}`` (appended when absent).
        dirs: Other folders the guest may use (``DIR``, ``GUEST:HOST``, ``HOST::GUEST``, +``:ro``).
        preload: Named models, ``NAME:ENCODING:TARGET:PATH…``.
        spec: Convert each image to a tensor file with this spec and pass that file instead.
        backend: Run every model on this backend (default: per encoding).
        postprocess: ``f(RunResult)`` → the item's result: a dict (its keys become columns) or
            any value (a ``result`` column). Default: a classifier's top-K (``label``,
            ``score``, ``top_labels``…) or a segmenter's class ``shares``.
        workers: Processes to use: ``None`` for one per core, 1 to run here, serially.
        client: A ``dask.distributed.Client``: run on its cluster instead (``workers`` is
            then ignored). Workers must see the same paths (a shared file system).
        results: A ``.parquet`` or ``.csv`` file to keep the rows in and resume from.
        timeout: Seconds each item may take.
        env: Environment variables for the guest (none by default).
        limits: What each run may use.
        backend_options: Engine settings. Pool and Dask workers use 1 inference thread each
            unless ``threads`` is set here.
        chunk: Items sent to a worker at a time (default: chunks that shrink from 16
            items to 1 as the batch goes, so the workers finish together).
        progress: Show a progress bar.
        log: Where the progress bar goes (default: stderr).
        lazy: Return a dask DataFrame that runs on ``client`` (or dask's current client)
            when computed, one partition per chunk. To learn its columns the first items run
            at once, until one succeeds (see :mod:`~wasinn_nb.batch.lazy`). Not with
            ``results`` (write the frame with ``to_parquet``); ``workers`` is ignored.

    Returns:
        A DataFrame: ``input``, ``exit_code``, ``error``, the result's columns, then
        ``time_<phase>`` seconds (see :data:`~wasinn_nb.batch.TIMING_COLUMNS`); with
        ``lazy``, a dask DataFrame of the same rows.

    Raises:
        GuestError: If the module cannot be read or compiled.
        SpecError: For bad options, no inputs, or a missing folder or model.

    Example:
        >>> guest = '''(module (memory (export "memory") 1) (func (export "_start")))'''
        >>> frame = map_guest(guest, ["a.jpg"], workers=1, progress=False)
        >>> frame[["input", "exit_code", "error"]].to_dict("records")
        [{'input': 'a.jpg', 'exit_code': None, 'error': 'cannot read input a.jpg: no such file'}]
    """
    if workers is not None and workers < 1:
        raise SpecError(f"workers must be at least 1, got {workers}")
    job = Job.build(module, args=args, dirs=tuple(dirs), preload=tuple(preload), spec=spec,
                    backend=backend, postprocess=postprocess, timeout=timeout,
                    env=tuple((env or {}).items()),
                    limits=limits or Limits(),
                    backend_options=backend_options or BackendOptions())  # fmt: skip
    items = resolve_inputs(inputs)
    if lazy:
        return _lazy(job, items, client, results, chunk)
    store = ResultsFile(results) if results is not None else None
    known = {row["input"]: row for row in store.load()} if store is not None else {}
    unique = list(dict.fromkeys(items))
    todo = [item for item in unique if item not in known]
    count = cores() if workers is None else workers
    rows = _rows(job, todo, count, client, chunk)
    finished = _collect(rows, known, store, len(unique) - len(todo), len(unique), progress, log)
    frame = to_frame([finished[item] for item in items if item in finished])
    frame.attrs.update(resumed=len(unique) - len(todo),
                       interrupted=any(item not in finished for item in unique))  # fmt: skip
    return frame


def _lazy(
    job: Job, items: list[str], client: Any, results: object, chunk: int | None
) -> dd.DataFrame:
    """The batch as a dask DataFrame on ``client`` or dask's current one."""
    if results is not None:
        raise SpecError("lazy=True runs nothing until computed: write the frame with "
                        "to_parquet() or to_csv() instead of results=")  # fmt: skip
    if client is None:
        try:
            from dask.distributed import get_client

            client = get_client()
        except (ImportError, ValueError):
            raise SpecError("lazy=True needs a Dask cluster: pass client=, or start a "
                            "dask.distributed.Client first") from None  # fmt: skip
    from wasinn_nb.batch.lazy import lazy_frame

    return lazy_frame(job, items, client, chunk)


def _rows(job: Job, todo: list[str], workers: int, client: Any, chunk: int | None) -> Iterator[Row]:
    """The rows of ``todo`` from the right executor."""
    if not todo:
        return iter(())
    if client is not None:
        return dask_rows(job, todo, client, chunk)
    if workers == 1 or len(todo) == 1:
        return serial_rows(job, todo)
    return pool_rows(job, todo, workers, chunk)


def _collect(
    rows: Iterator[Row],
    known: Mapping[str, Row],
    store: ResultsFile | None,
    done: int,
    total: int,
    show: bool,
    log: TextIO | None,
) -> dict[str, Row]:
    """Take rows as they come, saving them now and then; on Ctrl-C keep what is finished."""
    finished = dict(known)
    saved = time.monotonic()
    out = log or sys.stderr
    try:
        with progress_bar(total, desc="batch", unit="item", enabled=show, file=out) as bar:
            if done:
                bar.update(done)
            for row in rows:
                finished[row["input"]] = row
                bar.update(1)
                if store is not None and time.monotonic() - saved > SAVE_EVERY:
                    store.save(list(finished.values()))
                    saved = time.monotonic()
    except KeyboardInterrupt:
        note(f"interrupted: {len(finished) - len(known)} new rows kept", file=out)
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    finally:
        if store is not None:
            store.save(list(finished.values()))
    return finished
