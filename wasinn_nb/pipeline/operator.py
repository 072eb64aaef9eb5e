"""One operator instance: a guest module in its own bounded store, called through the op ABI.

Data crosses by direct copies into and out of the guest's linear memory (a NumPy view of it),
never element by element. A trap or a timeout fails the item, not the run: the instance is
thrown away and made again (and initialised again) for the next item.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from wasinn_nb.abi import GuestMemory, Limits, Models, WasiNnHost, define_clocks
from wasinn_nb.errors import AbiError, GuestError, WasinnError
from wasinn_nb.results.pipeline import Value
from wasinn_nb.runtime.interrupts import StopSwitch
from wasinn_nb.runtime.streams import GuestStream

if TYPE_CHECKING:
    from wasmtime import Engine, Func, Module, Store

__all__ = [
    "DTYPES",
    "EXPORTS",
    "VALUE_SIZE",
    "ItemSwitch",
    "OperatorError",
    "OperatorInstance",
    "encode_params",
]

#: The exports every operator has (besides ``memory``).
EXPORTS = ("op_abi_version", "op_buffer", "op_init", "op_process", "op_output")
ABI_VERSION = 1
VALUE_SIZE = 52
_HEADER = 56  # descriptor + padding: the data that follows it is 8-aligned
MAX_RANK = 8
OK, FALSE, ERROR = 0, 1, 2
#: Tensor element types by their wasi-nn 0.6 number (the op ABI's numbering).
DTYPES: dict[int, np.dtype[Any]] = {
    0: np.dtype("<f2"), 1: np.dtype("<f4"), 2: np.dtype("<f8"),
    3: np.dtype("u1"), 4: np.dtype("<i4"), 5: np.dtype("<i8"),
}  # fmt: skip
_CODES = {dtype: code for code, dtype in DTYPES.items()}


class OperatorError(WasinnError):
    """An operator failed on one item (its error status, a trap, a bad output, a timeout)."""


class ItemSwitch(StopSwitch):
    """The run's stop switch, plus a deadline for each item (``item_timeout`` seconds).

    A passed item deadline stops the guest like the run's switch does, but only for the item:
    :meth:`next_item` gives the next one a fresh deadline. Ctrl-C and the run's own timeout
    trip the switch for good.
    """

    def __init__(self, timeout: float | None, item_timeout: float | None) -> None:
        super().__init__(timeout)
        self.item_timeout = item_timeout
        self.item_deadline: float | None = None
        self.item_expired = False
        self._callbacks: list[Any] = []

    def arm(self, store: Store) -> None:
        """Arm ``store`` too (every store's epoch callback is kept alive with the switch)."""
        super().arm(store)
        self._callbacks.append(self._callback)

    def restart(self) -> None:
        """Make the switch ready for another run: untripped, the run's deadline from now."""
        import time

        with self._lock:
            self.reason = None
            self._event.clear()
        self.deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.item_deadline, self.item_expired = None, False

    def next_item(self) -> None:
        """Start the next item's clock."""
        import time

        self.item_expired = False
        timeout = self.item_timeout
        self.item_deadline = None if timeout is None else time.monotonic() + timeout

    def expired(self) -> bool:
        """Whether the run is stopped or the current item is out of time."""
        import time

        if super().expired():
            return True
        if self.item_deadline is not None and time.monotonic() >= self.item_deadline:
            self.item_expired = True
        return self.item_expired

    def remaining(self) -> float | None:
        """Seconds to the nearer of the run's and the item's deadline."""
        import time

        run = super().remaining()
        if self.item_deadline is None:
            return run
        item = max(0.0, self.item_deadline - time.monotonic())
        return item if run is None else min(run, item)


def encode_params(params: Mapping[str, str]) -> bytes:
    """Parameters as ``op_init`` reads them: u32 count, then (u32 len, key, u32 len, value)s.

    Example:
        >>> encode_params({"k": "5"}).hex()
        '01000000010000006b0100000035'
    """
    parts = [len(params).to_bytes(4, "little")]
    for key, value in params.items():
        for text in (key.encode(), value.encode()):
            parts += [len(text).to_bytes(4, "little"), text]
    return b"".join(parts)


class OperatorInstance:
    """A module instantiated for one operation, initialised with its parameters.

    Args:
        name: The operation's name (for errors).
        engine: The runner's engine (epoch interruption on).
        module: The compiled module.
        params: Its parameter values.
        models: What a wasi-nn guest may load (the runner's graph cache, with the preloads).
        limits: Memory and wasi-nn bounds of the instance.
        switch: Stops a guest that runs too long.
        log: Receives host lines (failed wasi-nn calls, guest stderr).
    """

    def __init__(
        self,
        name: str,
        engine: Engine,
        module: Module,
        params: Mapping[str, str],
        models: Models,
        limits: Limits,
        switch: ItemSwitch,
        log: Callable[[str], None],
    ) -> None:
        self.name, self.engine, self.module, self.params = name, engine, module, dict(params)
        self.models, self.limits, self.switch, self.log = models, limits, switch, log
        self._store: Store | None = None
        self._exports: dict[str, Func] = {}
        self._check_exports()

    def _check_exports(self) -> None:
        from wasmtime import FuncType, MemoryType

        exports = {e.name: e.type for e in self.module.exports}
        missing = [n for n in EXPORTS if not isinstance(exports.get(n), FuncType)]
        if not isinstance(exports.get("memory"), MemoryType):
            missing.insert(0, "memory")
        if missing:
            names = ", ".join(missing)
            raise GuestError(f"operation {self.name!r}: the module is not a wasinn operator "
                             f"(no export {names}; see wasinn_nb.pipeline)")  # fmt: skip

    # ---- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Instantiate (if needed) and run ``op_init``; raises OperatorError on failure."""
        if self._store is not None:
            return
        from wasmtime import Linker, Store, WasiConfig

        err = GuestStream(lambda text: self._stderr(text), keep=self.limits.captured_bytes)
        wasi = WasiConfig()
        wasi.argv = [self.name]
        wasi.stdout_custom = err
        wasi.stderr_custom = err
        store = Store(self.engine)
        store.set_wasi(wasi)
        store.set_limits(memory_size=self.limits.memory, table_elements=self.limits.table_elements,
                         instances=10, tables=10, memories=10)  # fmt: skip
        self.switch.arm(store)
        linker = Linker(self.engine)
        linker.define_wasi()
        define_clocks(linker, self.switch)
        host = WasiNnHost(self.models, lambda line: self.log(f"{self.name}: {line}"), False,
                          self.limits, self.switch)  # fmt: skip
        host.define(linker)
        self._store = store
        try:
            instance = self._guard(lambda: linker.instantiate(store, self.module))
            exports = instance.exports(store)
            self._exports = {n: exports[n] for n in EXPORTS}
            self._memory = exports["memory"]
            version = self._guard(lambda: self._exports["op_abi_version"](store))
            if version != ABI_VERSION:
                raise OperatorError(f"op_abi_version is {version}, this host speaks {ABI_VERSION}")
            raw = np.frombuffer(encode_params(self.params), np.uint8)
            pointer = self._write(raw, len(raw))
            status = self._guard(lambda: self._exports["op_init"](store, pointer, len(raw)))
            if status != OK:
                raise OperatorError(f"init: {self._message(status)}")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Drop the instance (the next :meth:`start` makes a fresh one)."""
        self._store, self._exports = None, {}

    def _stderr(self, text: str) -> None:
        for line in text.splitlines():
            if line.strip():
                self.log(f"{self.name}: {line}")

    # ---- calls -------------------------------------------------------------------------------

    def process(self, value: Value) -> tuple[int, Value | None]:
        """Run ``op_process`` on ``value``: (status, output of a map or None).

        Raises:
            OperatorError: The operator's error status, a trap, a timeout or a bad output.
        """
        self.start()
        store = self._store
        assert store is not None  # noqa: S101 - start() made it
        if isinstance(value, bytes):
            data = np.frombuffer(value, np.uint8)
            kind, code, dims = 0, 0, ()
        else:
            array = np.ascontiguousarray(value)
            little = array.dtype.newbyteorder("<")
            if little not in _CODES or array.ndim > MAX_RANK:
                raise OperatorError(f"cannot pass a {array.dtype.name} tensor of rank "
                                    f"{array.ndim} to an operator")  # fmt: skip
            code, kind, dims = _CODES[little], 1, array.shape
            data = array.astype(little, copy=False).reshape(-1)
        pointer = self._write(data.view(np.uint8), _HEADER + data.nbytes, kind, code, dims)
        status = self._guard(lambda: self._exports["op_process"](store, pointer))
        if status not in (OK, FALSE):
            raise OperatorError(self._message(status))
        return status, self._read() if status == OK else None

    def _guard(self, call: Callable[[], Any]) -> Any:
        """Call into the guest; a trap (or being stopped) becomes OperatorError."""
        from wasmtime import Trap, WasmtimeError

        try:
            return call()
        except (Trap, WasmtimeError) as error:
            self.close()
            if self.switch.item_expired and not self.switch.stopped:
                raise OperatorError(f"timed out after {self.switch.item_timeout:g} s") from None
            if self.switch.stopped:
                raise OperatorError(self.switch.reason or "stopped") from None
            raise OperatorError(f"trapped: {_cause(error)}") from None

    def _view(self) -> GuestMemory:
        store = self._store
        size = self._memory.data_len(store)
        base = ctypes.addressof(self._memory.data_ptr(store).contents)
        buffer = (ctypes.c_ubyte * size).from_address(base)
        return GuestMemory(np.frombuffer(memoryview(buffer).cast("B"), dtype=np.uint8))

    def _live(self) -> Store:
        """The store of the live instance (OperatorError if it was thrown away)."""
        if self._store is None:
            raise OperatorError("the operator instance is gone (it trapped)")
        return self._store

    def _write(
        self,
        data: npt.NDArray[np.uint8],
        size: int,
        kind: int | None = None,
        code: int = 0,
        dims: tuple[int, ...] = (),
    ) -> int:
        """Ask for a guest buffer of ``size`` bytes; put a descriptor (if ``kind``) and data in."""
        if size >= 1 << 32:
            raise OperatorError(f"{size:,} bytes do not fit in a wasm32 operator")
        store = self._live()
        pointer = self._guard(lambda: self._exports["op_buffer"](store, size)) & 0xFFFFFFFF
        if pointer == 0:
            raise OperatorError(f"op_buffer could not give {size:,} bytes")
        memory = self._view()
        try:
            if kind is None:
                memory.write(pointer, data, "parameters")
                return int(pointer)
            header = np.zeros(VALUE_SIZE // 4, "<u4")
            header[:5] = (kind, code, pointer + _HEADER, data.size, len(dims))
            header[5 : 5 + len(dims)] = dims
            memory.write(pointer, header, "value descriptor")
            memory.write(pointer + _HEADER, data, "value data")
        except AbiError as error:
            raise OperatorError(f"op_buffer gave a bad buffer: {error}") from None
        return int(pointer)

    def _descriptor(self) -> tuple[GuestMemory, tuple[int, ...]]:
        store = self._live()
        pointer = self._guard(lambda: self._exports["op_output"](store)) & 0xFFFFFFFF
        memory = self._view()
        try:
            return memory, memory.read_u32s(pointer, VALUE_SIZE // 4, "output descriptor")
        except AbiError as error:
            raise OperatorError(f"bad op_output: {error}") from None

    def _read(self) -> Value:
        """A copy of the value ``op_output`` describes."""
        memory, d = self._descriptor()
        kind, code, pointer, length, rank = d[:5]
        try:
            data = memory.span(pointer, length, "output data")
        except AbiError as error:
            raise OperatorError(f"bad output: {error}") from None
        if kind == 0:
            return data.tobytes()
        if kind != 1 or code not in DTYPES or rank > MAX_RANK:
            raise OperatorError(f"bad output descriptor (kind {kind}, type {code}, rank {rank})")
        dims = d[5 : 5 + rank]
        dtype = DTYPES[code]
        if int(np.prod(dims, dtype=np.int64)) * dtype.itemsize != length:
            raise OperatorError(f"output of {length:,} bytes does not fill {dtype.name}"
                                f"[{'x'.join(map(str, dims))}]")  # fmt: skip
        return data.view(dtype).reshape(dims).astype(dtype.newbyteorder("="))

    def _message(self, status: int) -> str:
        if status != ERROR:
            return f"op_process returned status {status} (expected 0, 1 or 2)"
        try:
            memory, d = self._descriptor()
            text = memory.read_bytes(d[2], min(d[3], 4096), "error message")
        except (OperatorError, AbiError):
            return "failed (and gave no readable message)"
        return text.decode("utf-8", errors="replace").strip() or "failed"


def _cause(error: BaseException) -> str:
    text = str(getattr(error, "message", None) or error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if "Caused by:" in lines and lines.index("Caused by:") + 1 < len(lines):
        return lines[lines.index("Caused by:") + 1]
    return lines[-1] if lines else type(error).__name__
