"""Stopping guests: one switch per run, tripped by its deadline, Ctrl-C or the kernel's interrupt.

Wasm never returns to Python on its own, so a run's guest executes on a worker thread while
the calling thread waits, interruptibly, for it to finish or for the deadline. Tripping a
:class:`StopSwitch` stops everything the run may be doing:

* **wasm code**: every store has an epoch deadline one tick ahead and a callback that, at each
  tick, lets it go on or ends it with the switch's reason (the :class:`Ticker` advances the
  engine's epoch every 10 ms while any run is active);
* **host calls that block**: ``poll_oneoff`` sleeps on the switch (see :mod:`wasinn_nb.abi.wasi`),
  and a backend ``compute`` in progress is cancelled through the context's ``cancel()``;
* **what cannot be cancelled** (a backend compiling a model): the caller stops waiting after
  :data:`GRACE` seconds and the worker is abandoned; it ends at its next epoch check.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from wasinn_nb.errors import SpecError

if TYPE_CHECKING:
    from wasmtime import Engine, Store

__all__ = ["GRACE", "MAX_TIMEOUT", "TICK", "StopSwitch", "Ticker", "check_timeout"]

TICK = 0.01  # seconds per epoch tick while any run is active
GRACE = 0.5  # seconds a tripped run may take to wind down before its worker is abandoned
LINGER = 0.25  # seconds the epoch thread outlives the last run (the next one reuses it)
MAX_TIMEOUT = 30 * 24 * 3600.0  # a month: longer is a typo, not a plan


def check_timeout(timeout: float | None) -> float | None:
    """A validated ``--timeout``: ``None`` (no limit) or finite seconds in (0, a month].

    Example:
        >>> check_timeout(2.5), check_timeout(None)
        (2.5, None)
        >>> check_timeout(0)
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.SpecError: --timeout must be more than 0 seconds, got 0
    """
    if timeout is None:
        return None
    seconds = float(timeout)
    if math.isnan(seconds) or seconds <= 0:
        raise SpecError(f"--timeout must be more than 0 seconds, got {timeout:g}")
    if seconds > MAX_TIMEOUT:
        raise SpecError(f"--timeout must be at most {MAX_TIMEOUT:g} seconds (30 days)")
    return seconds


class StopSwitch:
    """One run's stop switch: its deadline, the reason it stopped, and what to wake.

    Example:
        >>> switch = StopSwitch(timeout=None)
        >>> switch.trip("interrupted"); switch.trip("timed out")
        >>> switch.reason, switch.stopped
        ('interrupted', True)
    """

    def __init__(self, timeout: float | None) -> None:
        self.timeout = check_timeout(timeout)
        self.deadline = None if self.timeout is None else time.monotonic() + self.timeout
        self.reason: str | None = None
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._cancels: list[Callable[[], None]] = []
        self._callback: Any = None  # the ctypes callback must live as long as the store

    @property
    def stopped(self) -> bool:
        """Whether the switch has tripped."""
        return self._event.is_set()

    def remaining(self) -> float | None:
        """Seconds to the deadline (never negative), or ``None`` without one."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def expired(self) -> bool:
        """Trip the switch if the deadline has passed; return whether it is tripped."""
        if not self.stopped and self.deadline is not None and time.monotonic() >= self.deadline:
            self.trip(f"timed out after {self.timeout:g} s")
        return self.stopped

    def trip(self, reason: str) -> None:
        """Stop the run (the first reason wins) and cancel what it is waiting for."""
        with self._lock:
            if self._event.is_set():
                return
            self.reason = reason
            self._event.set()
            cancels = list(self._cancels)
        for cancel in cancels:
            with contextlib.suppress(Exception):  # a failed cancel leaves the grace period
                cancel()

    def wait(self, seconds: float | None) -> bool:
        """Sleep up to ``seconds`` (``None``: until tripped); return whether it tripped."""
        limit = self.remaining()
        if seconds is None or (limit is not None and limit < seconds):
            seconds = limit
        self._event.wait(None if seconds is None else min(seconds, threading.TIMEOUT_MAX))
        return self.expired()

    @contextlib.contextmanager
    def cancelling(self, cancel: Callable[[], None] | None) -> Iterator[None]:
        """While the block runs, tripping the switch calls ``cancel`` (e.g. a backend's)."""
        if cancel is None:
            yield
            return
        with self._lock:
            self._cancels.append(cancel)
            tripped = self._event.is_set()
        try:
            if tripped:
                cancel()
            yield
        finally:
            with self._lock:
                self._cancels.remove(cancel)

    def arm(self, store: Store) -> None:
        """Give ``store`` an epoch deadline one tick ahead that ends the guest once tripped."""
        from wasmtime import _ffi as ffi

        def on_deadline(context: Any, env: Any, delta: Any, kind: Any) -> int:
            if self.expired():
                error = ffi.wasmtime_error_new((self.reason or "stopped").encode())
                return int(ctypes.cast(error, ctypes.c_void_p).value or 0)
            delta[0] = 1
            kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
            return 0

        signature = ctypes.CFUNCTYPE(
            ctypes.c_size_t,
            ctypes.POINTER(ffi.wasmtime_context_t),
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_uint64),
            ctypes.POINTER(ffi.wasmtime_update_deadline_kind_t),
        )
        self._callback = signature(on_deadline)
        no_finalizer = ctypes.cast(0, ctypes.CFUNCTYPE(None, ctypes.c_void_p))
        ffi.wasmtime_store_epoch_deadline_callback(store.ptr(), self._callback, None, no_finalizer)
        store.set_epoch_deadline(1)


class Ticker:
    """Advances the engine's epoch every :data:`TICK` seconds while some run is active.

    Its thread lingers :data:`LINGER` seconds after the last run ends, so that back-to-back
    runs (a notebook cell in a loop, a benchmark) do not each start a thread.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._users = 0
        self._lock = threading.Lock()
        self._running = False
        self._idle_since = 0.0

    def __enter__(self) -> Ticker:
        with self._lock:
            self._users += 1
            if not self._running:
                self._running = True
                threading.Thread(target=_tick, args=(weakref.ref(self),), name="wasinn-epoch",
                                 daemon=True).start()  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._idle_since = time.monotonic()

    def tick(self) -> bool:
        """One tick: advance the epoch; False when the thread should end (idle, or closed)."""
        with self._lock:
            if self._users == 0 and time.monotonic() - self._idle_since > LINGER:
                self._running = False
                return False
        try:
            self._engine.increment_epoch()
        except ValueError:  # the engine was closed (the runner, or the process, is ending)
            with self._lock:
                self._running = False
            return False
        return True


def _tick(ticker: weakref.ref[Ticker]) -> None:
    """The epoch thread: holds its ticker weakly, so a dropped runner frees its engine now."""
    while True:
        time.sleep(TICK)
        alive = ticker()
        if alive is None or not alive.tick():
            return
        del alive
