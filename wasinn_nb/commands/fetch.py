"""``fetch``: models and images from pinned URLs (sha256-checked) or a mirror folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from wasinn_nb.commands.base import Outcome, Session

__all__ = ["fetch", "listing"]


def fetch(args: argparse.Namespace, session: Session) -> Outcome[dict[str, Path] | None]:
    """Fetch the named assets and bundles; without names (or with ``--list``), list them.

    The value maps each fetched asset's name to its local path (None when listing).
    """
    from wasinn_nb import data

    if args.list or not args.names:
        return Outcome(None, listing(args.mirror, args.dest))
    paths = data.fetch(*args.names, mirror=args.mirror, dest=args.dest, progress=not args.quiet)
    report = "\n".join(f"{name:<34} {path}" for name, path in paths.items())
    return Outcome(paths, "" if args.quiet else report)


def listing(mirror: str | None, dest: str | None) -> str:
    """The table of ``fetch --list``: bundles, then every asset with where it would come from.

    Example:
        >>> print(listing(None, "/nonexistent").splitlines()[0])
        bundle              assets
    """
    from wasinn_nb import data
    from wasinn_nb.data.fetcher import availability
    from wasinn_nb.errors import FetchError

    try:
        folder, problem = data.mirror_dir(mirror), None
    except FetchError as error:
        folder, problem = None, str(error)
    width = max(len(name) for name in data.ASSETS)
    lines = [f"{'bundle':<19} assets"]
    lines += [f"{name:<19} {', '.join(members)}" for name, members in data.BUNDLES.items()]
    lines += ["", f"{'asset':<{width}} {'kind':<6} {'bytes':>11}  {'from':<8}  licence; source"]
    lines += [
        f"{a.name:<{width}} {a.kind:<6} {a.size:>11,}  {availability(a, folder, dest):<8}  "
        f"{a.license}; {a.source}"
        for a in data.ASSETS.values()
    ]
    cache = dest if dest is not None else data.data_dir()
    where = folder or problem or "none (--mirror DIR or WASINN_MIRROR)"
    lines += ["", f"from: cached in {cache}; mirror: {where}; else download"]
    return "\n".join(lines)
