"""Summary views of a batch (matplotlib): top-1 frequencies, class shares, most/least confident.

They take plain sequences — a DataFrame's columns do — and draw into a matplotlib ``Axes``
(or a new figure, made without pyplot, when none is given); they return what they drew on.

Example:
    >>> ax = top1_bar_chart(["cat", "dog", "cat"])
    >>> [t.get_text() for t in ax.get_yticklabels()]  # bottom to top: commonest at the top
    ['dog', 'cat']
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["confidence_grid", "share_histogram", "top1_bar_chart"]


def _axes(ax: Axes | None, size: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained").add_subplot()


def _present(values: Iterable[Any]) -> list[Any]:
    """The values that are not missing (None or NaN)."""
    return [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def top1_bar_chart(labels: Iterable[Any], *, top: int = 15, ax: Axes | None = None) -> Axes:
    """How often each class was the top-1, commonest first (at most ``top`` classes)."""
    counts = Counter(str(label) for label in _present(labels)).most_common(top)
    ax = _axes(ax, (6, 0.3 * max(len(counts), 3) + 1))
    names = [name for name, _ in counts][::-1]
    ax.barh(names, [n for _, n in counts][::-1], color="#4c72b0")
    ax.set_xlabel("items")
    ax.set_title(f"top-1 class ({sum(n for _, n in counts)} items)")
    ax.set_yticks(range(len(names)), [n[:40] for n in names])
    return ax


def share_histogram(
    shares: Iterable[Mapping[str, float] | None],
    *,
    classes: Sequence[str] | None = None,
    bins: int = 20,
    ax: Axes | None = None,
) -> Axes:
    """For each class, a histogram of its share of the pixels over the items (segmenters)."""
    rows = [row for row in _present(shares) if isinstance(row, Mapping)]
    names = list(classes) if classes is not None else sorted({k for row in rows for k in row})
    ax = _axes(ax, (6, 3.5))
    edges = [float(x) for x in np.linspace(0.0, 1.0, bins + 1)]
    for name in names:
        ax.hist([row.get(name, 0.0) for row in rows], bins=edges, histtype="step", label=name)
    ax.set_xlabel("share of the pixels")
    ax.set_ylabel("items")
    ax.set_title(f"class shares ({len(rows)} items)")
    if names:
        ax.legend(fontsize="small")
    return ax


def confidence_grid(
    images: Sequence[Any],
    scores: Sequence[Any],
    captions: Sequence[str] | None = None,
    *,
    count: int = 4,
    figure: Figure | None = None,
) -> Figure:
    """The ``count`` most and least confident items: their images with caption and score.

    ``images`` are paths (or BGR arrays); items with a missing score are left out.
    """
    from wasinn_nb.im2tensor.io import load_image

    kept = [i for i, s in enumerate(scores) if _present([s])]
    order = sorted(kept, key=lambda i: (-float(scores[i]), i))
    picks = [("most confident", order[:count]), ("least confident", order[::-1][:count])]
    if figure is None:
        from matplotlib.figure import Figure

        figure = Figure(figsize=(2.4 * max(count, 1), 5.4), layout="constrained")
    grid = figure.subplots(2, max(count, 1), squeeze=False)
    for row, (title, indices) in enumerate(picks):
        for column, ax in enumerate(grid[row]):
            ax.set_axis_off()
            if column >= len(indices):
                continue
            i = indices[column]
            picture = images[i] if isinstance(images[i], np.ndarray) else load_image(images[i])
            ax.imshow(picture[..., ::-1] if picture.ndim == 3 else picture, cmap="gray")
            caption = captions[i] if captions is not None else ""
            ax.set_title(f"{str(caption)[:24]}\n{float(scores[i]):.3g}", fontsize="small")
        grid[row][0].text(-0.08, 0.5, title, transform=grid[row][0].transAxes, rotation=90,
                          ha="right", va="center")  # fmt: skip
    return figure
