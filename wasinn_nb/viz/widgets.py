"""Interactive views built from stock ipywidgets; the pixels come from :mod:`wasinn_nb.viz.render`.

Importing this module imports ipywidgets (the ``widgets`` extra).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as w
import numpy as np
import numpy.typing as npt

from wasinn_nb.im2tensor.stats import guess_channel_axis, tensor_stats
from wasinn_nb.results import Classification, Segmentation
from wasinn_nb.results.palette import Palette
from wasinn_nb.viz import render

__all__ = ["SegmentationView", "TensorView", "TopKView"]


def _image(picture: npt.NDArray[np.uint8], **layout: Any) -> w.Image:
    return w.Image(value=render.encode_png(picture), format="png", layout=w.Layout(**layout))


def _caption(text: str) -> w.HTML:
    return w.HTML(f"<b>{html.escape(text)}</b>")


class SegmentationView(w.VBox):  # type: ignore[misc]
    """Original | mask | overlay, an opacity slider, and a legend with per-class toggles.

    Args:
        image: The BGR image that was segmented (``None``: the segmentation's own image, if any).
        segmentation: The mask and its labels.
        labels: Override the segmentation's class labels.
        palette: Override its class colours.
        alpha: Initial opacity of the overlay.
    """

    def __init__(
        self,
        image: npt.NDArray[np.uint8] | None,
        segmentation: Segmentation,
        labels: Sequence[str] | None = None,
        palette: Palette | None = None,
        *,
        alpha: float = 0.5,
    ) -> None:
        self.segmentation = dataclasses.replace(
            segmentation,
            labels=tuple(labels) if labels is not None else segmentation.labels,
            palette=palette or segmentation.palette,
            image=image if image is not None else segmentation.image,
        )
        seg = self.segmentation
        self.opacity = w.FloatSlider(
            value=alpha, min=0.0, max=1.0, step=0.05, description="opacity"
        )
        self.toggles = [
            w.Checkbox(value=True, description=f"{label} ({share:.1%})", indent=False)
            for label, share in seg.shares.items()
        ]
        self.overlay_image = _image(self._overlay_pixels(), width="auto")
        panels = [(render.paint(seg), "segmentation"), (None, "overlay")]
        if seg.image is not None:
            panels.insert(0, (seg.image, "original"))
        row = [
            w.VBox(
                [_caption(title), _image(pixels) if pixels is not None else self.overlay_image],
                layout=w.Layout(align_items="flex-start", margin="0 12px 0 0"),
            )
            for pixels, title in panels
        ]
        legend = [
            w.HBox([w.HTML(_swatch(seg.palette[i].as_hex())), toggle])
            for i, toggle in enumerate(self.toggles)
        ]
        for control in (self.opacity, *self.toggles):
            control.observe(self._redraw, names="value")
        super().__init__([w.HBox(row), self.opacity, w.VBox(legend)])

    @property
    def visible(self) -> list[int]:
        """Indices of the classes whose toggle is on."""
        return [i for i, toggle in enumerate(self.toggles) if toggle.value]

    def _overlay_pixels(self) -> npt.NDArray[np.uint8]:
        seg = self.segmentation
        base = seg.image if seg.image is not None else np.zeros((*seg.mask.shape, 3), np.uint8)
        return render.blend(seg, base, alpha=self.opacity.value, visible=self.visible)

    def _redraw(self, change: object = None) -> None:
        self.overlay_image.value = render.encode_png(self._overlay_pixels())

    def __repr__(self) -> str:
        return f"<SegmentationView {self.segmentation!r}>"


def _swatch(color: str) -> str:
    return (
        f'<div style="width:14px;height:14px;margin:4px 6px 0 0;background:{color};'
        'border:1px solid #999"></div>'
    )


class TopKView(w.VBox):  # type: ignore[misc]
    """The ``k`` best classes as labelled horizontal bars with their scores."""

    def __init__(self, classification: Classification, k: int = 5) -> None:
        self.predictions = classification.top_k(k)
        top = max((p.score for p in self.predictions), default=1.0)
        self.bars = [
            w.FloatProgress(value=max(p.score, 0.0), min=0.0, max=top if top > 0 else 1.0)
            for p in self.predictions
        ]
        rows = [
            w.HBox([
                w.Label(f"{p.index} {p.label}", layout=w.Layout(width="320px")),
                bar,
                w.Label(f"{p.score:.4f}"),
            ])
            for p, bar in zip(self.predictions, self.bars, strict=True)
        ]  # fmt: skip
        super().__init__(rows)

    def __repr__(self) -> str:
        return f"<TopKView {len(self.predictions)} classes>"


class TensorView(w.VBox):  # type: ignore[misc]
    """A tensor's shape, dtype and per-channel statistics, and one channel at a time as an image."""

    def __init__(self, array: npt.NDArray[np.generic], *, channel_axis: int | None = None) -> None:
        self.array = np.asarray(array)
        self.channel_axis = (
            channel_axis if channel_axis is not None else guess_channel_axis(self.array.shape)
        )
        stats = tensor_stats(self.array, channel_axis=self.channel_axis)
        self.summary = w.HTML(f"<pre>{html.escape(stats.format())}</pre>")
        children: list[Any] = [self.summary]
        if self.channel_axis is not None:
            count = self.array.shape[self.channel_axis]
            self.channel = w.IntSlider(value=0, min=0, max=count - 1, description="channel")
            self.picture = _image(self._pixels())
            self.channel.observe(self._redraw, names="value")
            children += [self.channel, self.picture]
        super().__init__(children)

    def _pixels(self) -> npt.NDArray[np.uint8]:
        assert self.channel_axis is not None  # noqa: S101 - only called when there is one
        return render.channel_to_image(self.array, self.channel_axis, self.channel.value)

    def _redraw(self, change: object = None) -> None:
        self.picture.value = render.encode_png(self._pixels())

    def __repr__(self) -> str:
        return f"<TensorView {'x'.join(map(str, self.array.shape))} {self.array.dtype}>"
