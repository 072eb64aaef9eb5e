"""The wasinn-nb error tree, and the one translation both front ends use.

Library code raises these; the edges translate them with :func:`describe`: the CLI prints one
line and exits non-zero, the magics raise ``UsageError``, the wasi-nn host returns an errno.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AbiError",
    "BackendError",
    "BackendUnavailableError",
    "ConversionError",
    "FetchError",
    "GuestError",
    "ImageReadError",
    "InvalidInputError",
    "ModelNotFoundError",
    "OptionError",
    "Problem",
    "ShapeError",
    "SpecError",
    "TensorFileError",
    "UnsupportedError",
    "WasinnError",
    "describe",
    "first_line",
]


def first_line(error: BaseException) -> str:
    r"""The first non-blank line of an error's message (engines often add pages of detail).

    Example:
        >>> first_line(RuntimeError("\n  Exception from src/core.cpp:12:\n  details"))
        'Exception from src/core.cpp:12:'
    """
    text = str(getattr(error, "message", None) or error)
    return next((line.strip() for line in text.splitlines() if line.strip()), type(error).__name__)


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


class AbiError(WasinnError):
    """A guest broke the wasi-nn ABI contract (bad pointer, unknown handle, bad enum value).

    Attributes:
        errno: The wasi-nn error number the guest receives.
    """

    def __init__(self, message: str, errno: int) -> None:
        super().__init__(message)
        self.errno = int(errno)


class InvalidInputError(WasinnError, ValueError):
    """A backend call got an input it cannot use: index out of range, wrong shape or type."""


class UnsupportedError(WasinnError):
    """The backend cannot do what was asked: an encoding, target or operation it lacks."""


class BackendError(WasinnError):
    """The inference engine itself failed (model parsing, compilation, inference)."""


class ModelNotFoundError(WasinnError, KeyError):
    """No model is preloaded under the requested name."""

    def __init__(self, name: str, known: list[str]) -> None:
        listing = ", ".join(repr(k) for k in known) or "none"
        super().__init__(f"no model named {name!r} is preloaded (preloaded: {listing})")
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return str(self.args[0])


class GuestError(WasinnError):
    """A guest module failed: it trapped, timed out, or could not be instantiated."""


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


class OptionError(WasinnError):
    """A command line that does not parse; the message is one line, ending with a help hint."""


class FetchError(WasinnError):
    """A model or image could not be fetched, or did not match its pinned sha256."""


@dataclass(frozen=True)
class Problem:
    """What a front end shows for an error: one line, and whether it is a bug in wasinn-nb.

    Attributes:
        message: One line for the user.
        bug: True when the error is not the user's doing (an unexpected exception in us).
    """

    message: str
    bug: bool = False


def describe(error: BaseException) -> Problem:
    """The one-line message for ``error``, as both the CLI and the magics show it.

    Errors raised on purpose (:class:`WasinnError`) and failed file operations (``OSError``) are
    the user's to fix: their message as is. Anything else is a bug in wasinn-nb: a short line
    that names the exception and how to see the whole traceback.

    Example:
        >>> describe(SpecError("bad dims '5x'")).message
        "bad dims '5x'"
        >>> describe(FileNotFoundError(2, "No such file or directory", "a.jpg")).message
        'a.jpg: No such file or directory'
        >>> problem = describe(ZeroDivisionError("division by zero"))
        >>> problem.bug, problem.message
        (True, 'internal error: ZeroDivisionError: division by zero (rerun with --traceback)')
    """
    if isinstance(error, WasinnError):
        return Problem(first_line(error))
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return Problem(f"{where}{error.strerror or first_line(error)}")
    return Problem(
        f"internal error: {type(error).__name__}: {first_line(error)} (rerun with --traceback)",
        bug=True,
    )
