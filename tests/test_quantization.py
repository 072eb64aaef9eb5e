"""Output quantization, as OpenVINO and LiteRT read it from the model; dequantized scores."""

from __future__ import annotations

import numpy as np
import pytest
from _paths import FIXTURES, ROAD, TFLITE_BIRDS

from wasinn_nb.backends.quantization import OutputQuantization, output_quantization
from wasinn_nb.errors import UnsupportedError
from wasinn_nb.results import Classification, dequantize

CORAL = FIXTURES / "coral-test-data"
MOBILENET = CORAL / "mobilenet_v2_1.0_224_quant.tflite"
DEEPLAB = CORAL / "deeplabv3_mnv2_pascal_quant.tflite"
BIRDS = TFLITE_BIRDS / "lite-model_aiy_vision_classifier_birds_V1_3.tflite"


def engines() -> list[str]:
    import importlib.util

    found = {"openvino": "openvino", "litert": "ai_edge_litert"}
    return [name for name, package in found.items() if importlib.util.find_spec(package)]


def needs(path):
    if not path.is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    return path


def test_dequantize_subtracts_the_zero_point_before_scaling():
    q = np.array([[0, 128, 255]], np.uint8)  # no u8 wrap-around in q - zero_point
    assert dequantize(q, 0.5, zero_point=128).tolist() == [[-64.0, 0.0, 63.5]]
    scores = Classification.from_output(q, ["a", "b", "c"], scale=0.5, zero_point=128)
    assert scores.scores.tolist() == [-64.0, 0.0, 63.5]
    assert scores.top_k(1)[0].label == "c"


@pytest.mark.parametrize("backend", engines())
@pytest.mark.parametrize("model", [MOBILENET, BIRDS], ids=["mobilenet_v2", "birds_v1"])
def test_quantized_softmax_outputs(model, backend):
    found = output_quantization(needs(model), backend)
    assert found == OutputQuantization(1 / 256, 0, "softmax", backend)
    assert found is not None and found.is_probability


@pytest.mark.parametrize("backend", engines())
def test_class_indices_and_float_outputs_are_not_quantized(backend):
    assert output_quantization(needs(DEEPLAB), backend) is None  # i64 argmax
    if backend == "openvino":
        assert output_quantization(needs(ROAD / "road-segmentation-adas-0001.xml"), backend) is None


@pytest.mark.openvino
def test_openvino_reads_an_asymmetric_fake_quantize(tmp_path):
    """A u8 output standing for -1.28..1.27: scale 0.01, zero point 128; checked by running it."""
    ov = pytest.importorskip("openvino")
    from openvino import opset13 as ops

    x = ops.parameter([1, 5], np.float32, name="x")
    low, high = ops.constant(np.float32(-1.28)), ops.constant(np.float32(1.27))
    q_low, q_high = ops.constant(np.float32(0)), ops.constant(np.float32(255))
    fake = ops.fake_quantize(ops.tanh(x), low, high, q_low, q_high, 256)
    model = ov.Model([ops.convert(fake, "u8")], [x], "toy")
    ov.save_model(model, tmp_path / "toy.xml")
    found = output_quantization(tmp_path / "toy.xml", "openvino")
    assert found is not None
    assert (found.scale, found.zero_point, found.producer) == (pytest.approx(0.01), 128, "tanh")
    assert not found.is_probability
    values = np.array([[-1.0, -0.3, 0.0, 0.42, 0.9]], np.float32)
    q = ov.Core().compile_model(model, "CPU")(values)[0]
    real = dequantize(q, found.scale, found.zero_point)
    np.testing.assert_allclose(real, np.tanh(values), atol=found.scale / 2 + 1e-6)


def test_other_backends_are_refused():
    with pytest.raises(UnsupportedError, match="onnxruntime"):
        output_quantization(MOBILENET, "onnxruntime")
