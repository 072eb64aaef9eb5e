"""Google's Coral models through our guests on OpenVINO: MobileNet V2 (quantized) and DeepLab V3.

The numbers are the ones checked with OpenVINO's TFLite frontend (shared/docs/models.md §0).
"""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from _paths import FIXTURES, GUESTS

import wasinn_nb
from wasinn_nb import TensorSpec, image_to_tensor, load_tensor, save_tensor
from wasinn_nb.backends.quantization import output_quantization
from wasinn_nb.results import Classification, Segmentation

CORAL = FIXTURES / "coral-test-data"
MOBILENET = "mobilenet_v2_1.0_224_quant.tflite"
DEEPLAB = "deeplabv3_mnv2_pascal_quant.tflite"
TOP1 = {  # photo -> (index, label) in the 1001-class output, background = 0
    "banana.jpg": (955, "banana"),
    "cat.png": (286, "Egyptian cat"),
    "grace_hopper.png": (653, "military uniform"),
    "parrot.jpg": (89, "macaw"),
}

pytestmark = [pytest.mark.openvino, pytest.mark.slow]


@pytest.fixture
def coral(tmp_path, monkeypatch):
    """A work folder with the Coral files; BMPs as PNGs (the guest decodes JPEG and PNG)."""
    pytest.importorskip("openvino")
    if not (CORAL / MOBILENET).is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    for name in (MOBILENET, DEEPLAB, "imagenet_labels.txt", "parrot.jpg"):
        shutil.copy(CORAL / name, tmp_path / name)
    shutil.copy(FIXTURES / "openvino-mobilenet" / "input.jpg", tmp_path / "banana.jpg")
    for stem in ("cat", "grace_hopper", "bird"):
        cv2.imwrite(str(tmp_path / f"{stem}.png"), cv2.imread(str(CORAL / f"{stem}.bmp")))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_classify_guest_runs_mobilenet_v2_quant(coral):
    quantization = output_quantization(coral / MOBILENET, "openvino")
    assert quantization is not None and quantization.is_probability
    for photo, (index, label) in TOP1.items():
        args = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", "--top", "1",
                MOBILENET, photo, "imagenet_labels.txt"]  # fmt: skip
        result = wasinn_nb.run(GUESTS / "classify.wasm", args, dirs=[".:."], backend="openvino")
        assert result.ok, result.stderr
        assert result.inputs[0].shape == (1, 224, 224, 3) and result.inputs[0].dtype == np.uint8
        assert result.stdout.splitlines()[1].startswith(f"{index} {label}")
        scores = Classification.from_output(
            result.outputs[0], "imagenet_labels.txt",
            scale=quantization.scale, zero_point=quantization.zero_point,
        )  # fmt: skip
        best = scores.top_k(1)[0]
        assert (best.index, best.label.split(",")[0]) == (index, label)
        assert scores.scores.sum() == pytest.approx(1.0, abs=0.05)  # 1001 values rounded to 1/256
        if photo == "banana.jpg":
            assert best.score >= 0.9


def test_named_guest_writes_deeplab_class_map(coral):
    """bird.bmp stretched to 513x513: 18.8 % bird, the rest background (models.md §0)."""
    tensor = image_to_tensor(CORAL / "bird.bmp", TensorSpec(513, 513, dtype="u8", color="rgb",
                                                           layout="nhwc"))  # fmt: skip
    save_tensor(tensor, coral / "bird-1x513x513x3xu8.tensor")
    result = wasinn_nb.run(
        GUESTS / "named.wasm",
        ["deeplab", "bird-1x513x513x3xu8.tensor", "bird-classes-1x513x513xi64.tensor"],
        dirs=[".:."],
        preload=[f"deeplab:TensorflowLite:CPU:{DEEPLAB}"],
        backend="openvino",
    )
    assert result.ok, result.stderr
    classes = load_tensor(coral / "bird-classes-1x513x513xi64.tensor")
    assert classes.dtype == np.int64 and classes.shape == (1, 513, 513)
    np.testing.assert_array_equal(classes, result.outputs[0])
    labels = (CORAL / "pascal_voc_segmentation_labels.txt").read_text().split("\n\n")[0].split()
    seg = Segmentation.from_output(classes, labels)
    assert len(labels) == 21 and seg.background == 0
    assert seg.shares["bird"] == pytest.approx(0.188, abs=0.01)
    assert seg.shares["background"] + seg.shares["bird"] == pytest.approx(1.0)
