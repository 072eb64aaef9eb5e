"""A component guest kept alive for calls from Python: operators, embedded-model classifiers.

:func:`wasinn_nb.run` runs a component *command* (``wasi:cli/run``) once. An operator in a
pipeline is different: it is instantiated once (its graph and execution context made on the
first call and reused, the Azure IoT Operations pattern) and its exports are called many times.
:class:`ComponentGuest` is that: one store and instance with WASI 0.2 and the ``wasi:nn`` host
(the runner's graph cache and backends), and :meth:`ComponentGuest.call` with the fast
``list<u8>`` conversions both ways.

Example:
    >>> wat = '''(component
    ...   (core module $m (func (export "twice") (param i32) (result i32)
    ...     (i32.mul (local.get 0) (i32.const 2))))
    ...   (core instance $i (instantiate $m))
    ...   (func (export "twice") (param "x" u32) (result u32)
    ...     (canon lift (core func $i "twice"))))'''
    >>> with ComponentGuest(wat) as guest:
    ...     guest.call("twice", 21)
    42
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wasinn_nb.abi import Limits, WasiNnHost
from wasinn_nb.abi.canon import call
from wasinn_nb.backends import BackendChoice
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.errors import GuestError, SpecError
from wasinn_nb.runtime.components import component_linker
from wasinn_nb.runtime.dirs import DirMapping
from wasinn_nb.runtime.interrupts import StopSwitch
from wasinn_nb.runtime.preload import Preload
from wasinn_nb.runtime.runner import ModuleSource, Runner, _cause
from wasinn_nb.runtime.shared import default_runner
from wasinn_nb.runtime.streams import GuestStream

if TYPE_CHECKING:
    from wasmtime import Store

__all__ = ["ComponentGuest"]


class ComponentGuest:
    """One instance of a component, with WASI 0.2 and ``wasi:nn``, whose exports Python calls.

    Args:
        component: A component: a ``.wasm`` path, its bytes, or WAT text.
        runner: Whose engine, module cache and graph cache to use (the shared one by default).
        preload: Named models (``NAME:ENCODING:TARGET:PATH…``), for ``load-by-name``.
        backend: Send every model to this backend instead of each encoding's default.
        backend_options: How the engines run models.
        dirs: Folders to preopen (``HOST[:GUEST]``), as for :meth:`Runner.run`.
        env: Environment variables for the guest.
        limits: What the guest may make the host hold, and its memory.
        timeout: Seconds each :meth:`call` may take (wall clock); ``None``: no limit.
        record: Keep the tensors crossing ``wasi:nn`` in :attr:`host` (``inputs``/``outputs``).

    Attributes:
        host: The ``wasi:nn`` state: ``calls``, ``seconds``, ``log``, ``inputs``, ``outputs``.
    """

    def __init__(
        self,
        component: ModuleSource,
        *,
        runner: Runner | None = None,
        preload: Iterable[str | Preload] = (),
        backend: str | None = None,
        backend_options: BackendOptions | None = None,
        dirs: Iterable[str | DirMapping] = (),
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        timeout: float | None = None,
        record: bool = True,
    ) -> None:
        from wasmtime import Trap, WasmtimeError
        from wasmtime.component import Component

        self.runner = runner or default_runner()
        self.limits = limits or Limits()
        self.timeout = timeout
        compiled, self.name = self.runner.compile(component)
        if not isinstance(compiled, Component):
            raise GuestError(f"{self.name} is a core module, not a component")
        self.component = compiled
        models = self.runner.graphs.for_run(
            (p if isinstance(p, Preload) else Preload.parse(p) for p in preload),
            BackendChoice(backend),
            backend_options,
        )
        self._out = GuestStream(None, keep=self.limits.captured_bytes)
        self._err = GuestStream(None, keep=self.limits.captured_bytes)
        self.host = WasiNnHost(
            models, lambda line: self._err(f"[wasinn] {line}\n".encode()), record, self.limits
        )
        self._switch = StopSwitch(None)
        self.store = self._store(dirs, env or {})
        linker = component_linker(self.runner.engine, self.host)
        try:
            with self.runner._ticker:
                self.instance = linker.instantiate(self.store, compiled)
        except (Trap, WasmtimeError) as error:
            raise GuestError(f"cannot instantiate the component: {_cause(error)}") from None

    def _store(self, dirs: Iterable[str | DirMapping], env: Mapping[str, str]) -> Store:
        from wasmtime import Store, WasiConfig

        wasi = WasiConfig()
        wasi.argv = [Path(self.name).name if os.sep in self.name else self.name]
        wasi.env = list(env.items())
        for item in dirs:
            mapping = item if isinstance(item, DirMapping) else DirMapping.parse(item)
            if not Path(mapping.host).is_dir():
                raise SpecError(f"--dir {mapping.host}: no such folder")
            wasi.preopen_dir(mapping.host, mapping.guest, not mapping.read_only)
        wasi.stdout_custom = self._out
        wasi.stderr_custom = self._err
        store = Store(self.runner.engine)
        store.set_wasi(wasi)
        store.set_limits(memory_size=self.limits.memory, table_elements=self.limits.table_elements,
                         instances=100, tables=100, memories=100)  # fmt: skip
        self._switch.arm(store)
        return store

    def exports(self) -> list[str]:
        """The names the component exports (functions, and interfaces such as ``a:b/c@1``)."""
        return list(self.component.type.exports(self.runner.engine))

    def call(self, name: str, *args: Any, interface: str | None = None) -> Any:
        """Call the export ``name`` (in ``interface``, if given) with ``args``.

        ``list<u8>`` arguments may be bytes or numpy arrays and come back as uint8 arrays;
        a ``result`` comes back as ``Variant("ok" | "err", payload)``; resources as wasmtime-py
        ``ResourceAny``. A trap (or the timeout) raises :class:`GuestError`; the instance is
        unusable afterwards, as the component model requires.
        """
        from wasmtime import Trap, WasmtimeError

        func = self._export(name, interface)
        self._switch = StopSwitch(self.timeout)
        self._switch.arm(self.store)
        try:
            with self.runner._ticker:
                return call(func, self.store, *args)
        except (Trap, WasmtimeError) as error:
            reason = self._switch.reason if self._switch.stopped else _cause(error)
            raise GuestError(f"{name}: {reason}") from None

    def _export(self, name: str, interface: str | None) -> Any:
        parent = None
        if interface is not None:
            parent = self.instance.get_export_index(self.store, interface)
            if parent is None:
                raise GuestError(f"the component exports no interface {interface!r}")
        index = self.instance.get_export_index(self.store, name, parent)
        func = self.instance.get_func(self.store, index) if index is not None else None
        if func is None:
            where = f" in {interface}" if interface else ""
            raise GuestError(f"the component exports no function {name!r}{where}")
        return func

    @property
    def stdout(self) -> str:
        """What the guest wrote to stdout so far (the last ``limits.captured_bytes``)."""
        return self._out.text()

    @property
    def stderr(self) -> str:
        """What the guest wrote to stderr so far, with the host's ``[wasinn]`` lines."""
        return self._err.text()

    def close(self) -> None:
        """Free the store (and WASI 0.2's runtime with it)."""
        self.store.close()

    def __enter__(self) -> ComponentGuest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
