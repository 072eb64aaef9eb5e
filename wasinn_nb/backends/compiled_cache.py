"""Compiled models that outlive the process: a size-capped folder of engine blobs.

A whole-process ``wasinn run`` otherwise reads (converts) and compiles its model every time:
0.2 to 0.4 s for road-seg's IR, 1 to 1.5 s for a TFLite MobileNet on OpenVINO. A backend that can
export what it compiled (OpenVINO's ``export_model``) stores the blob here and imports it on the
next run instead.

* **Key**: the sha256 of the model bytes, the backend, its version and every option that
  changes what is compiled (device, precision, hint, threads); see :func:`cache_key`.
* **Entries** are written atomically (a temporary file renamed into place), so concurrent
  writers of the same key each leave a whole file and the last rename wins.
* **Corrupt entries** (truncated, or bytes that do not match the entry's own sha256) read as a
  miss and are removed; the caller compiles again and replaces the entry.
* **Size cap**: after each write the least recently used entries (by modification time, which a
  hit refreshes) are removed until the folder holds at most ``max_bytes``.

The folder is ``$WASINN_MODEL_CACHE_DIR``, else the platform's user cache folder
(``…/wasinn-nb/models``); ``WASINN_MODEL_CACHE_DIR=off`` turns the cache off.

Example:
    >>> import tempfile
    >>> cache = CompiledCache(Path(tempfile.mkdtemp()), max_bytes=1 << 20)
    >>> key = cache_key("demo", "1.0", [b"model bytes"], {"precision": "f32"})
    >>> cache.get(key) is None
    True
    >>> cache.put(key, b"compiled")
    >>> cache.get(key)
    b'compiled'
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from wasinn_nb.files import atomic_write

__all__ = ["DEFAULT_MAX_BYTES", "CompiledCache", "cache_key", "default_model_cache", "this_cpu"]

DEFAULT_MAX_BYTES = 1 << 30
_MAGIC = b"wasinn-model-1\n"
_HEADER = len(_MAGIC) + 32
_SUFFIX = ".blob"


@functools.cache
def this_cpu() -> str:
    """What a compiled model may depend on in this CPU: its model and instruction set flags.

    Example:
        >>> len(this_cpu()) > 0
        True
    """
    import platform

    found = {"machine": platform.machine()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() in ("model name", "flags") and name.strip() not in found:
                found[name.strip()] = value.strip()
    except OSError:
        pass
    return hashlib.sha256(json.dumps(found, sort_keys=True).encode()).hexdigest()[:16]


def cache_key(
    backend: str, version: str, builders: Iterable[bytes | memoryview], options: Mapping[str, Any]
) -> str:
    """The hex sha256 naming the compiled form of ``builders`` for this backend and options.

    Example:
        >>> a = cache_key("openvino", "2026.4", [b"x"], {"INFERENCE_PRECISION_HINT": "f32"})
        >>> a == cache_key("openvino", "2026.4", [b"x"], {"INFERENCE_PRECISION_HINT": "bf16"})
        False
    """
    digest = hashlib.sha256()
    digest.update(
        json.dumps([backend, version, dict(options)], sort_keys=True, default=str).encode()
    )
    for builder in builders:
        view = memoryview(builder).cast("B")
        digest.update(len(view).to_bytes(8, "little"))
        digest.update(view)
    return digest.hexdigest()


class CompiledCache:
    """Blobs by key in ``folder``, at most ``max_bytes`` in all."""

    def __init__(self, folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = folder
        self.max_bytes = max_bytes

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{_SUFFIX}"

    def get(self, key: str) -> bytes | None:
        """The blob stored under ``key``, or None (missing or corrupt: a corrupt one is removed)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        payload = data[_HEADER:]
        if (
            data[: len(_MAGIC)] != _MAGIC
            or hashlib.sha256(payload).digest() != data[len(_MAGIC) : _HEADER]
        ):
            self.discard(key)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # a hit makes the entry the most recently used
        return payload

    def put(self, key: str, payload: bytes) -> None:
        """Store ``payload`` under ``key`` (atomically), then trim the folder to the cap.

        A payload larger than the cap is not stored. Errors are swallowed: the cache only
        makes runs faster, it never fails one.
        """
        if len(payload) + _HEADER > self.max_bytes:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_write(self._path(key)) as handle:
                handle.write(_MAGIC + hashlib.sha256(payload).digest())
                handle.write(payload)
        except Exception:  # a full disk or a read-only cache: run without it
            return
        self.trim(keep=key)

    def discard(self, key: str) -> None:
        """Remove the entry for ``key`` if there is one (e.g. the engine refused to import it)."""
        with contextlib.suppress(OSError):
            self._path(key).unlink()

    def entries(self) -> list[tuple[Path, int, float]]:
        """``(path, size, mtime)`` of every entry, least recently used first."""
        found = []
        try:
            paths = list(self.folder.glob(f"*{_SUFFIX}"))
        except OSError:
            return []
        for path in paths:
            try:
                info = path.stat()
            except OSError:  # removed by another process meanwhile
                continue
            found.append((path, info.st_size, info.st_mtime))
        return sorted(found, key=lambda entry: entry[2])

    @property
    def nbytes(self) -> int:
        """Bytes the entries take."""
        return sum(size for _, size, _ in self.entries())

    def trim(self, *, keep: str | None = None) -> None:
        """Remove least recently used entries (never ``keep``) until at most ``max_bytes``."""
        entries = self.entries()
        total = sum(size for _, size, _ in entries)
        for path, size, _ in entries:
            if total <= self.max_bytes:
                break
            if keep is not None and path.name == f"{keep}{_SUFFIX}":
                continue
            with contextlib.suppress(OSError):
                path.unlink()
            total -= size


def default_model_cache() -> CompiledCache | None:
    """The cache in ``$WASINN_MODEL_CACHE_DIR`` or the user cache folder; None when turned off.

    ``$WASINN_MODEL_CACHE_BYTES`` sets the cap (default 1 GiB).
    """
    configured = os.environ.get("WASINN_MODEL_CACHE_DIR")
    if configured is not None and configured.strip().lower() in ("", "0", "off", "none"):
        return None
    if configured:
        folder = Path(configured)
    else:
        from platformdirs import user_cache_path

        folder = user_cache_path("wasinn-nb") / "models"
    try:
        cap = int(os.environ.get("WASINN_MODEL_CACHE_BYTES", DEFAULT_MAX_BYTES))
    except ValueError:
        cap = DEFAULT_MAX_BYTES
    return CompiledCache(folder, max_bytes=cap)
