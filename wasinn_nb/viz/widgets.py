"""Interactive views built from stock ipywidgets; the pixels come from :mod:`wasinn_nb.viz.render`.

Each view is a live widget where a Jupyter front end runs widgets, and carries a static PNG
(with a title and a legend) in its display bundle for everywhere else (GitHub, nbconvert):
``view.to_png()`` is that picture. Importing this module imports ipywidgets (the ``widgets``
extra).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w
import numpy as np
import numpy.typing as npt

from wasinn_nb.enums import ColorOrder, Layout
from wasinn_nb.im2tensor.stats import guess_channel_axis, tensor_stats
from wasinn_nb.results import Classification, Segmentation
from wasinn_nb.results.palette import Palette
from wasinn_nb.viz import render

__all__ = ["BackendPicker", "SegmentationView", "TensorView", "TopKView", "stack"]

#: Widths of SegmentationView's pictures (CSS pixels): normal and enlarged, one panel or three.
OVERLAY_WIDTH = {False: 560, True: 960}
PANEL_WIDTH = {False: 300, True: 480}
#: TensorView shows a channel at most this many pixels wide or high.
TENSOR_SIDE = 320
#: TopKView's bar track (CSS pixels), and the thumbnail's longest side.
BAR_WIDTH, THUMBNAIL_SIDE = 240, 128

_PNG = "image/png"


#: Live pictures with more pixels than this are sent as JPEG (several times faster to encode
#: than PNG; the static fallbacks stay PNG).
JPEG_ABOVE = 256 * 256


def _encode(picture: npt.NDArray[np.uint8]) -> tuple[bytes, str]:
    if picture.shape[0] * picture.shape[1] > JPEG_ABOVE:
        return render.encode_jpeg(picture), "jpeg"
    return render.encode_png(picture), "png"


def _image(picture: npt.NDArray[np.uint8], **layout: Any) -> w.Image:
    value, kind = _encode(picture)
    return w.Image(value=value, format=kind, layout=w.Layout(**layout))


def _update(image: Any, picture: npt.NDArray[np.uint8]) -> None:
    image.value, image.format = _encode(picture)


#: The class map an OverlayImage sends for hovering has at most this many pixels a side.
HOVER_SIDE = 512


def _overlay_image(picture: npt.NDArray[np.uint8], segmentation: Segmentation) -> Any:
    """The overlay's picture, an OverlayImage where anywidget is installed, else an Image.

    An OverlayImage's front end reads the class of the pixel under the pointer from a class map
    of at most :data:`HOVER_SIDE` pixels a side, sent once with the view.
    """
    try:
        import anywidget  # noqa: F401 - only to know it is there
    except ImportError:
        return _image(picture)
    import cv2

    mask = segmentation.mask
    factor = min(1.0, HOVER_SIDE / max(mask.shape))
    small = mask
    if factor < 1.0:
        size = (max(1, round(mask.shape[1] * factor)), max(1, round(mask.shape[0] * factor)))
        small = np.asarray(cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST), np.int32)
    value, kind = _encode(picture)
    return _overlay_class()(
        value=value,
        format=kind,
        classes=np.clip(small, 0, 255).astype(np.uint8).tobytes(),
        class_shape=list(small.shape),
        image_shape=list(mask.shape),
        labels=list(segmentation.labels),
    )


@functools.cache
def _overlay_class() -> type:
    """OverlayImage, defined on first use (anywidget is optional)."""
    import anywidget
    import traitlets

    class OverlayImage(anywidget.AnyWidget):
        """A picture whose front end shows the class of the pixel under the pointer."""

        _esm = Path(__file__).with_name("static") / "overlay.js"
        value = traitlets.Bytes(b"").tag(sync=True)
        format = traitlets.Unicode("png").tag(sync=True)
        classes = traitlets.Bytes(b"").tag(sync=True)  # one byte per pixel, row by row
        class_shape = traitlets.List([0, 0]).tag(sync=True)
        image_shape = traitlets.List([0, 0]).tag(sync=True)
        labels: Any = traitlets.List([]).tag(sync=True)

        def __repr__(self) -> str:
            return "<OverlayImage>"

    return OverlayImage


def _caption(text: str) -> w.HTML:
    return w.HTML(f"<b>{html.escape(text)}</b>")


def _title(text: str) -> w.HTML:
    return w.HTML(f'<div style="font-size:1.15em;font-weight:600">{html.escape(text)}</div>')


class _StaticPicture:
    """Mixin: a widget's display bundle also carries its static PNG, drawn once when asked."""

    _png: bytes | None = None

    def picture(self) -> npt.NDArray[np.uint8]:  # pragma: no cover - every view overrides it
        raise NotImplementedError

    def to_png(self) -> bytes:
        """The static picture (title, content, legend) as PNG bytes."""
        if self._png is None:
            self._png = render.encode_png(self.picture())
        return self._png

    def _repr_png_(self) -> bytes:
        return self.to_png()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})  # type: ignore[misc]
        bundle[_PNG] = base64.b64encode(self.to_png()).decode("ascii")
        return bundle


