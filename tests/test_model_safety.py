"""The model-bytes checker: every place ONNX can hold a tensor, malformed and hostile bytes."""

from __future__ import annotations

import contextlib
import time

import pytest
from _onnx_bytes import (
    A_GRAPH,
    A_GRAPHS,
    A_SPARSE,
    A_SPARSES,
    A_TENSOR,
    A_TENSORS,
    EXTERNAL,
    FIXED32,
    FLOAT,
    INT64,
    UINT8,
    attr_int,
    attribute,
    function,
    graph,
    identity_model,
    ld,
    leak_model,
    model,
    node,
    sparse,
    tag,
    tensor,
    value_info,
    vint,
)
from _paths import FIXTURES

from wasinn_nb.backends.model_safety import MAX_DEPTH, check_onnx
from wasinn_nb.errors import InvalidInputError, UnsupportedError, WasinnError

SECRET_FILE = "credentials.txt"


def hostile() -> bytes:
    return tensor("w", UINT8, [4], location=SECRET_FILE)


def benign() -> bytes:
    return tensor("w", UINT8, [4], b"abcd")


def indices() -> bytes:
    return tensor("i", INT64, [1], (0).to_bytes(8, "little"))


def out(name: str = "o") -> bytes:
    return value_info(name, UINT8, [4])


def branch(t: bytes) -> bytes:
    """A subgraph whose output is a Constant holding tensor ``t``."""
    return graph([node("Constant", [], ["o"], attribute("value", A_TENSOR, 5, [t]))], [], [out()])


def in_main_graph(*nodes: bytes, initializers=(), sparse_initializers=()) -> bytes:
    return model(graph(nodes, [], [out()], initializers, sparse_initializers))


# Every place a TensorProto can sit, each holding the hostile tensor (and a benign twin).
PLACES = {
    "initializer": lambda t: in_main_graph(initializers=[t]),
    "sparse_initializer.values": lambda t: in_main_graph(
        sparse_initializers=[sparse(t, indices(), [4])]
    ),
    "sparse_initializer.indices": lambda t: in_main_graph(
        sparse_initializers=[sparse(benign(), t, [4])]
    ),
    "attribute.t (Constant)": lambda t: model(branch(t)),
    "attribute.tensors": lambda t: in_main_graph(
        node("Custom", [], ["o"], attribute("ts", A_TENSORS, 10, [benign(), t]))
    ),
    "attribute.sparse_tensor": lambda t: in_main_graph(
        node("Constant", [], ["o"],
             attribute("sparse_value", A_SPARSE, 22, [sparse(t, indices(), [4])]))
    ),
    "attribute.sparse_tensors": lambda t: in_main_graph(
        node("Custom", [], ["o"], attribute("s", A_SPARSES, 23, [sparse(t, indices(), [4])]))
    ),
    "If.then_branch (attribute.g)": lambda t: in_main_graph(
        node("If", ["c"], ["o"], attribute("then_branch", A_GRAPH, 6, [branch(t)]),
             attribute("else_branch", A_GRAPH, 6, [branch(benign())]))
    ),
    "subgraph initializer": lambda t: in_main_graph(
        node("Loop", ["", "c"], ["o"],
             attribute("body", A_GRAPH, 6, [graph([], [], [out()], [t])]))
    ),
    "attribute.graphs": lambda t: in_main_graph(
        node("Custom", [], ["o"], attribute("gs", A_GRAPHS, 11, [branch(benign()), branch(t)]))
    ),
    "If in Loop in Scan": lambda t: in_main_graph(
        node("Scan", [], ["o"], attr_int("num_scan_inputs", 0), attribute("body", A_GRAPH, 6, [
            graph([node("Loop", [], ["o"], attribute("body", A_GRAPH, 6, [
                graph([node("If", ["c"], ["o"],
                            attribute("then_branch", A_GRAPH, 6, [branch(t)]))], [], [out()])
            ]))], [], [out()])
        ]))
    ),
    "function node": lambda t: model(
        graph([node("F", [], ["o"])], [], [out()]),
        functions=[function("F", [node("Constant", [], ["o"],
                                       attribute("value", A_TENSOR, 5, [t]))])],
    ),
    "function attribute_proto": lambda t: model(
        graph([node("F", [], ["o"])], [], [out()]),
        functions=[function("F", [node("Identity", ["x"], ["o"])],
                            [attribute("default", A_TENSOR, 5, [t])])],
    ),
    "training_info.initialization": lambda t: model(
        graph([], [], []), training=[ld(1, graph([], [], [], [t]))]
    ),
    "training_info.algorithm": lambda t: model(
        graph([], [], []), training=[ld(2, graph([], [], [], [t]))]
    ),
}  # fmt: skip


