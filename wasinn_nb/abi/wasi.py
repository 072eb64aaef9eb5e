"""WASI's clocks and ``poll_oneoff``, on the host's side, so that a sleeping guest can be stopped.

wasmtime's own ``poll_oneoff`` sleeps inside the runtime, where neither a timeout nor Ctrl-C
reaches it: a guest that sleeps for an hour holds its run for an hour. These definitions
shadow it (and the clocks it is measured against, so absolute deadlines agree): clock
subscriptions sleep on the run's stop switch and wake the moment it trips; fd subscriptions are
reported ready at once, as they are for the files and empty stdin a guest is given.

Layouts (wasi_snapshot_preview1, little-endian): a subscription is 48 bytes — userdata u64 @0,
tag u8 @8 (0 clock, 1 fd_read, 2 fd_write), clock id u32 @16, timeout u64 @24, precision u64
@32, flags u16 @40 (bit 0: absolute); an event is 32 bytes — userdata u64 @0, errno u16 @8,
type u8 @10, nbytes u64 @16, flags u16 @24.
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from wasinn_nb.abi.memory import GuestMemory
from wasinn_nb.errors import AbiError

if TYPE_CHECKING:
    from wasmtime import Caller, Engine, FuncType, Linker

__all__ = ["Sleeper", "define_clocks"]

MODULE = "wasi_snapshot_preview1"
_SUBSCRIPTION = np.dtype(
    [("userdata", "<u8"), ("tag", "u1"), ("_pad", "V7"), ("clock", "<u4"), ("_pad2", "V4"),
     ("timeout", "<u8"), ("precision", "<u8"), ("flags", "<u2"), ("_pad3", "V6")]
)  # fmt: skip
_EVENT = np.dtype(
    [("userdata", "<u8"), ("errno", "<u2"), ("type", "u1"), ("_pad", "V5"), ("nbytes", "<u8"),
     ("flags", "<u2"), ("_pad2", "V6")]
)  # fmt: skip
_ESUCCESS, _EFAULT, _EINVAL = 0, 21, 28
_CLOCKS: dict[int, Callable[[], int]] = {
    0: time.time_ns,  # realtime
    1: time.monotonic_ns,  # monotonic
    2: time.process_time_ns,  # process cputime
    3: time.thread_time_ns,  # thread cputime
}
_RESOLUTION_NS = 1_000


class Sleeper(Protocol):
    """What ``poll_oneoff`` sleeps on: the run's stop switch."""

    def wait(self, seconds: float | None) -> bool:
        """Sleep up to ``seconds``; return early (True) when the run is being stopped."""


_SIGNATURES: weakref.WeakKeyDictionary[Engine, dict[tuple[str, ...], FuncType]] = (
    weakref.WeakKeyDictionary()
)
_SIGNATURES_LOCK = threading.Lock()
# Freed before interpreter teardown (wasmtime's bindings are gone by then and would complain).
atexit.register(_SIGNATURES.clear)


def signature(
    linker: Linker, params: tuple[str, ...], results: tuple[str, ...] = ("i32",)
) -> FuncType:
    """The wasm function type ``params -> results`` (``"i32"``/``"i64"``) for ``linker``.

    Building a FuncType through ctypes costs ~14 us; a run defines ~20 host functions, so
    making them afresh each run was ~0.3 ms of every run's start. They are made once per
    engine: wasmtime binds a FuncType to the first engine it is used with (using it with
    another one aborts the process).

    Example:
        >>> from wasmtime import Engine, Linker
        >>> linker = Linker(Engine())
        >>> signature(linker, ("i32", "i64")) is signature(linker, ("i32", "i64"))
        True
    """
    from wasmtime import FuncType, ValType

    key = (*params, "->", *results)
    with _SIGNATURES_LOCK:
        known = _SIGNATURES.setdefault(linker.engine, {})
        if key not in known:
            kinds = {"i32": ValType.i32, "i64": ValType.i64}
            known[key] = FuncType([kinds[p]() for p in params], [kinds[r]() for r in results])
        return known[key]


def define_clocks(linker: Linker, sleeper: Sleeper) -> None:
    """Define ``clock_time_get``, ``clock_res_get`` and ``poll_oneoff`` over WASI's own."""
    linker.allow_shadowing = True
    linker.define_func(MODULE, "clock_time_get", signature(linker, ("i32", "i64", "i32")),
                       _guarded(_clock_time_get), access_caller=True)  # fmt: skip
    linker.define_func(MODULE, "clock_res_get", signature(linker, ("i32", "i32")),
                       _guarded(_clock_res_get), access_caller=True)  # fmt: skip
    linker.define_func(MODULE, "poll_oneoff", signature(linker, ("i32",) * 4),
                       _guarded(lambda memory, *args: _poll(memory, sleeper, *args)),
                       access_caller=True)  # fmt: skip
    linker.allow_shadowing = False


def _guarded(call: Callable[..., int]) -> Callable[..., int]:
    """A host function that turns a bad pointer into EFAULT instead of a trap."""

    def entry(caller: Caller, *args: int) -> int:
        try:
            return call(GuestMemory.of(caller), *args)
        except AbiError:
            return _EFAULT

    return entry


def _clock_time_get(memory: GuestMemory, clock: int, precision: int, out: int) -> int:
    read = _CLOCKS.get(clock & 0xFFFFFFFF)
    if read is None:
        return _EINVAL
    memory.span(out & 0xFFFFFFFF, 8, "time")[:] = np.array([read()], "<u8").view(np.uint8)
    return _ESUCCESS


def _clock_res_get(memory: GuestMemory, clock: int, out: int) -> int:
    if clock & 0xFFFFFFFF not in _CLOCKS:
        return _EINVAL
    resolution = np.array([_RESOLUTION_NS], "<u8").view(np.uint8)
    memory.span(out & 0xFFFFFFFF, 8, "resolution")[:] = resolution
    return _ESUCCESS


def _poll(memory: GuestMemory, sleeper: Sleeper, into: int, out: int, count: int, n: int) -> int:
    into, out, count, n = (v & 0xFFFFFFFF for v in (into, out, count, n))
    if count == 0:
        return _EINVAL
    memory.span(n, 4, "event count")
    subs = memory.span(into, count * _SUBSCRIPTION.itemsize, "subscriptions").view(_SUBSCRIPTION)
    events = memory.span(out, count * _EVENT.itemsize, "events").view(_EVENT)
    if np.any(subs["tag"] > 2):
        return _EINVAL
    ready = np.flatnonzero(subs["tag"] != 0)
    if ready.size == 0:
        ready = _sleep_until_a_clock(subs, sleeper)
    record = np.zeros(ready.size, _EVENT)
    record["userdata"], record["type"] = subs["userdata"][ready], subs["tag"][ready]
    events[: ready.size] = record
    memory.write_u32(n, int(ready.size), "event count")
    return _ESUCCESS


def _sleep_until_a_clock(subs: np.ndarray, sleeper: Sleeper) -> np.ndarray:
    """Sleep until the first clock subscription is due (or the run stops); the due ones."""
    now = np.array([_CLOCKS.get(int(c), time.monotonic_ns)() for c in subs["clock"]], np.int64)
    absolute = (subs["flags"] & 1).astype(bool)
    timeouts = subs["timeout"].astype(np.float64)
    wait_ns = np.where(absolute, timeouts - now, timeouts)
    shortest = max(0.0, float(wait_ns.min())) / 1e9
    start = time.monotonic_ns()
    sleeper.wait(shortest)
    slept = time.monotonic_ns() - start
    due = np.flatnonzero(wait_ns <= slept)
    return due if due.size else np.array([], np.int64)
