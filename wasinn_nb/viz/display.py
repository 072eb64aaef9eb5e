"""Rich displays of results in Jupyter: a live widget where ipywidgets runs, a PNG everywhere.

Importing this module registers the renderers (``import wasinn_nb`` does). Nothing heavy is
imported until a result is displayed.

A :class:`~wasinn_nb.results.RunResult` displays as its summary (status, tensors, timings) plus
a view of each output that :func:`recognize` knows: class scores ``[1, C, H, W]`` with few
classes and integer class maps ``[1, H, W]`` as a segmentation over the input picture, a
classifier's ``[1, N]`` vector as top-K bars. Other outputs are only listed in the summary: a
raw tensor dump helps nobody (``TensorView`` is there to look at one on purpose).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from wasinn_nb.results import (
    PHASES,
    Classification,
    PipelineItem,
    PipelineResult,
    RunResult,
    Segmentation,
)
from wasinn_nb.results.display import register_renderer
from wasinn_nb.results.palette import DEFAULT_PALETTE, ROAD_LABELS, ROAD_PALETTE, Palette
from wasinn_nb.results.pipeline import StageRecord, describe_value

__all__ = [
    "KNOWN_OUTPUTS",
    "classification_bundle",
    "input_picture",
    "pipeline_bundle",
    "recognize",
    "run_result_bundle",
    "segmentation_bundle",
]

#: Output shapes of known models, with their class labels and colours.
KNOWN_OUTPUTS: dict[tuple[int, ...], tuple[tuple[str, ...], Palette]] = {
    (1, 4, 512, 896): (ROAD_LABELS, ROAD_PALETTE),  # OpenVINO road-segmentation-adas-0001
}
#: A float ``[1, C, H, W]`` output with at most this many channels reads as class scores.
MAX_SEGMENTATION_CLASSES = 32
#: Pictures and masks are at least this many pixels high and wide (smaller: not an image).
MIN_SIDE = 8
#: Top-K shown for a classifier's output.
TOP_K = 5

_WIDGET = "application/vnd.jupyter.widget-view+json"


def recognize(
    output: npt.NDArray[np.generic],
    *,
    labels: Any = None,
    image: npt.NDArray[np.uint8] | None = None,
) -> Segmentation | Classification | None:
    """What an output tensor is, if it looks like a segmentation or a classification.

    * float ``[1, C, H, W]`` with ``2 <= C <= 32``: class scores, argmax over ``C``;
    * integer ``[1, H, W]`` or ``[H, W]`` with classes 0..255: a class map;
    * ``[N]`` or ``[1, N]`` with ``N >= 2``: a classifier's scores, as probabilities (kept if
      they are already, ``u8`` read as ``q / 255``, else a softmax).

    Labels come from ``labels``, else :data:`KNOWN_OUTPUTS`, else class numbers.

    Example:
        >>> recognize(np.zeros((1, 4, 16, 16), np.float32))
        <Segmentation 16x16, 4 classes: class 0 100.0%, class 1 0.0%, class 2 0.0%, class 3 0.0%>
        >>> recognize(np.array([[0.1, 0.9]], np.float32))
        <Classification 2 classes; top-1 1 'class 1' 0.9>
        >>> recognize(np.zeros((3, 5), np.float32)) is None
        True
    """
    array = np.asarray(output)
    known_labels, palette = KNOWN_OUTPUTS.get(array.shape, (None, None))
    names = labels if labels is not None else known_labels
    colors = palette if palette is not None else DEFAULT_PALETTE
    if _is_score_map(array):
        picture = image if image is not None and image.shape[:2] == array.shape[2:] else None
        return Segmentation.from_output(array, names, image=picture, palette=colors)
    if _is_class_map(array):
        picture = image if image is not None and image.shape[:2] == array.shape[-2:] else None
        return Segmentation.from_output(array, names, image=picture, palette=colors)
    if array.size >= 2 and (array.ndim == 1 or (array.ndim == 2 and array.shape[0] == 1)):
        return _probabilities(array, names)
    return None


def _is_score_map(array: npt.NDArray[np.generic]) -> bool:
    return (
        np.issubdtype(array.dtype, np.floating)
        and array.ndim == 4
        and array.shape[0] == 1
        and 2 <= array.shape[1] <= MAX_SEGMENTATION_CLASSES
        and min(array.shape[2:]) >= MIN_SIDE
    )


def _is_class_map(array: npt.NDArray[np.generic]) -> bool:
    if not np.issubdtype(array.dtype, np.integer) or array.size == 0:
        return False
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[0] == 1)):
        return False
    return min(array.shape[-2:]) >= MIN_SIDE and int(array.min()) >= 0 and int(array.max()) < 256


def _probabilities(array: npt.NDArray[np.generic], labels: Any) -> Classification:
    if labels is None:
        labels = [f"class {i}" for i in range(array.size)]
    if array.dtype == np.uint8:
        return Classification.from_output(array, labels, scale=1 / 255)
    scores = Classification.from_output(array, labels)
    values = scores.scores
    if values.min() >= 0 and values.max() <= 1 and abs(values.sum() - 1) <= 0.05:
        return scores
    return scores.softmax()


def input_picture(tensor: npt.NDArray[np.generic]) -> npt.NDArray[np.uint8] | None:
    """A BGR picture of an image-like input tensor (``[1, 3, H, W]`` or ``[1, H, W, 3]``).

    Float pixels 0..255 are taken as they are, 0..1 scaled by 255, others (normalized) scaled
    from their min..max. The colour order follows the layouts' conventions: NCHW is taken as
    BGR (im2tensor's default, OpenVINO's models), NHWC as RGB (TensorFlow and TFLite models).

    Example:
        >>> input_picture(np.full((1, 3, 8, 8), 300.0, np.float32))[0, 0].tolist()
        [255, 255, 255]
        >>> input_picture(np.zeros((1, 4), np.float32)) is None
        True
    """
    import cv2

    array = np.asarray(tensor)
    if array.ndim != 4 or array.shape[0] != 1 or array.dtype.kind not in "uif":
        return None
    if array.shape[1] == 3 and min(array.shape[2:]) >= MIN_SIDE:
        planes = [array[0, c] for c in range(3)]
    elif array.shape[3] == 3 and min(array.shape[1:3]) >= MIN_SIDE:
        planes = [np.ascontiguousarray(array[0, :, :, c]) for c in (2, 1, 0)]  # RGB -> BGR
    else:
        return None
    low = min(float(p.min()) for p in planes)
    high = max(float(p.max()) for p in planes)
    if array.dtype == np.uint8:
        scale, shift = 1.0, 0.0
    elif low >= 0 and high <= 1.0:
        scale, shift = 255.0, 0.0
    elif low >= 0:
        scale, shift = 1.0, 0.0
    else:
        scale = 255.0 / (high - low) if high > low else 1.0
        shift = -low * scale
    channels = [cv2.convertScaleAbs(p.astype(np.float32, copy=False), alpha=scale, beta=shift)
                for p in planes]  # fmt: skip
    picture: npt.NDArray[np.uint8] = np.asarray(cv2.merge(channels), np.uint8)
    return picture


def classification_bundle(result: Classification, **kwargs: Any) -> dict[str, Any]:
    """The top 5 classes as bars: a TopKView widget plus a PNG chart."""
    make = lambda: _widgets().TopKView(result, k=TOP_K, title=_top_title(result))  # noqa: E731
    return _bundle(result, lambda: _chart(result), make, **kwargs)


def _top_title(result: Classification) -> str:
    return f"top {min(TOP_K, result.scores.size)} of {result.scores.size} classes"


def segmentation_bundle(result: Segmentation, **kwargs: Any) -> dict[str, Any]:
    """Image | classes | overlay | legend: a SegmentationView widget plus the same as a PNG."""
    from wasinn_nb.viz import render

    title = _segmentation_title(result)
    return _bundle(
        result,
        lambda: render.segmentation_picture(result, title=title),
        lambda: _widgets().SegmentationView(result.image, result, title=title),
        **kwargs,
    )


def _segmentation_title(result: Segmentation) -> str:
    height, width = result.mask.shape
    return f"segmentation {width}x{height}, {len(result.labels)} classes"


def summary_html(result: RunResult) -> str:
    """The summary table of a run: status, tensors, and where the time went."""
    status = f"exit {result.exit_code}" if result.error is None else html.escape(result.error)
    name = html.escape(result.module.replace("\\", "/").rpartition("/")[2] or result.module)
    module = f'<th align=left title="{html.escape(result.module)}">{name}</th>'
    rows = [f"<tr>{module}<td>{status}</td></tr>"]
    for kind, records in (("input", result.input_records), ("output", result.output_records)):
        for r in records:
            shape = "x".join(map(str, r.array.shape))
            rows.append(
                f"<tr><td>{kind} {r.index} (context {r.context})</td>"
                f"<td>{shape} {r.array.dtype.name}</td></tr>"
            )
    times = " · ".join(f"{p} {result.timings[p] * 1e3:.1f} ms" for p in PHASES)
    rows.append(f"<tr><td>timings</td><td>{times}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def result_views(result: RunResult) -> list[Any]:
    """The views of a run's recognised outputs (SegmentationView / TopKView), in output order.

    Each has the output's number in its title; the input picture, when the first input looks
    like one, is the segmentation's background or the classification's thumbnail.
    """
    widgets = _widgets()
    picture = input_picture(result.inputs[0]) if result.inputs else None
    views: list[Any] = []
    for record in result.output_records:
        found = recognize(record.array, image=picture)
        name = f"output {record.index}"
        if isinstance(found, Segmentation):
            title = f"{name}: {_segmentation_title(found)}"
            views.append(widgets.SegmentationView(found.image, found, title=title))
        elif isinstance(found, Classification):
            title = f"{name}: {_top_title(found)}"
            views.append(widgets.TopKView(found, k=TOP_K, title=title, thumbnail=picture))
    return views


def run_result_bundle(result: RunResult, **kwargs: Any) -> dict[str, Any]:
    """The summary table, then a view of each recognised output: one widget, one HTML."""
    summary = summary_html(result)
    bundle: dict[str, Any] = {"text/plain": repr(result)}
    try:
        views = result_views(result)
    except ImportError:
        bundle["text/html"] = summary + "".join(_pictures_without_widgets(result))
        return bundle
    pictures = [
        f'<br><img alt="{html.escape(v.title)}" src="data:image/png;base64,'
        f'{base64.b64encode(v.to_png()).decode("ascii")}">'
        for v in views
    ]
    bundle["text/html"] = summary + "".join(pictures)
    if views:
        box = _widgets().stack(summary, views)
        widget_bundle = box._repr_mimebundle_(**kwargs) or {}
        if _WIDGET in widget_bundle:
            bundle[_WIDGET] = widget_bundle[_WIDGET]
    return bundle


def _pictures_without_widgets(result: RunResult) -> list[str]:
    """The recognised outputs' PNGs, drawn by render alone (no ipywidgets installed)."""
    from wasinn_nb.viz import render

    picture = input_picture(result.inputs[0]) if result.inputs else None
    found = [recognize(r.array, image=picture) for r in result.output_records]
    drawn = [
        render.segmentation_picture(f) if isinstance(f, Segmentation) else _chart(f)
        for f in found
        if f is not None
    ]
    return [
        f'<br><img src="data:image/png;base64,'
        f'{base64.b64encode(render.encode_png(d)).decode("ascii")}">'
        for d in drawn
    ]


