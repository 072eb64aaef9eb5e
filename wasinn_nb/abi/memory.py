"""Bounds-checked access to a guest's linear memory, for the duration of one host call."""

from __future__ import annotations

import ctypes
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.errors import AbiError

if TYPE_CHECKING:
    from wasmtime import Caller

__all__ = ["GuestMemory"]

_U32 = np.dtype("<u4")


class GuestMemory:
    """The calling instance's exported ``memory`` as a zero-copy byte array.

    Every accessor checks that the whole range lies inside memory and raises
    :class:`~wasinn_nb.errors.AbiError` (``invalid_argument``) otherwise. Build a new one on every
    host call: the guest may grow (and so move) its memory between calls.
    """

    def __init__(self, data: npt.NDArray[np.uint8]) -> None:
        self._data = data

    @classmethod
    def of(cls, caller: Caller) -> GuestMemory:
        """The memory of the instance that made the current host call."""
        from wasmtime import Memory

        memory = caller.get("memory")
        if not isinstance(memory, Memory):
            raise AbiError("the guest exports no memory named 'memory'", NnErrno.MISSING_MEMORY)
        size = memory.data_len(caller)
        base = ctypes.addressof(memory.data_ptr(caller).contents)
        buffer = (ctypes.c_ubyte * size).from_address(base)
        return cls(np.frombuffer(memoryview(buffer).cast("B"), dtype=np.uint8))

    @property
    def size(self) -> int:
        """Size of the memory in bytes."""
        return int(self._data.size)

    def span(self, pointer: int, length: int, what: str = "buffer") -> npt.NDArray[np.uint8]:
        """A writable view of ``length`` bytes at ``pointer``.

        Example:
            >>> GuestMemory(np.zeros(16, np.uint8)).span(12, 8, "tensor data")
            Traceback (most recent call last):
            ...
            wasinn_nb.errors.AbiError: tensor data [12, 20) is outside guest memory (16 bytes)
        """
        if pointer < 0 or length < 0 or pointer + length > self._data.size:
            raise AbiError(
                f"{what} [{pointer}, {pointer + length}) is outside guest memory "
                f"({self._data.size:,} bytes)",
                NnErrno.INVALID_ARGUMENT,
            )
        return self._data[pointer : pointer + length]

    def read_bytes(self, pointer: int, length: int, what: str = "buffer") -> bytes:
        """A copy of ``length`` bytes at ``pointer``."""
        return self.span(pointer, length, what).tobytes()

    def read_u32s(self, pointer: int, count: int, what: str = "array") -> tuple[int, ...]:
        """``count`` little-endian u32 values at ``pointer`` (no alignment needed)."""
        raw = self.span(pointer, 4 * count, what)
        return tuple(int(v) for v in raw.view(_U32))

    def write_u32(self, pointer: int, value: int, what: str = "result") -> None:
        """Store ``value`` as a little-endian u32 at ``pointer``."""
        self.span(pointer, 4, what)[:] = np.array([value], dtype=_U32).view(np.uint8)

    def write(self, pointer: int, data: npt.NDArray[np.generic], what: str = "buffer") -> None:
        """Copy the raw bytes of ``data`` (C order) to ``pointer``."""
        raw = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
        self.span(pointer, raw.size, what)[:] = raw
