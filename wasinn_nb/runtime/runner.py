"""The runner: a shared engine and caches, a fresh store per run on a worker thread, stoppable.

Each run's guest executes on its own thread while the caller waits for it, so that Ctrl-C,
the kernel's interrupt and ``timeout`` (wall clock, for the whole run) always reach it; see
:mod:`wasinn_nb.runtime.interrupts` for how each part of a run is stopped.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasinn_nb.abi import Limits, WasiNnHost, define_clocks, format_size
from wasinn_nb.backends import BackendChoice
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.errors import GuestError, SpecError, first_line
from wasinn_nb.files import read_file
from wasinn_nb.results import RunResult, Timings
from wasinn_nb.runtime.components import component_linker, run_export
from wasinn_nb.runtime.dirs import DirMapping
from wasinn_nb.runtime.graphs import GraphCache
from wasinn_nb.runtime.instance_pool import use_instance_pool
from wasinn_nb.runtime.interrupts import GRACE, StopSwitch, Ticker
from wasinn_nb.runtime.modules import ModuleCache, default_cache_dir, looks_like_wat
from wasinn_nb.runtime.preload import Preload
from wasinn_nb.runtime.streams import GuestStream, Sink

if TYPE_CHECKING:
    from wasmtime import Module, Store
    from wasmtime.component import Component

__all__ = ["ModuleSource", "Runner", "stop_all"]

ModuleSource = str | os.PathLike[str] | bytes
MAX_MODULE_BYTES = 1 << 30
_POLL = 0.1  # seconds between checks of the deadline (and for a pending Ctrl-C) while waiting

#: Runs in progress (a run's job removes itself when its thread ends).
_active: dict[StopSwitch, threading.Thread] = {}


def stop_all(reason: str = "interrupted", *, wait: float = GRACE) -> bool:
    """Trip the stop switch of every run in progress; wait up to ``wait`` s for them to end.

    Returns whether every run's thread has ended (one stuck in a backend may not have).
    """
    running = list(_active.items())
    fresh = [job for switch, job in running if not switch.stopped]  # the rest had their grace
    for switch, _ in running:
        switch.trip(reason)
    deadline = time.monotonic() + wait
    for job in fresh:
        job.join(max(0.0, deadline - time.monotonic()))
    return not any(job.is_alive() for _, job in running)


class Runner:
    """Runs guests. Holds the engine, the compiled-module cache and the compiled-graph cache.

    Args:
        cache_dir: Where compiled modules are stored on disk; ``None`` disables the disk cache.
            Defaults to the user cache folder (or ``$WASINN_CACHE_DIR``).
        graphs: The compiled-graph cache and named models (a fresh one by default).
        instance_pool: Take instances from wasmtime's pooling allocator, so that a run reuses
            the memory an earlier one had mapped (see :mod:`wasinn_nb.runtime.instance_pool`):
            for many short runs one after another, as a batch worker makes. At most
            :data:`~wasinn_nb.runtime.instance_pool.SLOTS` instances are alive at once.
    """

    def __init__(
        self,
        *,
        cache_dir: Path | str | None = "default",
        graphs: GraphCache | None = None,
        instance_pool: bool = False,
    ) -> None:
        from wasmtime import Config, Engine

        config = Config()
        self.pooled = instance_pool and use_instance_pool(config)
        config.epoch_interruption = True
        # The host hands engines zero-copy views of guest memory (set_input): a linear memory
        # must stay where it is when it grows (it does within the default 4 GiB reservation).
        config.memory_may_move = False
        self.engine = Engine(config)
        folder = default_cache_dir() if cache_dir == "default" else cache_dir
        self.modules = ModuleCache(self.engine, Path(folder) if folder is not None else None)
        self.graphs = graphs if graphs is not None else GraphCache()
        self._ticker = Ticker(self.engine)

    def compile(self, module: ModuleSource) -> tuple[Module | Component, str]:
        """Compile (or fetch from cache) a module or component: a path, wasm bytes or WAT text."""
        if isinstance(module, bytes):
            return self.modules.get(module, "<bytes>"), "<bytes>"
        text = os.fspath(module)
        if looks_like_wat(text):
            return self.modules.get(text, "<wat>"), "<wat>"
        data = read_file(text, limit=MAX_MODULE_BYTES, error=_module_error)
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
        limits: Limits | None = None,
        backend_options: BackendOptions | None = None,
        echo: bool = False,
        record: bool = True,
        stdout: Sink = None,
        stderr: Sink = None,
    ) -> RunResult:
        """Run a guest's ``_start`` (or a component's ``wasi:cli/run``) and collect what it did.

        Ctrl-C (or the kernel's interrupt) stops the guest within a second, whatever it is
        doing, and raises ``KeyboardInterrupt`` here.

        Args:
            module: A ``.wasm`` path, wasm bytes, or WAT text.
            args: The guest's arguments (``argv[1:]``).
            dirs: Folders to preopen: ``DIR``, ``GUEST:HOST`` or ``HOST::GUEST``, each with an
                optional ``:ro`` (or DirMapping).
            preload: Named models for this run, ``NAME:ENCODING:TARGET:PATH…`` or
                ``ENCODING::DIR`` (add lasting ones with ``runner.graphs.add``).
            backend: Send every model to this backend instead of each encoding's default.
            timeout: Stop the run after this many seconds of wall-clock time, whatever it is
                doing: compiling, instantiating, running wasm, in a host call or a backend.
            env: Environment variables for the guest (none by default).
            limits: What the guest may use (guest memory, model and tensor bytes, …).
            backend_options: How the engines run models: threads, OpenVINO's precision and
                performance hint, ONNX Runtime's providers.
            echo: Also write the guest's stdout/stderr to this process's as it runs.
            record: Keep the tensors the guest set and read in the result.
            stdout: Where to stream guest stdout as it is produced (overrides ``echo``).
            stderr: Where to stream guest stderr and host error lines (overrides ``echo``).

        Raises:
            GuestError: If the module cannot be read, compiled or instantiated.
            SpecError: For bad ``dirs``/``preload``/``timeout`` values or an unknown backend.
            BackendUnavailableError: If ``backend`` is not installed.
            KeyboardInterrupt: If the run was interrupted.
        """
        started = time.perf_counter()
        switch = StopSwitch(timeout)
        limits = limits or Limits()
        models = self.graphs.for_run(
            (item if isinstance(item, Preload) else Preload.parse(item) for item in preload),
            BackendChoice(backend),
            backend_options,
        )
        mappings = [d if isinstance(d, DirMapping) else DirMapping.parse(d) for d in dirs]
        for mapping in mappings:
            if not Path(mapping.host).is_dir():
                raise SpecError(f"--dir {mapping.host}: no such folder")
        keep = limits.captured_bytes
        out = GuestStream(
            stdout if stdout is not None else (sys.stdout if echo else None), keep=keep
        )
        err = GuestStream(
            stderr if stderr is not None else (sys.stderr if echo else None), keep=keep
        )
        host = WasiNnHost(models, lambda line: err(f"[wasinn] {line}\n".encode()), record, limits,
                          switch)  # fmt: skip
        job = _Job(self, module, args, mappings, env or {}, out, err, host, switch, limits)
        _active[switch] = job
        job.start()
        _supervise(job, switch)
        return job.result(started)

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


def _supervise(job: _Job, switch: StopSwitch) -> None:
    """Wait for the job, tripping its switch at the deadline or on Ctrl-C; then let it wind down.

    A job still busy :data:`GRACE` seconds after its switch tripped (a backend compiling a
    model cannot be cancelled) is left to finish on its own: it stops at its next epoch check.
    """
    try:
        while not job.done.wait(
            _POLL if (left := switch.remaining()) is None else min(left, _POLL)
        ):
            if switch.expired():
                break
    except KeyboardInterrupt:  # the user is waiting: give the guest less time to wind down
        switch.trip("interrupted")
        job.done.wait(GRACE / 2)
        raise
    if switch.stopped:
        job.done.wait(GRACE)


class _Job(threading.Thread):
    """One run's work, on its own thread: compile, instantiate, run ``_start``."""

    def __init__(
        self,
        runner: Runner,
        module: ModuleSource,
        args: Sequence[str],
        dirs: list[DirMapping],
        env: Mapping[str, str],
        out: GuestStream,
        err: GuestStream,
        host: WasiNnHost,
        switch: StopSwitch,
        limits: Limits,
    ) -> None:
        super().__init__(name="wasinn-guest", daemon=True)
        self.runner, self.module, self.args, self.dirs, self.env = runner, module, args, dirs, env
        self.out, self.err, self.host, self.switch, self.limits = out, err, host, switch, limits
        self.name_shown = module if isinstance(module, str) and not looks_like_wat(module) else ""
        self.done = threading.Event()
        self.failure: BaseException | None = None
        self.exit_code: int | None = None
        self.error: str | None = None
        self.marks: dict[str, float] = {}
        self.component: Component | None = None

    def run(self) -> None:
        with self.runner._ticker:  # ticks for as long as this guest runs, abandoned or not
            self._work()

    def _work(self) -> None:
        store = None
        try:
            compiled, self.name_shown = self.runner.compile(self.module)
            self.marks["compiled"] = time.perf_counter()
            store = self._store()
            instance = self._instantiate(store, compiled)
            self.marks["instantiated"] = time.perf_counter()
            if instance is not None:
                self.exit_code, self.error = self._start(store, instance)
        except BaseException as failure:  # re-raised by the caller's thread
            self.failure = failure
        finally:
            if store is not None and self.component is not None:
                store.close()  # WASI 0.2's runtime must be dropped here, not at exit

            self.host.finish()
            self.done.set()
            _active.pop(self.switch, None)

    def _store(self) -> Store:
        from wasmtime import Store, WasiConfig

        wasi = WasiConfig()
        wasi.argv = [Path(self.name_shown or "guest").name, *self.args]
        wasi.env = list(self.env.items())
        for mapping in self.dirs:
            wasi.preopen_dir(mapping.host, mapping.guest, not mapping.read_only)
        wasi.stdout_custom = self.out
        wasi.stderr_custom = self.err
        store = Store(self.runner.engine)
        store.set_wasi(wasi)
        store.set_limits(
            memory_size=self.limits.memory, table_elements=self.limits.table_elements,
            instances=10, tables=10, memories=10,
        )  # fmt: skip
        self.switch.arm(store)
        return store

    def _instantiate(self, store: Store, module: Module | Component) -> Any:
        from wasmtime import Linker, Trap, WasmtimeError
        from wasmtime.component import Component

        if isinstance(module, Component):
            linker: Any = component_linker(self.runner.engine, self.host)
            self.component = module
        else:
            linker = Linker(self.runner.engine)
            linker.define_wasi()
            define_clocks(linker, self.switch)
            self.host.define(linker)
        try:
            return linker.instantiate(store, module)
        except (Trap, WasmtimeError) as error:
            if self.switch.stopped:  # stopped while a start function ran
                self.error = self.switch.reason
                return None
            kind = "component" if self.component is not None else "module"
            raise GuestError(f"cannot instantiate the {kind}: {_cause(error)}") from None

    def _start(self, store: Store, instance: Any) -> tuple[int | None, str | None]:
        from wasmtime import ExitTrap, Func, Trap, WasmtimeError

        if self.component is not None:
            start: Any = run_export(self.runner.engine, store, self.component, instance)
        else:
            start = instance.exports(store).get("_start")
            if not isinstance(start, Func):
                raise GuestError("the module exports no _start function (is it a WASI command?)")
        try:
            outcome = start(store)
        except ExitTrap as exit_:
            code: int | None = exit_.code
        except (Trap, WasmtimeError) as error:  # and WASI calls from a guest without memory
            if self.switch.stopped:
                return None, self.switch.reason
            cause = _cause(error)
            if "fuel allocated for hostcalls" in cause:
                cause += " (wasmtime lifts at most ~2.7 M list elements per call into the host)"
            return None, f"trapped: {cause}{self._memory_note(store, instance)}"
        else:
            code = 1 if getattr(outcome, "tag", "ok") == "err" else 0
        if self.switch.stopped:  # woken by the stop (a sleep, a cancelled compute), then ended
            return None, self.switch.reason
        return code, None

    def _memory_note(self, store: Store, instance: Any) -> str:
        """A hint when a trap came with the guest's memory near ``--max-memory``."""
        from wasmtime import Memory

        if self.component is not None:
            return ""  # a component's memories are its own
        memory = instance.exports(store).get("memory")
        if isinstance(memory, Memory) and memory.data_len(store) > 0.9 * self.limits.memory:
            size = format_size(memory.data_len(store))
            return f" (its memory is {size}, near --max-memory {format_size(self.limits.memory)})"
        return ""

    def result(self, started: float) -> RunResult:
        """What the run did; raises what the job raised (a bad module, an unknown backend)."""
        if self.done.is_set() and self.failure is not None:
            raise self.failure
        if not self.done.is_set():  # abandoned after its grace period
            self.exit_code, self.error = None, self.switch.reason or "stopped"
        compiled = self.marks.get("compiled", started)
        host = self.host
        return RunResult(
            module=self.name_shown or ("<bytes>" if isinstance(self.module, bytes) else "<wat>"),
            args=tuple(self.args),
            exit_code=self.exit_code,
            error=self.error,
            stdout=self.out.text(),
            stderr=self.err.text(),
            input_records=tuple(host.inputs.values()),
            output_records=tuple(host.outputs.values()),
            calls=tuple(host.calls),
            host_log=tuple(host.log),
            timings=Timings.collect(
                dict(host.seconds),
                compile=compiled - started,
                instantiate=self.marks.get("instantiated", compiled) - compiled,
                total=time.perf_counter() - started,
            ),
            context_graphs=dict(host.context_graphs),
        )


def _module_error(path: str, reason: str) -> GuestError:
    return GuestError(f"cannot read module {path}: {reason}")


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
    return lines[-1] if lines else first_line(error)