def _chart(result: Classification) -> npt.NDArray[np.uint8]:
    from wasinn_nb.viz import render

    top = result.top_k(TOP_K)
    labels = [render.clean_label(p.label) for p in top]
    return render.bar_chart(labels, [p.score for p in top], title=_top_title(result))


def pipeline_bundle(result: PipelineResult | PipelineItem, **kwargs: Any) -> dict[str, Any]:
    """A table: one row per input, one cell per stage (value, verdict, time; images shown)."""
    items = result.items if isinstance(result, PipelineResult) else (result,)
    rows = []
    for item in items:
        cells = "".join(_stage_cell(stage) for stage in item.stages)
        status = "" if item.ok else f"<br><b style='color:#b00'>{html.escape(item.error or '')}</b>"
        rows.append(f"<tr><th align=left valign=top>{html.escape(item.source)}{status}</th>"
                    f"{cells}</tr>")  # fmt: skip
    caption = html.escape(repr(result))
    table = f"<table><caption>{caption}</caption>{''.join(rows)}</table>"
    return {"text/plain": repr(result), "text/html": table}


def _stage_cell(stage: StageRecord) -> str:
    head = f"<b>{html.escape(stage.operation)}</b> <small>{stage.kind}"
    head += f" · {stage.seconds * 1e3:.1f} ms</small>" if stage.seconds else "</small>"
    if stage.error is not None:
        body = f"<span style='color:#b00'>{html.escape(stage.error)}</span>"
    elif stage.verdict is not None and stage.kind == "filter" and not stage.verdict:
        body = "dropped"
    else:
        body = _value_html(stage.value)
        if stage.verdict is not None:
            body = f"{stage.verdict} · {body}"
    return f"<td valign=top>{head}<br>{body}</td>"


