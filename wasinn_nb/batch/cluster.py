"""Connecting to a Dask scheduler by address (``--scheduler``, ``WasinnMagics.scheduler``)."""

from __future__ import annotations

import contextlib
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
