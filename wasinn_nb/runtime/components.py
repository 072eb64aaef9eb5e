"""Running component guests: a component linker with WASI 0.2 and ``wasi:nn``, and ``run``.

A component command exports ``wasi:cli/run@0.2.x`` with ``run: func() -> result``; its exit
status is 0 for ``ok`` and 1 for ``err``. WASI 0.2 comes from wasmtime (``add_wasip2``) and
uses the store's ``WasiConfig`` (arguments, environment, preopens, captured stdout/stderr).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wasinn_nb.abi.component import ComponentNn
from wasinn_nb.abi.host import WasiNnHost
from wasinn_nb.errors import GuestError

if TYPE_CHECKING:
    from wasmtime import Engine, Store
    from wasmtime.component import Component, Func, Instance

__all__ = ["component_linker", "run_export"]


def component_linker(engine: Engine, host: WasiNnHost) -> Any:
    """A component linker with WASI 0.2 and ``wasi:nn`` served by ``host``."""
    from wasmtime.component import Linker

    linker = Linker(engine)
    linker.add_wasip2()
    ComponentNn(host).define(linker)
    return linker


def run_export(engine: Engine, store: Store, component: Component, instance: Instance) -> Func:
    """The component's ``wasi:cli/run`` ``run`` function (GuestError if it has none)."""
    names = [n for n in component.type.exports(engine) if n.startswith("wasi:cli/run@0.2")]
    interface = instance.get_export_index(store, names[0]) if names else None
    index = instance.get_export_index(store, "run", interface) if interface else None
    func = instance.get_func(store, index) if index is not None else None
    if func is None:
        raise GuestError("the component exports no wasi:cli/run (is it a command?)")
    return func
