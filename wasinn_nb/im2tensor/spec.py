"""`TensorSpec`: what tensor an image becomes, validated once, frozen afterwards."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wasinn_nb.enums import ColorOrder, DType, Interpolation, Layout, ResizeMode
from wasinn_nb.errors import SpecError

__all__ = ["MAX_SIDE", "TensorSpec", "parse_dims"]

#: Largest height or width accepted, so a typo cannot ask for a multi-gigabyte tensor.
MAX_SIDE = 16384

_DIMS = re.compile(r"^\s*(\d+)\s*x\s*(\d+)\s*x\s*(\d+)\s*x\s*([a-z0-9]+)\s*$", re.IGNORECASE)


def parse_dims(text: str) -> tuple[int, int, int, DType]:
    """Parse a WasmEdge-style dims string ``HxWxCxTYPE``.

    Args:
        text: For example ``"512x896x3xfp32"`` (``f32`` is accepted too).

    Returns:
        ``(height, width, channels, dtype)``.

    Raises:
        SpecError: If the string is not four ``x``-separated fields, a size is zero or too
            large, the channel count is not 1 or 3, or the type is unknown.

    Example:
        >>> parse_dims("512x896x3xfp32")
        (512, 896, 3, <DType.FP32: 'fp32'>)
    """
    match = _DIMS.match(text)
    if match is None:
        raise SpecError(
            f"bad dims {text!r}: expected HEIGHTxWIDTHxCHANNELSxTYPE, e.g. 512x896x3xfp32"
        )
    height, width, channels = (int(g) for g in match.groups()[:3])
    dtype = DType.parse(match.group(4))
    _check_size(height, width, channels)
    return height, width, channels, dtype


def _check_size(height: int, width: int, channels: int) -> None:
    for name, value in (("height", height), ("width", width)):
        if not 1 <= value <= MAX_SIDE:
            raise SpecError(f"{name} must be between 1 and {MAX_SIDE}, got {value}")
    if channels not in (1, 3):
        raise SpecError(f"channels must be 1 (grey) or 3 (colour), got {channels}")


def _per_channel(name: str, values: float | Iterable[float], channels: int) -> tuple[float, ...]:
    seq = (values,) if isinstance(values, (int, float)) else tuple(values)
    try:
        floats = tuple(float(v) for v in seq)
    except (TypeError, ValueError):
        raise SpecError(f"{name} must be numbers, got {seq!r}") from None
    if len(floats) == 1:
        floats *= channels
    if len(floats) != channels:
        raise SpecError(f"{name} needs 1 or {channels} values, got {len(floats)}")
    if not all(math.isfinite(v) for v in floats):
        raise SpecError(f"{name} values must be finite, got {floats}")
    return floats


@dataclass(frozen=True)
class TensorSpec:
    """The target tensor of an image conversion.

    The conversion runs these steps, always in this order:

    1. **decode** to 8-bit pixels in BGR order (OpenCV's order), or grey when ``channels == 1``;
    2. **resize** to ``height x width`` with ``resize`` mode and ``interpolation``; ``letterbox``
       pads with ``pad_value`` (a pixel value, 0-255);
    3. **colour**: reorder channels to ``color``;
    4. **normalize**: ``value = (pixel * scale - mean[c]) / std[c]``, with ``mean``/``std`` given
       in the *output* channel order;
    5. **layout**: ``NCHW`` (channels first) or ``NHWC``; then a leading batch axis of 1 if
       ``batch``;
    6. **cast** to ``dtype``; integer types are rounded and clipped to their range.

    The defaults (BGR, NCHW, fp32, 0-255 values) are what OpenVINO's road-segmentation-adas-0001
    takes, and what WasmEdge's ``im2tensor`` writes.

    Example:
        >>> spec = TensorSpec.from_dims("224x224x3xf32", color="rgb", layout="nhwc")
        >>> spec.shape, spec.nbytes
        ((1, 224, 224, 3), 602112)
        >>> spec.dims
        '224x224x3xf32'
    """

    height: int
    width: int
    channels: int = 3
    dtype: DType = DType.FP32
    color: ColorOrder = ColorOrder.BGR
    layout: Layout = Layout.NCHW
    resize: ResizeMode = ResizeMode.STRETCH
    interpolation: Interpolation = Interpolation.LINEAR
    pad_value: float = 0.0
    mean: tuple[float, ...] = field(default=(0.0,))
    std: tuple[float, ...] = field(default=(1.0,))
    scale: float = 1.0
    batch: bool = True

    def __post_init__(self) -> None:
        _check_size(self.height, self.width, self.channels)
        coerced: dict[str, Any] = {
            "dtype": DType.parse(self.dtype),
            "color": ColorOrder.parse(self.color),
            "layout": Layout.parse(self.layout),
            "resize": ResizeMode.parse(self.resize),
            "interpolation": Interpolation.parse(self.interpolation),
            "mean": _per_channel("mean", self.mean, self.channels),
            "std": _per_channel("std", self.std, self.channels),
        }
        if any(s == 0 for s in coerced["std"]):
            raise SpecError(f"std must not contain 0, got {coerced['std']}")
        if not (math.isfinite(self.scale) and self.scale != 0):
            raise SpecError(f"scale must be a finite non-zero number, got {self.scale}")
        if not 0 <= self.pad_value <= 255:
            raise SpecError(f"pad value is a pixel value (0-255), got {self.pad_value}")
        for name, value in coerced.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_dims(cls, dims: str, **options: Any) -> TensorSpec:
        """Build a spec from a ``HxWxCxTYPE`` string plus keyword options."""
        height, width, channels, dtype = parse_dims(dims)
        return cls(height, width, channels, dtype, **options)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TensorSpec:
        """Build a spec from parsed command-line options (the CLI's and the magics' bridge).

        ``options`` holds ``dims`` (a string, or the tuple :func:`parse_dims` returns) plus any
        field of this class; ``None`` values mean "default".
        """
        dims = options["dims"]
        height, width, channels, dtype = parse_dims(dims) if isinstance(dims, str) else dims
        fields = {f.name for f in dataclasses.fields(cls)} - {
            "height",
            "width",
            "channels",
            "dtype",
        }
        chosen = {k: v for k, v in options.items() if k in fields and v is not None}
        return cls(height, width, channels, dtype, **chosen)

    def replace(self, **changes: Any) -> TensorSpec:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def shape(self) -> tuple[int, ...]:
        """The array shape, e.g. ``(1, 3, 512, 896)`` for NCHW with batch."""
        if self.layout is Layout.NCHW:
            core: tuple[int, ...] = (self.channels, self.height, self.width)
        else:
            core = (self.height, self.width, self.channels)
        return (1, *core) if self.batch else core

    @property
    def channel_axis(self) -> int:
        """Index of the channel axis in :attr:`shape` (e.g. 1 for NCHW with batch)."""
        return len(self.shape) - 1 if self.layout is Layout.NHWC else len(self.shape) - 3

    @property
    def nbytes(self) -> int:
        """Size of the tensor in bytes."""
        return math.prod(self.shape) * self.dtype.numpy.itemsize

    @property
    def dims(self) -> str:
        """The ``HxWxCxTYPE`` string of this spec, as used in tensor file names."""
        return f"{self.height}x{self.width}x{self.channels}x{self.dtype.short}"

    @property
    def is_identity_normalization(self) -> bool:
        """True when step 4 leaves pixel values unchanged."""
        return self.scale == 1 and set(self.mean) == {0.0} and set(self.std) == {1.0}

    def describe(self) -> str:
        """A one-line human summary, e.g. ``1x3x512x896 fp32 NCHW BGR``."""
        shape = "x".join(str(n) for n in self.shape)
        color = "GREY" if self.channels == 1 else self.color.name
        return f"{shape} {self.dtype} {self.layout.name} {color}"
