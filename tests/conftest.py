"""Shared fixtures: the mirror of real data beside the checkout, and tiny synthetic images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared" / "fixtures"))
ROAD = FIXTURES / "openvino-road-segmentation-adas"


@pytest.fixture
def road_dir() -> Path:
    """The road-segmentation fixture folder (model, weights and the Mapillary image)."""
    if not (ROAD / "empty_road_mapillary.jpg").is_file():
        pytest.skip(f"fixture mirror not found at {FIXTURES} (set WASINN_MIRROR)")
    return ROAD


@pytest.fixture
def tiny_bgr() -> np.ndarray:
    """A 2x3 BGR image with distinct values in every pixel and channel."""
    return np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10 + 5
