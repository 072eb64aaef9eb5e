"""Connecting to a Dask scheduler by address (``--scheduler``, ``WasinnMagics.scheduler``)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from wasinn_nb.errors import BackendUnavailableError, SpecError, first_line

__all__ = ["connect"]

#: Seconds to wait for a scheduler to answer.
CONNECT_TIMEOUT = 10


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