class SegmentationView(_StaticPicture, w.VBox):  # type: ignore[misc]
    """A large overlay with an opacity slider and a legend of per-class toggles beside it.

    A toolbar switches between the overlay alone and original | segmentation | overlay side by
    side, and enlarges the pictures. The background class (``segmentation.background``) starts
    untinted: its toggle is off, so the objects stand out; turn it on to tint it too.

    Args:
        image: The BGR image that was segmented (``None``: the segmentation's own image, if any).
        segmentation: The mask and its labels.
        labels: Override the segmentation's class labels.
        palette: Override its class colours.
        alpha: Initial opacity of the overlay.
        title: A title above the view (and its static picture).

    Example:
        >>> seg = Segmentation(np.array([[0, 1]], np.int32), ("background", "road"))
        >>> view = SegmentationView(np.zeros((1, 2, 3), np.uint8), seg)
        >>> view.visible, view.mode.value, view.enlarge.value
        ([1], 'overlay', False)
    """

    def __init__(
        self,
        image: npt.NDArray[np.uint8] | None,
        segmentation: Segmentation,
        labels: Sequence[str] | None = None,
        palette: Palette | None = None,
        *,
        alpha: float = 0.5,
        title: str = "",
    ) -> None:
        self.segmentation = dataclasses.replace(
            segmentation,
            labels=tuple(labels) if labels is not None else segmentation.labels,
            palette=palette or segmentation.palette,
            image=image if image is not None else segmentation.image,
        )
        seg = self.segmentation
        self.title = title
        self.opacity = w.FloatSlider(
            value=alpha, min=0.0, max=1.0, step=0.05, description="opacity",
            layout=w.Layout(width="250px"),
        )  # fmt: skip
        background = seg.background if isinstance(seg.background, int) else None
        row = w.Layout(width="auto")  # one layout for every legend row
        self.toggles = [
            w.Checkbox(
                value=i != background, indent=False, description_allow_html=True,
                description=f"{_swatch(seg.palette[i].as_hex())}{html.escape(label)} ({share:.1%})",
                layout=row,
            )
            for i, (label, share) in enumerate(seg.shares.items())
        ]  # fmt: skip
        self.mode = w.ToggleButtons(
            options=["overlay", "side by side"], value="overlay", tooltips=[
                "the overlay alone, large", "original | segmentation | overlay"],
        )  # fmt: skip
        self.enlarge = w.ToggleButton(value=False, description="enlarge", icon="expand")
        self.overlay_image = _overlay_image(self._overlay_pixels(), seg)
        self.panels = w.Box(layout=w.Layout(flex_flow="row wrap", align_items="flex-start"))
        self._side_by_side: list[tuple[Any, w.VBox]] | None = None
        side = w.VBox(
            [self.opacity, w.HTML("<b>classes</b> (pixel share)"), w.VBox(self.toggles)],
            layout=w.Layout(margin="0 0 0 16px", min_width="260px"),
        )
        for control in (self.opacity, *self.toggles):
            control.observe(self._redraw, names="value")
        for control in (self.mode, self.enlarge):
            control.observe(self._arrange, names="value")
        head = [_title(title)] if title else []
        toolbar = w.HBox([self.mode, self.enlarge])
        body = w.HBox(  # an enlarged picture pushes the controls below it, if it must
            [self.panels, side], layout=w.Layout(align_items="flex-start", flex_flow="row wrap")
        )
        super().__init__([*head, toolbar, body])
        self._arrange()

    @property
    def visible(self) -> list[int]:
        """Indices of the classes whose toggle is on (the ones the overlay tints)."""
        return [i for i, toggle in enumerate(self.toggles) if toggle.value]

    def picture(self) -> npt.NDArray[np.uint8]:
        """Title, original | segmentation | overlay, and the legend with pixel shares (BGR)."""
        return render.segmentation_picture(self.segmentation, title=self.title)

    def _overlay_pixels(self) -> npt.NDArray[np.uint8]:
        seg = self.segmentation
        base = seg.image if seg.image is not None else np.zeros((*seg.mask.shape, 3), np.uint8)
        return render.overlay(
            base, seg.mask, palette=seg.palette, alpha=self.opacity.value, visible=self.visible
        )

    def _redraw(self, change: object = None) -> None:
        _update(self.overlay_image, self._overlay_pixels())

    def _arrange(self, change: object = None) -> None:
        """Lay the pictures out for the current mode and size."""
        big = bool(self.enlarge.value)
        self.enlarge.description = "shrink" if big else "enlarge"
        self.enlarge.icon = "compress" if big else "expand"
        if self.mode.value == "overlay":
            _size(self.overlay_image, f"{OVERLAY_WIDTH[big]}px")
            self.panels.children = [self.overlay_image]
            return
        width = f"{PANEL_WIDTH[big]}px"
        if self._side_by_side is None:  # drawn the first time they are asked for
            seg = self.segmentation
            named = [("segmentation", _image(render.paint(seg))), ("overlay", self.overlay_image)]
            if seg.image is not None:
                named.insert(0, ("original", _image(seg.image)))
            self._side_by_side = [
                (picture, w.VBox([_caption(name), picture], layout=w.Layout(margin="0 8px 8px 0")))
                for name, picture in named
            ]
        for picture, _ in self._side_by_side:
            _size(picture, width)
        self.panels.children = [box for _, box in self._side_by_side]

    def __repr__(self) -> str:
        return f"<SegmentationView {self.segmentation!r}>"


