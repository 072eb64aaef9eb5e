"""Engines' own log lines do not reach the user's stderr by the thousand."""

from __future__ import annotations

import pytest
from _onnx_bytes import FLOAT, graph, model, node, tensor, value_info

from wasinn_nb.enums import ExecutionTarget, GraphEncoding


def many_unused_initializers(count: int) -> bytes:
    """y = Identity(x), plus ``count`` initializers no node uses (ONNX Runtime warns for each)."""
    unused = [tensor(f"u{i}", FLOAT, [1], bytes(4)) for i in range(count)]
    body = graph(
        [node("Identity", ["x"], ["y"])],
        inputs=[value_info("x", FLOAT, [4])],
        outputs=[value_info("y", FLOAT, [4])],
        initializers=unused,
    )
    return model(body)


def test_onnxruntime_warnings_stay_off_stderr(capfd):
    pytest.importorskip("onnxruntime")
    from wasinn_nb.backends.onnxruntime import OnnxRuntimeBackend

    OnnxRuntimeBackend().load(
        [many_unused_initializers(3000)], GraphEncoding.ONNX, ExecutionTarget.CPU
    )
    captured = capfd.readouterr()
    assert "Removing initializer" not in captured.err
    assert captured.err.count("\n") == 0, captured.err[:500]
