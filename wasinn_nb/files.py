"""Writing files so that a failure never leaves a half-written one behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from wasinn_nb.errors import TensorFileError

__all__ = ["atomic_write"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` for writing; rename it over ``path`` on success.

    Raises:
        TensorFileError: If the folder does not exist or is not writable.
    """
    target = Path(path)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    except OSError as err:
        raise TensorFileError(f"cannot write {target}: {err.strerror or err}") from None
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, _new_file_mode(target))
        with os.fdopen(fd, "wb") as handle:
            yield handle
        tmp.replace(target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise TensorFileError(f"cannot write {target}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _new_file_mode(target: Path) -> int:
    """The mode a plain ``open(target, "w")`` would give: the old file's, or 0o666 minus umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
