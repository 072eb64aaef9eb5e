"""The wasinn-nb error tree.

Library code raises these; the edges translate them: the CLI prints one line and exits non-zero,
the magics raise ``UsageError``, the wasi-nn host returns an errno to the guest.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BackendUnavailableError",
    "ConversionError",
    "ImageReadError",
    "ShapeError",
    "SpecError",
    "TensorFileError",
    "WasinnError",
]


class WasinnError(Exception):
    """Root of every error wasinn-nb raises on purpose."""


class SpecError(WasinnError, ValueError):
    """An invalid tensor specification: bad dims string, unknown dtype, bad mean/std."""


class ImageReadError(WasinnError):
    """An image could not be read or decoded (missing, not an image, truncated)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"cannot read image {source}: {reason}")
        self.source = source
        self.reason = reason


class ConversionError(WasinnError):
    """A conversion step failed on otherwise valid input."""


class ShapeError(ConversionError):
    """An array does not have the shape a step expects.

    Attributes:
        expected: A human-readable description of the expected shape, e.g. ``"(H, W, 3)"``.
        actual: The shape that was found.
    """

    def __init__(self, what: str, expected: str, actual: Sequence[int]) -> None:
        super().__init__(f"{what}: expected shape {expected}, got {tuple(actual)}")
        self.expected = expected
        self.actual = tuple(actual)


class TensorFileError(WasinnError):
    """A tensor file cannot be read, written or interpreted."""


class BackendUnavailableError(WasinnError):
    """A requested inference backend is not installed.

    Attributes:
        name: The backend that was asked for.
        extra: The ``pip`` extra that provides it.
    """

    def __init__(self, name: str, extra: str) -> None:
        super().__init__(
            f"backend {name!r} is not installed; install it with: pip install 'wasinn-nb[{extra}]'"
        )
        self.name = name
        self.extra = extra
