"""Run wasm guests: a shared engine and caches, a fresh store per run, timeouts via epochs.

Example:
    >>> from wasinn_nb.runner import Runner
    >>> guest = '(module (func (export "_start")) (memory (export "memory") 1))'
    >>> result = Runner(cache_dir=None).run(guest)
    >>> result.exit_code, result.stdout
    (0, '')
"""

from __future__ import annotations

import atexit
import codecs
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from wasinn_nb._wasm_cache import ModuleCache, default_cache_dir, looks_like_wat
from wasinn_nb.abi.host import WasiNnHost
from wasinn_nb.backends import get_backend
from wasinn_nb.backends.models import GraphCache, Preload
from wasinn_nb.errors import GuestError, SpecError, first_line
from wasinn_nb.results import RunResult, Timings

if TYPE_CHECKING:
    from wasmtime import Engine, Module, Store

__all__ = ["DirMapping", "ModuleSource", "Runner", "default_runner", "run"]

ModuleSource = str | os.PathLike[str] | bytes
_TICK = 0.01  # seconds per epoch tick while a run with a timeout is active

# wasmtime objects free themselves through ctypes in __del__. Free them at exit while ctypes
# still works, not during interpreter teardown (which prints "Exception ignored" noise).
atexit.register(gc.collect)
_FOREVER = 2**62


@dataclass(frozen=True)
class DirMapping:
    """A host folder the guest may use, and the path it sees it under.

    Example:
        >>> DirMapping.parse(".:.")               # WasmEdge: GUEST:HOST
        DirMapping(host='.', guest='.')
        >>> DirMapping.parse("/data::/input")     # wasmtime: HOST::GUEST
        DirMapping(host='/data', guest='/input')
    """

    host: str
    guest: str

    @classmethod
    def parse(cls, text: str) -> DirMapping:
        """Parse ``DIR``, WasmEdge's ``GUEST:HOST`` or wasmtime's ``HOST::GUEST``."""
        if "::" in text:
            host, _, guest = text.partition("::")
        elif ":" in text:
            guest, _, host = text.partition(":")
        else:
            host = guest = text
        if not host or not guest:
            raise SpecError(f"bad --dir {text!r}: expected DIR, GUEST:HOST or HOST::GUEST")
        return cls(host, guest)


class _Output:
    """Collects a guest stream, decoding UTF-8 incrementally and optionally echoing it."""

    def __init__(self, echo: TextIO | Callable[[str], object] | None) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._echo = echo.write if hasattr(echo, "write") else echo  # type: ignore[union-attr]

    def __call__(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        self._parts.append(text)
        if self._echo is not None and text:
            self._echo(text)

    def text(self) -> str:
        return "".join(self._parts) + self._decoder.decode(b"", final=True)


class _Ticker:
    """Advances the engine's epoch every few milliseconds while some run has a timeout."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._users = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def __enter__(self) -> _Ticker:
        with self._lock:
            self._users += 1
            if self._users == 1:
                self._wake.clear()
                threading.Thread(target=self._tick, name="wasinn-epoch", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._users -= 1
            if self._users == 0:
                self._wake.set()

    def _tick(self) -> None:
        while not self._wake.wait(_TICK):
            self._engine.increment_epoch()


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
        self._ticker = _Ticker(self.engine)

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
        stdout: TextIO | Callable[[str], object] | None = None,
        stderr: TextIO | Callable[[str], object] | None = None,
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
        if backend is not None:
            get_backend(backend)
        graphs = self.graphs.with_preloads(
            item if isinstance(item, Preload) else Preload.parse(item) for item in preload
        )
        compiled, name = self.compile(module)
        compiled_at = time.perf_counter()
        out = _Output(stdout if stdout is not None else (sys.stdout if echo else None))
        err = _Output(stderr if stderr is not None else (sys.stderr if echo else None))
        host = WasiNnHost(graphs, backend, lambda line: err(f"[wasinn] {line}\n".encode()), record)
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
        out: _Output,
        err: _Output,
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
        store.set_epoch_deadline(_FOREVER if timeout is None else max(1, round(timeout / _TICK)))
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


_default: Runner | None = None
_default_lock = threading.Lock()


def default_runner() -> Runner:
    """The process-wide runner used by :func:`run` (and the magics)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runner()
            atexit.register(_default.close)
        return _default


def run(module: ModuleSource, args: Sequence[str] = (), **options: object) -> RunResult:
    """Run a guest with the shared runner; see :meth:`Runner.run` for the options.

    Example:
        >>> import wasinn_nb
        >>> wasinn_nb.run('(module (memory (export "memory") 1) (func (export "_start")))').ok
        True
    """
    return default_runner().run(module, args, **options)  # type: ignore[arg-type]
