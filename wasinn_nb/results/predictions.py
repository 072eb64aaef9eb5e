"""Turning output tensors into answers: classification scores and segmentation masks.

Both are validated dataclasses with ``from_output`` constructors and cheap reprs. How they are
drawn (a widget where ipywidgets is live, a PNG everywhere else) is :mod:`wasinn_nb.viz`'s job.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from wasinn_nb.errors import ShapeError, SpecError
from wasinn_nb.results.display import RichDisplay
from wasinn_nb.results.palette import DEFAULT_PALETTE, Palette

__all__ = ["Classification", "Prediction", "Segmentation", "dequantize", "load_labels"]

Labels = Sequence[str] | str | os.PathLike[str] | None


def load_labels(source: Labels) -> tuple[str, ...] | None:
    """Labels from a sequence, or from a text file with one label per line.

    ImageNet synset lines (``n01440764 tench, Tinca tinca``) are kept whole.
    """
    if source is None:
        return None
    if isinstance(source, (str, os.PathLike)):
        try:
            lines = Path(source).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise SpecError(f"cannot read labels {source}: {error.strerror or error}") from None
        return tuple(line.strip() for line in lines if line.strip())
    return tuple(str(label) for label in source)


def dequantize(
    values: npt.NDArray[np.generic], scale: float, zero_point: int = 0
) -> npt.NDArray[np.float64]:
    """Real numbers from quantized integers: ``scale * (values - zero_point)``.

    Take ``scale`` and ``zero_point`` from the model (see :mod:`wasinn_nb.backends.quantization`).

    Example:
        >>> dequantize(np.array([0, 128, 255], np.uint8), 1 / 256).tolist()
        [0.0, 0.5, 0.99609375]
        >>> dequantize(np.array([0, 255], np.uint8), 0.1, zero_point=128).round(1).tolist()
        [-12.8, 12.7]
    """
    return (np.asarray(values).astype(np.float64) - zero_point) * scale


@dataclass(frozen=True)
class Prediction:
    """One class of a classification: its index, label and score."""

    index: int
    label: str
    score: float


@dataclass(frozen=True)
class Classification(RichDisplay):
    """Scores over classes, with labels; softmax, top-K and threshold as in a data-flow graph.

    Example:
        >>> c = Classification.from_output(np.array([[1.0, 3.0, 2.0]]), ["cat", "dog", "fox"])
        >>> [p.label for p in c.top_k(2)]
        ['dog', 'fox']
        >>> round(c.softmax().top_k(1)[0].score, 3)
        0.665
    """

    scores: npt.NDArray[np.float64]
    labels: tuple[str, ...] | None = None
    first_index: int = 0

    def __post_init__(self) -> None:
        if self.scores.ndim != 1 or self.scores.size == 0:
            raise ShapeError("scores", "(classes,)", self.scores.shape)
        if self.labels is not None and len(self.labels) < self.scores.size:
            raise SpecError(f"{self.scores.size} scores but only {len(self.labels)} labels")

    @classmethod
    def from_output(
        cls,
        output: npt.NDArray[np.generic],
        labels: Labels = None,
        *,
        scale: float = 1.0,
        zero_point: int = 0,
        skip_first: bool = False,
    ) -> Classification:
        """Scores from a model output of shape ``(classes,)`` or ``(1, classes)``.

        Scores are ``scale * (output - zero_point)`` (see :func:`dequantize`); the defaults
        keep the output as it is.

        Args:
            output: The output tensor.
            labels: Class labels, or a label file.
            scale: A quantized output's scale (e.g. 1/256 for MobileNet's u8 softmax).
            zero_point: A quantized output's zero point.
            skip_first: Drop index 0 (a "background" class, as in 1001-class TF models); label
                ``i`` then names output ``i + 1``.
        """
        flat = np.asarray(output).reshape(-1) if np.asarray(output).ndim <= 2 else None
        if flat is None or (np.asarray(output).ndim == 2 and np.asarray(output).shape[0] != 1):
            raise ShapeError("classification output", "(classes,) or (1, classes)", output.shape)
        scores = dequantize(flat, scale, zero_point)
        return cls(scores[1:] if skip_first else scores, load_labels(labels), int(skip_first))

    def label(self, index: int) -> str:
        """The label of class ``index`` (its number when there are no labels)."""
        return self.labels[index] if self.labels is not None else str(index + self.first_index)

    def softmax(self) -> Classification:
        """The same classes with scores turned into probabilities."""
        shifted = np.exp(self.scores - self.scores.max())
        return Classification(shifted / shifted.sum(), self.labels, self.first_index)

    def top_k(self, k: int = 5) -> list[Prediction]:
        """The ``k`` best classes, best first (ties keep index order)."""
        order = np.argsort(-self.scores, kind="stable")[:k]
        return [self._prediction(int(i)) for i in order]

    def above(self, threshold: float) -> list[Prediction]:
        """Every class scoring at least ``threshold``, best first."""
        return [p for p in self.top_k(self.scores.size) if p.score >= threshold]

    def _prediction(self, index: int) -> Prediction:
        return Prediction(index + self.first_index, self.label(index), float(self.scores[index]))

    def __repr__(self) -> str:
        best = self.top_k(1)[0]
        top = f"{best.index} {best.label!r} {best.score:.4g}"
        return f"<Classification {self.scores.size} classes; top-1 {top}>"


#: Label lists up to this long are listed whole in a segmentation's static legend; longer


def _background_index(labels: Sequence[str]) -> int | None:
    """The index of the class labelled ``background`` (any case), if there is one."""
    names = [label.strip().lower() for label in labels]
    return names.index("background") if "background" in names else None


def _best_class(scores: npt.NDArray[np.floating]) -> npt.NDArray[np.int32]:
    """``scores.argmax(axis=0)`` as int32, one class plane at a time.

    NumPy's argmax over the first axis of ``(C, H, W)`` copies the scores first (their whole
    size again, plus an int64 result); this keeps one plane of best scores and the int32 mask.
    Ties go to the lower class, as with argmax.

    Example:
        >>> _best_class(np.array([[[1.0, 2.0]], [[1.0, 3.0]]])).tolist()
        [[0, 1]]
    """
    best = scores[0].copy()
    mask = np.zeros(best.shape, np.int32)
    for index in range(1, scores.shape[0]):
        better = scores[index] > best
        np.copyto(best, scores[index], where=better)
        mask[better] = index
    return mask


@dataclass(frozen=True)
class Segmentation(RichDisplay):
    """A per-pixel class mask with its class labels and colours.

    ``background`` is a class that overlays leave untinted, so the objects stand out. By default
    (``"auto"``) it is the class labelled ``background`` when there is one (PASCAL VOC,
    road-segmentation-adas), else none; after construction it is an index or ``None``.

    Example:
        >>> logits = np.zeros((1, 2, 2, 2), np.float32); logits[0, 1, 0] = 1.0
        >>> seg = Segmentation.from_output(logits, ["sky", "road"])
        >>> seg.mask.tolist(), seg.shares, seg.background
        ([[1, 1], [0, 0]], {'sky': 0.5, 'road': 0.5}, None)
        >>> Segmentation.from_output(np.array([[0, 3]]), ["background", "a", "b", "c"]).background
        0
    """

    mask: npt.NDArray[np.int32]
    labels: tuple[str, ...]
    palette: Palette = DEFAULT_PALETTE
    image: npt.NDArray[np.uint8] | None = field(default=None, repr=False)
    background: int | Literal["auto"] | None = "auto"

    def __post_init__(self) -> None:
        if self.mask.ndim != 2:
            raise ShapeError("mask", "(H, W)", self.mask.shape)
        if self.mask.size and int(self.mask.max()) >= len(self.labels):
            raise SpecError(
                f"mask has class {int(self.mask.max())} but only {len(self.labels)} labels"
            )
        if self.background == "auto":
            object.__setattr__(self, "background", _background_index(self.labels))
        elif self.background is not None and not 0 <= self.background < len(self.labels):
            raise SpecError(f"background class {self.background} is not one of the labels")

    @classmethod
    def from_output(
        cls,
        output: npt.NDArray[np.generic],
        labels: Labels = None,
        *,
        palette: Palette = DEFAULT_PALETTE,
        image: npt.NDArray[np.uint8] | None = None,
        background: int | Literal["auto"] | None = "auto",
    ) -> Segmentation:
        """A mask from class scores (argmax over C) or from a class map.

        Float outputs are scores, ``(1, C, H, W)`` or ``(C, H, W)``. Integer outputs are class
        maps, ``(1, H, W)`` or ``(H, W)``: models such as DeepLab V3 take the argmax themselves
        and return class indices (often i64).

        Args:
            output: The output tensor.
            labels: Class names (default: ``class 0``, ``class 1``, …), or a label file.
            palette: Class colours.
            image: The BGR image the mask belongs to, for overlays and displays.
            background: The class overlays leave untinted: an index, ``None`` to tint every
                class, or ``"auto"`` (the class labelled ``background``, if any).

        Raises:
            ShapeError: For an output of another shape.
            SpecError: For negative class indices, or more classes than labels.
        """
        array = np.asarray(output)
        if np.issubdtype(array.dtype, np.floating):
            scores = array[0] if array.ndim == 4 and array.shape[0] == 1 else array
            if scores.ndim != 3:
                raise ShapeError("segmentation scores", "(1, C, H, W) or (C, H, W)", array.shape)
            mask, count = _best_class(scores), scores.shape[0]
        elif np.issubdtype(array.dtype, np.integer):
            classes = array[0] if array.ndim == 3 and array.shape[0] == 1 else array
            if classes.ndim != 2:
                raise ShapeError("segmentation class map", "(1, H, W) or (H, W)", array.shape)
            if classes.size and int(classes.min()) < 0:
                raise SpecError(f"class map has a negative class {int(classes.min())}")
            mask = classes.astype(np.int32)
            count = int(mask.max(initial=0)) + 1
        else:
            raise SpecError(f"segmentation output of type {array.dtype}: expected floats or ints")
        names = load_labels(labels) or tuple(f"class {i}" for i in range(count))
        return cls(mask, names, palette, image, background)

    @property
    def shares(self) -> dict[str, float]:
        """Fraction of pixels in each class, by label."""
        counts = np.bincount(self.mask.ravel(), minlength=len(self.labels))
        return {
            label: float(n) / self.mask.size for label, n in zip(self.labels, counts, strict=True)
        }

    def __repr__(self) -> str:
        shares = ", ".join(f"{k} {v:.1%}" for k, v in self.shares.items())
        height, width = self.mask.shape
        return f"<Segmentation {width}x{height}, {len(self.labels)} classes: {shares}>"
