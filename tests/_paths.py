"""Where the tests find the repository's guests and the mirror of real data."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUESTS = REPO / "guests"
#: A relative $WASINN_MIRROR is taken from where pytest starts (tests may change folder later).
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared" / "fixtures")).resolve()
ROAD = FIXTURES / "openvino-road-segmentation-adas"
TFLITE_BIRDS = FIXTURES / "tflite-birds_v1-image"
ONNX_FIXTURES = FIXTURES / "wasi-nn-onnx"

ROAD_INPUT = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
ROAD_OUTPUT = "wasinn-openvino-inference-output-1x4x512x896xf32.tensor"