def _size(picture: Any, width: str) -> None:
    """Set a picture's width in place (its layout stays the same widget, so views follow)."""
    picture.layout.width, picture.layout.max_width = width, "100%"


def _swatch(color: str) -> str:
    return (
        f'<span style="display:inline-block;width:14px;height:14px;margin:0 6px -2px 0;'
        f'background:{color};border:1px solid #999"></span>'
    )


class TopKView(_StaticPicture, w.VBox):  # type: ignore[misc]
    """The ``k`` best classes: whole labels, bars on an absolute 0-1 scale, percentages.

    Labels are shown clean (``n01440764 tench, Tinca tinca`` reads ``tench``; the whole label is
    the tooltip) and wrap instead of being cut. A bar is the score itself (0.4 fills 40 %), so a
    doubtful top-1 looks doubtful.

    Args:
        classification: The scores (probabilities, for the bars to mean something).
        k: How many classes.
        title: A title above the bars.
        thumbnail: The input picture (BGR), shown small beside the bars.
        clean: Show clean names (else the labels as they are).

    Example:
        >>> c = Classification.from_output(np.array([0.1, 0.6, 0.3]), ["n1 a", "n2 b", "n3 c"])
        >>> [bar.value for bar in TopKView(c, k=2).bars]
        [0.6, 0.3]
    """

    def __init__(
        self,
        classification: Classification,
        k: int = 5,
        *,
        title: str = "",
        thumbnail: npt.NDArray[np.uint8] | None = None,
        clean: bool = True,
    ) -> None:
        self.title, self.thumbnail = title, thumbnail
        self.predictions = classification.top_k(k)
        self.names = [render.clean_label(p.label) if clean else p.label for p in self.predictions]
        self.bars = [
            w.FloatProgress(
                value=min(max(p.score, 0.0), 1.0), min=0.0, max=1.0,
                layout=w.Layout(width=f"{BAR_WIDTH}px", flex="0 0 auto"),
            )
            for p in self.predictions
        ]  # fmt: skip
        self.rows = [
            w.HBox(
                [_label(name, p.label), bar, w.Label(f"{p.score:.1%}")],
                layout=w.Layout(align_items="center"),
            )
            for name, p, bar in zip(self.names, self.predictions, self.bars, strict=True)
        ]
        content: Any = w.VBox(self.rows)
        if thumbnail is not None:
            small = render.fit(thumbnail, THUMBNAIL_SIDE)
            picture = _image(small, width=f"{small.shape[1]}px", margin="0 12px 0 0")
            content = w.HBox([picture, content], layout=w.Layout(align_items="flex-start"))
        super().__init__([*([_title(title)] if title else []), content])

    def picture(self) -> npt.NDArray[np.uint8]:
        """The same bars, title and thumbnail as a picture (BGR)."""
        scores = [p.score for p in self.predictions]
        return render.bar_chart(self.names, scores, title=self.title, thumbnail=self.thumbnail)

    def __repr__(self) -> str:
        return f"<TopKView {len(self.predictions)} classes>"


