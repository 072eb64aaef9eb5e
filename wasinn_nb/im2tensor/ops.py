"""The pure steps of the image → tensor pipeline, one function each.

Each takes and returns numpy arrays; none prints, reads files or keeps state. OpenCV is imported
lazily so that ``import wasinn_nb`` stays light.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from wasinn_nb.enums import ColorOrder, DType, Interpolation, Layout, ResizeMode
from wasinn_nb.errors import ImageReadError, ShapeError
from wasinn_nb.im2tensor import headers

if TYPE_CHECKING:
    from wasinn_nb.im2tensor.spec import TensorSpec

__all__ = [
    "check_pixels",
    "decode_image",
    "normalize_and_cast",
    "reorder_channels",
    "resize_image",
    "to_layout",
]

Pixels = npt.NDArray[np.uint8]

_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"


def decode_image(
    data: bytes, *, channels: int = 3, source: str = "<bytes>", max_pixels: int | None = None
) -> Pixels:
    """Decode image bytes to ``uint8`` pixels: ``(H, W, 3)`` BGR or ``(H, W)`` grey.

    Raises:
        ImageReadError: If the bytes are empty, not an image OpenCV can decode, a JPEG that
            was cut short (OpenCV would silently fill the missing part with grey), or an image
            whose header claims more than ``max_pixels`` pixels (see :func:`headers.max_pixels`).
    """
    if not data:
        raise ImageReadError(source, "the file is empty")
    cap = headers.max_pixels(max_pixels)
    size = headers.header_size(data)
    if size is not None and size[0] * size[1] > cap:
        raise ImageReadError(
            source,
            f"{size[0]}x{size[1]} pixels is more than the {cap:,} allowed "
            "(raise it with --max-pixels or $WASINN_MAX_PIXELS)",
        )
    if data.startswith(_JPEG_START) and _JPEG_END not in data[-64:]:
        raise ImageReadError(source, "truncated JPEG (no end-of-image marker)")
    os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(cap))  # formats we cannot sniff
    import cv2

    flag = cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR
    try:
        pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
    except cv2.error as error:
        raise ImageReadError(source, f"OpenCV cannot decode it: {error.err or error}") from None
    if pixels is None:
        raise ImageReadError(source, "not an image format OpenCV can decode, or corrupt")
    return np.asarray(pixels, dtype=np.uint8)


def check_pixels(image: npt.NDArray[np.generic], channels: int) -> Pixels:
    """Validate an in-memory image and return it as ``(H, W, C)`` or ``(H, W)`` ``uint8``.

    Accepts ``(H, W)``, ``(H, W, 1)`` and ``(H, W, 3)`` arrays of ``uint8`` (or any numeric type
    with values in 0-255, which are rounded and clipped).
    """
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    expected = "(H, W)" if channels == 1 else "(H, W, 3)"
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ShapeError("image", "(H, W), (H, W, 1) or (H, W, 3)", image.shape)
    if min(image.shape[:2]) == 0:
        raise ShapeError("image", expected + " with H, W > 0", image.shape)
    if image.dtype == np.uint8:
        pixels: Pixels = image.astype(np.uint8, copy=False)
    else:
        pixels = np.clip(np.rint(image.astype(np.float64)), 0, 255).astype(np.uint8)
    return _to_channels(pixels, channels)


def _to_channels(image: Pixels, channels: int) -> Pixels:
    import cv2

    if channels == 1 and image.ndim == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    if channels == 3 and image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    return image


def resize_image(
    image: Pixels,
    height: int,
    width: int,
    *,
    mode: ResizeMode = ResizeMode.STRETCH,
    interpolation: Interpolation = Interpolation.LINEAR,
    pad_value: float = 0.0,
) -> Pixels:
    """Fit ``image`` to ``height x width`` (see :class:`~wasinn_nb.enums.ResizeMode`).

    Example:
        >>> img = np.arange(8, dtype=np.uint8).reshape(2, 4)
        >>> resize_image(img, 2, 2, mode=ResizeMode.CROP).tolist()
        [[1, 2], [5, 6]]
    """
    in_h, in_w = image.shape[:2]
    if mode is ResizeMode.STRETCH:
        return _resize(image, height, width, interpolation)
    if mode is ResizeMode.CROP:
        ratio = max(height / in_h, width / in_w)
        new_h, new_w = max(height, round(in_h * ratio)), max(width, round(in_w * ratio))
        scaled = _resize(image, new_h, new_w, interpolation)
        top, left = (new_h - height) // 2, (new_w - width) // 2
        return scaled[top : top + height, left : left + width]
    ratio = min(height / in_h, width / in_w)
    new_h, new_w = max(1, round(in_h * ratio)), max(1, round(in_w * ratio))
    scaled = _resize(image, new_h, new_w, interpolation)
    canvas = np.full((height, width, *image.shape[2:]), round(pad_value), dtype=np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = scaled
    return canvas


def _resize(image: Pixels, height: int, width: int, interpolation: Interpolation) -> Pixels:
    if image.shape[:2] == (height, width):
        return image
    import cv2

    resized = cv2.resize(image, (width, height), interpolation=interpolation.cv2_flag)
    return np.asarray(resized, dtype=np.uint8)


def reorder_channels(
    image: npt.NDArray[np.generic], source: ColorOrder, target: ColorOrder
) -> npt.NDArray[np.generic]:
    """Reorder the last axis of an ``(H, W, 3)`` image from ``source`` to ``target`` (a view)."""
    if image.ndim == 2 or source is target:
        return image
    return image[..., ::-1]


def to_layout(
    image: npt.NDArray[np.generic], layout: Layout, *, batch: bool
) -> npt.NDArray[np.generic]:
    """Arrange an ``(H, W, C)`` or ``(H, W)`` image as CHW/HWC with an optional batch axis (a view).

    Example:
        >>> to_layout(np.zeros((4, 5, 3)), Layout.NCHW, batch=True).shape
        (1, 3, 4, 5)
    """
    hwc = image[:, :, None] if image.ndim == 2 else image
    arranged = hwc.transpose(2, 0, 1) if layout is Layout.NCHW else hwc
    return arranged[None] if batch else arranged


def normalize_and_cast(
    pixels: npt.NDArray[np.generic], spec: TensorSpec, channel_axis: int
) -> npt.NDArray[np.generic]:
    """Apply ``(pixel * scale - mean) / std`` per channel and cast to ``spec.dtype``.

    ``pixels`` may be a strided view (a colour swap or a transpose); the result is a new
    C-contiguous array, written in a single pass when the dtype is float32.
    """
    dtype = spec.dtype.numpy
    if spec.is_identity_normalization and not spec.dtype.is_float:
        return _cast_integer(pixels, spec.dtype)
    work = np.float64 if spec.dtype is DType.FP64 else np.float32
    shape = [1] * pixels.ndim
    shape[channel_axis] = spec.channels
    gain = (spec.scale / np.asarray(spec.std, dtype=np.float64)).astype(work).reshape(shape)
    offset = (-np.asarray(spec.mean) / np.asarray(spec.std)).astype(work).reshape(shape)
    out = np.empty(pixels.shape, dtype=work)
    np.multiply(pixels, gain, out=out)
    if spec.mean != (0.0,) * spec.channels:
        out += offset
    if spec.dtype.is_float:
        return out if out.dtype == dtype else out.astype(dtype)
    return _cast_integer(out, spec.dtype)


def _cast_integer(values: npt.NDArray[np.generic], dtype: DType) -> npt.NDArray[np.generic]:
    target = dtype.numpy
    if values.dtype == np.uint8 and dtype in (DType.U8, DType.I32, DType.I64):
        return np.ascontiguousarray(values, dtype=target)
    info = np.iinfo(target.name)
    rounded = np.rint(values.astype(np.float64, copy=False))
    return np.ascontiguousarray(np.clip(rounded, info.min, info.max), dtype=target)
