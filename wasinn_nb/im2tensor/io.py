"""Reading images and reading/writing tensor files (raw little-endian bytes or ``.npy``).

Writes are atomic: data goes to a temporary file in the target folder, which is renamed over the
target only when complete, so a failure never leaves a half-written tensor behind.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from wasinn_nb.enums import DType
from wasinn_nb.errors import ImageReadError, TensorFileError
from wasinn_nb.files import atomic_write, read_file
from wasinn_nb.im2tensor import ops
from wasinn_nb.im2tensor.names import parse_tensor_name

__all__ = [
    "guess_dtype",
    "load_image",
    "load_tensor",
    "save_image",
    "save_tensor",
]

#: Image files larger than this are refused before reading.
MAX_IMAGE_BYTES = 512 * 1024 * 1024
#: Raw tensor files larger than this are refused before reading.
MAX_TENSOR_BYTES = 4 * 1024 * 1024 * 1024


def load_image(
    source: str | os.PathLike[str] | bytes, *, channels: int = 3, max_pixels: int | None = None
) -> ops.Pixels:
    """Read and decode an image file (or encoded bytes) to ``uint8`` BGR pixels.

    Args:
        source: A path, or the encoded bytes.
        channels: 3 for BGR, 1 for grey.
        max_pixels: Refuse images with more pixels, read from the header before decoding
            (default: ``$WASINN_MAX_PIXELS`` or 2**28, a 16384x16384 image).

    Raises:
        ImageReadError: If the file is missing, not a regular file, empty, truncated, too big
            or not an image.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return ops.decode_image(bytes(source), channels=channels, max_pixels=max_pixels)
    data = read_file(source, limit=MAX_IMAGE_BYTES, error=ImageReadError)
    return ops.decode_image(data, channels=channels, source=str(source), max_pixels=max_pixels)


def save_tensor(array: npt.NDArray[np.generic], path: str | os.PathLike[str]) -> Path:
    """Write ``array`` as raw little-endian bytes, or as ``.npy`` when the name ends so.

    Returns:
        The path written.

    Raises:
        TensorFileError: If the file cannot be written (nothing is left behind).

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "x-1x2xf32.tensor"
        >>> save_tensor(np.array([[1.5, 2.0]], np.float32), out).stat().st_size
        8
    """
    target = Path(path)
    if array.dtype.kind not in "biuf":
        raise TensorFileError(f"cannot write {target}: {array.dtype} is not a numeric tensor type")
    little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
    with atomic_write(target) as handle:
        if target.suffix.lower() == ".npy":
            np.save(handle, little, allow_pickle=False)
        else:
            little.tofile(handle)
    return target


def save_image(pixels: npt.NDArray[np.uint8], path: str | os.PathLike[str]) -> Path:
    """Encode BGR (or grey) ``uint8`` pixels to the format named by the file extension.

    Raises:
        TensorFileError: If the extension is not an image format or the file cannot be written.
    """
    import cv2

    target = Path(path)
    try:
        ok, encoded = cv2.imencode(target.suffix or ".png", pixels)
    except cv2.error:
        ok = False
    if not ok:
        raise TensorFileError(f"cannot write {target}: {target.suffix!r} is not an image format")
    with atomic_write(target) as handle:
        handle.write(encoded.tobytes())
    return target


def guess_dtype(nbytes: int, count: int) -> DType:
    """Guess an element type from a file size: 1 → u8, 2 → fp16, 4 → fp32, 8 → fp64 bytes each.

    Raises:
        TensorFileError: If the size is not a whole number of such elements.
    """
    guesses = {1: DType.U8, 2: DType.FP16, 4: DType.FP32, 8: DType.FP64}
    if count > 0 and nbytes % count == 0 and nbytes // count in guesses:
        return guesses[nbytes // count]
    raise TensorFileError(
        f"{nbytes:,} bytes is not a whole number of elements for {count:,} values"
    )


def load_tensor(
    path: str | os.PathLike[str],
    *,
    shape: tuple[int, ...] | None = None,
    dtype: DType | str | None = None,
) -> npt.NDArray[np.generic]:
    """Read a tensor file written by :func:`save_tensor`, im2tensor, WasmEdge or a guest.

    ``.npy`` files carry their own shape and dtype. For raw files, ``shape`` and ``dtype`` come
    from the arguments, else from the file name (see :mod:`~wasinn_nb.im2tensor.names`); a
    missing dtype is guessed from the file size.

    Raises:
        TensorFileError: If the file is missing, the shape is unknown, or the size does not match.

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "probs-1x4xf32.tensor"
        >>> _ = save_tensor(np.arange(4, dtype=np.float32).reshape(1, 4), out)
        >>> load_tensor(out).tolist()
        [[0.0, 1.0, 2.0, 3.0]]
    """
    file = Path(path)
    try:
        if file.suffix.lower() == ".npy":
            return np.asarray(np.load(file, allow_pickle=False))
        data = read_file(file, limit=MAX_TENSOR_BYTES, what="tensor")
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise TensorFileError(f"cannot read tensor {file}: {reason}") from None
    named = parse_tensor_name(file)
    if shape is None:
        if named is None:
            raise TensorFileError(
                f"cannot tell the shape of {file.name}: give dims, or name it like x-1x4xf32.tensor"
            )
        shape = named.shape
    if dtype is None:
        dtype = named.dtype if named and named.dtype else guess_dtype(len(data), math.prod(shape))
    element = DType.parse(dtype).numpy
    expected = math.prod(shape) * element.itemsize
    if len(data) != expected:
        dims = "x".join(map(str, shape))
        raise TensorFileError(
            f"{file.name} has {len(data):,} bytes but {dims} {DType.parse(dtype)} "
            f"needs {expected:,}"
        )
    return np.frombuffer(data, dtype=element).reshape(shape)
