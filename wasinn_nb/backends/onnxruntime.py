"""ONNX Runtime backend: ONNX models, with execution providers chosen explicitly by target.

Models are loaded only from their bytes: :func:`~wasinn_nb.backends.model_safety.check_onnx`
refuses external data first (ONNX Runtime would read it from the host's working directory), and
the session is told the bytes are ONNX (never the ORT flatbuffer format). ONNX Runtime's own log
is set to errors only, so its warnings do not flood stderr.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort

from wasinn_nb.backends._common import check_all_set, check_index, check_input
from wasinn_nb.backends._reason import onnxruntime_reason
from wasinn_nb.backends.base import DEFAULT_OPTIONS, TensorInfo
from wasinn_nb.backends.compiled_cache import (
    CompiledCache,
    cache_key,
    default_model_cache,
    this_cpu,
)
from wasinn_nb.backends.model_safety import check_onnx
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding
from wasinn_nb.errors import BackendError, InvalidInputError, UnsupportedError

__all__ = ["OnnxRuntimeBackend", "create"]

_TYPES = {
    "tensor(float16)": DType.FP16,
    "tensor(float)": DType.FP32,
    "tensor(double)": DType.FP64,
    "tensor(uint8)": DType.U8,
    "tensor(int8)": DType.I8,
    "tensor(int32)": DType.I32,
    "tensor(int64)": DType.I64,
}
_CPU = "CPUExecutionProvider"
# ONNX Runtime severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal. Its errors reach the
# user as the one line of a BackendError; logged as well, they would be raw stderr lines.
_FATAL_ONLY = 4


def _info(arg: Any) -> TensorInfo:
    dims = tuple(d if isinstance(d, int) else None for d in arg.shape)
    return TensorInfo(arg.name, _TYPES.get(arg.type), dims)


class OnnxRuntimeContext:
    """Inputs bound by index, run as one ``session.run``."""

    def __init__(self, graph: OnnxRuntimeGraph) -> None:
        self._graph = graph
        self._feeds: dict[str, npt.NDArray[np.generic]] = {}
        self._outputs: list[npt.NDArray[np.generic]] | None = None
        self._options = ort.RunOptions()
        self._options.log_severity_level = _FATAL_ONLY  # a cancelled run logs an error

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        """Bind input ``index``."""
        info = check_index(index, self._graph.inputs, "input")
        check_input(index, info, tensor)
        self._feeds[info.name] = tensor

    def compute(self) -> None:
        """Run the session on the bound inputs."""
        inputs = self._graph.inputs
        check_all_set(inputs, {n for n, info in enumerate(inputs) if info.name in self._feeds})
        try:
            self._outputs = self._graph.session.run(None, self._feeds, self._options)
        except Exception as error:  # onnxruntime raises its own untyped exception classes
            if self._options.terminate:
                raise BackendError("ONNX Runtime inference was cancelled") from None
            raise BackendError(
                f"ONNX Runtime inference failed: {onnxruntime_reason(error)}"
            ) from None
        finally:
            self._options.terminate = False  # reset after, so an early cancel is not lost

    def cancel(self) -> None:
        """Stop a ``compute`` in progress (from another thread); it raises BackendError."""
        self._options.terminate = True

    def get_output(self, index: int) -> npt.NDArray[np.generic]:
        """Output ``index`` of the last run."""
        check_index(index, self._graph.outputs, "output")
        if self._outputs is None:
            raise InvalidInputError("get_output before compute")
        return np.asarray(self._outputs[index])


class OnnxRuntimeGraph:
    """An ``onnxruntime.InferenceSession``."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inputs = tuple(_info(a) for a in session.get_inputs())
        self.outputs = tuple(_info(a) for a in session.get_outputs())

    def init_context(self) -> OnnxRuntimeContext:
        """A new context over the shared session."""
        return OnnxRuntimeContext(self)


