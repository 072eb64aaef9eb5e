"""The example guests (``road-seg``, ``classify``, ``named``), built reproducibly from guests/."""

from __future__ import annotations

import os
from pathlib import Path

from wasinn_nb.errors import GuestError

__all__ = ["example_guest"]


def example_guest(name: str) -> Path:
    """The path of an example guest: ``$WASINN_GUESTS/NAME.wasm``, else the checkout's guests/.

    Raises:
        GuestError: If there is no such guest.
    """
    default = Path(__file__).resolve().parents[2] / "guests"
    path = Path(os.environ.get("WASINN_GUESTS", default)) / f"{name}.wasm"
    if not path.is_file():
        raise GuestError(
            f"example guest {path} not found: run from a checkout, or set WASINN_GUESTS"
        )
    return path
