"""Build a guest from source, once: the build cache keyed by source and toolchain.

A build's key is a sha256 of the source, the language and profile, the compiler's identity
(version, commit, libraries), its flags and our bindings' files. Built modules are kept under
the user cache folder (``$WASINN_BUILD_DIR`` or ``…/wasinn-nb/builds``), so building an
unchanged cell again returns at once, in this kernel or the next.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from wasinn_nb.build.compilers import Compiled, c_flags, compile_c, compile_rust, rust_manifest
from wasinn_nb.build.diagnostics import Diagnostic, summary
from wasinn_nb.build.toolchain import Toolchain, c_toolchain, rust_toolchain
from wasinn_nb.data.guests import BINDINGS, bindings
from wasinn_nb.errors import WasinnError
from wasinn_nb.files import atomic_write

__all__ = ["LANGUAGES", "Build", "BuildError", "build_guest", "default_build_dir", "guess_lang"]

LANGUAGES = ("rust", "c")
_VERSION = "1"  # of this builder: bump to invalidate every cached build
_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


class BuildError(WasinnError):
    """A guest did not compile: the first error as one line (``cell line 4, column 9: …``).

    Attributes:
        errors: Every error the compiler reported.
        warnings: Its warnings.
    """

    def __init__(self, message: str, errors: list[Diagnostic], warnings: list[Diagnostic]) -> None:
        super().__init__(message)
        self.errors = errors
        self.warnings = warnings


@dataclass(frozen=True)
class Build:
    """A built guest module: a path any run accepts (``%wasinn run {NAME}``, ``Runner.run``).

    Attributes:
        path: The module in the build cache.
        lang: ``"rust"`` or ``"c"``.
        release: Whether it was optimised (``--release``).
        cached: Whether it came from the cache (nothing was compiled).
        seconds: How long the build (or the cache lookup) took.
        warnings: The compiler's warnings (kept with the cached module too).
        toolchain: The compiler, e.g. ``"rustc 1.63.0"``.
    """

    path: Path
    lang: str
    release: bool
    cached: bool
    seconds: float
    warnings: tuple[Diagnostic, ...]
    toolchain: str

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        how = "from the cache" if self.cached else "built"
        notes = f", {len(self.warnings)} warning{'s' * (len(self.warnings) != 1)}"
        return (
            f"Build({self.path.name}: {self.lang} {self.profile}, {self.size:,} bytes, "
            f"{how} in {self.seconds:.2f} s{notes if self.warnings else ''})"
        )

    @property
    def profile(self) -> str:
        """``"release"`` or ``"debug"``."""
        return "release" if self.release else "debug"

    @property
    def wasm(self) -> bytes:
        """The module's bytes."""
        return self.path.read_bytes()

    @property
    def size(self) -> int:
        """The module's size in bytes."""
        return self.path.stat().st_size


def default_build_dir() -> Path:
    """``$WASINN_BUILD_DIR`` or the platform's user cache folder for wasinn-nb, ``builds``."""
    from platformdirs import user_cache_path

    configured = os.environ.get("WASINN_BUILD_DIR")
    return Path(configured) if configured else user_cache_path("wasinn-nb") / "builds"


def guess_lang(source: str, filename: str | None = None) -> str:
    """The language of a source: by its file's suffix, else C if it ``#include``s, else Rust.

    Example:
        >>> guess_lang("fn main() {}"), guess_lang("#include <stdio.h>"), guess_lang("", "a.c")
        ('rust', 'c', 'c')
    """
    if filename is not None:
        suffix = Path(filename).suffix.lower()
        if suffix in (".c", ".h"):
            return "c"
        if suffix == ".rs":
            return "rust"
    return "c" if re.search(r"^\s*#\s*include\b", source, re.MULTILINE) else "rust"


def _bindings_digest(lang: str, folder: Path) -> str:
    digest = hashlib.sha256()
    for pattern in BINDINGS[lang][1]:
        for path in sorted(folder.glob(pattern)):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _key(
    source: str, lang: str, release: bool, chain: Toolchain, flags: str, folder: Path, where: str
) -> str:
    """The cache key; ``where`` (label and offset) because the kept warnings name lines."""
    parts = {
        "builder": _VERSION,
        "lang": lang,
        "release": release,
        "source": source,
        "toolchain": chain.digest,
        "flags": flags,
        "where": where,
        "bindings": _bindings_digest(lang, folder),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]


