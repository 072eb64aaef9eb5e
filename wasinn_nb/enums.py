"""Enumerations shared by every layer: element types, layouts, colours, resizing, wasi-nn enums.

Every enum has a ``parse`` classmethod that accepts the spellings users type (case-insensitive,
with aliases such as ``f32`` for ``fp32``) and raises :class:`~wasinn_nb.errors.SpecError` with
the accepted values when it does not recognise one.
"""

from __future__ import annotations

import enum
from typing import TypeVar

import numpy as np

from wasinn_nb.errors import SpecError

__all__ = [
    "ColorOrder",
    "DType",
    "ExecutionTarget",
    "GraphEncoding",
    "Interpolation",
    "Layout",
    "NnErrno",
    "ResizeMode",
]

_E = TypeVar("_E", bound="_ParsableEnum")


class _ParsableEnum(enum.Enum):
    """An enum whose members are parsed from their value or any listed alias."""

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {}

    @classmethod
    def parse(cls: type[_E], text: str | _E) -> _E:
        """Return the member named by ``text`` (a value or alias, any case)."""
        if isinstance(text, cls):
            return text
        key = str(text).strip().lower()
        key = cls._aliases().get(key, key)
        for member in cls:
            if member.value == key:
                return member
        choices = ", ".join(m.value for m in cls)
        raise SpecError(f"unknown {cls._label()} {text!r} (choose from: {choices})")

    @classmethod
    def _label(cls) -> str:
        return cls.__name__.lower()

    def __str__(self) -> str:
        return str(self.value)


class DType(_ParsableEnum):
    """Element type of a tensor, spelled as in WasmEdge tensor names (``fp32`` or ``f32``)."""

    FP16 = "fp16"
    FP32 = "fp32"
    FP64 = "fp64"
    U8 = "u8"
    I8 = "i8"
    I32 = "i32"
    I64 = "i64"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {
            "f16": "fp16", "float16": "fp16", "half": "fp16",
            "f32": "fp32", "float32": "fp32", "float": "fp32",
            "f64": "fp64", "float64": "fp64", "double": "fp64",
            "uint8": "u8", "int8": "i8", "int32": "i32", "int64": "i64",
        }  # fmt: skip

    @classmethod
    def _label(cls) -> str:
        return "tensor type"

    @classmethod
    def from_numpy(cls, dtype: np.dtype[np.generic] | type[np.generic]) -> DType:
        """Return the member for a numpy dtype (``np.float32`` → ``DType.FP32``)."""
        name = np.dtype(dtype).name
        return cls.parse(name)

    @property
    def numpy(self) -> np.dtype[np.generic]:
        """The little-endian numpy dtype of this element type."""
        little: np.dtype[np.generic] = np.dtype(_NUMPY[self]).newbyteorder("<")
        return little

    @property
    def short(self) -> str:
        """The short spelling used in tensor file names (``f32``, ``u8``)."""
        return self.value.replace("fp", "f")

    @property
    def is_float(self) -> bool:
        """Whether this is a floating-point type."""
        return self in (DType.FP16, DType.FP32, DType.FP64)


_NUMPY: dict[DType, str] = {
    DType.FP16: "float16",
    DType.FP32: "float32",
    DType.FP64: "float64",
    DType.U8: "uint8",
    DType.I8: "int8",
    DType.I32: "int32",
    DType.I64: "int64",
}


class Layout(_ParsableEnum):
    """Memory layout of an image tensor: channels first (NCHW) or last (NHWC)."""

    NCHW = "nchw"
    NHWC = "nhwc"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"chw": "nchw", "hwc": "nhwc", "planar": "nchw", "interleaved": "nhwc"}


class ColorOrder(_ParsableEnum):
    """Channel order of a colour image. OpenCV decodes to BGR; most ONNX models want RGB."""

    BGR = "bgr"
    RGB = "rgb"

    @classmethod
    def _label(cls) -> str:
        return "colour order"


class ResizeMode(_ParsableEnum):
    """How an image is fitted to the tensor's height and width.

    ``stretch`` scales each axis independently (aspect ratio is not kept), ``letterbox`` scales to
    fit inside and pads the rest, ``crop`` scales to cover and cuts the centre out.
    """

    STRETCH = "stretch"
    LETTERBOX = "letterbox"
    CROP = "crop"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {
            "center-crop": "crop",
            "centre-crop": "crop",
            "pad": "letterbox",
            "fit": "letterbox",
        }

    @classmethod
    def _label(cls) -> str:
        return "resize mode"


class Interpolation(_ParsableEnum):
    """Resampling filter used when resizing (OpenCV's ``INTER_*`` flags)."""

    NEAREST = "nearest"
    LINEAR = "linear"
    CUBIC = "cubic"
    AREA = "area"
    LANCZOS = "lanczos"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"bilinear": "linear", "bicubic": "cubic", "lanczos4": "lanczos"}

    @property
    def cv2_flag(self) -> int:
        """The matching ``cv2.INTER_*`` constant (values are stable across OpenCV releases)."""
        return {"nearest": 0, "linear": 1, "cubic": 2, "area": 3, "lanczos": 4}[self.value]


_I = TypeVar("_I", bound=enum.IntEnum)


def _parse_int_enum(cls: type[_I], name: str | _I, label: str) -> _I:
    if isinstance(name, cls):
        return name
    try:
        return cls[str(name).strip().upper()]
    except KeyError:
        choices = ", ".join(m.name.lower() for m in cls)
        raise SpecError(f"unknown {label} {name!r} (choose from: {choices})") from None


class GraphEncoding(enum.IntEnum):
    """Model formats, numbered as in the witx spec and WasmEdge (``ggml`` is WasmEdge's 6)."""

    OPENVINO = 0
    ONNX = 1
    TENSORFLOW = 2
    PYTORCH = 3
    TENSORFLOWLITE = 4
    AUTODETECT = 5
    GGML = 6

    @classmethod
    def parse(cls, name: str | GraphEncoding) -> GraphEncoding:
        """Parse a name as WasmEdge spells it on the command line (any case)."""
        return _parse_int_enum(cls, name, "encoding")


class ExecutionTarget(enum.IntEnum):
    """Devices a graph may run on; ``AUTO`` lets the backend choose."""

    CPU = 0
    GPU = 1
    TPU = 2
    AUTO = 3

    @classmethod
    def parse(cls, name: str | ExecutionTarget) -> ExecutionTarget:
        """Parse ``cpu``/``gpu``/``tpu``/``auto`` (any case)."""
        return _parse_int_enum(cls, name, "target")


class NnErrno(enum.IntEnum):
    """Error numbers returned to the guest (witx 2023 numbering plus WasmEdge's 100-103)."""

    SUCCESS = 0
    INVALID_ARGUMENT = 1
    INVALID_ENCODING = 2
    MISSING_MEMORY = 3
    BUSY = 4
    RUNTIME_ERROR = 5
    UNSUPPORTED_OPERATION = 6
    TOO_LARGE = 7
    NOT_FOUND = 8
    END_OF_SEQUENCE = 100
    CONTEXT_FULL = 101
    PROMPT_TOO_LONG = 102
    MODEL_NOT_FOUND = 103
