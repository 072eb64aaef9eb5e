"""Tensor file names: ``…-512x896x3xf32-bgr.tensor`` ↔ shape, dtype, colour and layout.

Two conventions are read:

* **im2tensor names** hold an image-style ``HxWxCxTYPE`` token (``512x896x3xf32``) and usually a
  colour (``-bgr``): the file holds ``[1, C, H, W]`` (NCHW, the default) or ``[1, H, W, C]`` when
  the name also says ``-nhwc``. WasmEdge's examples and :func:`tensor_file_name` write these.
* **literal names** (``…-output-1x4x512x896xf32.tensor``, ``tensor-1x224x224x3-f32.bgr``,
  ``birdx224x224x3.rgb``): the dims are the shape as written. A missing type is left ``None``
  for the reader to guess from the file size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from wasinn_nb.enums import ColorOrder, DType, Layout
from wasinn_nb.errors import SpecError
from wasinn_nb.im2tensor.spec import TensorSpec

__all__ = ["TensorName", "parse_dims_token", "parse_tensor_name", "tensor_file_name"]

_TYPES = "fp16|fp32|fp64|f16|f32|f64|u8|i8|i32|i64"
_DIMS = re.compile(
    rf"(?<![0-9])(?P<dims>\d+(?:x\d+)+)(?:(?P<sep>[x_-])(?P<type>{_TYPES}))?(?![0-9a-z])",
    re.IGNORECASE,
)
_COLOR = re.compile(r"(?:^|[-_.])(bgr|rgb)(?=$|[-_.])", re.IGNORECASE)
_LAYOUT = re.compile(r"(?:^|[-_.])(nchw|nhwc)(?=$|[-_.])", re.IGNORECASE)


@dataclass(frozen=True)
class TensorName:
    """What a tensor file's name says about its contents.

    Attributes:
        dims: The numbers of the dims token, as written.
        dtype: The element type, or ``None`` when the name does not say.
        color: The colour order, or ``None``.
        layout: The layout for im2tensor names (NCHW unless the name says NHWC), else ``None``.
        image_style: Whether ``dims`` is an im2tensor ``HxWxC`` token rather than a shape.
    """

    dims: tuple[int, ...]
    dtype: DType | None
    color: ColorOrder | None
    layout: Layout | None
    image_style: bool

    @property
    def shape(self) -> tuple[int, ...]:
        """The array shape of the file's contents."""
        if not self.image_style:
            return self.dims
        height, width, channels = self.dims
        if self.layout is Layout.NHWC:
            return (1, height, width, channels)
        return (1, channels, height, width)


def parse_tensor_name(name: str | PurePath) -> TensorName | None:
    """Read dims, type, colour and layout out of a tensor file name.

    Returns ``None`` when the name has no dims token.

    Example:
        >>> parse_tensor_name("wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor").shape
        (1, 3, 512, 896)
        >>> n = parse_tensor_name("wasinn-openvino-inference-output-1x4x512x896xf32.tensor")
        >>> n.shape, n.dtype
        ((1, 4, 512, 896), <DType.FP32: 'fp32'>)
    """
    text = PurePath(name).name
    matches = list(_DIMS.finditer(text))
    if not matches:
        return None
    best = max(matches, key=lambda m: (m["type"] is not None, m["dims"].count("x")))
    return _from_match(best, text)


def parse_dims_token(text: str) -> TensorName:
    """Parse a standalone dims token: ``512x896x3xf32`` (im2tensor style) or ``1x4x512x896[xf32]``.

    Raises:
        SpecError: If ``text`` is not such a token or a size is zero.

    Example:
        >>> parse_dims_token("1x4x512x896").shape
        (1, 4, 512, 896)
    """
    match = _DIMS.fullmatch(text.strip())
    if match is None:
        raise SpecError(f"bad dims {text!r}: expected e.g. 512x896x3xf32 or 1x4x512x896xf32")
    name = _from_match(match, "")
    if 0 in name.dims:
        raise SpecError(f"bad dims {text!r}: sizes must be positive")
    return name


def _from_match(match: re.Match[str], text: str) -> TensorName:
    dims = tuple(int(n) for n in match["dims"].lower().split("x"))
    dtype = DType.parse(match["type"]) if match["type"] else None
    colors = _COLOR.findall(text)
    color = ColorOrder.parse(colors[-1]) if colors else None
    layouts = _LAYOUT.findall(text)
    image_style = len(dims) == 3 and dims[2] in (1, 3) and (match["sep"] or "").lower() == "x"
    layout = Layout.parse(layouts[-1]) if layouts else (Layout.NCHW if image_style else None)
    return TensorName(dims, dtype, color, layout, image_style)


def tensor_file_name(stem: str, spec: TensorSpec, *, suffix: str = ".tensor") -> str:
    """The im2tensor-style file name for a tensor made from image ``stem``.

    Example:
        >>> tensor_file_name("road", TensorSpec.from_dims("512x896x3xfp32"))
        'road-512x896x3xf32-bgr.tensor'
    """
    parts = [stem, spec.dims]
    if spec.channels == 3:
        parts.append(spec.color.value)
    if spec.layout is not Layout.NCHW:
        parts.append(spec.layout.value)
    return "-".join(parts) + suffix
