"""The ``wasi_ephemeral_nn`` host: one small method per ABI function, errno at the boundary.

Guest mistakes (bad pointers, unknown handles, wrong sizes, backend failures) never trap and
never raise: each becomes an errno for the guest and one readable line for the user.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from wasinn_nb.abi.limits import Limits, format_size
from wasinn_nb.abi.memory import GuestMemory
from wasinn_nb.abi.wasi import signature
from wasinn_nb.abi.wasi_nn import FUNCTIONS, MODULE, NnErrno, decode_tensor_type
from wasinn_nb.backends.base import Context, Graph
from wasinn_nb.backends.options import (
    MAX_CONFIG_BYTES,
    BackendOptions,
    parse_config,
    unknown_keys,
)
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import (
    AbiError,
    BackendError,
    BackendUnavailableError,
    InvalidInputError,
    ModelNotFoundError,
    ShapeError,
    SpecError,
    UnsupportedError,
    WasinnError,
)
from wasinn_nb.results import CallRecord, TensorRecord

if TYPE_CHECKING:
    from wasmtime import Caller, Linker

__all__ = ["Models", "WasiNnHost", "errno_for"]

#: Upper bounds that keep a hostile guest from making the host allocate absurd amounts.
MAX_BUILDERS = 64
MAX_DIMS = 16

_ERRNO_OF: tuple[tuple[type[Exception], NnErrno], ...] = (
    (ModelNotFoundError, NnErrno.MODEL_NOT_FOUND),
    (BackendUnavailableError, NnErrno.INVALID_ENCODING),
    (UnsupportedError, NnErrno.UNSUPPORTED_OPERATION),
    (InvalidInputError, NnErrno.INVALID_ARGUMENT),
    (ShapeError, NnErrno.INVALID_ARGUMENT),
    (SpecError, NnErrno.INVALID_ARGUMENT),
    (BackendError, NnErrno.RUNTIME_ERROR),
    (WasinnError, NnErrno.RUNTIME_ERROR),
)


def errno_for(error: Exception) -> NnErrno:
    """The errno a guest gets for ``error``."""
    if isinstance(error, AbiError):
        return NnErrno(error.errno)
    return next((e for kind, e in _ERRNO_OF if isinstance(error, kind)), NnErrno.RUNTIME_ERROR)


class Models(Protocol):
    """Where the host gets compiled graphs: from model bytes, or by name."""

    def load(
        self,
        builders: Sequence[bytes | npt.NDArray[np.uint8]],
        encoding: GraphEncoding,
        target: ExecutionTarget,
    ) -> Graph:
        """The graph for these builders (which may be views of guest memory)."""

    @property
    def options(self) -> BackendOptions:
        """The run's backend options (a guest's config starts from these)."""

    def load_named(self, name: str, options: BackendOptions | None = None) -> Graph:
        """The graph of the model preloaded as ``name`` (ModelNotFoundError if none)."""


@dataclass
class _ContextSlot:
    graph: Graph
    context: Context
    input_bytes: dict[int, int] = field(default_factory=dict)


class Stopper(Protocol):
    """The run's stop switch, as the host sees it: cancel a backend call when it trips."""

    @property
    def stopped(self) -> bool:
        """Whether the run is being stopped."""

    def cancelling(self, cancel: Callable[[], None] | None) -> AbstractContextManager[None]:
        """While the block runs, tripping the switch calls ``cancel``."""


