"""The first line of a backend failure names the cause, not a source location."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from _paths import FIXTURES, GUESTS, ONNX_FIXTURES, ROAD

from wasinn_nb import run
from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.backends import get_backend
from wasinn_nb.backends._reason import (
    is_location,
    litert_reason,
    onnxruntime_reason,
    openvino_reason,
    torch_reason,
)
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import BackendError, InvalidInputError

#: A C/C++ source location such as ``src/inference/src/cpp/core.cpp:105``.
LOCATION = re.compile(r"\.(?:cpp|cc|cxx|c|hpp|h)\b:\d+|Exception from")
CORAL = FIXTURES / "coral-test-data"

# Texts as OpenVINO 2026.4.1, torch 2.13 and onnxruntime raised them on this machine.
OPENVINO_TEXTS = [
    ("Exception from src/inference/src/cpp/core.cpp:105:\n"
     "Check 'res.status == pugi::status_ok' failed at src/frontends/ir/src/input_model.cpp:219:\n"
     "Error parsing start element tag at offset 4999\n\n",
     "Error parsing start element tag at offset 4999 (check 'res.status == pugi::status_ok' "
     "failed)"),
    ("Exception from src/inference/src/cpp/core.cpp:105:\n"
     "Exception from src/inference/src/model_reader.cpp:188:\n"
     "Unable to read the model. Please check if the model format is supported and model is "
     "correct.\n\n",
     "Unable to read the model. Please check if the model format is supported and model is "
     "correct."),
    ("Exception from src/inference/src/cpp/core.cpp:84:\n"
     "Check 'tflite::VerifyModelBuffer(verifier)' failed at "
     "src/frontends/tensorflow_lite/src/graph_iterator_flatbuffer.cpp:82:\n"
     "FrontEnd API failed with GeneralFailure:\n"
     "TensorFlow Lite Frontend: the model file is corrupted or malformed (FlatBuffer "
     "verification failed).\n\n",
     "TensorFlow Lite Frontend: the model file is corrupted or malformed (FlatBuffer "
     "verification failed). (check 'tflite::VerifyModelBuffer(verifier)' failed)"),
    ("Exception from src/inference/src/cpp/core.cpp:117:\n"
     "Exception from src/inference/src/dev/plugin.cpp:54:\n"
     "Check '!shape.rank().is_dynamic()' failed at src/plugins/intel_cpu/src/node.cpp:108:\n"
     "Unexpected: CPU plug-in doesn't support Parameter operation with dynamic rank. Operation "
     "name: inputs.1\n\n\n",
     "Unexpected: CPU plug-in doesn't support Parameter operation with dynamic rank. Operation "
     "name: inputs.1 (check '!shape.rank().is_dynamic()' failed)"),
    ("Exception from src/core/src/node.cpp:42:\nCheck 'x > 0' failed at src/core/a.cpp:7:\n",
     "check 'x > 0' failed"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "reason"), OPENVINO_TEXTS)
def test_openvino_reason_skips_location_lines_and_keeps_the_check(text, reason):
    assert openvino_reason(RuntimeError(text)) == reason


def test_location_lines():
    assert is_location("Exception from src/inference/src/cpp/core.cpp:105:")
    assert is_location("src/plugins/intel_cpu/src/node.cpp:108")
    assert not is_location("Error parsing start element tag at offset 4999")


def test_torch_reason_is_the_last_error_line_or_the_first_sentence():
    traceback = (
        "The following operation failed in the TorchScript interpreter.\n"
        "Traceback of TorchScript, serialized code (most recent call last):\n"
        '  File "code/__torch__/efficientnet_lite_pytorch/utils.py", line 14, in forward\n'
        "    input = torch._convolution(...)\n"
        "            ~~~~~~~~~~~~~~~~~~ <--- HERE\n"
        "RuntimeError: Given groups=1, weight of size [32, 3, 3, 3], expected input[1, 4, 225, "
        "225] to have 3 channels, but got 4 channels instead\n"
    )
    assert torch_reason(RuntimeError(traceback)).startswith("Given groups=1, weight of size")
    archive = (
        "PytorchStreamReader failed reading zip archive: failed finding central directory. "
        "This is an internal miniz error. If you are seeing this error, there is a high ..."
    )
    assert torch_reason(RuntimeError(archive)) == (
        "PytorchStreamReader failed reading zip archive: failed finding central directory."
    )


def test_onnxruntime_reason_is_one_line_with_the_code_last():
    text = (
        "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions for input: 0 for the "
        "following indices\n index: 1 Got: 5 Expected: 4\n Please fix either the inputs/outputs "
        "or the model."
    )
    assert onnxruntime_reason(RuntimeError(text)) == (
        "Got invalid dimensions for input: 0 for the following indices index: 1 Got: 5 "
        "Expected: 4 Please fix either the inputs/outputs or the model. (INVALID_ARGUMENT)"
    )


def test_litert_reason_drops_the_kernel_location():
    text = "tensorflow/lite/kernels/conv.cc:351 input->dims->size != 4 (3 != 4)Node number 0 " \
           "(CONV_2D) failed to prepare."  # fmt: skip
    assert litert_reason(RuntimeError(text)) == (
        "input->dims->size != 4 (3 != 4); Node number 0 (CONV_2D) failed to prepare."
    )


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _truncated(path, size=1000):
    return path.read_bytes()[:size]


# (backend, encoding, builders, the start of the message)
CORRUPT = [
    pytest.param("openvino", GraphEncoding.OPENVINO,
                 lambda: [_truncated(ROAD / "road-segmentation-adas-0001.xml", 5000), bytes(8)],
                 "OpenVINO cannot read the openvino model: Error parsing", id="openvino-ir"),
    pytest.param("openvino", GraphEncoding.TENSORFLOWLITE,
                 lambda: [_truncated(CORAL / "mobilenet_v2_1.0_224_quant.tflite")],
                 "OpenVINO cannot read the tensorflowlite model: TensorFlow Lite Frontend: the "
                 "model file is corrupted", id="openvino-tflite"),
    pytest.param("onnxruntime", GraphEncoding.ONNX,
                 lambda: [_truncated(ONNX_FIXTURES / "identity_input_output.onnx", 50)],
                 "the ONNX model is not valid protobuf: field 7 at byte 18 runs past its message",
                 id="onnxruntime"),  # refused by the sandbox's walker before ONNX Runtime
    pytest.param("pytorch", GraphEncoding.PYTORCH, lambda: [_zip({"archive/data.pkl": b"?"})],
                 'PyTorch cannot load the TorchScript model: Expected hasRecord("version") to be '
                 "true, but got false.", id="pytorch"),
    pytest.param("pytorch", GraphEncoding.PYTORCH, lambda: [b"PK\x03\x04 not a zip"],
                 "PyTorch cannot load the model: not a TorchScript archive", id="pytorch-zip"),
    pytest.param("litert", GraphEncoding.TENSORFLOWLITE,
                 lambda: [_truncated(CORAL / "mobilenet_v2_1.0_224_quant.tflite")],
                 "LiteRT cannot load the tensorflowlite model: The model is not a valid "
                 "Flatbuffer buffer", id="litert"),
]  # fmt: skip


@pytest.mark.parametrize(("backend", "encoding", "builders", "start"), CORRUPT)
def test_a_corrupt_model_fails_with_a_reason(backend, encoding, builders, start):
    pytest.importorskip({"litert": "ai_edge_litert", "pytorch": "torch"}.get(backend, backend))
    if not CORAL.is_dir() or not ROAD.is_dir():
        pytest.skip(f"fixture mirror not found at {FIXTURES} (set WASINN_MIRROR)")
    with pytest.raises((BackendError, InvalidInputError)) as caught:
        get_backend(backend).load(builders(), encoding, ExecutionTarget.CPU)
    message = str(caught.value)
    assert message.splitlines() == [message]
    assert message.startswith(start), message
    assert not LOCATION.search(message), message


def test_the_guest_sees_runtime_error_and_the_user_one_reason(tmp_path):
    pytest.importorskip("openvino")
    (tmp_path / "bad.xml").write_bytes(b"<?xml version='1.0'?><net name='x' version='11'><layers>")
    (tmp_path / "bad.bin").write_bytes(bytes(8))
    (tmp_path / "x-1x4xf32.tensor").write_bytes(bytes(16))
    result = run(GUESTS / "classify.wasm", ["bad.xml", "x-1x4xf32.tensor"], dirs=[f"{tmp_path}::."])
    assert result.calls[0].errno is NnErrno.RUNTIME_ERROR
    (line,) = result.host_log
    assert line.startswith("wasi-nn load: OpenVINO cannot read the openvino model: ")
    assert not LOCATION.search(line), line
