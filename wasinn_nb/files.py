"""Files in and out: never a half-written file, never a device read or replaced by mistake."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from wasinn_nb.errors import TensorFileError

__all__ = ["atomic_write", "read_file"]


def read_file(
    path: str | os.PathLike[str],
    *,
    limit: int,
    what: str = "file",
    error: Callable[[str, str], Exception] | None = None,
) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (not a device, FIFO or folder).

    Args:
        path: The file.
        limit: The most bytes it may have.
        what: What it is, for the error message (``"module"``, ``"tensor"``).
        error: Makes the exception from ``(path, reason)``; by default a TensorFileError
            saying ``cannot read WHAT PATH: REASON``.

    Example:
        >>> read_file("/dev/zero", limit=1 << 20, what="module")
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.TensorFileError: cannot read module /dev/zero: not a regular file
    """
    fail = error or (lambda name, reason: TensorFileError(f"cannot read {what} {name}: {reason}"))
    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISDIR(info.st_mode):
                raise fail(str(path), "is a folder")
            if not stat.S_ISREG(info.st_mode):
                raise fail(str(path), "not a regular file")
            if info.st_size > limit:
                raise fail(str(path), f"{info.st_size:,} bytes is more than the {limit:,} allowed")
            return handle.read(limit + 1)[:limit]
    except IsADirectoryError:
        raise fail(str(path), "is a folder") from None
    except OSError as failure:
        raise fail(str(path), failure.strerror or str(failure)) from None


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` for writing; rename it over ``path`` on success.

    A symbolic link is written through (its target is replaced); a device, FIFO, socket or
    folder is never replaced.

    Raises:
        TensorFileError: If the folder does not exist or is not writable, or ``path`` is not
            a regular file.
    """
    target = _writable_target(Path(path))
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    except OSError as err:
        raise TensorFileError(f"cannot write {path}: {err.strerror or err}") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, _new_file_mode(target))
        with os.fdopen(fd, "wb") as handle:
            yield handle
        _writable_target(target)  # it may have changed while we wrote
        tmp.replace(target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise TensorFileError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _writable_target(path: Path) -> Path:
    """``path`` itself (or a link's target) if it is missing or a regular file."""
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as err:
        raise TensorFileError(f"cannot write {path}: {err.strerror or err}") from None
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise TensorFileError(f"cannot write {path}: {kind} (it is never replaced)")
    return target


def _new_file_mode(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would give: the old file's, or 0o666 minus umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