class OnnxRuntimeBackend:
    """Creates ONNX Runtime sessions with explicit providers."""

    name = "onnxruntime"
    encodings = frozenset({GraphEncoding.ONNX})

    def __init__(self, cache: CompiledCache | None = None) -> None:
        #: Where optimized models are kept between processes (None: optimize every time).
        self.cache = cache

    @property
    def version(self) -> str:
        """The ONNX Runtime version."""
        return str(ort.__version__)

    @property
    def devices(self) -> tuple[str, ...]:
        """The execution providers this ONNX Runtime build offers."""
        return tuple(ort.get_available_providers())

    def providers(self, target: ExecutionTarget) -> list[str]:
        """The providers for ``target``: CPU only, accelerators only (GPU), or all (AUTO)."""
        accelerators = [p for p in self.devices if p != _CPU]
        if target is ExecutionTarget.CPU:
            return [_CPU]
        if target is ExecutionTarget.AUTO:
            return [*accelerators, _CPU]
        if target is ExecutionTarget.GPU and accelerators:
            return accelerators
        raise UnsupportedError(
            f"target {target.name.lower()} needs a GPU provider; this ONNX Runtime has "
            f"{', '.join(self.devices)}"
        )

    def _chosen_providers(
        self, target: ExecutionTarget, requested: tuple[str, ...] | None
    ) -> list[str]:
        if requested is None:
            return self.providers(target)
        missing = [p for p in requested if p not in self.devices]
        if missing:
            raise UnsupportedError(
                f"ONNX Runtime has no provider {missing[0]!r} here (it has "
                f"{', '.join(self.devices)})"
            )
        return list(requested)

    def load(
        self,
        builders: Sequence[bytes],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        options: BackendOptions = DEFAULT_OPTIONS,
    ) -> OnnxRuntimeGraph:
        """Create a session from the single ONNX builder (threads and providers from options)."""
        if encoding is not GraphEncoding.ONNX:
            raise UnsupportedError(f"onnxruntime cannot read {encoding.name.lower()} models")
        if len(builders) != 1:
            raise InvalidInputError(f"onnx models take 1 builder, got {len(builders)}")
        providers = self._chosen_providers(target, options.providers)
        check_onnx(builders[0])
        session_options = ort.SessionOptions()
        session_options.log_severity_level = _FATAL_ONLY
        session_options.add_session_config_entry("session.load_model_format", "ONNX")
        if options.threads is not None:
            session_options.intra_op_num_threads = options.threads
        key = None
        if self.cache is not None:
            settings = {"providers": providers, "threads": options.threads, "cpu": this_cpu()}
            key = cache_key(self.name, self.version, builders, settings)
            optimized = self._cached(key, session_options, providers)
            if optimized is not None:
                return OnnxRuntimeGraph(optimized)
        with tempfile.TemporaryDirectory(prefix="wasinn-") as folder:
            written = Path(folder) / "optimized.onnx"
            if key is not None:
                session_options.optimized_model_filepath = str(written)
            try:
                session = ort.InferenceSession(builders[0], session_options, providers=providers)
            except Exception as error:  # onnxruntime raises its own untyped exception classes
                raise BackendError(
                    f"ONNX Runtime cannot load the model: {onnxruntime_reason(error)}"
                ) from None
            if key is not None and self.cache is not None and written.is_file():
                self.cache.put(key, written.read_bytes())
        return OnnxRuntimeGraph(session)

    def _cached(self, key: str, session_options: Any, providers: list[str]) -> Any:
        """A session on the model this backend optimized earlier (any process), if cached.

        The optimized model was made from bytes that passed ``check_onnx``; it is loaded with
        graph optimizations off (they are done).
        """
        blob = self.cache.get(key) if self.cache is not None else None
        if blob is None:
            return None
        session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            return ort.InferenceSession(blob, session_options, providers=providers)
        except Exception:  # not a model this ONNX Runtime can load: optimize again
            session_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            if self.cache is not None:
                self.cache.discard(key)
            return None


def create() -> OnnxRuntimeBackend:
    """The backend instance the registry shares (with the on-disk optimized-model cache)."""
    return OnnxRuntimeBackend(default_model_cache())
