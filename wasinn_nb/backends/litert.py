"""LiteRT backend: TensorFlow Lite models on Google's reference runtime (PyPI ``ai-edge-litert``).

WasmEdge's TFLite backend is the TensorFlow Lite library, so this backend gives the numbers
WasmEdge gives. It is the default for the ``tensorflowlite`` encoding when installed; OpenVINO's
TFLite frontend stays selectable (``--backend openvino``).

* **Sharing rule.** A LiteRT ``Interpreter`` holds its tensors and is not safe to share, so a
  graph keeps only the model bytes and what the model declares; each execution context gets its
  own interpreter (as WasmEdge does). A context must be used by one thread at a time.
* **Inputs and outputs by index**, in the model's order. Element types u8, i8, i16, i32, i64,
  f16, f32 and f64 pass as they are (get_output hands over the raw values; wasi-nn has no i8 or
  i16 tensor type, so only Python callers can feed those inputs). The type must match the
  model's: WasmEdge's TFLite backend converts nothing either.
* **Quantized models**: tensors keep their stored integers; each tensor's per-tensor scale and
  zero point are in ``TensorInfo.quantization``.
* **Shapes**: a tensor of the declared shape is set as it is. A different shape of the same
  rank is accepted only where the model declares the dimension unknown (-1 in its shape
  signature); the interpreter is then resized. Anything else is invalid_argument.
* **Threads**: ``BackendOptions.threads`` (None = LiteRT's default), per graph.
* **When LiteRT cannot read a model** (or lacks an op), load fails with runtime_error and one
  line naming the cause and ``--backend openvino``; the host never switches by itself.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any

import ai_edge_litert
import numpy as np
import numpy.typing as npt
from ai_edge_litert.interpreter import Interpreter

from wasinn_nb.backends._common import check_all_set, check_index, single_cpu_model
from wasinn_nb.backends._reason import litert_reason, switch_hint
from wasinn_nb.backends.base import DEFAULT_OPTIONS, Quantization, TensorInfo
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding
from wasinn_nb.errors import BackendError, InvalidInputError, UnsupportedError

__all__ = ["LiteRtBackend", "LiteRtContext", "LiteRtGraph", "create"]

#: Interpreters a graph keeps for later contexts (one per concurrent run, say).
_FREE_INTERPRETERS = 2

#: Element types a LiteRT tensor may have here (numpy names); others are refused at load.
_DTYPES = frozenset(
    {"uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "bool"}
)


def _dtype(numpy_type: Any) -> DType | None:
    try:
        return DType.from_numpy(numpy_type)
    except Exception:  # i16, bool: no wasi-nn tensor type
        return None


def _quantization(detail: dict[str, Any]) -> Quantization | None:
    params = detail.get("quantization_parameters", {})
    scales, zero_points = params.get("scales", ()), params.get("zero_points", ())
    if len(scales) != 1 or len(zero_points) != 1 or float(scales[0]) == 0.0:
        return None  # not quantized, or per-channel (one scale per slice of an axis)
    return Quantization(float(scales[0]), int(zero_points[0]))


def _info(detail: dict[str, Any]) -> TensorInfo:
    signature = detail.get("shape_signature", detail["shape"])
    shape = tuple(None if int(d) < 0 else int(d) for d in signature)
    return TensorInfo(str(detail["name"]), _dtype(detail["dtype"]), shape, _quantization(detail))


class LiteRtContext:
    """One LiteRT interpreter: inputs copied in by index, outputs copied out."""

    def __init__(self, graph: LiteRtGraph, interpreter: Any, use: _Use) -> None:
        self._graph = graph
        self._interpreter = interpreter
        self._use = use
        self._inputs = interpreter.get_input_details()
        self._outputs = interpreter.get_output_details()
        self._computed = False
        self._given: set[int] = set()

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        """Copy ``tensor`` into input ``index`` (resizing it where the model allows)."""
        info = check_index(index, self._graph.inputs, "input")
        detail = self._inputs[index]
        want = np.dtype(detail["dtype"])
        if tensor.dtype != want:
            raise InvalidInputError(f"input {index} ({info.name!r}) takes {want.name}, got "
                                    f"{tensor.dtype.name}")  # fmt: skip
        if tuple(tensor.shape) != tuple(int(d) for d in detail["shape"]):
            self._resize(index, info, tensor.shape)
        try:
            self._interpreter.set_tensor(detail["index"], np.ascontiguousarray(tensor))
        except ValueError as error:
            raise InvalidInputError(
                f"input {index} ({info.name!r}): {litert_reason(error)}"
            ) from None
        self._given.add(index)
        self._computed = False

    def _resize(self, index: int, info: TensorInfo, shape: tuple[int, ...]) -> None:
        declared = info.shape
        fits = len(declared) == len(shape) and all(
            d is None or d == n for d, n in zip(declared, shape, strict=True)
        )
        if not fits:
            want = "x".join("?" if d is None else str(d) for d in declared)
            got = "x".join(map(str, shape))
            raise InvalidInputError(f"input {index} ({info.name!r}) has shape {want}, got {got}")
        self._use.resized = True  # this interpreter no longer has the model's shapes: not reused
        try:
            self._interpreter.resize_tensor_input(self._inputs[index]["index"], shape, strict=True)
            self._interpreter.allocate_tensors()
        except (RuntimeError, ValueError) as error:
            raise InvalidInputError(
                f"input {index} ({info.name!r}) cannot take shape {'x'.join(map(str, shape))}: "
                f"{litert_reason(error)}"
            ) from None
        self._inputs = self._interpreter.get_input_details()
        self._outputs = self._interpreter.get_output_details()

    def compute(self) -> None:
        """Run the interpreter on the inputs (all of them: it may hold an earlier run's)."""
        check_all_set(self._graph.inputs, self._given)
        try:
            self._interpreter.invoke()
        except (RuntimeError, ValueError) as error:
            raise BackendError(f"LiteRT inference failed: {litert_reason(error)}") from None
        self._computed = True

    def get_output(self, index: int) -> npt.NDArray[np.generic]:
        """A copy of output ``index`` of the last compute."""
        check_index(index, self._graph.outputs, "output")
        if not self._computed:
            raise InvalidInputError("get_output before compute")
        output: npt.NDArray[np.generic] = self._interpreter.get_tensor(
            self._outputs[index]["index"]
        )
        return output


class LiteRtGraph:
    """A TFLite model's bytes and declared tensors; every context gets a fresh interpreter."""

    def __init__(self, model: bytes, threads: int | None) -> None:
        self._model = model
        self._threads = threads
        first = _interpreter(model, threads)
        self.inputs = tuple(_info(d) for d in first.get_input_details())
        self.outputs = tuple(_info(d) for d in first.get_output_details())
        refused = [
            f"{kind} {i} is {np.dtype(d['dtype']).name}"
            for kind, details in (("input", first.get_input_details()),
                                  ("output", first.get_output_details()))
            for i, d in enumerate(details)
            if np.dtype(d["dtype"]).name not in _DTYPES
        ]  # fmt: skip
        if refused:
            raise UnsupportedError(f"LiteRT model has tensors wasi-nn cannot carry: {refused[0]}")
        # Interpreters free for a new context: the one made to check the model, then those of
        # contexts that are gone (building one costs ms: allocation, the XNNPACK delegate).
        self._free: list[Any] = [first]
        self._lock = threading.Lock()

    def init_context(self) -> LiteRtContext:
        """A context with its own interpreter (a free one, else a new one)."""
        with self._lock:
            interpreter = self._free.pop() if self._free else None
        if interpreter is None:
            interpreter = _interpreter(self._model, self._threads)
        use = _Use()
        context = LiteRtContext(self, interpreter, use)
        weakref.finalize(context, self._release, interpreter, use)
        return context

    def _release(self, interpreter: Any, use: _Use) -> None:
        """Take back the interpreter of a context that is gone, unless it was resized."""
        with self._lock:
            if not use.resized and len(self._free) < _FREE_INTERPRETERS:
                self._free.append(interpreter)


class _Use:
    """What a context did to its interpreter that rules out reusing it."""

    resized = False


def _interpreter(model: bytes, threads: int | None) -> Any:
    """A LiteRT interpreter for ``model`` with its tensors allocated."""
    try:
        interpreter = Interpreter(model_content=model, num_threads=threads)
        interpreter.allocate_tensors()
    except (RuntimeError, ValueError) as error:
        hint = switch_hint(GraphEncoding.TENSORFLOWLITE, "litert")
        raise BackendError(f"LiteRT cannot load the tensorflowlite model: {litert_reason(error)}"
                           f"{hint}") from None  # fmt: skip
    return interpreter


class LiteRtBackend:
    """Loads TensorFlow Lite models with ``ai_edge_litert.interpreter.Interpreter``."""

    name = "litert"
    encodings = frozenset({GraphEncoding.TENSORFLOWLITE})

    @property
    def version(self) -> str:
        """The ai-edge-litert version."""
        return str(getattr(ai_edge_litert, "__version__", "unknown"))

    @property
    def devices(self) -> tuple[str, ...]:
        """LiteRT runs on the CPU here (its GPU and NPU delegates are not wired up)."""
        return ("CPU",)

    def load(
        self,
        builders: Sequence[bytes],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        options: BackendOptions = DEFAULT_OPTIONS,
    ) -> LiteRtGraph:
        """Check the single TFLite builder by building an interpreter from it."""
        reads = GraphEncoding.TENSORFLOWLITE
        model = single_cpu_model(self.name, builders, encoding, target, reads)
        return LiteRtGraph(model, options.threads)


def create() -> LiteRtBackend:
    """The backend instance the registry shares."""
    return LiteRtBackend()
