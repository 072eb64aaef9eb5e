"""``fetch``: models and images from pinned URLs (sha256-checked) or a mirror folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from wasinn_nb.commands.base import Outcome, Session

__all__ = ["fetch"]


def fetch(args: argparse.Namespace, session: Session) -> Outcome[dict[str, Path]]:
    """Fetch the named assets and bundles; without names (or with ``--list``), list them.

    The value maps each fetched asset's name to its local path (empty when listing).
    """
    from wasinn_nb import data

    if args.list or not args.names:
        lines = [
            f"{name:<34} bundle: {', '.join(members)}" for name, members in data.BUNDLES.items()
        ]
        lines += [
            f"{a.name:<34} {a.size:>12,} B  {a.license:<12.12}  {a.source}"
            for a in data.ASSETS.values()
        ]
        return Outcome({}, "\n".join(lines))
    paths = data.fetch(*args.names, mirror=args.mirror, dest=args.dest)
    return Outcome(paths, "\n".join(f"{name:<34} {path}" for name, path in paths.items()))