def _value_html(value: bytes | npt.NDArray[Any] | None) -> str:
    """An image tensor as a thumbnail, text as text, anything else as its summary."""
    from wasinn_nb.viz.render import encode_png

    if isinstance(value, np.ndarray) and value.dtype == np.uint8:
        picture = (
            value.reshape(value.shape[-3:]) if value.ndim == 4 and value.shape[0] == 1 else value
        )
        if picture.ndim == 3 and picture.shape[-1] == 3 and min(picture.shape[:2]) >= 8:
            png = base64.b64encode(encode_png(picture[..., ::-1].copy())).decode("ascii")
            return f"<img width=96 src='data:image/png;base64,{png}'><br>{describe_value(value)}"
    if isinstance(value, bytes):
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        if text and len(text) <= 2000 and all(c.isprintable() or c in "\n\t" for c in text):
            return f"<pre style='margin:0'>{html.escape(text)}</pre>"
    return html.escape(describe_value(value))


def _widgets() -> Any:
    from wasinn_nb.viz import widgets

    return widgets


def _bundle(
    owner: object,
    picture: Callable[[], npt.NDArray[np.uint8]],
    make_widget: Callable[[], Any],
    **kwargs: Any,
) -> dict[str, Any]:
    """A display bundle: the widget's (with its PNG) if ipywidgets is there, else a PNG."""
    from wasinn_nb.viz.render import encode_png

    try:
        widget = make_widget()
    except ImportError:
        png = base64.b64encode(encode_png(picture())).decode("ascii")
        return {"text/plain": repr(owner), "image/png": png}
    bundle: dict[str, Any] = widget._repr_mimebundle_(**kwargs)
    bundle["text/plain"] = repr(owner)
    return bundle


register_renderer(Classification, classification_bundle)
register_renderer(Segmentation, segmentation_bundle)
register_renderer(RunResult, run_result_bundle)
register_renderer(PipelineResult, pipeline_bundle)
register_renderer(PipelineItem, pipeline_bundle)