def _label(name: str, full: str) -> w.HTML:
    label = w.HTML(
        f'<div class="wasinn-topk-label" title="{html.escape(full)}" style="white-space:normal;'
        f'overflow-wrap:anywhere;line-height:1.3">{html.escape(name)}</div>',
        layout=w.Layout(width="260px", flex="0 0 auto", margin="0 8px 0 0"),
    )
    label.add_class("wasinn-topk-label-box")
    return label


class TensorView(_StaticPicture, w.VBox):  # type: ignore[misc]
    """A tensor's shape, dtype and per-channel statistics, and one channel at a time as an image.

    Channels are named from the spec's colour order (``B``/``G``/``R`` for im2tensor's default
    BGR) when the tensor has three; a channel is drawn at most :data:`TENSOR_SIDE` pixels wide
    or high, never blown up to the cell's width.

    Args:
        array: The tensor.
        channel_axis: Its channel axis (default: from ``spec``'s layout, else guessed).
        spec: The :class:`~wasinn_nb.TensorSpec` that made it (for channel names and layout).
        channel_names: Names for the channels (override the spec's).
        color: The colour order, when there is no spec (``"bgr"`` or ``"rgb"``).

    Example:
        >>> view = TensorView(np.zeros((1, 3, 8, 8), np.float32), color="rgb")
        >>> view.channel_names
        ['R', 'G', 'B']
    """

    def __init__(
        self,
        array: npt.NDArray[np.generic],
        *,
        channel_axis: int | None = None,
        spec: Any = None,
        channel_names: Sequence[str] | None = None,
        color: str | ColorOrder | None = None,
    ) -> None:
        self.array = np.asarray(array)
        layout: Layout | None = getattr(spec, "layout", None)
        order = getattr(spec, "color", None) if color is None else ColorOrder.parse(color)
        self.channel_axis = (
            channel_axis
            if channel_axis is not None
            else guess_channel_axis(self.array.shape, layout)
        )
        count = self.array.shape[self.channel_axis] if self.channel_axis is not None else 0
        if channel_names is not None:
            self.channel_names = list(channel_names)
        elif order is not None and count == 3:
            self.channel_names = list(order.name)
        else:
            self.channel_names = [str(i) for i in range(count)]
        stats = tensor_stats(self.array, channel_axis=self.channel_axis)
        rows = [
            dataclasses.replace(row, name=self.channel_names[i]) if i < count else row
            for i, row in enumerate(stats.channels)
        ]
        self.stats = dataclasses.replace(stats, channels=tuple(rows))
        self.summary = w.HTML(f"<pre>{html.escape(self.stats.format())}</pre>")
        children: list[Any] = [self.summary]
        if self.channel_axis is not None:
            options = [(name, i) for i, name in enumerate(self.channel_names)]
            self.channel: Any = (
                w.ToggleButtons(options=options, value=0, description="channel")
                if count <= 8
                else w.IntSlider(value=0, min=0, max=count - 1, description="channel")
            )
            self.picture_widget = _image(self._pixels())
            self._size_picture()
            self.channel.observe(self._redraw, names="value")
            children += [self.channel, self.picture_widget]
        super().__init__(children)

    @property
    def picture_image(self) -> w.Image:
        """The image widget that shows the current channel."""
        return self.picture_widget

    def picture(self) -> npt.NDArray[np.uint8]:
        """The statistics' title and every channel (up to 8) as titled tiles (BGR)."""
        shape = "x".join(map(str, self.array.shape))
        title = f"{shape} {self.array.dtype.name}"
        if self.channel_axis is None:
            return render.titled(np.full((4, 240, 3), 255, np.uint8), title)
        tiles = [
            render.titled(
                render.fit(render.channel_to_image(self.array, self.channel_axis, i), 160),
                self.channel_names[i], size=0.45,
            )
            for i in range(min(8, len(self.channel_names)))
        ]  # fmt: skip
        return render.titled(render.side_by_side(tiles, gap=6), title)

    def _pixels(self) -> npt.NDArray[np.uint8]:
        assert self.channel_axis is not None  # noqa: S101 - only called when there is one
        plane = render.channel_to_image(self.array, self.channel_axis, self.channel.value)
        return render.fit(plane, TENSOR_SIDE)

    def _size_picture(self) -> None:
        height, width = self._pixels().shape[:2]
        scale = min(1.0, TENSOR_SIDE / max(width, height)) if max(width, height) > 0 else 1.0
        self.picture_widget.layout = w.Layout(width=f"{max(1, round(width * scale))}px")

    def _redraw(self, change: object = None) -> None:
        _update(self.picture_widget, self._pixels())

    def __repr__(self) -> str:
        return f"<TensorView {'x'.join(map(str, self.array.shape))} {self.array.dtype}>"


