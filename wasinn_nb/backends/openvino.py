"""OpenVINO backend: IR (xml + weights), ONNX, TensorFlow Lite, TensorFlow, and PyTorch via convert.

f32 models are compiled with ``INFERENCE_PRECISION_HINT=f32`` so results match the reference
(OpenVINO would otherwise pick bf16 on CPUs that have it).

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
  builtin are refused by :func:`~wasinn_nb.backends.model_safety.check_torchscript_records`.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import openvino as ov

from wasinn_nb.backends._common import check_index, check_input
from wasinn_nb.backends.base import TensorInfo
from wasinn_nb.backends.model_safety import check_onnx, check_torchscript_records
from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding
from wasinn_nb.errors import (
    BackendError,
    InvalidInputError,
    UnsupportedError,
    WasinnError,
    first_line,
)

__all__ = ["OpenVinoBackend", "create", "sniff_encoding"]

_DEVICES = {
    ExecutionTarget.CPU: "CPU",
    ExecutionTarget.GPU: "GPU",
    ExecutionTarget.TPU: "NPU",
    ExecutionTarget.AUTO: "AUTO",
}
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


_LOCATION_LINE = re.compile(r"^(Exception from \S+:\d+:|Check '.*' failed at \S+:\d+:)$")


def _reason(error: BaseException) -> str:
    r"""The first line of an OpenVINO error that is not a source location.

    Example:
        >>> _reason(RuntimeError("Exception from src/core.cpp:84:\nIncorrect weights in bin file!"))
        'Incorrect weights in bin file!'
    """
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return next((line for line in lines if not _LOCATION_LINE.match(line)), first_line(error))


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

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        """Bind input ``index`` (the array is shared with OpenVINO, not copied)."""
        info = check_index(index, self._graph.inputs, "input")
        check_input(index, info, tensor)
        self._request.set_input_tensor(
            index, ov.Tensor(np.ascontiguousarray(tensor), shared_memory=True)
        )

    def compute(self) -> None:
        """Run the model."""
        try:
            self._request.infer()
        except RuntimeError as error:
            raise BackendError(f"OpenVINO inference failed: {_reason(error)}") from None
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

    def __init__(self) -> None:
        self.core = ov.Core()

    @property
    def version(self) -> str:
        """The OpenVINO runtime version."""
        return str(ov.get_version())

    @property
    def devices(self) -> tuple[str, ...]:
        """Devices OpenVINO can use on this machine (e.g. ``('CPU',)``)."""
        return tuple(self.core.available_devices)

    def load(
        self, builders: Sequence[bytes], encoding: GraphEncoding, target: ExecutionTarget
    ) -> OpenVinoGraph:
        """Read and compile a model for ``target``."""
        device = self._device(target)
        if encoding is GraphEncoding.AUTODETECT:
            encoding = sniff_encoding(builders[0] if builders else b"")
        model = self._read(builders, encoding)
        config = {"INFERENCE_PRECISION_HINT": "f32"} if device in ("CPU", "GPU") else {}
        try:
            return OpenVinoGraph(self.core.compile_model(model, device, config))
        except RuntimeError as error:
            raise BackendError(f"OpenVINO cannot compile the model: {_reason(error)}") from None

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
            if encoding is GraphEncoding.PYTORCH:
                return _convert_torchscript(builders[0])
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
            raise BackendError(f"OpenVINO cannot read the {kind} model: {_reason(error)}") from None

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


def _convert_torchscript(model: bytes) -> Any:
    try:
        import torch
    except ImportError:
        raise UnsupportedError("pytorch models need torch: pip install torch") from None
    import io

    reader = torch._C.PyTorchFileReader(io.BytesIO(model))  # the reader torch.jit.load uses
    check_torchscript_records(
        (name, bytes(reader.get_record(name))) for name in reader.get_all_records()
    )
    module = torch.jit.load(io.BytesIO(model), map_location="cpu")
    return ov.convert_model(module)


def create() -> OpenVinoBackend:
    """The backend instance the registry shares."""
    return OpenVinoBackend()
