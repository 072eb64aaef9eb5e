"""The example guests and walkthrough notebooks that come with wasinn-nb.

They have one source each: ``guests/NAME.wasm`` (built reproducibly by ``guests/build.sh``) and
``notebooks/NAME.ipynb`` in the repository. A wheel carries copies of them, made when it is
built (``setup.py``), under ``wasinn_nb/data/examples/``; a checkout (or an editable install)
uses the repository's folders directly.
"""

from __future__ import annotations

import os
from pathlib import Path

from wasinn_nb.errors import GuestError, WasinnError

__all__ = ["BINDINGS", "bindings", "example_guest", "example_notebooks", "example_path"]

#: Where a wheel keeps its copies (see setup.py).
PACKAGED = Path(__file__).resolve().parent / "examples"
#: The repository, when wasinn_nb is imported from a checkout.
CHECKOUT = Path(__file__).resolve().parents[2]
#: Our wasi-nn bindings, by guest language: the folder under ``guests/`` and the files a build
#: needs from it (setup.py copies them into the wheel beside the guests).
BINDINGS = {"rust": ("nn", ("Cargo.toml", "src/*.rs")), "c": ("nn-c", ("*.h",))}


def example_path(kind: str) -> Path | None:
    """The folder holding the examples of ``kind`` (``guests`` or ``notebooks``), if any.

    The wheel's copies come first, then the checkout's folder.

    Example:
        >>> example_path("guests").name
        'guests'
    """
    pattern = {"guests": "*.wasm", "notebooks": "*.ipynb"}[kind]
    for folder in (PACKAGED / kind, CHECKOUT / kind):
        if any(folder.glob(pattern)):
            return folder
    return None


def example_guest(name: str) -> Path:
    """The path of an example guest: ``$WASINN_GUESTS/NAME.wasm``, else the one wasinn-nb has.

    Example:
        >>> example_guest("road-seg").name
        'road-seg.wasm'

    Raises:
        GuestError: If there is no such guest.
    """
    override = os.environ.get("WASINN_GUESTS")
    folder = Path(override) if override else example_path("guests")
    if folder is None:
        raise GuestError("this installation of wasinn-nb has no example guests: reinstall it")
    path = folder / f"{name}.wasm"
    if "/" in name or os.sep in name or not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.wasm"))) or "none"
        where = "$WASINN_GUESTS" if override else "wasinn-nb"
        raise GuestError(f"no example guest {name!r} in {folder} ({where}; there: {known})")
    return path


def bindings(lang: str) -> Path:
    """The folder of wasinn-nb's wasi-nn bindings for ``lang``: the ``nn`` crate, or the C header.

    The wheel's copy comes first, then the checkout's ``guests/nn`` or ``guests/nn-c``.

    Example:
        >>> (bindings("rust") / "Cargo.toml").is_file(), (bindings("c") / "wasi_nn.h").is_file()
        (True, True)

    Raises:
        GuestError: If this installation has no bindings for ``lang``.
    """
    folder, patterns = BINDINGS[lang]
    for base in (PACKAGED / "guests", CHECKOUT / "guests"):
        if all(any((base / folder).glob(pattern)) for pattern in patterns):
            return base / folder
    raise GuestError(f"this installation of wasinn-nb has no {lang} wasi-nn bindings: reinstall it")


def example_notebooks() -> dict[str, Path]:
    """The walkthrough notebooks, by file name.

    Example:
        >>> "road-segmentation.ipynb" in example_notebooks()
        True

    Raises:
        WasinnError: If this installation has none.
    """
    folder = example_path("notebooks")
    if folder is None:
        raise WasinnError("this installation of wasinn-nb has no notebooks: reinstall it")
    return {path.name: path for path in sorted(folder.glob("*.ipynb"))}
