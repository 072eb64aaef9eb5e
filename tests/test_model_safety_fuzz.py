"""Fuzzing the model-bytes checker with hypothesis (skipped where hypothesis is missing)."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from _onnx_bytes import BOOL, identity_model, leak_model, tensor
from test_model_safety import PLACES, SECRET_FILE, hostile, in_main_graph, onnx_tensors

from wasinn_nb.backends.model_safety import check_onnx
from wasinn_nb.errors import WasinnError

pytest.importorskip("hypothesis")
from hypothesis import configuration, given, settings
from hypothesis import strategies as st

# No example database, and hypothesis's other caches go to a temp folder, not the checkout.
configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "wasinn-hypothesis")

FUZZ = settings(max_examples=400, deadline=None, database=None)

SEEDS = [
    leak_model(SECRET_FILE),
    PLACES["If in Loop in Scan"](hostile()),
    PLACES["function attribute_proto"](hostile()),
    PLACES["sparse_initializer.indices"](hostile()),
    PLACES["attribute.graphs"](hostile()),
    identity_model(),
    in_main_graph(initializers=[tensor("w", BOOL, [1], b"\1")]),
]


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_raise_only_project_errors(raw):
    with contextlib.suppress(WasinnError):
        check_onnx(raw)


@FUZZ
@given(st.data())
def test_mutated_hostile_models_are_refused_whenever_onnx_sees_external_data(data):
    """Differential: whatever onnx's parser finds external, the checker refuses."""
    onnx = pytest.importorskip("onnx")
    raw = bytearray(data.draw(st.sampled_from(SEEDS)))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        if action == "flip" and at < len(raw):
            raw[at] = data.draw(st.integers(0, 255))
        elif action == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        elif at < len(raw):
            del raw[at]
    try:
        check_onnx(bytes(raw))
        refused = False
    except WasinnError:
        refused = True
    try:
        parsed = onnx.ModelProto.FromString(bytes(raw))
    except Exception:  # onnx's protobuf rejects it: nothing would load it
        return
    external = any(t.data_location != 0 or len(t.external_data) for t in onnx_tensors(parsed))
    assert refused or not external
