"""Finding the Debian toolchains that build wasm32-wasi guests, on ``$PATH``.

Rust: ``rustc`` 1.63 and ``cargo`` with the ``wasm32-wasi`` standard library and ``rust-lld``
(Debian ``rustc cargo libstd-rust-dev-wasm32``). rustup's proxies in ``~/.cargo/bin`` usually
come first on ``PATH`` but run rustup's own compiler, which has no such target here, so a real
compiler later on ``PATH`` (``/usr/bin``) is preferred to a proxy. C: ``clang`` (14) with
wasi-libc, ``wasm-ld`` and the wasm32 compiler-rt builtins (Debian ``clang lld wasi-libc
libclang-rt-dev-wasm32``). What is missing is one line naming the packages to install.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from wasinn_nb.errors import WasinnError

__all__ = [
    "C_PACKAGES",
    "RUST_PACKAGES",
    "Toolchain",
    "ToolchainMissingError",
    "c_toolchain",
    "find_tool",
    "is_rustup_proxy",
    "rust_toolchain",
]

RUST_PACKAGES = "rustc cargo libstd-rust-dev-wasm32"
C_PACKAGES = "clang lld wasi-libc libclang-rt-dev-wasm32"
TARGET = "wasm32-wasi"  # Rust 1.63 and clang 14 predate the name wasm32-wasip1


class ToolchainMissingError(WasinnError):
    """A compiler (or part of one) for wasm32-wasi is not installed; the message says which."""

    def __init__(self, lang: str, missing: str, packages: str) -> None:
        super().__init__(
            f"cannot build {lang} guests: {missing}; install Debian's toolchain with: "
            f"apt-get install {packages}"
        )
        self.lang = lang
        self.missing = missing
        self.packages = packages


@dataclass(frozen=True)
class Toolchain:
    """The tools of one language and what identifies them (for the build cache's key).

    Attributes:
        lang: ``"rust"`` or ``"c"``.
        tools: Tool name → absolute path (``rustc``, ``cargo``; or ``clang``).
        version: A short description, e.g. ``"rustc 1.63.0"``.
        identity: Everything that changes the output: versions, commit hashes, library files.
    """

    lang: str
    tools: dict[str, str]
    version: str
    identity: str = field(repr=False)

    @property
    def digest(self) -> str:
        """A sha256 of :attr:`identity`."""
        return hashlib.sha256(self.identity.encode()).hexdigest()


def is_rustup_proxy(path: Path) -> bool:
    """Whether ``path`` is one of rustup's proxies (a link to, or a copy of, ``rustup``)."""
    if path.resolve().name.startswith("rustup"):
        return True
    sibling = path.parent / "rustup"
    try:
        return sibling.is_file() and path.samefile(sibling)
    except OSError:
        return False


def find_tool(name: str, *, skip_rustup: bool = False) -> Path | None:
    """The first executable ``name`` on ``$PATH``; a rustup proxy only if nothing else is there.

    Example:
        >>> find_tool("sh") is not None, find_tool("no-such-tool-anywhere")
        (True, None)
    """
    found: list[Path] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder or ".") / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            found.append(candidate.absolute())
    if skip_rustup:
        real = [path for path in found if not is_rustup_proxy(path)]
        found = real or found
    return found[0] if found else None


def _output(*command: str | Path) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - our own command line, no shell
            [str(part) for part in command], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"<failed: {error}>"
    return done.stdout.strip() if done.returncode == 0 else ""


_FOUND: dict[tuple[str, str], Toolchain] = {}


def rust_toolchain() -> Toolchain:
    """Debian's ``rustc`` and ``cargo`` on ``$PATH``, checked for the wasm32-wasi target.

    Raises:
        ToolchainMissingError: If a part is missing (the message names the packages).
    """
    rustc = find_tool("rustc", skip_rustup=True)
    cargo = find_tool("cargo", skip_rustup=True)
    key = ("rust", f"{rustc}:{cargo}:{os.environ.get('PATH', '')}")
    if key in _FOUND:
        return _FOUND[key]
    if rustc is None or cargo is None:
        missing = " and ".join(n for n, p in (("rustc", rustc), ("cargo", cargo)) if p is None)
        raise ToolchainMissingError("Rust", f"no {missing} on PATH", RUST_PACKAGES)
    details = _output(rustc, "-vV")
    release = next(
        (ln.split(":", 1)[1].strip() for ln in details.splitlines() if ln.startswith("release:")),
        "",
    )
    sysroot = _output(rustc, "--print", "sysroot")
    if not release or not sysroot:
        raise ToolchainMissingError("Rust", f"{rustc} does not run", RUST_PACKAGES)
    if not (Path(sysroot) / "lib" / "rustlib" / TARGET / "lib").is_dir():
        raise ToolchainMissingError(
            "Rust", f"rustc {release} at {rustc} has no {TARGET} standard library", RUST_PACKAGES
        )
    if find_tool("rust-lld") is None:
        raise ToolchainMissingError("Rust", "no rust-lld on PATH (the wasm linker)", "rustc lld-14")
    identity = "\n".join([details, _output(cargo, "--version"), str(rustc), str(cargo)])
    chain = Toolchain(
        "rust", {"rustc": str(rustc), "cargo": str(cargo)}, f"rustc {release}", identity
    )
    _FOUND[key] = chain
    return chain


def c_toolchain() -> Toolchain:
    """Debian's ``clang`` on ``$PATH``, checked for wasi-libc, ``wasm-ld`` and the builtins.

    Raises:
        ToolchainMissingError: If a part is missing (the message names the packages).
    """
    clang = find_tool("clang")
    key = ("c", f"{clang}:{os.environ.get('PATH', '')}")
    if key in _FOUND:
        return _FOUND[key]
    if clang is None:
        raise ToolchainMissingError("C", "no clang on PATH", C_PACKAGES)
    version = _output(clang, "--version").splitlines()[:1]
    if not version:
        raise ToolchainMissingError("C", f"{clang} does not run", C_PACKAGES)
    target = f"--target={TARGET}"
    parts = {}
    for name, option, package in (
        ("libc.a", "-print-file-name=libc.a", "wasi-libc"),
        ("wasm-ld", "-print-prog-name=wasm-ld", "lld"),
        ("builtins", "-print-libgcc-file-name", "libclang-rt-dev-wasm32"),
    ):
        path = Path(_output(clang, target, "-rtlib=compiler-rt", option) or name)
        if not path.is_absolute() or not path.is_file():
            raise ToolchainMissingError("C", f"clang has no {TARGET} {name}", package)
        parts[name] = path
    libraries = [f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in parts.values()]
    identity = "\n".join([*version, str(clang), *libraries])
    chain = Toolchain("c", {"clang": str(clang)}, version[0], identity)
    _FOUND[key] = chain
    return chain
