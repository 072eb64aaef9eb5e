"""A backend keeps what it was given: an input stays valid after the caller lets go of it.

The host copies each input out of guest memory and, unless asked to record it, drops its copy
at once; a backend that only kept a pointer would compute on freed memory.
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
from _paths import ONNX_FIXTURES

from wasinn_nb.backends import available_backends, get_backend
from wasinn_nb.enums import ExecutionTarget, GraphEncoding

IDENTITY = ONNX_FIXTURES / "identity_input_output.onnx"


@pytest.mark.parametrize("name", ["openvino", "onnxruntime"])
def test_an_input_the_caller_dropped_is_still_computed_on(name):
    if name not in available_backends():
        pytest.skip(f"{name} is not installed")
    if not IDENTITY.is_file():
        pytest.skip("fixture mirror not found (set WASINN_MIRROR)")
    graph = get_backend(name).load([IDENTITY.read_bytes()], GraphEncoding.ONNX, ExecutionTarget.CPU)
    shape = tuple(d or 1 for d in graph.inputs[0].shape) or (4,)
    expected = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) + 1
    context = graph.init_context()
    context.set_input(0, expected.copy())  # the only reference is the backend's
    gc.collect()
    scribble = [np.full(shape, -7.0, np.float32) for _ in range(64)]  # reuse the freed memory
    context.compute()
    np.testing.assert_array_equal(context.get_output(0), expected)
    assert scribble[0].min() == -7.0
