"""An item's answer from a run: a classifier's top-K, or a segmenter's class shares."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from wasinn_nb.errors import WasinnError
from wasinn_nb.results import RunResult, Segmentation

__all__ = ["auto_parse", "parse_top_k", "segment_shares"]

#: ``INDEX LABEL SCORE``: the classify guest's lines after its header (LABEL may have spaces).
_CLASS_LINE = re.compile(r"^(\d+) (.+) (-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$")


def parse_top_k(stdout: str) -> dict[str, Any] | None:
    r"""The top-K of a classifier's ``INDEX LABEL SCORE`` lines (the classify guest's output).

    Returns ``None`` when the output has no such lines. ``label``, ``class_index`` and ``score``
    are the best class's; ``top_labels``, ``top_indices`` and ``top_scores`` the K classes', in
    the guest's order.

    Example:
        >>> text = "classify: model=m.tflite top=2\n89 macaw 230.0000\n1 background 2.0000\n"
        >>> parsed = parse_top_k(text)
        >>> parsed["label"], parsed["score"], parsed["top_indices"]
        ('macaw', 230.0, [89, 1])
    """
    lines = [line.rstrip() for line in stdout.splitlines() if line.strip()]
    body = lines[1:] if lines and lines[0].startswith("classify:") else lines
    matches = [_CLASS_LINE.match(line) for line in body]
    if not body or not all(matches):
        return None
    indices = [int(m[1]) for m in matches if m]
    labels = [m[2] for m in matches if m]
    scores = [float(m[3]) for m in matches if m]
    return {"label": labels[0], "class_index": indices[0], "score": scores[0],
            "top_labels": labels, "top_indices": indices, "top_scores": scores}  # fmt: skip


def segment_shares(result: RunResult) -> dict[str, Any] | None:
    """The share of pixels per class of the first output, if it is a segmentation map.

    Float ``(1, C, H, W)`` scores (argmax over C) or an integer ``(1, H, W)`` class map; the
    classes are named ``class 0``, ``class 1``… (a ``postprocess`` can name them).
    """
    if not result.outputs:
        return None
    output = result.outputs[0]
    float_map = np.issubdtype(output.dtype, np.floating) and output.ndim == 4
    class_map = np.issubdtype(output.dtype, np.integer) and output.ndim == 3
    if not (float_map or class_map) or min(output.shape[-2:]) < 2:
        return None
    try:
        shares = Segmentation.from_output(output).shares
    except WasinnError:
        return None
    return {"top_class": max(shares, key=shares.__getitem__), "shares": shares}


def auto_parse(result: RunResult) -> dict[str, Any]:
    """The columns of a successful run: top-K from stdout, else class shares, else none."""
    return parse_top_k(result.stdout) or segment_shares(result) or {}
