"""Stopping guests: an epoch ticker that advances the engine's clock while a run needs it."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wasmtime import Engine

__all__ = ["TICK", "Ticker"]

TICK = 0.01  # seconds per epoch tick while a run with a timeout is active


class Ticker:
    """Advances the engine's epoch every few milliseconds while some run has a timeout."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._users = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def __enter__(self) -> Ticker:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._wake.clear()
                threading.Thread(target=self._tick, name="wasinn-epoch", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._wake.set()

    def _tick(self) -> None:
        while not self._wake.wait(TICK):
            self._engine.increment_epoch()
