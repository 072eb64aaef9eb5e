"""The acceptance check: im2tensor's road tensor, fed to OpenVINO, segments the road as upstream."""

from __future__ import annotations

import io

import numpy as np
import pytest

from wasinn_nb import load_tensor
from wasinn_nb.cli import im2tensor_main

#: Class shares (BG, road, curb, mark) of the argmax over road-segmentation-adas-0001's output,
#: as measured with OpenVINO's reference pipeline (shared/docs/models.md §2.1).
EXPECTED_SHARES = (0.777, 0.192, 0.022, 0.009)


@pytest.mark.openvino
def test_wasmedge_command_line_feeds_openvino_road_segmentation(road_dir, tmp_path, monkeypatch):
    ov = pytest.importorskip("openvino")
    monkeypatch.chdir(tmp_path)
    name = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
    status = im2tensor_main(
        ["--image", str(road_dir / "empty_road_mapillary.jpg"), "--dims", "512x896x3xfp32",
         "--tensor", name],
        stdout=io.StringIO(),
    )  # fmt: skip
    assert status == 0
    assert (tmp_path / name).stat().st_size == 5_505_024

    model = ov.Core().compile_model(
        str(road_dir / "road-segmentation-adas-0001.xml"),
        "CPU",
        {"INFERENCE_PRECISION_HINT": "f32"},
    )
    scores = model(load_tensor(tmp_path / name))[0]
    assert scores.shape == (1, 4, 512, 896)
    classes = scores.argmax(axis=1)
    shares = np.bincount(classes.ravel(), minlength=4) / classes.size
    np.testing.assert_allclose(shares, EXPECTED_SHARES, atol=0.01)
