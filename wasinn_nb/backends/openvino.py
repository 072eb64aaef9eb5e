"""OpenVINO backend: IR (xml + weights), ONNX, TensorFlow Lite, TensorFlow, and PyTorch via convert.

Models are compiled with ``INFERENCE_PRECISION_HINT=f32`` so results match the reference
(OpenVINO would otherwise pick bf16 on CPUs that have it); ``BackendOptions`` can ask for
``bf16``, ``f16`` or ``auto``, a performance hint and a thread count.

Models are read only from their bytes, never from files they name:

* ONNX (and autodetected ONNX) goes through
  :func:`~wasinn_nb.backends.model_safety.check_onnx` first, which refuses external data.
* ONNX, TensorFlow Lite and TensorFlow bytes are written alone into a fresh temporary folder and
  read from there (OpenVINO confines ONNX external data to the model's folder as well).
* IR must be XML, and is read from ``model.xml`` and ``model.bin`` (the second builder, or
  empty) in a fresh temporary folder. OpenVINO's read-from-memory call would try every
  frontend (ONNX bytes passed as ``openvino`` loaded, external data resolved against the
  working directory) and would take the weights from a file named ``.bin`` in the working
  directory in preference to the weights it was given (OpenVINO 2026.4).
* TorchScript runs code when loaded (``__setstate__``): archives that call a file-opening
  operator are refused before and after loading (:mod:`wasinn_nb.backends._torchscript`).

TorchScript declares no input shapes, and ``ov.convert_model`` without an example input makes
inputs of dynamic rank, which the CPU plugin refuses to compile. So a PyTorch model is converted
when a context first computes, with the shapes and dtypes of the inputs it was given as the
example and as static input shapes, and compiled once per such combination (cached on the
graph). The archive goes through the same file-operator checks as the pytorch backend's.
"""

from __future__ import annotations

import io
import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import openvino as ov

from wasinn_nb.backends._common import check_all_set, check_index, check_input
from wasinn_nb.backends._reason import openvino_reason, switch_hint
from wasinn_nb.backends._torchscript import forward_inputs, import_torch, load_torchscript
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
from wasinn_nb.errors import (
    BackendError,
    InvalidInputError,
    UnsupportedError,
    WasinnError,
)

__all__ = ["OpenVinoBackend", "create", "sniff_encoding"]

_DEVICES = {
    ExecutionTarget.CPU: "CPU",
    ExecutionTarget.GPU: "GPU",
    ExecutionTarget.TPU: "NPU",
    ExecutionTarget.AUTO: "AUTO",
}
#: A quoted path of the temporary file a model is written to for ``read_model``.
_TEMP_FILE = re.compile(r' ?"[^"]*wasinn-[^"/]*/model\.\w+"')
_SUFFIX = {
    GraphEncoding.ONNX: ".onnx",
    GraphEncoding.TENSORFLOWLITE: ".tflite",
    GraphEncoding.TENSORFLOW: ".pb",
}


def sniff_encoding(model: bytes) -> GraphEncoding:
    """Guess a model's format from its first bytes (for the ``autodetect`` encoding).

    Example:
        >>> sniff_encoding(b"<?xml version='1.0'?><net name='x'>").name
        'OPENVINO'
    """
    if _is_xml(model):
        return GraphEncoding.OPENVINO
    if model[4:8] == b"TFL3":
        return GraphEncoding.TENSORFLOWLITE
    if model.startswith(b"PK\x03\x04"):
        return GraphEncoding.PYTORCH
    if model[:1] == b"\x08":  # protobuf field 1 varint: ModelProto.ir_version
        return GraphEncoding.ONNX
    if model[:1] == b"\x0a":  # protobuf field 1 message: GraphDef.node
        return GraphEncoding.TENSORFLOW
    raise UnsupportedError("autodetect: the model bytes are not a format OpenVINO reads")


def _is_xml(model: bytes) -> bool:
    """Whether ``model`` starts like an IR xml document (what :func:`sniff_encoding` checks)."""
    return model[:64].lstrip().startswith((b"<?xml", b"<net"))


def _dtype(element_type: Any) -> DType | None:
    try:
        return DType.from_numpy(element_type.to_dtype())
    except Exception:
        return None


def _info(port: Any) -> TensorInfo:
    shape = port.get_partial_shape()
    dims = (
        tuple(d.get_length() if d.is_static else None for d in shape)
        if shape.rank.is_static
        else ()
    )
    names = port.get_names()
    return TensorInfo(port.get_any_name() if names else "", _dtype(port.get_element_type()), dims)


