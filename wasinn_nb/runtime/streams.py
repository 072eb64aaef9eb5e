"""A guest's stdout or stderr: decoded as it arrives, echoed live, and its tail kept for the result.

A guest may print gigabytes; they stream through to the echo, and only the last
``keep`` characters stay in memory.
"""

from __future__ import annotations

import codecs
import threading
from collections import deque
from collections.abc import Callable
from typing import TextIO

__all__ = ["GuestStream", "Sink"]

#: Where a stream's text goes as it is produced: a file-like object or a function.
Sink = TextIO | Callable[[str], object] | None


class GuestStream:
    r"""Collects a guest stream, decoding UTF-8 incrementally and optionally echoing it.

    Example:
        >>> stream = GuestStream(None)
        >>> stream("caf".encode()); stream(bytes([0xC3])); stream(bytes([0xA9]))
        >>> stream.text()
        'café'
        >>> small = GuestStream(None, keep=4)
        >>> small(b"0123456789")
        >>> small.text()
        '[wasinn: 6 earlier characters not kept]\n6789'
    """

    def __init__(self, echo: Sink, *, keep: int = 1 << 20) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: deque[str] = deque()
        self._kept = 0
        self._dropped = 0
        self._keep = keep
        self._lock = threading.Lock()
        self._echo = echo.write if hasattr(echo, "write") else echo  # type: ignore[union-attr]

    def __call__(self, data: bytes) -> None:
        """Take the next bytes the guest wrote."""
        with self._lock:
            text = self._decoder.decode(data)
            self._add(text)
        if self._echo is not None and text:
            self._echo(text)

    def _add(self, text: str) -> None:
        self._parts.append(text)
        self._kept += len(text)
        while self._kept > self._keep:
            first = self._parts.popleft()
            extra = self._kept - self._keep
            if len(first) > extra:
                self._parts.appendleft(first[extra:])
                first = first[:extra]
            self._kept -= len(first)
            self._dropped += len(first)

    def text(self) -> str:
        """What was written (its last ``keep`` characters, after a note of what was dropped)."""
        with self._lock:
            body = "".join(self._parts) + self._decoder.decode(b"", final=True)
            dropped = self._dropped
        note = f"[wasinn: {dropped:,} earlier characters not kept]\n" if dropped else ""
        return note + body
