"""What runs produce, as plain data: run results, classifications, segmentations, palettes.

Nothing here imports the wasm host, the backends or the views; :mod:`wasinn_nb.viz` draws these
and registers their rich displays.

Example:
    >>> import numpy as np
    >>> from wasinn_nb.results import Classification
    >>> Classification.from_output(np.array([0.1, 0.7, 0.2]), ["cat", "dog", "fox"]).top_k(1)[0]
    Prediction(index=1, label='dog', score=0.7)
"""

from wasinn_nb.results.palette import DEFAULT_PALETTE, ROAD_LABELS, ROAD_PALETTE, Color, Palette
from wasinn_nb.results.pipeline import PipelineItem, PipelineResult, StageRecord
from wasinn_nb.results.predictions import (
    Classification,
    Prediction,
    Segmentation,
    dequantize,
    load_labels,
)
from wasinn_nb.results.run import PHASES, CallRecord, RunResult, TensorRecord, Timings

__all__ = [
    "DEFAULT_PALETTE",
    "PHASES",
    "ROAD_LABELS",
    "ROAD_PALETTE",
    "CallRecord",
    "Classification",
    "Color",
    "Palette",
    "PipelineItem",
    "PipelineResult",
    "Prediction",
    "RunResult",
    "Segmentation",
    "StageRecord",
    "TensorRecord",
    "Timings",
    "dequantize",
    "load_labels",
]
