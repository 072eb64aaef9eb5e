"""The ``wasi:nn`` host for component guests (WIT), on the same models, limits and stopper.

Component guests import ``wasi:nn/{tensor,graph,inference,errors}`` and get resources instead
of u32 handles, named tensors, and an ``error`` resource. This host serves
``0.2.0-rc-2024-10-28`` (what wasmtime 35+ implements: ``compute(list<named-tensor>)``) and
``0.2.0-rc-2024-08-19`` (``set-input``/``compute``/``get-output``), both at once. The state
(graphs, contexts, call records, recorded tensors, the log) is a :class:`WasiNnHost`'s, so a
run's result looks the same whichever ABI the guest used.

Guest mistakes become ``error`` resources with a code and a message (``invalid-argument`` for
a tensor whose dims and data disagree, ``runtime-error`` for a backend failure, …). A handle
that is not in the guest's table never reaches this code: the canonical ABI traps the guest.

Example:
    >>> from wasinn_nb.abi.component import ERROR_CODES, TENSOR_TYPES, VERSIONS
    >>> VERSIONS[0], ERROR_CODES.index("runtime-error"), TENSOR_TYPES.index("U8")
    ('0.2.0-rc-2024-10-28', 3, 4)
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import numpy.typing as npt

from wasinn_nb.abi.canon import define_func
from wasinn_nb.abi.host import MAX_BUILDERS, MAX_DIMS, WasiNnHost, errno_for
from wasinn_nb.abi.limits import format_size
from wasinn_nb.backends.base import Context, Graph
from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding, NnErrno
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
from wasinn_nb.results import CallRecord

if TYPE_CHECKING:
    from wasmtime.component import Linker, LinkerInstance

__all__ = ["ERROR_CODES", "TENSOR_TYPES", "VERSIONS", "ComponentNn", "NnFailureError"]

#: The ``wasi:nn`` versions served; the first is the one wasmtime 35 to 50 implements.
VERSIONS = ("0.2.0-rc-2024-10-28", "0.2.0-rc-2024-08-19")
#: WIT ``tensor-type`` cases in order (numbering C; BF16 has no numpy type here).
TENSOR_TYPES = ("FP16", "FP32", "FP64", "BF16", "U8", "I32", "I64")
_DTYPES = {"FP16": DType.FP16, "FP32": DType.FP32, "FP64": DType.FP64, "U8": DType.U8,
           "I32": DType.I32, "I64": DType.I64}  # fmt: skip
#: WIT ``graph-encoding`` cases (5 is ggml here, autodetect in witx).
ENCODINGS = {"openvino": GraphEncoding.OPENVINO, "onnx": GraphEncoding.ONNX,
             "tensorflow": GraphEncoding.TENSORFLOW, "pytorch": GraphEncoding.PYTORCH,
             "tensorflowlite": GraphEncoding.TENSORFLOWLITE, "ggml": GraphEncoding.GGML,
             "autodetect": GraphEncoding.AUTODETECT}  # fmt: skip
TARGETS = {"cpu": ExecutionTarget.CPU, "gpu": ExecutionTarget.GPU, "tpu": ExecutionTarget.TPU}
#: WIT ``error-code`` cases in order.
ERROR_CODES = (
    "invalid-argument",
    "invalid-encoding",
    "timeout",
    "runtime-error",
    "unsupported-operation",
    "too-large",
    "not-found",
    "security",
    "unknown",
)
_CODE_OF: tuple[tuple[type[Exception], str], ...] = (
    (ModelNotFoundError, "not-found"),
    (BackendUnavailableError, "invalid-encoding"),
    (UnsupportedError, "unsupported-operation"),
    (InvalidInputError, "invalid-argument"),
    (ShapeError, "invalid-argument"),
    (SpecError, "invalid-argument"),
    (BackendError, "runtime-error"),
)
_CODE_OF_ERRNO = {NnErrno.TOO_LARGE: "too-large", NnErrno.INVALID_ENCODING: "invalid-encoding",
                  NnErrno.INVALID_ARGUMENT: "invalid-argument", NnErrno.NOT_FOUND: "not-found",
                  NnErrno.MODEL_NOT_FOUND: "not-found",
                  NnErrno.UNSUPPORTED_OPERATION: "unsupported-operation"}  # fmt: skip
_ERRNO_OF_CODE = {code: errno for errno, code in _CODE_OF_ERRNO.items()}
#: Live resources of one kind (tensors, graphs, contexts, errors) a run may hold.
MAX_LIVE = 65_536
# Host resource type ids (one per resource; the same in every version).
_TENSOR, _GRAPH, _CONTEXT, _ERROR = 0x6E6E_0001, 0x6E6E_0002, 0x6E6E_0003, 0x6E6E_0004


class NnFailureError(WasinnError):
    """A failed call, as the guest sees it: an ``error-code`` case and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def code_for(error: Exception) -> str:
    """The ``error-code`` case a guest gets for ``error``."""
    if isinstance(error, NnFailureError):
        return error.code
    if isinstance(error, AbiError):
        return _CODE_OF_ERRNO.get(NnErrno(error.errno), "runtime-error")
    return next((c for kind, c in _CODE_OF if isinstance(error, kind)), "runtime-error")