@pytest.mark.parametrize("place", PLACES)
def test_external_data_is_refused_wherever_a_tensor_can_be(place):
    with pytest.raises(UnsupportedError, match=r"external data file 'credentials\.txt'"):
        check_onnx(PLACES[place](hostile()))


@pytest.mark.parametrize("place", PLACES)
def test_the_same_models_with_inline_data_pass(place):
    check_onnx(PLACES[place](benign()))


@pytest.mark.parametrize(
    ("fields", "refused"),
    [
        (vint(14, EXTERNAL), True),  # EXTERNAL with no entries at all
        (ld(13, ld(1, "location") + ld(2, "x")), True),  # entries, data_location DEFAULT
        (ld(13, b""), True),  # an empty entry still says "external"
        (vint(14, 0), False),  # an explicit DEFAULT
        (vint(14, 2), True),  # an unknown location value
        (vint(14, (1 << 32) + 1), True),  # truncates to EXTERNAL as an int32 enum
        (tag(14, FIXED32) + b"\1\0\0\0", True),  # the right field with the wrong wire type
        (ld(14, b"\1"), True),
    ],
)
def test_every_spelling_of_external_is_refused(fields, refused):
    t = vint(1, 4) + vint(2, UINT8) + ld(9, b"abcd") + fields
    bytes_ = in_main_graph(initializers=[t])
    if refused:
        with pytest.raises(UnsupportedError, match="external data"):
            check_onnx(bytes_)
    else:
        check_onnx(bytes_)


def test_the_message_is_one_line_and_quotes_hostile_names():
    t = tensor("a\nb" * 100, UINT8, [4], location="x\n\x1b[31m" + "y" * 500)
    with pytest.raises(UnsupportedError) as caught:
        check_onnx(in_main_graph(initializers=[t]))
    message = str(caught.value)
    assert "\n" not in message and "\x1b" not in message
    assert len(message) < 400
    assert message.startswith("the ONNX model refers to an external data file 'x\\n\\x1b[31myyy")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\x08", "truncated varint"),
        (b"\x08" + b"\xff" * 11, "varint longer than 10 bytes"),
        (b"\x3a\x05\x0a", "runs past its message"),  # graph of 5 bytes, 1 present
        (b"\x0b", "unsupported wire type 3"),  # start group
        (b"\x0c", "unsupported wire type 4"),  # end group
        (b"\x0e\x00", "unsupported wire type 6"),
        (b"\x0f\x00", "unsupported wire type 7"),
        (b"\x00\x00", "bad field number 0"),
        (b"\x38\x01", "field 7 of a model is not a message"),  # graph as a varint
        (b"\x3d\x00\x00\x00\x00", "field 7 of a model is not a message"),  # graph as fixed32
        (b"\x09\x00\x00", "truncated fixed-width"),
        (ld(7, ld(5, b"\x6a\x03\x0a")), "runs past its message"),  # inside an external entry
    ],
)
def test_malformed_protobuf_gives_one_clean_error(raw, reason):
    with pytest.raises(InvalidInputError, match=reason) as caught:
        check_onnx(raw)
    assert str(caught.value).startswith("the ONNX model is not valid protobuf: ")


@pytest.mark.parametrize(
    "source", [leak_model(SECRET_FILE), identity_model(), PLACES["If in Loop in Scan"](hostile())]
)
def test_every_truncation_gives_a_result_or_a_project_error(source):  # fmt: skip
    for length in range(len(source) + 1):
        with contextlib.suppress(WasinnError):
            check_onnx(source[:length])


def nested_ifs(levels: int, leaf: bytes) -> bytes:
    """``levels`` If nodes, each in the then-branch of the one before, around ``leaf``."""
    inner = branch(leaf)
    for _ in range(levels):
        inner = graph([node("If", ["c"], ["o"], attribute("then_branch", A_GRAPH, 6, [inner]))],
                      [], [out()])  # fmt: skip
    return model(inner)


