"""A guest's stdout or stderr: decoded as it arrives, echoed live, and kept for the result."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from typing import TextIO

__all__ = ["GuestStream", "Sink"]

#: Where a stream's text goes as it is produced: a file-like object or a function.
Sink = TextIO | Callable[[str], object] | None


class GuestStream:
    """Collects a guest stream, decoding UTF-8 incrementally and optionally echoing it.

    Example:
        >>> stream = GuestStream(None)
        >>> stream("caf".encode()); stream(bytes([0xC3])); stream(bytes([0xA9]))
        >>> stream.text()
        'café'
    """

    def __init__(self, echo: Sink) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._echo = echo.write if hasattr(echo, "write") else echo  # type: ignore[union-attr]

    def __call__(self, data: bytes) -> None:
        """Take the next bytes the guest wrote."""
        text = self._decoder.decode(data)
        self._parts.append(text)
        if self._echo is not None and text:
            self._echo(text)

    def text(self) -> str:
        """Everything written so far."""
        return "".join(self._parts) + self._decoder.decode(b"", final=True)
