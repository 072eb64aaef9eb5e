"""Compiled wasm modules, cached in memory and on disk (``Module.serialize``).

A second run of the same guest starts in about a millisecond instead of recompiling.
Cache files are keyed by the module's sha256 and the wasmtime version, written atomically, and
carry a sha256 of their own contents: wasmtime trusts a serialized module completely (a
corrupted one can crash the process), so a file that does not match is recompiled and replaced.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from wasinn_nb.abi.canon import wasmtime_version
from wasinn_nb.errors import GuestError, first_line
from wasinn_nb.files import atomic_write

if TYPE_CHECKING:
    from wasmtime import Engine, Module
    from wasmtime.component import Component

__all__ = ["ModuleCache", "default_cache_dir", "is_component", "looks_like_wat"]

_WASM_MAGIC = b"\0asm"
_CACHE_MAGIC = b"wasinn-cwasm-1\n"


def default_cache_dir() -> Path:
    """``$WASINN_CACHE_DIR`` or the platform's user cache folder for wasinn-nb."""
    from platformdirs import user_cache_path

    configured = os.environ.get("WASINN_CACHE_DIR")
    return Path(configured) if configured else user_cache_path("wasinn-nb") / "modules"


def looks_like_wat(data: bytes | str) -> bool:
    r"""Whether ``data`` is WebAssembly text: an s-expression after any comments.

    Example:
        >>> looks_like_wat(";; a guest\n(module)"), looks_like_wat("guests/a.wasm")
        (True, False)
    """
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    text = re.sub(r";;[^\n]*|\(;.*?;\)", "", text, flags=re.DOTALL)
    return text.lstrip().startswith("(")


def is_component(data: bytes | str) -> bool:
    r"""Whether ``data`` is a component (binary or WAT text) rather than a core module.

    A binary says so in bytes 4..8 (version and layer): ``01 00 00 00`` for a core module,
    ``0d 00 01 00`` for a component.

    Example:
        >>> is_component(b"\0asm\x0d\0\x01\0"), is_component(b"\0asm\x01\0\0\0")
        (True, False)
        >>> is_component(";; a guest\n(component)")
        True
    """
    if isinstance(data, bytes) and data.startswith(_WASM_MAGIC):
        return data[6:8] == b"\x01\0"
    text = data if isinstance(data, str) else data.decode("utf-8", errors="replace")
    text = re.sub(r";;[^\n]*|\(;.*?;\)", "", text, flags=re.DOTALL).lstrip()
    return text.startswith("(component")


def compile_error(error: Exception) -> str:
    r"""Wasmtime's multi-line compile error as one line, with the WAT line and column if any.

    Example:
        >>> compile_error(Exception("expected `)`\n     --> <anon>:3:7\n  |\n3 | (func"))
        'expected `)` (line 3, column 7)'
    """
    text = str(error)
    first = first_line(error)
    where = re.search(r"-->\s*\S*?:(\d+):(\d+)", text)
    return f"{first} (line {where[1]}, column {where[2]})" if where else first


class ModuleCache:
    """Compile wasm binaries or WAT text once per engine; remember them in memory and on disk.

    Components compile to :class:`wasmtime.component.Component`, core modules to ``Module``.
    """

    def __init__(self, engine: Engine, folder: Path | None) -> None:
        self._engine = engine
        self._folder = folder
        self._modules: dict[str, Module | Component] = {}
        self._lock = threading.Lock()
        self._tag = f"wasmtime-{wasmtime_version()}"
        self._last: tuple[bytes | None, str] = (None, "")  # the last bytes looked up, their key

    def get(self, source: bytes | str, name: str) -> Module | Component:
        """The compiled module for wasm bytes or WAT text (``name`` is used in errors)."""
        data = source.encode() if isinstance(source, str) else source
        last = self._last  # the same bytes object again (a batch's every item): known
        key = last[1] if last[0] is data else hashlib.sha256(data).hexdigest()
        self._last = (data, key)
        with self._lock:
            if key not in self._modules:
                self._modules[key] = self._load(data, key, name)
            return self._modules[key]

    def _load(self, data: bytes, key: str, name: str) -> Module | Component:
        from wasmtime import Module
        from wasmtime.component import Component

        kind = Component if is_component(data) else Module
        prefix = "component-" if kind is Component else ""
        cached = self._folder / f"{self._tag}-{prefix}{key}.cwasm" if self._folder else None
        payload = _verified(cached) if cached is not None else None
        if payload is not None:
            try:
                return kind.deserialize(self._engine, payload)
            except Exception:  # noqa: S110 - verified but unusable: compile it again
                pass
        module = self._compile(data, name)
        if cached is not None:
            self._store(module, cached)
        return module

    def _compile(self, data: bytes, name: str) -> Module | Component:
        from wasmtime import Module, WasmtimeError
        from wasmtime.component import Component

        if not (data.startswith(_WASM_MAGIC) or looks_like_wat(data)):
            raise GuestError(f"{name} is neither a wasm binary nor WAT text")
        binary = data if data.startswith(_WASM_MAGIC) else None
        try:
            if is_component(data):
                return Component(self._engine, binary if binary is not None else data.decode())
            return Module(self._engine, binary if binary is not None else data.decode())
        except WasmtimeError as error:
            raise GuestError(f"cannot compile {name}: {compile_error(error)}") from None

    @staticmethod
    def _store(module: Module | Component, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            payload = bytes(module.serialize())
            with atomic_write(path) as handle:
                handle.write(_CACHE_MAGIC + hashlib.sha256(payload).digest() + payload)
        except Exception:  # noqa: S110 - the cache is an optimisation; never fail a run on it
            pass

    def clear(self) -> None:
        """Forget the in-memory modules (the disk cache stays) and free them."""
        with self._lock:
            modules, self._modules = list(self._modules.values()), {}
        for module in modules:
            module.close()


def _verified(path: Path) -> bytes | None:
    """The serialized module in a cache file, if the file is whole and its digest matches."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(_CACHE_MAGIC) + 32
    if not data.startswith(_CACHE_MAGIC) or len(data) < header:
        return None
    payload = data[header:]
    if hashlib.sha256(payload).digest() != data[len(_CACHE_MAGIC) : header]:
        return None
    return payload
