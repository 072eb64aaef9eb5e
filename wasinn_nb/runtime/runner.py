"""The runner: a shared engine and caches, a fresh store per run, timeouts via epochs."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from wasinn_nb.abi.host import WasiNnHost
from wasinn_nb.backends import BackendChoice
from wasinn_nb.errors import GuestError, SpecError, first_line
from wasinn_nb.results import RunResult, Timings
from wasinn_nb.runtime.dirs import DirMapping
from wasinn_nb.runtime.graphs import GraphCache
from wasinn_nb.runtime.interrupts import TICK, Ticker
from wasinn_nb.runtime.modules import ModuleCache, default_cache_dir, looks_like_wat
from wasinn_nb.runtime.preload import Preload
from wasinn_nb.runtime.streams import GuestStream, Sink

if TYPE_CHECKING:
    from wasmtime import Module, Store

__all__ = ["ModuleSource", "Runner"]

ModuleSource = str | os.PathLike[str] | bytes
_FOREVER = 2**62


class Runner:
    """Runs guests. Holds the engine, the compiled-module cache and the compiled-graph cache.

    Args:
        cache_dir: Where compiled modules are stored on disk; ``None`` disables the disk cache.
            Defaults to the user cache folder (or ``$WASINN_CACHE_DIR``).
        graphs: The compiled-graph cache and named models (a fresh one by default).
    """

    def __init__(
        self, *, cache_dir: Path | str | None = "default", graphs: GraphCache | None = None
    ) -> None:
        from wasmtime import Config, Engine

        config = Config()
        config.epoch_interruption = True
        self.engine = Engine(config)
        folder = default_cache_dir() if cache_dir == "default" else cache_dir
        self.modules = ModuleCache(self.engine, Path(folder) if folder is not None else None)
        self.graphs = graphs if graphs is not None else GraphCache()
        self._ticker = Ticker(self.engine)

    def compile(self, module: ModuleSource) -> tuple[Module, str]:
        """Compile (or fetch from cache) a module given as a path, wasm bytes or WAT text."""
        if isinstance(module, bytes):
            return self.modules.get(module, "<bytes>"), "<bytes>"
        text = os.fspath(module)
        if looks_like_wat(text):
            return self.modules.get(text, "<wat>"), "<wat>"
        try:
            data = Path(text).read_bytes()
        except OSError as error:
            raise GuestError(f"cannot read module {text}: {error.strerror or error}") from None
        return self.modules.get(data, text), text

    def run(
        self,
        module: ModuleSource,
        args: Sequence[str] = (),
        *,
        dirs: Iterable[str | DirMapping] = (),
        preload: Iterable[str | Preload] = (),
        backend: str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        echo: bool = False,
        record: bool = True,
        stdout: Sink = None,
        stderr: Sink = None,
    ) -> RunResult:
        """Run a guest's ``_start`` and collect what it did.

        Args:
            module: A ``.wasm`` path, wasm bytes, or WAT text.
            args: The guest's arguments (``argv[1:]``).
            dirs: Folders to preopen: ``DIR``, ``GUEST:HOST`` or ``HOST::GUEST`` (or DirMapping).
            preload: Named models for this run, ``NAME:ENCODING:TARGET:PATH…`` or
                ``ENCODING::DIR`` (add lasting ones with ``runner.graphs.add``).
            backend: Send every model to this backend instead of each encoding's default.
            timeout: Stop the guest after this many seconds of wasm execution time.
            env: Environment variables for the guest (none by default).
            echo: Also write the guest's stdout/stderr to this process's as it runs.
            record: Keep copies of the output tensors in the result (inputs are always kept).
            stdout: Where to stream guest stdout as it is produced (overrides ``echo``).
            stderr: Where to stream guest stderr and host error lines (overrides ``echo``).

        Raises:
            GuestError: If the module cannot be read, compiled or instantiated.
            SpecError: For bad ``dirs``/``preload`` values or an unknown backend.
            BackendUnavailableError: If ``backend`` is not installed.
        """
        start = time.perf_counter()
        models = self.graphs.for_run(
            (item if isinstance(item, Preload) else Preload.parse(item) for item in preload),
            BackendChoice(backend),
        )
        compiled, name = self.compile(module)
        compiled_at = time.perf_counter()
        out = GuestStream(stdout if stdout is not None else (sys.stdout if echo else None))
        err = GuestStream(stderr if stderr is not None else (sys.stderr if echo else None))
        host = WasiNnHost(models, lambda line: err(f"[wasinn] {line}\n".encode()), record)
        store = self._store(name, args, dirs, env, out, err)
        instance, instantiated_at = self._instantiate(store, compiled, host)
        exit_code, error = self._start(store, instance, timeout)
        timings = Timings.collect(
            host.calls,
            compile=compiled_at - start,
            instantiate=instantiated_at - compiled_at,
            total=time.perf_counter() - start,
        )
        return RunResult(
            module=name,
            args=tuple(args),
            exit_code=exit_code,
            error=error,
            stdout=out.text(),
            stderr=err.text(),
            input_records=tuple(host.inputs.values()),
            output_records=tuple(host.outputs.values()),
            calls=tuple(host.calls),
            host_log=tuple(host.log),
            timings=timings,
            context_graphs=dict(host.context_graphs),
        )

    def _store(
        self,
        name: str,
        args: Sequence[str],
        dirs: Iterable[str | DirMapping],
        env: Mapping[str, str] | None,
        out: GuestStream,
        err: GuestStream,
    ) -> Store:
        from wasmtime import Store, WasiConfig

        wasi = WasiConfig()
        wasi.argv = [Path(name).name, *args]
        wasi.env = list((env or {}).items())
        for item in dirs:
            mapping = item if isinstance(item, DirMapping) else DirMapping.parse(item)
            if not Path(mapping.host).is_dir():
                raise SpecError(f"--dir {mapping.host}: no such folder")
            wasi.preopen_dir(mapping.host, mapping.guest)
        wasi.stdout_custom = out
        wasi.stderr_custom = err
        store = Store(self.engine)
        store.set_wasi(wasi)
        return store

    def _instantiate(self, store: Store, module: Module, host: WasiNnHost) -> tuple[object, float]:
        from wasmtime import Linker, WasmtimeError

        linker = Linker(self.engine)
        linker.define_wasi()
        host.define(linker)
        try:
            instance = linker.instantiate(store, module)
        except WasmtimeError as error:
            raise GuestError(f"cannot instantiate the module: {first_line(error)}") from None
        return instance, time.perf_counter()

    def _start(
        self, store: Store, instance: object, timeout: float | None
    ) -> tuple[int | None, str | None]:
        from wasmtime import ExitTrap, Func, Trap, TrapCode, WasmtimeError

        start = instance.exports(store).get("_start")  # type: ignore[attr-defined]
        if not isinstance(start, Func):
            raise GuestError("the module exports no _start function (is it a WASI command?)")
        store.set_epoch_deadline(_FOREVER if timeout is None else max(1, round(timeout / TICK)))
        try:
            if timeout is None:
                start(store)
            else:
                with self._ticker:
                    start(store)
        except ExitTrap as exit_:
            return exit_.code, None
        except Trap as trap:
            if trap.trap_code == TrapCode.INTERRUPT:
                return None, f"timed out after {timeout:g} s"
            return None, f"trapped: {_cause(trap)}"
        except WasmtimeError as error:  # e.g. a WASI call from a guest without memory
            return None, f"trapped: {_cause(error)}"
        return 0, None

    def reset(self) -> None:
        """Forget compiled modules and graphs held in memory (named models stay)."""
        self.modules.clear()
        self.graphs.clear()

    def close(self) -> None:
        """Free the engine and compiled modules; the runner cannot be used afterwards."""
        self.modules.clear()
        self.engine.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cause(error: BaseException) -> str:
    r"""The cause of a wasmtime error: the line after "Caused by:", else the last line.

    Example:
        >>> trap = ["error while executing at wasm backtrace:", "    0: 0x1f - <unknown>!f",
        ...         "", "Caused by:", "    wasm trap: wasm `unreachable` instruction executed"]
        >>> _cause(Exception("\n".join(trap)))
        'wasm trap: wasm `unreachable` instruction executed'
    """
    text = str(getattr(error, "message", None) or error)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if "Caused by:" in lines and lines.index("Caused by:") + 1 < len(lines):
        return lines[lines.index("Caused by:") + 1]
    return lines[-1] if lines else type(error).__name__
