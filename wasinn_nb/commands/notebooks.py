"""``notebooks``: copy the walkthrough notebooks into a folder, to open them in Jupyter.

They come with the package (a wheel carries them; a checkout has them in ``notebooks/``) and
run from any folder: they find the example guests with :func:`wasinn_nb.data.example_guest`
and fetch their data with the manifest. A notebook already in the folder is kept unless
``--force`` is given: it may hold the user's own edits.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.errors import TensorFileError
from wasinn_nb.files import atomic_write

__all__ = ["CopiedNotebooks", "copy_notebooks", "notebooks"]


@dataclass(frozen=True)
class CopiedNotebooks:
    """Which notebooks were written and which were already there (and kept)."""

    written: tuple[Path, ...]
    kept: tuple[Path, ...]


def copy_notebooks(folder: str | os.PathLike[str], *, force: bool = False) -> CopiedNotebooks:
    """Copy every walkthrough notebook into ``folder``; keep existing files unless ``force``.

    Raises:
        TensorFileError: If ``folder`` cannot be made or a notebook cannot be written.
    """
    from wasinn_nb.data import example_notebooks

    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise TensorFileError(f"cannot make {target}: {err.strerror or err}") from None
    written, kept = [], []
    for name, source in example_notebooks().items():
        path = target / name
        if os.path.lexists(path) and not force:
            kept.append(path)
            continue
        with atomic_write(path) as handle:
            handle.write(source.read_bytes())
        written.append(path)
    return CopiedNotebooks(tuple(written), tuple(kept))


def notebooks(args: argparse.Namespace, session: Session) -> Outcome[CopiedNotebooks]:
    """``notebooks DIR [--force]``: copy the notebooks; one line per notebook."""
    copied = copy_notebooks(args.dir, force=args.force)
    lines = [
        f"wrote {path}" if path in copied.written else f"kept  {path} (exists; --force replaces it)"
        for path in sorted((*copied.written, *copied.kept))
    ]
    return Outcome(copied, "\n".join(lines))