class BackendPicker(w.Dropdown):  # type: ignore[misc]
    """A device/backend dropdown, as openvino_notebooks' ``device_widget()``.

    Its ``value`` is the chosen backend's name; ``on_change`` (if given) is called with each new
    choice, e.g. to set ``%config WasinnMagics.backend`` so later ``%wasinn run`` lines use it.

    Args:
        choices: The backend names to offer (``wasinn_nb.backends.available_backends()``).
        value: The first choice (default: the first name).
        on_change: Called with the new name whenever the choice changes (and once now).

    Example:
        >>> picked = []
        >>> picker = BackendPicker(["openvino", "onnxruntime"], on_change=picked.append)
        >>> picker.value = "onnxruntime"
        >>> picked
        ['openvino', 'onnxruntime']
    """

    def __init__(
        self,
        choices: Sequence[str],
        value: str | None = None,
        *,
        on_change: Callable[[str], object] | None = None,
    ) -> None:
        names = list(choices)
        if not names:
            raise ValueError("no backend to choose from: install one (pip install -e '.[all]')")
        super().__init__(options=names, value=value or names[0], description="backend")
        if on_change is not None:
            self.observe(lambda change: on_change(change["new"]), names="value")
            on_change(self.value)


def stack(summary_html: str, views: Sequence[w.Widget]) -> w.VBox:
    """An HTML summary with views under it, as one widget (a run's display)."""
    return w.VBox([w.HTML(summary_html), *views])