def test_deep_nesting_is_bounded():
    # Each If level is 3 messages deep (graph, node, attribute).
    check_onnx(nested_ifs(30, benign()))
    with pytest.raises(UnsupportedError):
        check_onnx(nested_ifs(30, hostile()))
    with pytest.raises(InvalidInputError, match=f"deeper than {MAX_DEPTH} levels"):
        check_onnx(nested_ifs(10_000, benign()))


def test_time_is_linear_in_the_number_of_fields():
    def seconds(count: int) -> float:
        raw = model(ld(1, node("Relu", ["x"], ["y"])) * count)  # a graph of ``count`` nodes
        start = time.perf_counter()
        check_onnx(raw)
        return time.perf_counter() - start

    small, large = seconds(20_000), seconds(80_000)
    assert large < 10  # about 1 µs a field on a laptop
    assert large / max(small, 1e-3) < 4 * 2.5  # 4x the fields: well under quadratic


def test_huge_payloads_are_skipped_not_read():
    raw = in_main_graph(initializers=[tensor("w", FLOAT, [25_000_000], bytes(100_000_000))])
    start = time.perf_counter()
    check_onnx(raw)
    assert time.perf_counter() - start < 0.5


def test_buffers_other_than_bytes_are_read_in_place():
    raw = in_main_graph(initializers=[hostile()])
    for buffer in (bytearray(raw), memoryview(raw)):
        with pytest.raises(UnsupportedError):
            check_onnx(buffer)


def test_real_onnx_fixtures_pass():
    found = sorted(FIXTURES.rglob("*.onnx"))
    if not found:
        pytest.skip(f"no .onnx fixtures under {FIXTURES} (set WASINN_MIRROR)")
    for path in found:
        check_onnx(path.read_bytes())


# ---- against the onnx package, where installed ------------------------------------------------


def _graph_tensors(g):
    yield from g.initializer
    for s in g.sparse_initializer:
        yield from (s.values, s.indices)
    for n in g.node:
        yield from _attribute_tensors(n.attribute)


def _attribute_tensors(attributes):
    for a in attributes:
        yield from [a.t] if a.HasField("t") else []
        yield from a.tensors
        sparse_tensors = [a.sparse_tensor] if a.HasField("sparse_tensor") else []
        for s in [*sparse_tensors, *a.sparse_tensors]:
            yield from (s.values, s.indices)
        for g in [a.g] if a.HasField("g") else []:
            yield from _graph_tensors(g)
        for g in a.graphs:
            yield from _graph_tensors(g)


def onnx_tensors(m):
    """Every TensorProto in a ModelProto, by the onnx package's own object model."""
    yield from _graph_tensors(m.graph)
    for f in m.functions:
        for n in f.node:
            yield from _attribute_tensors(n.attribute)
        yield from _attribute_tensors(f.attribute_proto)
    for t in m.training_info:
        yield from _graph_tensors(t.initialization)
        yield from _graph_tensors(t.algorithm)


def test_models_built_by_the_onnx_package_pass_and_load():
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    import numpy as np
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    add_one = helper.make_graph(
        [helper.make_node("Add", ["x", "one"], ["y"])],
        "then",
        [],
        [y],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
    )
    identity = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "else", [], [y])
    sparse_w = helper.make_sparse_tensor(
        helper.make_tensor("v", TensorProto.FLOAT, [1], [5.0]),
        helper.make_tensor("i", TensorProto.INT64, [1], [2]),
        [4],
    )
    nodes = [
        helper.make_node(
            "Constant", [], ["c"], value=helper.make_tensor("", TensorProto.BOOL, [], [True])
        ),
        helper.make_node("If", ["c"], ["t"], then_branch=add_one, else_branch=identity),
        helper.make_node("Constant", [], ["s"], sparse_value=sparse_w),
        helper.make_node("Add", ["t", "s"], ["y"]),
    ]
    g = helper.make_graph(nodes, "main", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    raw = m.SerializeToString()
    check_onnx(raw)
    session = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    result = session.run(None, {"x": np.zeros(4, np.float32)})[0]
    assert result.tolist() == [1.0, 1.0, 6.0, 1.0]

    for t in onnx_tensors(m):  # any one tensor made external is refused
        t.data_location = TensorProto.EXTERNAL
        with pytest.raises(UnsupportedError):
            check_onnx(m.SerializeToString())
        t.data_location = TensorProto.DEFAULT
    check_onnx(m.SerializeToString())
