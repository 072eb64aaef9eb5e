"""Fetch the assets of :mod:`wasinn_nb.data.manifest`: from a mirror folder or upstream, verified.

Downloads stream into a temporary file beside the target, hashing as they go; only a complete
file with the pinned sha256 is renamed into place. A cached file with a wrong digest is removed
and fetched again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from wasinn_nb.data.manifest import ASSETS, BUNDLES, Asset
from wasinn_nb.errors import FetchError
from wasinn_nb.files import atomic_write
from wasinn_nb.progress import progress_bar

__all__ = [
    "FetchError",
    "availability",
    "cached_path",
    "data_dir",
    "fetch",
    "fetch_asset",
    "mirror_dir",
    "resolve_names",
]

_CHUNK = 1 << 20


def data_dir() -> Path:
    """Where fetched assets are kept: ``$WASINN_DATA_DIR``, else the user cache folder."""
    from platformdirs import user_cache_path

    configured = os.environ.get("WASINN_DATA_DIR")
    return Path(configured) if configured else user_cache_path("wasinn-nb") / "data"


def mirror_dir(mirror: str | os.PathLike[str] | None = None) -> Path | None:
    """The mirror folder, absolute: ``mirror`` if given, else ``$WASINN_MIRROR``, else none.

    A relative path resolves against the folder it was given from. ``mirror`` (``--mirror``,
    ``%config WasinnMagics.mirror``, the ``mirror=`` argument) was given here: the working
    folder. ``$WASINN_MIRROR`` was set in a shell, whose folder a program started from it finds
    in ``$PWD``. That is not the working folder of a Jupyter kernel: JupyterLab started from
    the repository root runs a notebook's kernel in ``notebooks/`` but passes its own
    environment on, ``$PWD`` included. So the variable is tried against ``$PWD`` first, then
    the working folder.

    Example:
        >>> mirror_dir(".") == Path.cwd()
        True
        >>> mirror_dir("no-such-folder")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.FetchError: mirror 'no-such-folder' is not a folder: tried ...

    Raises:
        FetchError: If the folder is not there, naming every path that was tried.
    """
    if mirror is not None:
        given, what = Path(mirror), f"mirror {str(mirror)!r}"
        bases = [] if given.is_absolute() else [(Path.cwd(), "the working folder")]
    else:
        text = os.environ.get("WASINN_MIRROR")
        if not text:
            return None
        given, what = Path(text), f"WASINN_MIRROR={text!r}"
        bases = [] if given.is_absolute() else _shell_folders()
    tried = [(base / given, why) for base, why in bases] if bases else [(given, "")]
    for path, _ in tried:
        if path.is_dir():
            return path.resolve()
    shown = " and ".join(
        f"{os.path.normpath(path)}{f' (from {why})' if why else ''}" for path, why in tried
    )
    raise FetchError(f"{what} is not a folder: tried {shown}")


def _shell_folders() -> list[tuple[Path, str]]:
    """Where a relative ``$WASINN_MIRROR`` may have been set: ``$PWD``, then the working folder."""
    cwd = Path.cwd()
    folders = [(cwd, "the working folder")]
    shell = os.environ.get("PWD")
    if shell and Path(shell).is_absolute() and Path(shell) != cwd:
        folders.insert(0, (Path(shell), "$PWD"))
    return folders


def resolve_names(names: Iterable[str]) -> list[Asset]:
    """Assets for asset or bundle names, in order, without repeats.

    Example:
        >>> [a.filename for a in resolve_names(["birds", "bird.jpg"])]
        ['lite-model_aiy_vision_classifier_birds_V1_3.tflite', 'bird.jpg']

    Raises:
        FetchError: For a name that is neither (with the known names).
    """
    assets: dict[str, Asset] = {}
    for name in names:
        if name in BUNDLES:
            assets.update((n, ASSETS[n]) for n in BUNDLES[name])
        elif name in ASSETS:
            assets[name] = ASSETS[name]
        else:
            known = ", ".join(sorted(BUNDLES) + sorted(ASSETS))
            raise FetchError(f"unknown asset {name!r} (known: {known})")
    return list(assets.values())


def fetch(
    *names: str,
    mirror: str | os.PathLike[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> dict[str, Path]:
    """Fetch assets or bundles by name; return each asset's local path by asset name.

    Args:
        names: Asset names (``road-segmentation-adas-0001.xml``) or bundles
            (``road-segmentation``).
        mirror: A local folder laid out like ``shared/fixtures`` to copy from instead of the
            network (default: ``$WASINN_MIRROR``).
        dest: Put files here instead of ``data_dir()/<kind>``.
        progress: False shows no progress bar; by default a download shows one (a widget in
            Jupyter, text when stderr is a terminal; see :mod:`wasinn_nb.progress`).

    Raises:
        FetchError: If an asset is neither cached, in the mirror nor downloadable (one line
            naming the asset, the mirror path and every URL tried), if the mirror folder is not
            there, or if a copy does not match its sha256.

    Example:
        ``fetch("road-segmentation", mirror="../shared/fixtures")`` returns the paths of the
        road model's xml and bin and of its test image, copied into :func:`data_dir`.
    """
    return {
        asset.name: fetch_asset(asset, mirror=mirror, dest=dest, progress=progress)
        for asset in resolve_names(names)
    }


def fetch_asset(
    asset: Asset,
    *,
    mirror: str | os.PathLike[str] | None = None,
    dest: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
) -> Path:
    """Fetch one asset (see :func:`fetch`)."""
    target = cached_path(asset, dest)
    if target.is_file():
        if _digest(target) == asset.sha256:
            return target
        target.unlink()  # a damaged or stale copy: fetch it again
    try:
        folder = mirror_dir(mirror)
    except FetchError as error:
        raise FetchError(f"cannot fetch {asset.name}: {error}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    if folder is not None and asset.mirror is not None and (folder / asset.mirror).is_file():
        return _copy(folder / asset.mirror, target, asset)
    failures = []
    for url in asset.urls:
        try:
            return _download(url, target, asset, progress)
        except FetchError as error:
            failures.append(str(error))
    if asset.mirror is None:
        mirrored = "mirrors do not carry it"
    elif folder is not None:
        mirrored = f"not in the mirror (no {folder / asset.mirror})"
    else:
        mirrored = f"no mirror (--mirror DIR or WASINN_MIRROR: a folder holding {asset.mirror})"
    raise FetchError(f"cannot fetch {asset.name}: {mirrored}; download: {'; '.join(failures)}")


def cached_path(asset: Asset, dest: str | os.PathLike[str] | None = None) -> Path:
    """Where ``asset`` is kept once fetched: in ``dest``, else ``data_dir()/<kind>``."""
    folder = Path(dest) if dest is not None else data_dir() / asset.kind
    return folder / asset.filename


def availability(
    asset: Asset, mirror: Path | None, dest: str | os.PathLike[str] | None = None
) -> str:
    """Where :func:`fetch_asset` would take ``asset`` from: cached, mirror, download or ``-``.

    ``mirror`` is a resolved folder (:func:`mirror_dir`). A cached copy counts when its size is
    right (:func:`fetch_asset` checks the digest too).

    Example:
        >>> from wasinn_nb.data import ASSETS
        >>> availability(ASSETS["mobilenet.bin"], None, dest="/nonexistent")
        'download'
    """
    cached = cached_path(asset, dest)
    if cached.is_file() and cached.stat().st_size == asset.size:
        return "cached"
    if mirror is not None and asset.mirror is not None and (mirror / asset.mirror).is_file():
        return "mirror"
    return "download" if asset.urls else "-"


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(source: Path, target: Path, asset: Asset) -> Path:
    if _digest(source) != asset.sha256:
        raise FetchError(f"{source} does not have the sha256 pinned for {asset.name}")
    with atomic_write(target) as out, source.open("rb") as src:
        shutil.copyfileobj(src, out, _CHUNK)
    return target


def _download(url: str, target: Path, asset: Asset, progress: bool | None) -> Path:
    import urllib.error
    import urllib.request

    try:
        # S310: the URLs are the manifest's own https addresses (and test servers)
        with (
            urllib.request.urlopen(url, timeout=30) as response,  # noqa: S310
            progress_bar(
                asset.size,
                desc=asset.filename,
                unit="B",
                unit_scale=True,
                enabled=progress is not False,
            ) as bar,  # fmt: skip
            atomic_write(target) as out,
        ):
            _stream(response, out, asset, url, bar.update)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise FetchError(f"{url}: {reason}") from None
    return target


def _stream(response: IO[bytes], out: IO[bytes], asset: Asset, url: str, advance: object) -> None:
    digest, received = hashlib.sha256(), 0
    while chunk := response.read(_CHUNK):
        received += len(chunk)
        if received > asset.size:
            raise FetchError(f"{url}: more than the expected {asset.size:,} bytes")
        digest.update(chunk)
        out.write(chunk)
        advance(len(chunk))  # type: ignore[operator]
    if received != asset.size:
        raise FetchError(f"{url}: download cut short ({received:,} of {asset.size:,} bytes)")
    if digest.hexdigest() != asset.sha256:
        raise FetchError(f"{url}: sha256 {digest.hexdigest()} is not the pinned {asset.sha256}")