class OpenVinoContext:
    """An OpenVINO infer request."""

    def __init__(self, graph: OpenVinoGraph) -> None:
        self._graph = graph
        self._request = graph.compiled.create_infer_request()
        self._computed = False
        self._inputs: dict[int, npt.NDArray[np.generic]] = {}

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        """Bind input ``index`` (the array is shared with OpenVINO, not copied)."""
        info = check_index(index, self._graph.inputs, "input")
        check_input(index, info, tensor)
        array = np.ascontiguousarray(tensor)
        self._request.set_input_tensor(index, ov.Tensor(array, shared_memory=True))
        # The request keeps only a pointer into the array: keep the array alive as long.
        self._inputs[index] = array

    def compute(self) -> None:
        """Run the model on the bound inputs (all of them: OpenVINO would read unset memory)."""
        check_all_set(self._graph.inputs, self._inputs)
        try:
            self._request.infer()
        except RuntimeError as error:
            raise BackendError(f"OpenVINO inference failed: {openvino_reason(error)}") from None
        self._computed = True

    def cancel(self) -> None:
        """Ask OpenVINO to stop a ``compute`` in progress (from another thread).

        OpenVINO stops between operations; a single long operation (a ``Loop`` node) runs on.
        """
        self._request.cancel()

    def get_output(self, index: int) -> npt.NDArray[np.generic]:
        """Output ``index``: a view of OpenVINO's buffer, valid until the next compute."""
        check_index(index, self._graph.outputs, "output")
        if not self._computed:
            raise InvalidInputError("get_output before compute")
        return np.asarray(self._request.get_output_tensor(index).data)


class OpenVinoGraph:
    """A compiled OpenVINO model."""

    def __init__(self, compiled: Any) -> None:
        self.compiled = compiled
        self.inputs = tuple(_info(p) for p in compiled.inputs)
        self.outputs = tuple(_info(p) for p in compiled.outputs)

    def init_context(self) -> OpenVinoContext:
        """A new infer request."""
        return OpenVinoContext(self)


