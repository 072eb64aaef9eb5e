"""Image → tensor and back: the fixed step order of :class:`TensorSpec`, applied."""

from __future__ import annotations

import os
from typing import Union

import numpy as np
import numpy.typing as npt

from wasinn_nb.enums import ColorOrder, Layout
from wasinn_nb.errors import ShapeError
from wasinn_nb.im2tensor import ops
from wasinn_nb.im2tensor.io import load_image
from wasinn_nb.im2tensor.spec import TensorSpec

__all__ = ["ImageSource", "image_to_tensor", "tensor_to_image"]

#: What :func:`image_to_tensor` accepts: a path, encoded image bytes, or a pixel array.
ImageSource = Union[str, "os.PathLike[str]", bytes, npt.NDArray[np.generic]]


def image_to_tensor(
    image: ImageSource,
    spec: TensorSpec,
    *,
    input_color: ColorOrder | str = ColorOrder.BGR,
    max_pixels: int | None = None,
) -> npt.NDArray[np.generic]:
    """Convert an image to the tensor described by ``spec``.

    Args:
        image: A file path, the bytes of an encoded image (JPEG, PNG, BMP, WebP, ...), or an
            ``(H, W)`` / ``(H, W, 3)`` pixel array.
        spec: The target tensor; its docstring lists the steps and their order.
        input_color: Channel order of ``image`` when it is an array (cv2 arrays are BGR;
            PIL/matplotlib arrays are RGB). Ignored for files and bytes, which decode to BGR.
        max_pixels: Refuse encoded images with more pixels (see :func:`load_image`).

    Returns:
        A C-contiguous array of ``spec.shape`` and ``spec.dtype``.

    Raises:
        ImageReadError: If the file is missing or not a decodable image.
        ShapeError: If an array input is not an image shape.

    Example:
        >>> pixels = np.zeros((2, 4, 3), np.uint8); pixels[..., 2] = 255   # pure red, BGR
        >>> tensor = image_to_tensor(pixels, TensorSpec(2, 4, color="rgb", dtype="u8"))
        >>> tensor.shape, tensor[0, :, 0, 0].tolist()
        ((1, 3, 2, 4), [255, 0, 0])
    """
    if isinstance(image, np.ndarray):
        pixels = ops.check_pixels(image, spec.channels)
        source_color = ColorOrder.parse(input_color)
    else:
        pixels = load_image(image, channels=spec.channels, max_pixels=max_pixels)
        source_color = ColorOrder.BGR
    fitted = ops.resize_image(
        pixels,
        spec.height,
        spec.width,
        mode=spec.resize,
        interpolation=spec.interpolation,
        pad_value=spec.pad_value,
    )
    colored = ops.reorder_channels(fitted, source_color, spec.color)
    arranged = ops.to_layout(colored, spec.layout, batch=spec.batch)
    return ops.normalize_and_cast(arranged, spec, spec.channel_axis)


def tensor_to_image(
    tensor: npt.NDArray[np.generic], spec: TensorSpec, *, color: ColorOrder | str = ColorOrder.BGR
) -> npt.NDArray[np.uint8]:
    """Undo layout, normalization and colour order, for looking at a tensor.

    Resizing is not undone: the image has the tensor's height and width.

    Args:
        tensor: An array of ``spec.shape`` (the batch axis may be present or not), or a flat
            array with ``prod(spec.shape)`` elements.
        spec: The spec the tensor was made with.
        color: Channel order of the returned image (BGR suits ``cv2.imwrite``).

    Returns:
        ``(H, W, 3)`` (or ``(H, W)`` grey) ``uint8`` pixels, rounded and clipped to 0-255.

    Example:
        >>> spec = TensorSpec(2, 4, color="rgb", mean=(0.5,), std=(0.25,), scale=1 / 255)
        >>> pixels = np.random.default_rng(0).integers(0, 256, (2, 4, 3), dtype=np.uint8)
        >>> np.array_equal(tensor_to_image(image_to_tensor(pixels, spec), spec), pixels)
        True
    """
    hwc = _as_hwc(np.asarray(tensor), spec)
    mean = np.asarray(spec.mean, dtype=np.float64)
    std = np.asarray(spec.std, dtype=np.float64)
    pixels = (hwc.astype(np.float64) * std + mean) / spec.scale
    image = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    image = np.ascontiguousarray(ops.reorder_channels(image, spec.color, ColorOrder.parse(color)))
    return image[:, :, 0] if spec.channels == 1 else image


def _as_hwc(tensor: npt.NDArray[np.generic], spec: TensorSpec) -> npt.NDArray[np.generic]:
    unbatched = spec.replace(batch=False).shape
    if tensor.size != np.prod(unbatched):
        raise ShapeError("tensor", "x".join(map(str, spec.shape)), tensor.shape)
    core = tensor.reshape(unbatched)
    return core.transpose(1, 2, 0) if spec.layout is Layout.NCHW else core
