"""Progress bars that know where they are: a widget in Jupyter, text on a terminal, else nothing.

Every long piece of work (downloads, folders of images, benchmark runs) reports through this
module, so all of them behave alike. The choice is ``tqdm.auto``'s, made at each call rather
than once at import: in a Jupyter kernel (with ipywidgets) the bar is a widget, shown even though
the kernel's streams are not terminals; elsewhere it is tqdm's text bar on ``file`` (stderr),
drawn only when that is a terminal, so logs and pipes get no carriage-return noise.
``enabled=False`` (``--quiet``) silences both.

Example:
    >>> total = 0
    >>> for n in progress(range(3), desc="counting", unit="n", enabled=False):
    ...     total += n
    >>> total
    3
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sized
from contextlib import contextmanager
from typing import Any, Protocol, TextIO, TypeVar

__all__ = ["Bar", "in_jupyter", "note", "progress", "progress_bar"]

T = TypeVar("T")


class Bar(Protocol):
    """What :func:`progress_bar` yields: advance it by ``n`` units."""

    def update(self, n: float = 1) -> object:
        """Advance the bar."""


def in_jupyter() -> bool:
    """Whether this process is a Jupyter kernel (where a bar is best shown as a widget)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _bar_class() -> tuple[Any, bool]:
    """The class of bar: tqdm's widget in a kernel with ipywidgets, else its text bar."""
    if in_jupyter():
        from tqdm import notebook

        if notebook.IProgress is not None:  # None: ipywidgets is not installed
            return notebook.tqdm, True
    from tqdm import std

    return std.tqdm, False


def _make(total: float | None, desc: str | None, unit: str, unit_scale: bool,
          enabled: bool, file: TextIO | None) -> Any:  # fmt: skip
    cls, widget = _bar_class()
    # A widget shows whenever enabled; a text bar only on a terminal (tqdm's disable=None).
    disable = (not enabled) if widget else (None if enabled else True)
    return cls(total=total, desc=desc, unit=unit, unit_scale=unit_scale, disable=disable,
               file=file or sys.stderr, leave=True, dynamic_ncols=True)  # fmt: skip


def progress(
    iterable: Iterable[T],
    total: int | None = None,
    *,
    desc: str | None = None,
    unit: str = "it",
    enabled: bool = True,
    file: TextIO | None = None,
) -> Iterator[T]:
    """Yield from ``iterable`` while a bar counts the items.

    Args:
        iterable: The work, one item per step.
        total: How many steps (default: ``len(iterable)`` when it has one).
        desc: A label before the bar.
        unit: What one step is (``"image"``, ``"run"``).
        enabled: False shows nothing (``--quiet``).
        file: Where a text bar goes (default: stderr).

    Example:
        >>> list(progress(["a", "b"], desc="letters", enabled=False))
        ['a', 'b']
    """
    if total is None and isinstance(iterable, Sized):
        total = len(iterable)
    bar = _make(total, desc, unit, False, enabled, file)
    try:
        for item in iterable:
            yield item
            bar.update(1)
    finally:
        bar.close()


@contextmanager
def progress_bar(
    total: float | None = None,
    *,
    desc: str | None = None,
    unit: str = "it",
    unit_scale: bool = False,
    enabled: bool = True,
    file: TextIO | None = None,
) -> Iterator[Bar]:
    """A bar advanced by hand (``bar.update(n)``), e.g. by bytes received.

    Example:
        >>> with progress_bar(10, desc="bytes", unit="B", enabled=False) as bar:
        ...     _ = bar.update(4)
    """
    bar = _make(total, desc, unit, unit_scale, enabled, file)
    try:
        yield bar
    finally:
        bar.close()


def note(message: str, file: TextIO | None = None) -> None:
    """Print a line to ``file`` (stderr) without tearing a text bar that is being drawn."""
    from tqdm import std

    std.tqdm.write(message, file=file or sys.stderr)
