"""Running cargo and clang for wasm32-wasi: one function per language, and a stoppable process.

Rust cells share one cargo project and one target folder under the build cache, so a changed
cell recompiles only itself (the ``nn`` crate and the standard library are already built). C
cells are one clang call each.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from wasinn_nb.build.diagnostics import Diagnostic, SourceMap, clang_diagnostics, rustc_diagnostics
from wasinn_nb.build.toolchain import TARGET, Toolchain
from wasinn_nb.errors import WasinnError

__all__ = ["BUILD_TIMEOUT", "Compiled", "c_flags", "compile_c", "compile_rust", "rust_manifest"]

BUILD_TIMEOUT = 600.0  # seconds; a cold Rust build takes about ten


@dataclass(frozen=True)
class Compiled:
    """What a compiler made of a source.

    Attributes:
        wasm: The module, or None if the build failed.
        diagnostics: Its errors and warnings.
        log: The compiler's own last words, for a failure with no diagnostic to show.
    """

    wasm: bytes | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    log: str = ""


def _run(command: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a compiler; Ctrl-C (or the timeout) stops it and its children too."""
    process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop(process)
        raise WasinnError(f"{Path(command[0]).name} took more than {BUILD_TIMEOUT:.0f} s") from None
    except BaseException:  # KeyboardInterrupt: no compiler left running behind the kernel
        _stop(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _stop(process: subprocess.Popen[str]) -> None:
    import signal

    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (two kernels building at once take turns)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _last_words(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error")]
    return (errors or lines or [""])[0]


def rust_manifest(nn_crate: Path) -> str:
    """The ``Cargo.toml`` of the cell project: a ``cell`` binary that may ``use nn``."""
    return f"""# Written by wasinn-nb: the project %%wasinn build compiles Rust cells in.
[package]
name = "cell"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
nn = {{ path = {json.dumps(str(nn_crate))} }}

[profile.dev]
debug = false
strip = "debuginfo"

[profile.release]
opt-level = "s"
strip = true
panic = "abort"

[workspace]
"""


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    path.write_text(text, encoding="utf-8")


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without cargo's and rustc's settings, plus ``extra``."""
    drop = ("CARGO_", "RUSTFLAGS", "RUSTC", "RUSTDOC", "RUSTUP_TOOLCHAIN")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **extra}


def compile_rust(
    source: str,
    label: str,
    offset: int,
    *,
    release: bool,
    chain: Toolchain,
    nn_crate: Path,
    folder: Path,
) -> Compiled:
    """Build ``source`` as the ``main.rs`` of the shared cell project under ``folder``."""
    base = folder / "rust"
    project = base / "cell"
    main = project / "src" / "main.rs"
    with _locked(base / ".lock"):
        _write_if_changed(project / "Cargo.toml", rust_manifest(nn_crate))
        _write_if_changed(main, source)
        env = _clean_env(
            RUSTC=chain.tools["rustc"],
            CARGO_HOME=str(base / "cargo-home"),
            CARGO_TARGET_DIR=str(base / "target"),
            CARGO_TERM_COLOR="never",
        )
        command = [
            chain.tools["cargo"],
            "build",
            "--offline",
            "--message-format=json",
            "--target",
            TARGET,
            *(["--release"] if release else []),
        ]
        done = _run(command, cwd=project, env=env)
        artifact = base / "target" / TARGET / ("release" if release else "debug") / "cell.wasm"
        wasm = artifact.read_bytes() if done.returncode == 0 and artifact.is_file() else None
    source_map = SourceMap(str(main), label, offset, tuple(source.splitlines()))
    return Compiled(wasm, rustc_diagnostics(done.stdout, source_map), _last_words(done.stderr))


def c_flags(release: bool, include: Path) -> list[str]:
    """The clang flags for a wasm32-wasi command module with our ``wasi_nn.h`` on the path."""
    optimise = ["-O2", "-Wl,--strip-all"] if release else ["-O0"]
    return [
        f"--target={TARGET}",
        *optimise,
        "-Wall",
        "-fno-color-diagnostics",
        "-fno-caret-diagnostics",
        "-fno-diagnostics-fixit-info",
        "-I",
        str(include),
    ]


def compile_c(
    source: str,
    label: str,
    offset: int,
    *,
    release: bool,
    chain: Toolchain,
    include: Path,
    folder: Path,
    source_dir: Path | None = None,
) -> Compiled:
    """Build ``source`` with clang in a fresh folder under ``folder``.

    ``source_dir`` (a source file's folder) is searched for ``#include "…"`` files too.
    """
    import tempfile

    work_root = folder / "c"
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_root) as work:
        file, out = Path(work) / "cell.c", Path(work) / "cell.wasm"
        file.write_text(source, encoding="utf-8")
        extra = ["-iquote", str(source_dir)] if source_dir is not None else []
        command = [
            chain.tools["clang"],
            *c_flags(release, include),
            *extra,
            "-o",
            str(out),
            str(file),
        ]
        done = _run(command, cwd=Path(work), env=_clean_env())
        wasm = out.read_bytes() if done.returncode == 0 and out.is_file() else None
    source_map = SourceMap(str(file), label, offset, tuple(source.splitlines()))
    return Compiled(wasm, clang_diagnostics(done.stderr, source_map), _last_words(done.stderr))
