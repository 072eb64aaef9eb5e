"""What a batch runs over: a folder, a glob, a list of paths, or a DataFrame column."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wasinn_nb.errors import SpecError

__all__ = ["Inputs", "resolve_inputs"]

#: A folder, a glob such as ``"photos/*.jpg"``, paths, or a pandas Series of paths.
Inputs = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Any


def resolve_inputs(inputs: Inputs) -> list[str]:
    """The items of a batch, as path strings, in a stable order.

    A folder gives its files (not hidden ones, not sub-folders), sorted by name; a glob its
    matches, sorted; any other path itself. A list or a DataFrame column is kept as given, in
    its order. Missing files are kept: each becomes an error row.

    Example:
        >>> resolve_inputs(["b.jpg", "a.jpg"])
        ['b.jpg', 'a.jpg']
        >>> resolve_inputs("/no/such/*.jpg")
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.SpecError: no inputs match /no/such/*.jpg

    Raises:
        SpecError: If a folder is empty or a glob matches nothing.
    """
    if isinstance(inputs, (str, os.PathLike)):
        text = os.fspath(inputs)
        if Path(text).is_dir():
            found = sorted(str(p) for p in Path(text).iterdir()
                           if p.is_file() and not p.name.startswith("."))  # fmt: skip
        elif glob.has_magic(text):
            matches = glob.glob(text)  # noqa: PTH207 - the pattern may be absolute
            found = sorted(p for p in matches if not Path(p).is_dir())
        else:  # a file; a missing one becomes an error row like any other
            found = [text]
        if not found:
            raise SpecError(f"no inputs match {text}")
        return found
    values = inputs.tolist() if hasattr(inputs, "tolist") else list(inputs)
    return [os.fspath(value) for value in values]
