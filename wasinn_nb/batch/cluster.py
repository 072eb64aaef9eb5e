"""Batches on Dask: connecting to a scheduler, checking its workers, running the chunks there.

``--scheduler`` and ``WasinnMagics.scheduler`` connect by address (:func:`connect`);
:func:`dask_rows` runs a batch on a client's cluster. The job is scattered to every worker
once. A worker that dies is Dask's to replace; what it was running is handled here: a chunk
whose workers died as often as the scheduler allows (``KilledWorker``) runs again one item per
task, one task at a time (a death also fails what was queued on that worker when no retries
are allowed), so that only the item that kills its worker becomes an error row. Chunks that
lost the scattered job with the last worker holding it are sent again, the job scattered anew.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from typing import Any

from wasinn_nb.batch.executors import chunks, failed_rows, plan_chunks, run_chunk
from wasinn_nb.batch.job import Job, Row, worker_payload
from wasinn_nb.errors import BackendUnavailableError, SpecError, first_line

__all__ = ["DaskRun", "check_workers", "connect", "dask_rows"]

#: Seconds to wait for a scheduler to answer, and for a worker after all of them died.
CONNECT_TIMEOUT = 10
WORKER_TIMEOUT = 60
#: Times a batch may scatter its job again after the cluster lost it.
RESENDS = 3


@contextlib.contextmanager
def connect(address: str, *, timeout: float = CONNECT_TIMEOUT) -> Iterator[Any]:
    """A ``dask.distributed.Client`` of the scheduler at ``address``, closed afterwards.

    Raises:
        BackendUnavailableError: If dask.distributed is not installed.
        SpecError: If no scheduler answers at ``address``.
    """
    try:
        from dask.distributed import Client
    except ImportError:
        raise BackendUnavailableError("dask", "batch") from None
    _check_reachable(address, timeout)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as error:
        raise SpecError(
            f"cannot reach the Dask scheduler at {address}: {first_line(error)}"
        ) from None
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]


def check_workers(client: Any) -> None:
    """Fail in one line unless every worker of ``client`` has this version of wasinn-nb.

    A worker without it (or with another version) would otherwise fail every chunk with
    dask's own traceback.

    Raises:
        SpecError: Naming the first worker that lacks wasinn-nb or has another version.
    """
    from importlib.metadata import version

    ours = version("wasinn-nb")
    found = client.run(version, "wasinn-nb", on_error="return")
    if not found:
        raise SpecError("the Dask cluster has no workers")
    for address, theirs in sorted(found.items()):
        if isinstance(theirs, BaseException):
            raise SpecError(f"Dask worker {address} cannot run batches: wasinn-nb is not installed "
                            f"there ({first_line(theirs)}); install wasinn-nb {ours}")  # fmt: skip
        if theirs != ours:
            raise SpecError(f"Dask worker {address} has wasinn-nb {theirs}, this process {ours}: "
                            "install the same version on every worker")  # fmt: skip


def _check_reachable(address: str, timeout: float) -> None:
    """Fail fast, in one line, when nothing listens at a ``tcp://HOST:PORT`` address.

    Example:
        >>> _check_reachable("tcp://127.0.0.1:notaport", 1)
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.SpecError: bad Dask scheduler address 'tcp://127.0.0.1:notaport': \
expected tcp://HOST:PORT
    """
    scheme, sep, rest = address.rpartition("://")
    if sep and scheme != "tcp":
        return  # tls://, ucx://, inproc://: left to dask
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise SpecError(f"bad Dask scheduler address {address!r}: expected tcp://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as error:
        reason = error.strerror or first_line(error)
        raise SpecError(f"cannot reach the Dask scheduler at {address}: {reason}") from None


def dask_rows(job: Job, items: Sequence[str], client: Any, chunk: int | None) -> Iterator[Row]:
    """Run the items on ``client``'s cluster in chunks (:func:`plan_chunks`); rows in order.

    Raises:
        SpecError: If a worker lacks wasinn-nb (:func:`check_workers`), or the cluster lost
            the job more than :data:`RESENDS` times.
    """
    run = DaskRun.start(client, job)
    yield from run.rows(chunks(items, plan_chunks(len(items), run.workers, chunk)))


class DaskRun:
    """One batch on a cluster: the job, scattered once (again if lost), and what is sent with it."""

    def __init__(self, client: Any, key: str, data: bytes) -> None:
        self.client, self.key, self.data = client, key, data
        self.resends = 0
        self.payload = self._scatter()

    @classmethod
    def start(cls, client: Any, job: Job) -> DaskRun:
        """Check the workers (:func:`check_workers`), then scatter ``job`` to them."""
        check_workers(client)
        return cls(client, *worker_payload(job))

    @property
    def workers(self) -> int:
        """How many workers the cluster has now (at least 1)."""
        return max(1, len(self.client.scheduler_info()["workers"]))

    def _scatter(self) -> Any:
        return self.client.scatter(self.data, broadcast=True, hash=False)

    def rows(self, parts: list[list[str]]) -> Iterator[Row]:
        """The rows of these chunks, in order (see the module's text for worker deaths)."""
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        futures = [self.client.submit(run_chunk, self.key, self.payload, part, pure=False)
                   for part in parts]  # fmt: skip
        try:
            for number, (part, future) in enumerate(zip(parts, futures, strict=True)):
                try:
                    yield from future.result()
                except KilledWorker:  # one item of it killed the worker, or one queued beside it
                    yield from (self.alone(item) for item in part)
                except FutureCancelledError as error:  # the job went with the last worker
                    self._resend(error)
                    yield from self.rows(parts[number:])
                    return
        finally:
            self.client.cancel(futures)

    def alone(self, item: str) -> Row:
        """One item in a task of its own, waited for: its row, or why it killed its worker."""
        from distributed import KilledWorker
        from distributed.client import FutureCancelledError

        while True:
            future = self.client.submit(run_chunk, self.key, self.payload, [item], pure=False)
            try:
                rows: list[Row] = future.result()
                return rows[0]
            except KilledWorker as error:
                reason = f"the Dask worker died running it: {first_line(error)}"
                return failed_rows([item], reason)[0]
            except FutureCancelledError as error:
                self._resend(error)

    def _resend(self, error: BaseException) -> None:
        self.resends += 1
        if self.resends > RESENDS:
            raise SpecError(f"the Dask cluster lost the batch: {first_line(error)}") from None
        self.client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
        self.payload = self._scatter()
