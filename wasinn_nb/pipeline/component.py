"""A component as an operator: ``init(params)`` once, then one exported function per item.

A map whose module is a component and which has the ``function`` parameter runs on one
component instance (:class:`wasinn_nb.runtime.component_guest.ComponentGuest`, the
component-model ``wasi:nn`` host) for the whole run: the host calls the ``init`` of the
exported interface with the other parameters (``list<tuple<string, string>>``, returning
``result<_, string>``), then ``function`` once per item with the item's bytes (a tensor's raw
data) as ``list<u8>``. The function returns ``result<T, string>``: ``list<u8>`` becomes bytes;
``list<tuple<u32, f32>>`` (a classifier's ranked classes) an f32 tensor ``[k, 2]`` of
``(index, score)`` rows, the ``topk`` operator's output, so ``labels`` can follow. So a
classifier component with its model embedded keeps its graph and execution context across
items, as in Azure IoT Operations.

Parameters of the stage itself: ``function`` (required) and ``interface`` (default: the one
exported interface that is not ``wasi:cli/run``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wasinn_nb.abi import Limits
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.errors import WasinnError
from wasinn_nb.pipeline.operator import OK, ItemSwitch, OperatorError
from wasinn_nb.results.pipeline import Value
from wasinn_nb.runtime import Preload, Runner

__all__ = ["ComponentOperator"]


class ComponentOperator:
    """One component instance serving one map operation (made on first use, kept)."""

    def __init__(
        self,
        name: str,
        module: Path,
        params: Mapping[str, str],
        runner: Runner,
        *,
        preload: Sequence[Preload],
        backend: str | None,
        backend_options: BackendOptions | None,
        limits: Limits,
        switch: ItemSwitch,
    ) -> None:
        self.name, self.module, self.runner, self.switch, self.limits = (
            name, module, runner, switch, limits)  # fmt: skip
        self.function = params["function"]
        self.interface = params.get("interface")
        self.init_params = [(k, v) for k, v in params.items() if k not in ("function", "interface")]
        self.preload, self.backend, self.backend_options = list(preload), backend, backend_options
        self._guest: Any = None

    def start(self) -> None:
        """Instantiate the component and call its ``init``."""
        if self._guest is not None:
            return
        import importlib

        try:  # the component-model host (a separate part of the runtime) may be absent
            host = importlib.import_module("wasinn_nb.runtime.component_guest")
        except ImportError:
            raise OperatorError("this wasinn-nb has no component host "
                                "(wasinn_nb.runtime.component_guest)") from None  # fmt: skip
        try:
            guest = host.ComponentGuest(
                str(self.module), runner=self.runner, preload=self.preload, backend=self.backend,
                backend_options=self.backend_options, limits=self.limits,
                timeout=self.switch.item_timeout, record=False,
            )  # fmt: skip
        except WasinnError as error:
            raise OperatorError(str(error)) from None
        self.interface = self.interface or _the_interface(guest.exports())
        self._guest = guest
        self._result(self._call("init", self.init_params), "init")

    def process(self, value: Value) -> tuple[int, Value | None]:
        """Call the function on the item's bytes; its ``ok`` payload is the output."""
        self.start()
        data = value if isinstance(value, bytes) else np.ascontiguousarray(value).view(np.uint8)
        return OK, _value(self._result(self._call(self.function, data), self.function))

    def _call(self, function: str, argument: Any) -> Any:
        try:
            return self._guest.call(function, argument, interface=self.interface)
        except WasinnError as error:  # a trap or the timeout: the instance is gone
            self.close()
            raise OperatorError(str(error)) from None

    @staticmethod
    def _result(variant: Any, function: str) -> Any:
        tag = getattr(variant, "tag", None)
        if tag == "err":
            raise OperatorError(f"{function}: {variant.payload}")
        if tag != "ok":
            raise OperatorError(f"{function} must return result<_, string>, got {variant!r}")
        return variant.payload

    def close(self) -> None:
        """Free the instance."""
        if self._guest is not None:
            self._guest.close()
            self._guest = None


def _the_interface(exports: list[str]) -> str:
    candidates = [name for name in exports if "/" in name and not name.startswith("wasi:cli/")]
    if len(candidates) != 1:
        raise OperatorError(f"set the interface parameter (exported: {', '.join(exports)})")
    return candidates[0]


def _value(payload: Any) -> Value:
    """A function's ``ok`` payload as a pipeline value."""
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    if isinstance(payload, np.ndarray) and payload.dtype == np.uint8:
        return payload.tobytes()
    if isinstance(payload, list) and all(
        isinstance(row, tuple) and len(row) == 2 for row in payload
    ):
        return np.array(payload, np.float32).reshape(len(payload), 2)
    raise OperatorError(f"cannot pass on a {type(payload).__name__} result "
                        "(list<u8> or list<tuple<u32, f32>> only)")  # fmt: skip