def _cached(entry: Path, name: str) -> tuple[Path, list[Diagnostic]] | None:
    """The module and warnings of a cache entry, copied to ``name`` if it was built as another."""
    try:
        meta = json.loads((entry / "build.json").read_text(encoding="utf-8"))
        warnings = [Diagnostic(**item) for item in meta["warnings"]]
        built = entry / str(meta["module"])
        target = entry / f"{name}.wasm"
        if not target.is_file():
            data = built.read_bytes()
            with atomic_write(target) as handle:
                handle.write(data)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return target, warnings


def _store(entry: Path, name: str, wasm: bytes, warnings: list[Diagnostic]) -> Path:
    entry.mkdir(parents=True, exist_ok=True)
    target = entry / f"{name}.wasm"
    with atomic_write(target) as handle:
        handle.write(wasm)
    meta = {"module": target.name, "warnings": [vars(w) for w in warnings]}
    with atomic_write(entry / "build.json") as handle:
        handle.write(json.dumps(meta, indent=1).encode())
    return target


def build_guest(
    source: str,
    *,
    lang: str | None = None,
    release: bool = False,
    name: str = "cell",
    label: str = "cell",
    offset: int = 1,
    source_dir: Path | None = None,
    folder: Path | None = None,
) -> Build:
    """Build a wasm32-wasi guest from Rust or C source, or take it from the build cache.

    Args:
        source: A Rust ``main.rs`` (which may ``use nn``) or a C file (which may
            ``#include <wasi_nn.h>``).
        lang: ``"rust"`` or ``"c"``; guessed from the source by default.
        release: Optimise (slower to build).
        name: The module's file name, without ``.wasm`` (its ``argv[0]``).
        label: What messages call the source: ``"cell"``, or its file name.
        offset: What to add to the source's line numbers in messages (a cell's magic line).
        source_dir: The source file's folder, searched for C ``#include "…"`` files.
        folder: The build cache (default :func:`default_build_dir`).

    Raises:
        ToolchainMissingError: If the compiler is not installed (the message says what to
            install).
        BuildError: If the source does not compile (the message is its first error).

    Example:
        >>> build_guest("fn main() {}", lang="go")
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.WasinnError: unknown language 'go' (choose from: rust, c)
    """
    started = time.perf_counter()
    lang = lang or guess_lang(source)
    if lang not in LANGUAGES:
        raise WasinnError(f"unknown language {lang!r} (choose from: {', '.join(LANGUAGES)})")
    name = _NAME.sub("_", name).strip("._") or "cell"
    folder = folder or default_build_dir()
    chain = rust_toolchain() if lang == "rust" else c_toolchain()
    nn = bindings(lang)
    flags = rust_manifest(nn) if lang == "rust" else " ".join(c_flags(release, nn))
    entry = folder / "out" / _key(source, lang, release, chain, flags, nn, f"{label}:{offset}")
    hit = _cached(entry, name)
    if hit is not None:
        path, warnings = hit
        return Build(
            path, lang, release, True, time.perf_counter() - started, tuple(warnings), chain.version
        )
    if lang == "rust":
        compiled = compile_rust(
            source, label, offset, release=release, chain=chain, nn_crate=nn, folder=folder
        )
    else:
        compiled = compile_c(
            source,
            label,
            offset,
            release=release,
            chain=chain,
            include=nn,
            folder=folder,
            source_dir=source_dir,
        )
    warnings = [d for d in compiled.diagnostics if d.level == "warning"]
    wasm = _checked(compiled, warnings)
    path = _store(entry, name, wasm, warnings)
    return Build(
        path, lang, release, False, time.perf_counter() - started, tuple(warnings), chain.version
    )


def _checked(compiled: Compiled, warnings: list[Diagnostic]) -> bytes:
    """The module, or a BuildError with the first error."""
    errors = [d for d in compiled.diagnostics if d.level == "error"]
    if compiled.wasm is not None and not errors:
        return compiled.wasm
    if errors:
        raise BuildError(summary(errors, len(warnings)), errors, warnings)
    raise BuildError(f"the build failed: {compiled.log or 'no message'}", [], warnings)
