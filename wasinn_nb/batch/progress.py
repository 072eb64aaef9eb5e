"""The batch's progress bar (``tqdm.auto``: a widget in Jupyter, text elsewhere), in one place."""

from __future__ import annotations

from typing import Any, TextIO

__all__ = ["progress"]


def progress(total: int, *, done: int = 0, desc: str = "batch", file: TextIO | None = None,
             enabled: bool = True) -> Any:  # fmt: skip
    """A progress bar over ``total`` items, ``done`` of them already finished."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc=desc, unit="item", file=file,
                disable=not enabled, dynamic_ncols=True)  # fmt: skip
