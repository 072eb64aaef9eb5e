"""Summaries of tensors for inspection: shape, dtype, and min/max/mean/std per channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from wasinn_nb.enums import ColorOrder, DType, Layout

__all__ = ["ChannelStats", "TensorStats", "guess_channel_axis", "tensor_stats"]

_IMAGE_CHANNELS = (1, 3, 4)
_MAX_GUESSED_CHANNELS = 64


@dataclass(frozen=True)
class ChannelStats:
    """Statistics of one channel (or of the whole tensor)."""

    name: str
    min: float
    max: float
    mean: float
    std: float


@dataclass(frozen=True)
class TensorStats:
    """A summary of a tensor, printable with :meth:`format`."""

    shape: tuple[int, ...]
    dtype: DType
    nbytes: int
    channel_axis: int | None
    channels: tuple[ChannelStats, ...]

    def format(self, *, title: str = "") -> str:
        """Render as an aligned text table."""
        shape = "x".join(map(str, self.shape))
        lines = [title] if title else []
        lines.append(f"  shape  {shape}   dtype {self.dtype}   {self.nbytes:,} bytes")
        lines.append(f"  {'channel':<8} {'min':>12} {'max':>12} {'mean':>12} {'std':>12}")
        for c in self.channels:
            lines.append(
                f"  {c.name:<8} {c.min:>12.6g} {c.max:>12.6g} {c.mean:>12.6g} {c.std:>12.6g}"
            )
        return "\n".join(lines)


def guess_channel_axis(shape: tuple[int, ...], layout: Layout | None = None) -> int | None:
    """The channel axis of an image-like shape, or ``None`` if it does not look like an image.

    Example:
        >>> guess_channel_axis((1, 3, 512, 896)), guess_channel_axis((224, 224, 3))
        (1, 2)
    """
    if len(shape) not in (3, 4):
        return None
    first = len(shape) - 3
    if layout is Layout.NCHW:
        return first
    if layout is Layout.NHWC:
        return len(shape) - 1
    if shape[-1] in _IMAGE_CHANNELS:
        return len(shape) - 1
    if shape[first] <= _MAX_GUESSED_CHANNELS:
        return first
    return None


def tensor_stats(
    array: npt.NDArray[np.generic],
    *,
    channel_axis: int | None = None,
    color: ColorOrder | None = None,
) -> TensorStats:
    """Summarize ``array``; with a ``channel_axis``, one row per channel plus one for all.

    Example:
        >>> s = tensor_stats(np.arange(8, dtype=np.float32).reshape(1, 2, 2, 2), channel_axis=1)
        >>> [(c.name, c.min, c.max) for c in s.channels]
        [('0', 0.0, 3.0), ('1', 4.0, 7.0), ('all', 0.0, 7.0)]
    """
    rows = []
    if channel_axis is not None and array.size:
        count = array.shape[channel_axis]
        names = (
            list(color.name) if color is not None and count == 3 else [str(i) for i in range(count)]
        )
        for index, name in enumerate(names):
            rows.append(_stats(name, np.take(array, index, axis=channel_axis)))
    rows.append(_stats("all", array))
    return TensorStats(
        tuple(array.shape), DType.from_numpy(array.dtype), array.nbytes, channel_axis, tuple(rows)
    )


def _stats(name: str, values: npt.NDArray[np.generic]) -> ChannelStats:
    if values.size == 0:
        nan = float("nan")
        return ChannelStats(name, nan, nan, nan, nan)
    as_float = values.astype(np.float64, copy=False)
    return ChannelStats(
        name,
        float(as_float.min()),
        float(as_float.max()),
        float(as_float.mean()),
        float(as_float.std()),
    )