class OpenVinoBackend:
    """Loads models with ``openvino.Core``."""

    name = "openvino"
    encodings = frozenset(
        {GraphEncoding.OPENVINO, GraphEncoding.ONNX, GraphEncoding.TENSORFLOWLITE,
         GraphEncoding.TENSORFLOW, GraphEncoding.PYTORCH, GraphEncoding.AUTODETECT}
    )  # fmt: skip

    def __init__(self, cache: CompiledCache | None = None) -> None:
        self.core = ov.Core()
        #: Where compiled models are kept between processes (None: compile every time).
        self.cache = cache

    @property
    def version(self) -> str:
        """The OpenVINO runtime version."""
        return str(ov.get_version())

    @property
    def devices(self) -> tuple[str, ...]:
        """Devices OpenVINO can use on this machine (e.g. ``('CPU',)``)."""
        return tuple(self.core.available_devices)

    def load(
        self,
        builders: Sequence[bytes],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        options: BackendOptions = DEFAULT_OPTIONS,
    ) -> OpenVinoGraph | OpenVinoTorchGraph:
        """Read and compile a model for ``target`` (a PyTorch model: on first compute)."""
        device = self._device(target)
        if encoding is GraphEncoding.AUTODETECT:
            encoding = sniff_encoding(builders[0] if builders else b"")
        if encoding is GraphEncoding.PYTORCH:
            if len(builders) != 1:
                raise InvalidInputError(f"pytorch models take 1 builder, got {len(builders)}")
            module = load_torchscript(bytes(builders[0]))
            return OpenVinoTorchGraph(self, module, device, options)
        key = self._cache_key(builders, encoding, device, options)
        graph = self._import(key, device, options) if key is not None else None
        if graph is None:
            graph = self.compile(self._read(builders, encoding), device, encoding, options)
            if key is not None:
                self._export(key, graph)
        return graph

    def _cache_key(
        self,
        builders: Sequence[bytes],
        encoding: GraphEncoding,
        device: str,
        options: BackendOptions,
    ) -> str | None:
        if self.cache is None:
            return None
        settings = {"encoding": encoding.name, "device": device, "cpu": this_cpu(),
                    **_config(device, options)}  # fmt: skip
        return cache_key(self.name, self.version, builders, settings)

    def _import(self, key: str, device: str, options: BackendOptions) -> OpenVinoGraph | None:
        """The graph compiled earlier (by any process) under ``key``, if the cache has it."""
        cache = self.cache
        blob = cache.get(key) if cache is not None else None
        if blob is None:
            return None
        try:
            return OpenVinoGraph(self.core.import_model(io.BytesIO(blob), device,
                                                        _config(device, options)))  # fmt: skip
        except Exception:  # another OpenVINO build's blob, or one it cannot read: compile
            if cache is not None:
                cache.discard(key)
            return None

    def _export(self, key: str, graph: OpenVinoGraph) -> None:
        if self.cache is None:
            return
        stream = io.BytesIO()
        try:
            graph.compiled.export_model(stream)
        except Exception:  # a device that cannot export: nothing to cache
            return
        self.cache.put(key, stream.getvalue())

    def compile(
        self, model: Any, device: str, encoding: GraphEncoding, options: BackendOptions
    ) -> OpenVinoGraph:
        """Compile a read or converted ``model`` for ``device`` with ``options``."""
        try:
            return OpenVinoGraph(self.core.compile_model(model, device, _config(device, options)))
        except RuntimeError as error:
            raise BackendError(
                f"OpenVINO cannot compile the model: {openvino_reason(error)}"
                f"{switch_hint(encoding, self.name)}"
            ) from None

    def _device(self, target: ExecutionTarget) -> str:
        device = _DEVICES[target]
        if device != "AUTO" and not any(d.split(".")[0] == device for d in self.devices):
            raise UnsupportedError(
                f"target {target.name.lower()} needs an OpenVINO {device} device; this machine "
                f"has {', '.join(self.devices)}"
            )
        return device

    def _read(self, builders: Sequence[bytes], encoding: GraphEncoding) -> Any:
        try:
            if encoding is GraphEncoding.OPENVINO:
                return self._read_ir(builders)
            if len(builders) != 1:
                raise InvalidInputError(
                    f"{encoding.name.lower()} models take 1 builder, got {len(builders)}"
                )
            if encoding is GraphEncoding.ONNX:
                check_onnx(builders[0])
            with tempfile.TemporaryDirectory(prefix="wasinn-") as folder:
                path = Path(folder) / f"model{_SUFFIX[encoding]}"
                path.write_bytes(builders[0])
                return self.core.read_model(str(path))
        except WasinnError:
            raise
        except Exception as error:  # RuntimeError, or openvino's GeneralFailure & co.
            kind = encoding.name.lower()
            reason = _TEMP_FILE.sub("", openvino_reason(error))  # the guest never saw that file
            raise BackendError(
                f"OpenVINO cannot read the {kind} model: {reason}{switch_hint(encoding, self.name)}"
            ) from None

    def _read_ir(self, builders: Sequence[bytes]) -> Any:
        if len(builders) not in (1, 2):
            raise InvalidInputError(
                f"OpenVINO IR takes 2 builders (xml, weights), got {len(builders)}"
            )
        if not _is_xml(builders[0]):
            # From memory, OpenVINO tries every frontend: ONNX bytes would load, external data
            # resolved against the working directory.
            raise UnsupportedError(
                "OpenVINO IR must be XML (starting <?xml or <net); other formats take their own "
                "encoding"
            )
        # Read from files in a private folder: from memory, OpenVINO prefers a file named
        # ".bin" in the working directory to the weights it is given.
        with tempfile.TemporaryDirectory(prefix="wasinn-") as folder:
            xml, weights = Path(folder) / "model.xml", Path(folder) / "model.bin"
            xml.write_bytes(builders[0])
            weights.write_bytes(builders[1] if len(builders) == 2 else b"")
            return self.core.read_model(str(xml), str(weights), {"ENABLE_MMAP": False})


