"""A tiny protobuf encoder for ONNX models, so the sandbox tests need no onnx package.

Field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
TensorProto, SparseTensorProto, ValueInfoProto, FunctionProto, TrainingInfoProto).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from wasinn_nb.data.embed import uleb

VARINT, LEN, FIXED32 = 0, 2, 5
UINT8, FLOAT, BOOL, INT64 = 2, 1, 9, 7  # TensorProto.DataType
EXTERNAL = 1  # TensorProto.DataLocation
# AttributeProto.AttributeType
A_INT, A_TENSOR, A_GRAPH, A_TENSORS, A_GRAPHS, A_SPARSE, A_SPARSES = 2, 4, 5, 9, 10, 11, 12


def varint(value: int) -> bytes:
    """A protobuf varint: the LEB128 of the value as 64 bits (negative ints take 10 bytes)."""
    return uleb(value & ((1 << 64) - 1))


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def vint(number: int, value: int) -> bytes:
    """A varint field."""
    return tag(number, VARINT) + varint(value)


def ld(number: int, payload: bytes | str) -> bytes:
    """A length-delimited field (a string, bytes or an embedded message)."""
    raw = payload.encode() if isinstance(payload, str) else payload
    return tag(number, LEN) + varint(len(raw)) + raw


def entry(key: str, value: str) -> bytes:
    """A StringStringEntryProto."""
    return ld(1, key) + ld(2, value)


def tensor(
    name: str,
    dtype: int,
    dims: Sequence[int],
    raw: bytes | None = None,
    *,
    location: str | None = None,
    data_location: int | None = None,
    entries: Iterable[tuple[str, str]] = (),
) -> bytes:
    """A TensorProto: inline ``raw`` data, or external data at ``location``."""
    out = b"".join(vint(1, d) for d in dims) + vint(2, dtype) + ld(8, name)
    if raw is not None:
        out += ld(9, raw)
    if location is not None:
        out += ld(13, entry("location", location))
        out += ld(13, entry("length", str(len(raw or b"") or _size(dtype, dims))))
        data_location = EXTERNAL if data_location is None else data_location
    out += b"".join(ld(13, entry(k, v)) for k, v in entries)
    if data_location is not None:
        out += vint(14, data_location)
    return out


def _size(dtype: int, dims: Sequence[int]) -> int:
    count = 1
    for d in dims:
        count *= d
    return count * (4 if dtype == FLOAT else 8 if dtype == INT64 else 1)


def sparse(values: bytes, indices: bytes, dims: Sequence[int]) -> bytes:
    """A SparseTensorProto."""
    return ld(1, values) + ld(2, indices) + b"".join(vint(3, d) for d in dims)


def value_info(name: str, elem_type: int, dims: Sequence[int]) -> bytes:
    shape = b"".join(ld(1, vint(1, d)) for d in dims)
    return ld(1, name) + ld(2, ld(1, vint(1, elem_type) + ld(2, shape)))


def attribute(name: str, kind: int, field: int, payloads: Iterable[bytes]) -> bytes:
    """An AttributeProto whose field ``field`` holds each of ``payloads`` (messages)."""
    return ld(1, name) + vint(20, kind) + b"".join(ld(field, p) for p in payloads)


def attr_int(name: str, value: int) -> bytes:
    return ld(1, name) + vint(20, A_INT) + vint(3, value)


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], *attributes: bytes) -> bytes:
    """A NodeProto; each attribute is an AttributeProto's bytes."""
    return (
        b"".join(ld(1, i) for i in inputs)
        + b"".join(ld(2, o) for o in outputs)
        + ld(4, op)
        + b"".join(ld(5, a) for a in attributes)
    )


def graph(
    nodes: Iterable[bytes],
    inputs: Iterable[bytes] = (),
    outputs: Iterable[bytes] = (),
    initializers: Iterable[bytes] = (),
    sparse_initializers: Iterable[bytes] = (),
    name: str = "g",
) -> bytes:
    """A GraphProto."""
    return (
        b"".join(ld(1, n) for n in nodes)
        + ld(2, name)
        + b"".join(ld(5, t) for t in initializers)
        + b"".join(ld(11, i) for i in inputs)
        + b"".join(ld(12, o) for o in outputs)
        + b"".join(ld(15, s) for s in sparse_initializers)
    )


def function(name: str, nodes: Iterable[bytes], attribute_protos: Iterable[bytes] = ()) -> bytes:
    """A FunctionProto in domain ``local``."""
    return (
        ld(1, name)
        + b"".join(ld(7, n) for n in nodes)
        + ld(9, ld(1, "") + vint(2, 13))
        + ld(10, "local")
        + b"".join(ld(11, a) for a in attribute_protos)
    )


def model(
    graph_bytes: bytes,
    *,
    functions: Iterable[bytes] = (),
    training: Iterable[bytes] = (),
    opset: int = 13,
) -> bytes:
    """A ModelProto (ir_version 8) around ``graph_bytes``."""
    return (
        vint(1, 8)
        + ld(8, ld(1, "") + vint(2, opset))
        + ld(7, graph_bytes)
        + b"".join(ld(20, t) for t in training)
        + b"".join(ld(25, f) for f in functions)
    )


def leak_model(location: str, size: int = 16) -> bytes:
    """The attack: output 0 is an initializer stored as external data at ``location``.

    Input ``x`` f32[4] passes through to output 1, so the guest's set_input/compute work.
    """
    secret = tensor("w", UINT8, [size], location=location)
    body = graph(
        [node("Identity", ["w"], ["y"]), node("Identity", ["x"], ["z"])],
        inputs=[value_info("x", FLOAT, [4])],
        outputs=[value_info("y", UINT8, [size]), value_info("z", FLOAT, [4])],
        initializers=[secret],
    )
    return model(body)


def identity_model() -> bytes:
    """A benign model: y = Identity(x), both f32[4]."""
    body = graph(
        [node("Identity", ["x"], ["y"])],
        inputs=[value_info("x", FLOAT, [4])],
        outputs=[value_info("y", FLOAT, [4])],
    )
    return model(body)