@dataclass
class _Tensor:
    dims: list[int]
    ty: str
    data: npt.NDArray[np.uint8]


@dataclass
class _Execution:
    graph: Graph
    context: Context
    handle: int
    inputs: dict[int, int] = field(default_factory=dict)


@dataclass
class ComponentNn:
    """``wasi:nn`` resources for one component run, kept in ``host`` (a :class:`WasiNnHost`).

    Example:
        >>> from wasmtime import Engine
        >>> from wasmtime.component import Linker
        >>> from wasinn_nb.runtime import GraphCache
        >>> from wasinn_nb.backends import BackendChoice
        >>> host = WasiNnHost(GraphCache().for_run((), BackendChoice(None), None))
        >>> ComponentNn(host).define(Linker(Engine()))
    """

    host: WasiNnHost
    tensors: dict[int, _Tensor] = field(default_factory=dict)
    graphs: dict[int, Graph] = field(default_factory=dict)
    contexts: dict[int, _Execution] = field(default_factory=dict)
    errors: dict[int, NnFailureError] = field(default_factory=dict)
    _reps: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _context_ids: itertools.count[int] = field(default_factory=itertools.count)
    _tensor_bytes: int = 0
    _nested: float = 0.0

    def define(self, linker: Linker) -> None:
        """Define every ``wasi:nn`` interface of every served version on ``linker``."""
        with linker.root() as root:
            for version in VERSIONS:
                self._define_version(root, version)

    def _define_version(self, root: LinkerInstance, version: str) -> None:
        from wasmtime.component import ResourceType

        def drop(table: dict[int, Any]) -> Callable[[Any, int], None]:
            return lambda store, rep: self._forget(table, rep)

        with root.add_instance(f"wasi:nn/errors@{version}") as errors:
            errors.add_resource("error", ResourceType.host(_ERROR), drop(self.errors))
            define_func(errors, "[method]error.code", self._error_code)
            define_func(errors, "[method]error.data", self._error_data)
        with root.add_instance(f"wasi:nn/tensor@{version}") as tensor:
            tensor.add_resource("tensor", ResourceType.host(_TENSOR), drop(self.tensors))
            define_func(tensor, "[constructor]tensor", self._timed("tensor", self._tensor_new))
            define_func(tensor, "[method]tensor.dimensions", self._tensor_dims)
            define_func(tensor, "[method]tensor.ty", self._tensor_ty)
            define_func(
                tensor, "[method]tensor.data", self._timed("tensor_data", self._tensor_data)
            )
        with root.add_instance(f"wasi:nn/inference@{version}") as inference:
            inference.add_resource(
                "graph-execution-context", ResourceType.host(_CONTEXT), drop(self.contexts)
            )
            method = "[method]graph-execution-context."
            if version == VERSIONS[0]:
                define_func(inference, f"{method}compute", self._entry("compute", self._compute))
            else:
                define_func(inference, f"{method}set-input", self._entry("set_input", self._set))
                define_func(inference, f"{method}compute", self._entry("compute", self._run))
                define_func(inference, f"{method}get-output", self._entry("get_output", self._get))
        with root.add_instance(f"wasi:nn/graph@{version}") as graph:
            graph.add_resource("graph", ResourceType.host(_GRAPH), drop(self.graphs))
            define_func(graph, "load", self._entry("load", self._load))
            define_func(graph, "load-by-name", self._entry("load_by_name", self._load_by_name))
            define_func(
                graph,
                "[method]graph.init-execution-context",
                self._entry("init_execution_context", self._init),
            )

    # ---- bookkeeping -------------------------------------------------------------------------

    def _forget(self, table: dict[int, Any], rep: int) -> None:
        item = table.pop(rep, None)
        if isinstance(item, _Tensor):
            self._tensor_bytes -= item.data.nbytes

    def _own(self, table: dict[int, Any], item: Any, kind: int) -> Any:
        from wasmtime.component import ResourceHost

        if len(table) >= MAX_LIVE:
            _trap(f"the guest holds {len(table):,} wasi-nn resources of one kind, the most a run "
                  "may (drop the ones it no longer needs)")  # fmt: skip
        rep = next(self._reps)
        table[rep] = item
        return ResourceHost.own(rep, kind)

    def _timed(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def entry(store: Any, *args: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(store, *args)
            finally:
                self._account(name, NnErrno.SUCCESS, time.perf_counter() - start)

        return entry

    def _entry(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """A function returning ``result<T, error>``: failures become an ``error`` resource."""
        from wasmtime.component import Variant

        def entry(store: Any, *args: Any) -> Any:
            start = time.perf_counter()
            self._nested = 0.0
            try:
                value = Variant("ok", method(store, *args))
                errno = NnErrno.SUCCESS
            except Exception as error:
                failure = NnFailureError(code_for(error), str(error))
                errno = _ERRNO_OF_CODE.get(failure.code, NnErrno.RUNTIME_ERROR)
                if not isinstance(error, NnFailureError):
                    errno = errno_for(error)
                self.host._failed(name, error, errno)
                value = Variant("err", self._own(self.errors, failure, _ERROR))
            self._account(name, errno, time.perf_counter() - start - self._nested)
            return value

        return entry

    def _part(self, name: str, work: Callable[[], Any]) -> Any:
        """Run part of a call, recorded as its own call ``name`` (``compute`` binds inputs)."""
        start = time.perf_counter()
        try:
            return work()
        finally:
            seconds = time.perf_counter() - start
            self._nested += seconds
            self._account(name, NnErrno.SUCCESS, seconds)

    def _account(self, name: str, errno: NnErrno, seconds: float) -> None:
        host = self.host
        host.seconds[name] = host.seconds.get(name, 0.0) + seconds
        if len(host.calls) < host.limits.call_records:
            host.calls.append(CallRecord(name, errno, seconds))

    @staticmethod
    def _rep(store: Any, handle: Any) -> int:
        return int(handle.to_host(store).rep)

    def _lookup(self, table: dict[int, Any], store: Any, handle: Any, what: str) -> Any:
        rep = self._rep(store, handle)
        if rep not in table:
            raise NnFailureError("invalid-argument", f"unknown {what}")
        return table[rep]

    # ---- errors ------------------------------------------------------------------------------

    def _error_code(self, store: Any, handle: Any) -> str:
        failure = self.errors.get(self._rep(store, handle))
        return failure.code if failure is not None else "unknown"

    def _error_data(self, store: Any, handle: Any) -> str:
        failure = self.errors.get(self._rep(store, handle))
        return str(failure) if failure is not None else ""

    # ---- tensors -----------------------------------------------------------------------------

    def _tensor_new(self, store: Any, dims: list[int], ty: str, data: Any) -> Any:
        """A host-owned tensor; a bad shape or size is reported when it is used."""
        raw = data if isinstance(data, np.ndarray) else np.frombuffer(bytes(data), np.uint8)
        limit = self.host.limits.tensor_bytes
        if self._tensor_bytes + raw.nbytes > limit:
            _trap(f"wasi-nn [constructor]tensor: the guest's tensors would hold "
                  f"{self._tensor_bytes + raw.nbytes:,} bytes, more than the "
                  f"{format_size(limit)} --max-tensor-bytes")  # fmt: skip
        self._tensor_bytes += raw.nbytes
        return self._own(self.tensors, _Tensor(list(dims), ty, raw), _TENSOR)

    def _tensor_dims(self, store: Any, handle: Any) -> list[int]:
        return list(self.tensors[self._rep(store, handle)].dims)

    def _tensor_ty(self, store: Any, handle: Any) -> str:
        return self.tensors[self._rep(store, handle)].ty

    def _tensor_data(self, store: Any, handle: Any) -> npt.NDArray[np.uint8]:
        return self.tensors[self._rep(store, handle)].data

    def _array(self, tensor: _Tensor) -> npt.NDArray[np.generic]:
        """The tensor as a typed array, checking dims, type and size."""
        dtype = _DTYPES.get(tensor.ty)
        if dtype is None:
            raise NnFailureError(
                "unsupported-operation", f"tensor type {tensor.ty} is not supported"
            )
        if len(tensor.dims) > MAX_DIMS:
            raise NnFailureError(
                "invalid-argument", f"tensor has {len(tensor.dims)} dimensions (at most {MAX_DIMS})"
            )
        expected = math.prod(tensor.dims) * dtype.numpy.itemsize
        if expected != tensor.data.nbytes:
            shape = "x".join(map(str, tensor.dims))
            raise NnFailureError(
                "invalid-argument",
                f"tensor {shape} {dtype} needs {expected:,} "
                f"bytes, its data has {tensor.data.nbytes:,}",
            )
        if self._tensor_bytes > self.host.limits.tensor_bytes:
            raise NnFailureError(
                "too-large",
                f"the guest's tensors hold {self._tensor_bytes:,} bytes, "
                f"more than the {format_size(self.host.limits.tensor_bytes)} "
                "--max-tensor-bytes",
            )
        return tensor.data.view(dtype.numpy).reshape(tensor.dims)

    # ---- graphs ------------------------------------------------------------------------------

    def _add_graph(self, graph: Graph) -> Any:
        if len(self.graphs) >= self.host.limits.graphs:
            raise NnFailureError(
                "too-large", f"{len(self.graphs)} graphs are loaded, the most a run may hold"
            )
        return self._own(self.graphs, graph, _GRAPH)

    def _load(self, store: Any, builders: list[Any], encoding: str, target: str) -> Any:
        if len(builders) > MAX_BUILDERS:
            raise NnFailureError(
                "invalid-argument", f"{len(builders)} graph builders (at most {MAX_BUILDERS})"
            )
        blobs = [b if isinstance(b, np.ndarray) else np.frombuffer(bytes(b), np.uint8)
                 for b in builders]  # fmt: skip
        total = sum(blob.nbytes for blob in blobs)
        if total > self.host.limits.model_bytes:
            limit = format_size(self.host.limits.model_bytes)
            raise NnFailureError(
                "too-large",
                f"the graph builders total {total:,} bytes, more than the "
                f"{limit} --max-model-bytes",
            )
        graph = self.host.models.load(blobs, ENCODINGS[encoding], TARGETS[target])
        return self._add_graph(graph)

    def _load_by_name(self, store: Any, name: str) -> Any:
        return self._add_graph(self.host.models.load_named(name))

    def _init(self, store: Any, handle: Any) -> Any:
        graph: Graph = self._lookup(self.graphs, store, handle, "graph")
        if len(self.contexts) >= self.host.limits.contexts:
            raise NnFailureError(
                "too-large",
                f"{len(self.contexts)} execution contexts are live, the most a run may hold",
            )
        number = next(self._context_ids)
        execution = _Execution(graph, graph.init_context(), number)
        self.host.context_graphs[number] = graph
        return self._own(self.contexts, execution, _CONTEXT)

    # ---- inference ---------------------------------------------------------------------------

    @staticmethod
    def _index(names: list[str], name: str, what: str) -> int:
        """The index of the tensor called ``name`` (a declared name, or a decimal index)."""
        if name in names:
            return names.index(name)
        if name.isdecimal() and int(name) < max(len(names), 1):
            return int(name)
        known = ", ".join(repr(n) for n in names) or "none"
        raise NnFailureError(
            "invalid-argument", f"the model has no {what} {name!r} (it has {known})"
        )

    def _bind(self, execution: _Execution, name: str, tensor: _Tensor) -> None:
        names = [info.name for info in execution.graph.inputs]
        index = self._index(names, name, "input")
        array = self._array(tensor)
        execution.context.set_input(index, array)
        self.host._record(self.host.inputs, execution.handle, index, array)

    def _take(self, store: Any, handle: Any) -> _Tensor:
        """The tensor an ``own<tensor>`` argument passed to the host (and drop the handle)."""
        rep = self._rep(store, handle)  # the host owns it now: no destructor will run
        tensor = self.tensors.get(rep)
        if tensor is None:
            raise NnFailureError("invalid-argument", "unknown tensor")
        self._forget(self.tensors, rep)
        return tensor

    def _infer(self, execution: _Execution) -> None:
        work, stopper = execution.context, self.host.stopper
        if stopper is None:
            work.compute()
            return
        if stopper.stopped:
            raise BackendError("the run is being stopped")
        with stopper.cancelling(getattr(work, "cancel", None)):
            work.compute()

    def _output(self, execution: _Execution, index: int) -> Any:
        array = execution.context.get_output(index)
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        ty = _type_name(raw.dtype)
        if ty is None:
            raise NnFailureError("unsupported-operation", f"output {index} is {raw.dtype}")
        if self.host.record:
            self.host._record(self.host.outputs, execution.handle, index, raw.copy())
        data = raw.reshape(-1).view(np.uint8)
        if self._tensor_bytes + data.nbytes > self.host.limits.tensor_bytes:
            raise NnFailureError(
                "too-large",
                f"output {index} of {data.nbytes:,} bytes would exceed --max-tensor-bytes",
            )
        self._tensor_bytes += data.nbytes
        return self._own(self.tensors, _Tensor(list(raw.shape), ty, data), _TENSOR)

    def _compute(self, store: Any, handle: Any, inputs: list[tuple[str, Any]]) -> Any:
        execution: _Execution = self._lookup(self.contexts, store, handle, "execution context")
        taken = [(name, self._take(store, tensor)) for name, tensor in inputs]
        for name, tensor in taken:
            self._part("set_input", functools.partial(self._bind, execution, name, tensor))
        self._infer(execution)
        named = []
        for i, info in enumerate(execution.graph.outputs):
            output = self._part("get_output", functools.partial(self._output, execution, i))
            named.append((info.name or str(i), output))
        return named

    def _set(self, store: Any, handle: Any, name: str, tensor: Any) -> None:
        execution: _Execution = self._lookup(self.contexts, store, handle, "execution context")
        self._bind(execution, name, self._take(store, tensor))

    def _run(self, store: Any, handle: Any) -> None:
        self._infer(self._lookup(self.contexts, store, handle, "execution context"))

    def _get(self, store: Any, handle: Any, name: str) -> Any:
        execution: _Execution = self._lookup(self.contexts, store, handle, "execution context")
        names = [info.name for info in execution.graph.outputs]
        return self._output(execution, self._index(names, name, "output"))


def _trap(message: str) -> NoReturn:
    """End the guest with ``message`` (for calls whose WIT type has no error case)."""
    from wasmtime import WasmtimeError

    raise WasmtimeError(message)


def _type_name(dtype: np.dtype[Any]) -> str | None:
    for name, known in _DTYPES.items():
        if np.dtype(known.numpy) == dtype.newbyteorder("="):
            return name
    return None