class OpenVinoTorchContext:
    """Inputs kept until compute, then run on the graph compiled for their shapes."""

    def __init__(self, graph: OpenVinoTorchGraph) -> None:
        self._graph = graph
        self._arrays: dict[int, npt.NDArray[np.generic]] = {}
        self._requests: dict[int, OpenVinoContext] = {}  # by id of the compiled graph
        self._last: OpenVinoContext | None = None

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        """Bind input ``index`` (any shape; the dtype must be one OpenVINO has)."""
        info = check_index(index, self._graph.inputs, "input")
        if _dtype_of(tensor.dtype) is None:
            raise InvalidInputError(f"input {index} ({info.name!r}): OpenVINO has no "
                                    f"{tensor.dtype.name} type")  # fmt: skip
        self._arrays[index] = np.array(tensor, order="C", copy=True)
        self._last = None

    def compute(self) -> None:
        """Convert and compile for these input shapes (once per graph), then infer."""
        check_all_set(self._graph.inputs, self._arrays)
        arrays = [self._arrays[n] for n in range(len(self._graph.inputs))]
        compiled = self._graph.compiled_for(arrays)
        request = self._requests.get(id(compiled))
        if request is None:  # one infer request per compiled shape, reused by later computes
            request = self._requests[id(compiled)] = compiled.init_context()
        for index, array in enumerate(arrays):
            request.set_input(index, array)
        request.compute()
        self._last = request

    def get_output(self, index: int) -> npt.NDArray[np.generic]:
        """Output ``index`` of the last compute."""
        if self._last is None:
            raise InvalidInputError("get_output before compute")
        return self._last.get_output(index)


def _dtype_of(dtype: np.dtype[Any]) -> Any:
    try:
        return ov.Type(dtype)
    except (RuntimeError, TypeError, KeyError):
        return None


class OpenVinoTorchGraph:
    """A TorchScript module that OpenVINO converts and compiles once per input signature."""

    outputs: tuple[TensorInfo, ...] = ()  # known once converted

    def __init__(
        self, backend: OpenVinoBackend, module: Any, device: str, options: BackendOptions
    ) -> None:
        self.inputs = forward_inputs(module)
        self._backend = backend
        self._module = module
        self._device = device
        self._options = options
        self._compiled: dict[tuple[tuple[tuple[int, ...], str], ...], OpenVinoGraph] = {}
        self._lock = threading.Lock()

    def compiled_for(self, arrays: Sequence[npt.NDArray[np.generic]]) -> OpenVinoGraph:
        """The model compiled for inputs shaped and typed like ``arrays``."""
        key = tuple((tuple(a.shape), a.dtype.str) for a in arrays)
        with self._lock:
            if key not in self._compiled:
                self._compiled[key] = self._convert(arrays)
            return self._compiled[key]

    def _convert(self, arrays: Sequence[npt.NDArray[np.generic]]) -> OpenVinoGraph:
        torch = import_torch()
        examples = tuple(torch.from_numpy(a.copy()) for a in arrays)
        shapes = [(ov.PartialShape(list(a.shape)), ov.Type(a.dtype)) for a in arrays]
        try:
            model = ov.convert_model(self._module, example_input=examples, input=shapes)
        except Exception as error:  # the PyTorch frontend raises several exception types
            signature = ", ".join(f"{'x'.join(map(str, a.shape))} {a.dtype.name}" for a in arrays)
            raise BackendError(
                f"OpenVINO cannot convert the pytorch model for inputs {signature}: "
                f"{openvino_reason(error)}{switch_hint(GraphEncoding.PYTORCH, 'openvino')}"
            ) from None
        return self._backend.compile(model, self._device, GraphEncoding.PYTORCH, self._options)

    def init_context(self) -> OpenVinoTorchContext:
        """A context that compiles (or reuses) the model for the shapes it is given."""
        return OpenVinoTorchContext(self)


def _config(device: str, options: BackendOptions) -> dict[str, Any]:
    """OpenVINO compile properties for ``options`` (f32, the exact default, unless asked).

    Example:
        >>> sorted(_config("CPU", BackendOptions(threads=1, performance_hint="throughput")))
        ['INFERENCE_NUM_THREADS', 'INFERENCE_PRECISION_HINT', 'PERFORMANCE_HINT']
        >>> _config("CPU", BackendOptions(precision="auto"))
        {}
    """
    config: dict[str, Any] = {}
    if device in ("CPU", "GPU") and options.precision != "auto":
        config["INFERENCE_PRECISION_HINT"] = options.precision
    if options.performance_hint is not None:
        config["PERFORMANCE_HINT"] = options.performance_hint.upper()
    if options.threads is not None and device == "CPU":
        config["INFERENCE_NUM_THREADS"] = options.threads
    return config


def create() -> OpenVinoBackend:
    """The backend instance the registry shares (with the on-disk compiled-model cache)."""
    return OpenVinoBackend(default_model_cache())
