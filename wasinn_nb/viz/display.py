"""Rich displays of results in Jupyter: a live widget where ipywidgets runs, a PNG everywhere.

Importing this module registers the renderers (``import wasinn_nb`` does). Nothing heavy is
imported until a result is displayed.
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
from wasinn_nb.results.pipeline import StageRecord, describe_value

__all__ = [
    "classification_bundle",
    "pipeline_bundle",
    "run_result_bundle",
    "segmentation_bundle",
]


def classification_bundle(result: Classification, **kwargs: Any) -> dict[str, Any]:
    """The top 5 classes as bars: a TopKView widget plus a PNG chart."""
    from wasinn_nb.viz import render

    top = result.top_k(5)
    chart = render.bar_chart([f"{p.index} {p.label}" for p in top], [p.score for p in top])
    return _bundle(result, chart, lambda: _widgets().TopKView(result, k=5), **kwargs)


def segmentation_bundle(result: Segmentation, **kwargs: Any) -> dict[str, Any]:
    """Image | classes | overlay | legend: a SegmentationView widget plus the same as a PNG."""
    from wasinn_nb.viz import render

    picture = render.segmentation_picture(result)
    return _bundle(
        result, picture, lambda: _widgets().SegmentationView(result.image, result), **kwargs
    )


def run_result_bundle(result: RunResult, **kwargs: Any) -> dict[str, Any]:
    """A summary table: status, tensors, and where the time went."""
    status = f"exit {result.exit_code}" if result.error is None else html.escape(result.error)
    rows = [f"<tr><th align=left>{html.escape(result.module)}</th><td>{status}</td></tr>"]
    for kind, records in (("input", result.input_records), ("output", result.output_records)):
        for r in records:
            shape = "x".join(map(str, r.array.shape))
            rows.append(
                f"<tr><td>{kind} {r.index} (context {r.context})</td>"
                f"<td>{shape} {r.array.dtype.name}</td></tr>"
            )
    times = " · ".join(f"{p} {result.timings[p] * 1e3:.1f} ms" for p in PHASES)
    rows.append(f"<tr><td>timings</td><td>{times}</td></tr>")
    return {"text/plain": repr(result), "text/html": "<table>" + "".join(rows) + "</table>"}


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
    owner: object, picture: npt.NDArray[np.uint8], make_widget: Callable[[], Any], **kwargs: Any
) -> dict[str, Any]:
    """A display bundle: a live widget if ipywidgets can make one, plus a PNG and text always."""
    from wasinn_nb.viz.render import encode_png

    bundle: dict[str, Any] = {
        "text/plain": repr(owner),
        "image/png": base64.b64encode(encode_png(picture)).decode("ascii"),
    }
    try:
        widget_bundle = make_widget()._repr_mimebundle_(**kwargs)
    except ImportError:
        return bundle
    if widget_bundle:
        bundle.update({k: v for k, v in widget_bundle.items() if k != "text/plain"})
    return bundle


register_renderer(Classification, classification_bundle)
register_renderer(Segmentation, segmentation_bundle)
register_renderer(RunResult, run_result_bundle)
register_renderer(PipelineResult, pipeline_bundle)
register_renderer(PipelineItem, pipeline_bundle)