@dataclass
class WasiNnHost:
    """The wasi-nn state of one run: handle tables, the models it may load, what it recorded.

    Args:
        models: Where graphs come from (compiled and cached across runs), with named models.
        report: Called with one line for each failed call (the guest gets the errno), up to
            ``limits.log_lines``; the lines are also kept in ``log``.
        record: Keep the tensors the guest set and read (up to ``limits.tensor_bytes``).
        limits: What the guest may make the host hold.
        stopper: Cancels a backend ``compute`` when the run is stopped (none: not cancellable).
    """

    models: Models
    report: Callable[[str], None] = lambda line: None
    record: bool = True
    limits: Limits = field(default_factory=Limits)
    stopper: Stopper | None = None
    calls: list[CallRecord] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    failures: int = 0
    inputs: dict[tuple[int, int], TensorRecord] = field(default_factory=dict)
    outputs: dict[tuple[int, int], TensorRecord] = field(default_factory=dict)
    context_graphs: dict[int, Graph] = field(default_factory=dict)
    recorded_bytes: int = 0
    _graph_table: dict[int, Graph] = field(default_factory=dict)
    _context_table: dict[int, _ContextSlot] = field(default_factory=dict)
    _graph_ids: itertools.count[int] = field(default_factory=itertools.count)
    _context_ids: itertools.count[int] = field(default_factory=itertools.count)

    def define(self, linker: Linker) -> None:
        """Define every ``wasi_ephemeral_nn`` function on ``linker``."""
        for name, count in FUNCTIONS.items():
            linker.define_func(MODULE, name, signature(linker, ("i32",) * count), self._entry(name),
                               access_caller=True)  # fmt: skip

    def _entry(self, name: str) -> Callable[..., int]:
        method = getattr(self, f"_{name}")

        def entry(caller: Caller, *args: int) -> int:
            return self.call(name, method, caller, *args)

        return entry

    def call(self, name: str, method: Callable[..., None], caller: Caller, *args: int) -> int:
        """Run one ABI function; return its errno (never raise for a guest's mistake)."""
        start = time.perf_counter()
        try:
            method(GuestMemory.of(caller), *(a & 0xFFFFFFFF for a in args))
            errno = NnErrno.SUCCESS
        except Exception as error:
            errno = errno_for(error)
            self._failed(name, error, errno)
        seconds = time.perf_counter() - start
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        if len(self.calls) < self.limits.call_records:
            self.calls.append(CallRecord(name, errno, seconds))
        return int(errno)

    def _failed(self, name: str, error: Exception, errno: NnErrno) -> None:
        """Log a failed call: the first ``limits.log_lines``, then only count them."""
        self.failures += 1
        if self.failures > self.limits.log_lines:
            return
        internal = "" if isinstance(error, WasinnError) else f" (internal {type(error).__name__})"
        line = f"wasi-nn {name}: {error}{internal} -> errno {errno} ({errno.name.lower()})"
        self.log.append(line)
        self.report(line)

    def finish(self) -> None:
        """Report how many failed calls were not shown, if any."""
        hidden = self.failures - self.limits.log_lines
        if hidden > 0:
            line = f"{hidden:,} more failed wasi-nn calls not shown"
            self.log.append(line)
            self.report(line)

    def _record(
        self,
        table: dict[tuple[int, int], TensorRecord],
        context: int,
        index: int,
        array: npt.NDArray[np.generic],
    ) -> None:
        """Keep a copy of ``array`` for the result (replacing an older one) if it fits.

        Nothing is copied when the run records nothing or the copy would not fit the budget.
        """
        key = (context, index)
        old = table.get(key)
        self.recorded_bytes -= old.array.nbytes if old is not None else 0
        if self.record and self.recorded_bytes + array.nbytes <= self.limits.tensor_bytes:
            self.recorded_bytes += array.nbytes
            table[key] = TensorRecord(context, index, array.copy())  # keeps the first's place
        elif old is not None:
            del table[key]

    # ---- graphs ------------------------------------------------------------------------------

    def _add_graph(self, memory: GuestMemory, graph: Graph, out: int) -> None:
        if len(self._graph_table) >= self.limits.graphs:
            raise AbiError(
                f"{len(self._graph_table)} graphs are loaded, the most a run may hold "
                "(unload one first)",
                NnErrno.TOO_LARGE,
            )
        handle = next(self._graph_ids)
        memory.write_u32(out, handle, "graph handle")
        self._graph_table[handle] = graph

    def _load(
        self, memory: GuestMemory, builders: int, count: int, encoding: int, target: int, out: int
    ) -> None:
        if count > MAX_BUILDERS:
            raise AbiError(
                f"{count} graph builders (at most {MAX_BUILDERS})", NnErrno.INVALID_ARGUMENT
            )
        memory.span(out, 4, "graph handle")  # check before any work
        pairs = memory.read_u32s(builders, 2 * count, "graph builder array")
        blobs = [  # views: checked against guest memory, nothing copied yet
            memory.span(p, n, "graph builder") for p, n in zip(pairs[::2], pairs[1::2], strict=True)
        ]
        total = sum(blob.size for blob in blobs)
        if total > self.limits.model_bytes:
            raise AbiError(
                f"the graph builders total {total:,} bytes, more than the "
                f"{format_size(self.limits.model_bytes)} --max-model-bytes",
                NnErrno.TOO_LARGE,
            )
        graph = self.models.load(blobs, _encoding(encoding), _target(target))
        self._add_graph(memory, graph, out)

    def _load_by_name(self, memory: GuestMemory, name: int, length: int, out: int) -> None:
        memory.span(out, 4, "graph handle")
        graph = self.models.load_named(_utf8(memory, name, length))
        self._add_graph(memory, graph, out)

    def _load_by_name_with_config(
        self, memory: GuestMemory, name: int, length: int, config: int, config_len: int, out: int
    ) -> None:
        memory.span(out, 4, "graph handle")
        if config_len > MAX_CONFIG_BYTES:
            raise AbiError(
                f"config of {config_len:,} bytes (at most {MAX_CONFIG_BYTES:,})",
                NnErrno.INVALID_ARGUMENT,
            )
        settings = parse_config(memory.read_bytes(config, config_len, "config"))
        ignored = unknown_keys(settings)
        if ignored:
            self.report(
                f"wasi-nn load_by_name_with_config: ignored config keys: {', '.join(ignored)}"
            )
        options = self.models.options.with_config(settings)
        graph = self.models.load_named(_utf8(memory, name, length), options)
        self._add_graph(memory, graph, out)

    def _unload(self, memory: GuestMemory, graph: int) -> None:
        if self._graph_table.pop(graph, None) is None:
            raise AbiError(f"unknown graph handle {graph}", NnErrno.INVALID_ARGUMENT)

    # ---- execution contexts -----------------------------------------------------------------

    def _init_execution_context(self, memory: GuestMemory, graph: int, out: int) -> None:
        if graph not in self._graph_table:
            raise AbiError(f"unknown graph handle {graph}", NnErrno.INVALID_ARGUMENT)
        if len(self._context_table) >= self.limits.contexts:
            raise AbiError(
                f"{len(self._context_table)} execution contexts are live, the most a run may "
                "hold (finalize one first)",
                NnErrno.TOO_LARGE,
            )
        memory.span(out, 4, "context handle")
        model = self._graph_table[graph]
        handle = next(self._context_ids)
        self._context_table[handle] = _ContextSlot(model, model.init_context())
        memory.write_u32(out, handle, "context handle")
        self.context_graphs[handle] = model

    def _slot(self, context: int) -> _ContextSlot:
        if context not in self._context_table:
            raise AbiError(f"unknown execution context {context}", NnErrno.INVALID_ARGUMENT)
        return self._context_table[context]

    def _finalize_execution_context(self, memory: GuestMemory, context: int) -> None:
        self._slot(context)
        del self._context_table[context]

    def _held_input_bytes(self) -> int:
        return sum(sum(s.input_bytes.values()) for s in self._context_table.values())

    def _set_input(self, memory: GuestMemory, context: int, index: int, tensor: int) -> None:
        slot = self._slot(context)
        held = self._held_input_bytes() - slot.input_bytes.get(index, 0)
        array = _read_tensor(memory, tensor, slot.graph, index, self.limits.tensor_bytes - held)
        slot.context.set_input(index, array)
        slot.input_bytes[index] = array.nbytes
        self._record(self.inputs, context, index, array)

    def _compute(self, memory: GuestMemory, context: int) -> None:
        work = self._slot(context).context
        if self.stopper is None:
            work.compute()
            return
        if self.stopper.stopped:
            raise BackendError("the run is being stopped")
        with self.stopper.cancelling(getattr(work, "cancel", None)):
            work.compute()

    def _get_output(
        self, memory: GuestMemory, context: int, index: int, buffer: int, size: int, written: int
    ) -> None:
        array = self._slot(context).context.get_output(index)
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        memory.span(written, 4, "bytes written")  # check before touching the guest's buffer
        if raw.nbytes > size:
            memory.write_u32(written, raw.nbytes, "bytes written")
            raise AbiError(
                f"output {index} needs {raw.nbytes:,} bytes, the guest's buffer has {size:,} "
                "(the needed size was written)",
                NnErrno.TOO_LARGE,
            )
        memory.write(buffer, raw, "output buffer")
        memory.write_u32(written, raw.nbytes, "bytes written")
        if self.record:
            self._record(self.outputs, context, index, array)

    _get_output_single = _get_output

    def _compute_single(self, memory: GuestMemory, context: int) -> None:
        self._slot(context)
        raise UnsupportedError("compute_single streams tokens; only LLM backends support it")

    def _fini_single(self, memory: GuestMemory, context: int) -> None:
        self._slot(context)
        raise UnsupportedError("fini_single ends a token stream; only LLM backends support it")


