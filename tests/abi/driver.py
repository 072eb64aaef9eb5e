"""Drive the real wasi-nn host from Python, one call at a time, through a forwarding guest.

:data:`FORWARDER` imports every ``wasi_ephemeral_nn`` function and exports, for each, a
``call_<name>`` that passes its i32 arguments straight through and returns the errno; plus
``grow`` (``memory.grow``), ``trap`` (``unreachable``, the guest's own trap) and a ``_start``
that does nothing. :class:`Session` instantiates it the way a run does (the runner's engine, a
store with limits and an armed stop switch, WASI, the clock shims, :class:`WasiNnHost`), so a
test can call any wasi-nn function with any arguments, read and write guest memory between
calls, and look at the host's handle tables.

:func:`place_fixtures` lays out, on the memory map of :mod:`.guests`, everything a call needs
to succeed: the model bytes and builder arrays, tensor records, names and configs.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any

import numpy as np

from wasinn_nb.abi import Limits, WasiNnHost, define_clocks
from wasinn_nb.abi.wasi_nn import FUNCTIONS
from wasinn_nb.runtime.interrupts import StopSwitch

from .guests import (
    BUILDERS,
    CTX_OUT,
    DATA,
    DIMS,
    F32,
    GRAPH_OUT,
    MODEL,
    MODEL2,
    NAME,
    OUTBUF,
    PAGE,
    TENSOR,
    WRITTEN_OUT,
    tensor_record,
    u32,
)

MASK = 0xFFFFFFFF

# More places on the memory map of .guests (all below its 0xF000 scratch area).
BUILDERS2 = BUILDERS + 0x40  # two builders: the model at MODEL and its copy at MODEL2
TENSOR_I32 = TENSOR + 0x20  # the same data, typed i32 (current numbering)
TENSOR_SCALAR = TENSOR + 0x40  # a 0-dimensional f32 (the model takes 1x4)
NAME_MISSING, NAME_BAD = NAME + 0x40, NAME + 0x80
CONFIG, CONFIG_UNKNOWN, CONFIG_BAD = NAME + 0x100, NAME + 0x140, NAME + 0x180
CONFIG_DEEP = 0x4000  # 20,000 "[": valid-looking JSON nested past Python's recursion limit
DEEP_LEN = 20_000

#: The name the model is preloaded as, and the other names placed in memory.
PRELOADED = b"ident"
NAMES = {NAME: PRELOADED, NAME_MISSING: b"nosuch", NAME_BAD: b"\xff\xfeid"}
CONFIGS = {
    CONFIG: b'{"threads": 1}',
    CONFIG_UNKNOWN: b'{"ctx-size": 512}',
    CONFIG_BAD: b'{"threads": "many"',
    CONFIG_DEEP: b"[" * DEEP_LEN,
}
INPUT = np.array([[1.5, -2.0, 7.25, 0.0]], np.float32)  # the identity model's f32 1x4 input

#: Every address a fixture starts at: where pointers are most worth aiming.
POINTERS = (
    GRAPH_OUT, CTX_OUT, WRITTEN_OUT, BUILDERS, BUILDERS2, MODEL, MODEL2, TENSOR, TENSOR_I32,
    TENSOR_SCALAR, DIMS, DATA, OUTBUF, *NAMES, *CONFIGS,
)  # fmt: skip


def _forwarder(name: str, count: int) -> str:
    params = " i32" * count
    args = " ".join(f"(local.get {i})" for i in range(count))
    return f'  (func (export "call_{name}") (param{params}) (result i32) (call ${name} {args}))'


FORWARDER = "\n".join(
    [
        "(module",
        *(
            f'  (import "wasi_ephemeral_nn" "{name}" (func ${name} (param{" i32" * count}) '
            "(result i32)))"
            for name, count in FUNCTIONS.items()
        ),
        '  (memory (export "memory") 4)',
        *(_forwarder(name, count) for name, count in FUNCTIONS.items()),
        '  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))',
        '  (func (export "trap") unreachable)',
        '  (func (export "_start"))',
        ")",
    ]
)


def signed(value: int) -> int:
    """A u32 as the i32 wasmtime-py takes."""
    value &= MASK
    return value - (1 << 32) if value >= 1 << 31 else value


class Session:
    """One instance of :data:`FORWARDER` on a fresh store, with its own :class:`WasiNnHost`.

    Args:
        engine: The runner's engine (epoch interruption on).
        module: :data:`FORWARDER`, compiled with that engine.
        models: What the guest may load (``runner.graphs.for_run(...)``).
        limits: The host's limits.
        record: Whether the host keeps the tensors (as ``run(record=...)``).
        max_memory: The store's bound on linear memory (``grow`` fails beyond it).
    """

    def __init__(
        self,
        engine: Any,
        module: Any,
        models: Any,
        limits: Limits,
        *,
        record: bool = True,
        max_memory: int = 16 * PAGE,
    ) -> None:
        from wasmtime import Linker, Store, WasiConfig

        self.store = Store(engine)
        self.store.set_wasi(WasiConfig())
        self.store.set_limits(memory_size=max_memory, instances=10, tables=10, memories=10)
        self.switch = StopSwitch(None)
        self.switch.arm(self.store)
        self.host = WasiNnHost(models, record=record, limits=limits, stopper=self.switch)
        linker = Linker(engine)
        linker.define_wasi()
        define_clocks(linker, self.switch)
        self.host.define(linker)
        exports = linker.instantiate(self.store, module).exports(self.store)
        self.memory = exports["memory"]
        self._calls = {name: exports[f"call_{name}"] for name in FUNCTIONS}
        self._grow, self._trap = exports["grow"], exports["trap"]

    def call(self, name: str, *args: int) -> int:
        """Call wasi-nn function ``name`` as the guest would; its errno (a trap raises)."""
        result: int = self._calls[name](self.store, *(signed(a) for a in args))
        return result

    def grow(self, pages: int) -> int:
        """``memory.grow``: the old size in pages, or -1."""
        result: int = self._grow(self.store, pages)
        return result

    def trap(self) -> None:
        """Run the guest's own ``unreachable``."""
        self._trap(self.store)

    @property
    def size(self) -> int:
        """Bytes of guest memory."""
        size: int = self.memory.data_len(self.store)
        return size

    def view(self) -> np.ndarray:
        """Guest memory as a zero-copy byte array (valid until the memory grows)."""
        size = self.size
        base = ctypes.addressof(self.memory.data_ptr(self.store).contents)
        return np.frombuffer((ctypes.c_ubyte * size).from_address(base), dtype=np.uint8)

    def write(self, address: int, raw: bytes) -> None:
        """Store ``raw`` at ``address`` (which must be inside memory)."""
        self.memory.write(self.store, raw, address)

    def read(self, address: int, length: int) -> bytes | None:
        """``length`` bytes at ``address``, or ``None`` if not all inside memory."""
        if address + length > self.size:
            return None
        return bytes(self.view()[address : address + length])

    def read_u32(self, address: int) -> int | None:
        """The u32 at ``address``, or ``None`` if outside memory."""
        raw = self.read(address, 4)
        return None if raw is None else int.from_bytes(raw, "little")

    def tensor_data(self, pointer: int) -> bytes | None:
        """The data bytes the tensor record at ``pointer`` points at (``None``: out of bounds)."""
        record = self.read(pointer, 20)
        if record is None:
            return None
        data_ptr, data_len = (int.from_bytes(record[i : i + 4], "little") for i in (12, 16))
        return self.read(data_ptr, data_len)


def fixtures(model: bytes) -> Sequence[tuple[int, bytes]]:
    """Where each pre-placed structure goes, and its bytes."""
    raw = INPUT.tobytes()
    return [
        (BUILDERS, u32(MODEL, len(model))),
        (BUILDERS2, u32(MODEL, len(model), MODEL2, len(model))),
        (MODEL, model),
        (MODEL2, model),
        (TENSOR, tensor_record(DIMS, 2, F32, DATA, len(raw))),
        (TENSOR_I32, tensor_record(DIMS, 2, 4, DATA, len(raw))),
        (TENSOR_SCALAR, tensor_record(DIMS, 0, F32, DATA, 4)),
        (DIMS, u32(*INPUT.shape)),
        (DATA, raw),
        *NAMES.items(),
        *CONFIGS.items(),
    ]


def place_fixtures(session: Session, model: bytes) -> None:
    """Write (or restore) every pre-placed structure into the session's memory."""
    assert len(model) <= MODEL2 - MODEL <= TENSOR - MODEL2, "the model must fit its slots"
    for address, raw in fixtures(model):
        session.write(address, raw)