def _encoding(value: int) -> GraphEncoding:
    try:
        return GraphEncoding(value & 0xFF)
    except ValueError:
        raise AbiError(f"unknown graph encoding {value}", NnErrno.INVALID_ENCODING) from None


def _target(value: int) -> ExecutionTarget:
    try:
        return ExecutionTarget(value & 0xFF)
    except ValueError:
        raise AbiError(f"unknown execution target {value}", NnErrno.INVALID_ARGUMENT) from None


def _utf8(memory: GuestMemory, pointer: int, length: int) -> str:
    try:
        return memory.read_bytes(pointer, length, "name").decode("utf-8")
    except UnicodeDecodeError:
        raise AbiError("the model name is not valid UTF-8", NnErrno.INVALID_ARGUMENT) from None


def _read_tensor(
    memory: GuestMemory, pointer: int, graph: Graph, index: int, budget: int
) -> npt.NDArray[np.generic]:
    """Decode a 20-byte tensor record: its data (at most ``budget`` bytes) as a view.

    The data stays in guest memory (copied only when it is not aligned for its type).

    The view is valid while the run lasts: the engine reads it during ``compute``, which runs
    while the guest waits, and wasmtime never moves a linear memory that grows (it reserves
    the whole 4 GiB address range up front). Recorded inputs are copied (``_record``).
    """
    dims_ptr, dims_len, type_word, data_ptr, data_len = memory.read_u32s(pointer, 5, "tensor")
    if dims_len > MAX_DIMS:
        raise AbiError(
            f"tensor has {dims_len} dimensions (at most {MAX_DIMS})", NnErrno.INVALID_ARGUMENT
        )
    dims = memory.read_u32s(dims_ptr, dims_len, "tensor dimensions")
    declared = graph.inputs[index].dtype if index < len(graph.inputs) else None
    dtype = decode_tensor_type(type_word & 0xFF, data_len, dims, declared)
    if dtype is None:
        raise AbiError(f"unknown tensor type {type_word & 0xFF}", NnErrno.INVALID_ARGUMENT)
    expected = math.prod(dims) * dtype.numpy.itemsize
    if expected != data_len:
        shape = "x".join(map(str, dims))
        raise AbiError(
            f"tensor {shape} {dtype} needs {expected:,} bytes, the guest passed {data_len:,}",
            NnErrno.INVALID_ARGUMENT,
        )
    data = memory.span(data_ptr, data_len, "tensor data")
    if data_len > budget:
        left = f"the {format_size(budget)} left of" if budget else "all of"
        raise AbiError(
            f"an input of {data_len:,} bytes would need more than {left} --max-tensor-bytes "
            "(finalize contexts you no longer need)",
            NnErrno.TOO_LARGE,
        )
    try:
        aligned = data.ctypes.data % dtype.numpy.itemsize == 0
        array: npt.NDArray[np.generic] = (data if aligned else data.copy()).view(dtype.numpy)
        array = array.reshape(dims)
    except ValueError:  # e.g. an empty tensor whose other dims overflow numpy's shape limits
        shape = "x".join(map(str, dims))
        raise AbiError(
            f"tensor dims {shape} are not a valid shape", NnErrno.INVALID_ARGUMENT
        ) from None
    return array
