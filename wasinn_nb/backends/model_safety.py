r"""Refuse model bytes that name host files, before any engine sees them.

A guest hands ``load`` model bytes. Some formats let those bytes name *files* the engine then
reads on the host: an ONNX tensor stored as external data (``data_location: EXTERNAL``,
``location: "credentials.txt"``) is resolved by ONNX Runtime against the host's working
directory, and its bytes come back to the guest as an output. No host file reaches a guest
unless the user passed it, so wasinn-nb loads models only from the bytes it is given:

* :func:`check_onnx` walks ONNX protobuf bytes along the schema (every graph, subgraph,
  function, attribute and sparse tensor) and refuses any tensor that uses external data.

TorchScript, which runs code when it loads, is checked by :mod:`wasinn_nb.backends._torchscript`.

:func:`check_onnx` takes time linear in the input and memory bounded by the nesting depth (it
never copies the model). It raises only :class:`~wasinn_nb.errors.UnsupportedError` (the
model uses a feature we refuse) or :class:`~wasinn_nb.errors.InvalidInputError` (the bytes are
not a well-formed model), each with a one-line reason. It does not import onnx.

Example:
    >>> check_onnx(bytes.fromhex("0808"))            # ModelProto{ir_version: 8}
    >>> check_onnx(b"\x08")
    Traceback (most recent call last):
    ...
    wasinn_nb.errors.InvalidInputError: the ONNX model is not valid protobuf: truncated varint ...
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from enum import IntEnum

from wasinn_nb.errors import InvalidInputError, UnsupportedError

__all__ = ["MAX_DEPTH", "check_onnx"]

#: Deepest message nesting accepted (protobuf's own parsers default to 100 as well).
MAX_DEPTH = 100

_LOADED_ONLY = "models are loaded only from the bytes passed to load, never from files they name"


class _Msg(IntEnum):
    """The ONNX messages that can (transitively) hold a TensorProto."""

    MODEL = 0
    GRAPH = 1
    NODE = 2
    ATTRIBUTE = 3
    TENSOR = 4
    SPARSE_TENSOR = 5
    FUNCTION = 6
    TRAINING_INFO = 7


# field number -> the message it holds, per onnx.proto (fields not listed hold no tensors).
_CHILDREN: dict[_Msg, dict[int, _Msg]] = {
    # graph = 7, training_info = 20, functions = 25
    _Msg.MODEL: {7: _Msg.GRAPH, 20: _Msg.TRAINING_INFO, 25: _Msg.FUNCTION},
    # initialization = 1, algorithm = 2
    _Msg.TRAINING_INFO: {1: _Msg.GRAPH, 2: _Msg.GRAPH},
    # node = 1, initializer = 5, sparse_initializer = 15
    _Msg.GRAPH: {1: _Msg.NODE, 5: _Msg.TENSOR, 15: _Msg.SPARSE_TENSOR},
    # attribute = 5
    _Msg.NODE: {5: _Msg.ATTRIBUTE},
    # t = 5, g = 6, tensors = 10, graphs = 11, sparse_tensor = 22, sparse_tensors = 23
    _Msg.ATTRIBUTE: {
        5: _Msg.TENSOR,
        6: _Msg.GRAPH,
        10: _Msg.TENSOR,
        11: _Msg.GRAPH,
        22: _Msg.SPARSE_TENSOR,
        23: _Msg.SPARSE_TENSOR,
    },
    # values = 1, indices = 2
    _Msg.SPARSE_TENSOR: {1: _Msg.TENSOR, 2: _Msg.TENSOR},
    # node = 7, attribute_proto = 11
    _Msg.FUNCTION: {7: _Msg.NODE, 11: _Msg.ATTRIBUTE},
}

# TensorProto fields.
_TENSOR_NAME, _EXTERNAL_DATA, _DATA_LOCATION = 8, 13, 14
# StringStringEntryProto fields.
_KEY, _VALUE = 1, 2
_TENSOR_FIELDS = frozenset({_TENSOR_NAME, _EXTERNAL_DATA, _DATA_LOCATION})
_ENTRY_FIELDS = frozenset({_KEY, _VALUE})

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5  # wire types (3 and 4, groups, are refused)


class _MalformedError(Exception):
    """Internal: the bytes are not protobuf (turned into InvalidInputError at the edge)."""


def _varint(data: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return (value, next position)."""
    if pos < end and data[pos] < 0x80:  # one byte: nearly every tag and length
        return data[pos], pos + 1
    result = shift = 0
    for i in range(pos, min(end, pos + 10)):
        byte = data[i]
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i + 1
        shift += 7
    if end - pos >= 10:
        raise _MalformedError(f"varint longer than 10 bytes at byte {pos}")
    raise _MalformedError(f"truncated varint at byte {end}")


def _payload(
    data: bytes | memoryview, pos: int, end: int, number: int, wire: int
) -> tuple[int, int, int]:
    """Read the value of a field whose tag ended at ``pos``: (a, b, next position).

    A varint gives (value, _, _); a length-delimited field (payload start, payload end, _);
    a fixed-width field (its start, its start, _). Groups and invalid wire types are refused.
    """
    if wire == _VARINT:
        value, after = _varint(data, pos, end)
        return value, after, after
    if wire == _LEN:
        length, pos = _varint(data, pos, end)
        if length > end - pos:
            raise _MalformedError(f"field {number} at byte {pos} runs past its message")
        return pos, pos + length, pos + length
    if wire in (_FIXED64, _FIXED32):
        after = pos + (8 if wire == _FIXED64 else 4)
        if after > end:
            raise _MalformedError(f"truncated fixed-width field {number} at byte {pos}")
        return pos, pos, after
    # groups (deprecated, never written by ONNX exporters) and invalid wire types
    raise _MalformedError(f"unsupported wire type {wire} for field {number} at byte {pos}")


def _fields(
    data: bytes | memoryview, start: int, end: int, wanted: Container[int]
) -> Iterator[tuple[int, int, int, int]]:
    """Yield (field number, wire type, a, b) for the fields of one message numbered in ``wanted``.

    Every field is parsed (so malformed bytes anywhere are refused); see :func:`_payload` for
    what ``a`` and ``b`` are. A known field with the wrong wire type is yielded too, for the
    caller to judge.
    """
    pos = start
    while pos < end:
        tag_at = pos
        tag, pos = _varint(data, pos, end)
        number, wire = tag >> 3, tag & 7
        if number == 0 or number > 0x1FFFFFFF:
            raise _MalformedError(f"bad field number {number} at byte {tag_at}")
        a, b, pos = _payload(data, pos, end, number, wire)
        if number in wanted:
            yield number, wire, a, b


def _text(data: bytes | memoryview, start: int, end: int, limit: int = 120) -> str:
    """A model-supplied string, quoted and shortened for a one-line message."""
    raw = bytes(data[start : min(end, start + limit)])
    text = raw.decode("utf-8", errors="replace") + ("…" if end - start > limit else "")
    return repr(text)


def _location(data: bytes | memoryview, start: int, end: int) -> str | None:
    """The value of an external_data entry whose key is ``location``, if it is one."""
    key = value = None
    for number, wire, a, b in _fields(data, start, end, _ENTRY_FIELDS):
        if wire == _LEN and number == _KEY:
            key = bytes(data[a:b])
        elif wire == _LEN and number == _VALUE:
            value = (a, b)
    if key == b"location" and value is not None:
        return _text(data, *value)
    return None


def _check_tensor(data: bytes | memoryview, start: int, end: int) -> None:
    """Refuse one TensorProto if it stores its data outside the model bytes."""
    external = False
    location = name = None
    for number, wire, a, b in _fields(data, start, end, _TENSOR_FIELDS):
        if number == _EXTERNAL_DATA:
            external = True
            if wire == _LEN:
                location = location or _location(data, a, b)
        elif number == _DATA_LOCATION:
            # DEFAULT = 0, EXTERNAL = 1; refuse anything but an explicit DEFAULT.
            external = external or wire != _VARINT or a != 0
        elif number == _TENSOR_NAME and wire == _LEN:
            name = _text(data, a, b, 60)
    if external:
        where = f"an external data file {location}" if location else "external data"
        tensor = f" (tensor {name})" if name else ""
        raise UnsupportedError(f"the ONNX model refers to {where}{tensor}; {_LOADED_ONLY}")


def check_onnx(model: bytes | bytearray | memoryview) -> None:
    """Raise unless ``model`` is ONNX protobuf whose every tensor is stored in the bytes.

    Visits the main graph, training graphs, model-local functions, and every node attribute
    (so ``If``/``Loop``/``Scan`` bodies at any depth), including sparse tensors' values and
    indices. Unknown fields are skipped; malformed protobuf is refused.

    Raises:
        UnsupportedError: A tensor has ``data_location`` other than DEFAULT or any
            ``external_data`` entry (the message names the file and tensor).
        InvalidInputError: The bytes are not well-formed protobuf, or nest deeper than
            :data:`MAX_DEPTH`.
    """
    data = model if isinstance(model, bytes) else memoryview(model).cast("B")
    # Depth-first, one open field iterator per nesting level: memory O(depth), time O(len).
    children = _CHILDREN[_Msg.MODEL]
    stack = [(_fields(data, 0, len(data), children), children, _Msg.MODEL)]
    try:
        while stack:
            fields, children, kind = stack[-1]
            field = next(fields, None)
            if field is None:
                stack.pop()
                continue
            number, wire, start, end = field
            child = children.get(number)
            if child is None:
                continue
            if wire != _LEN:
                raise _MalformedError(f"field {number} of a {kind.name.lower()} is not a message")
            if child is _Msg.TENSOR:
                _check_tensor(data, start, end)
            elif start == end:  # an empty message holds nothing
                continue
            elif len(stack) >= MAX_DEPTH:
                raise InvalidInputError(
                    f"the ONNX model nests messages deeper than {MAX_DEPTH} levels"
                )
            else:
                grandchildren = _CHILDREN[child]
                stack.append((_fields(data, start, end, grandchildren), grandchildren, child))
    except _MalformedError as error:
        raise InvalidInputError(f"the ONNX model is not valid protobuf: {error}") from None
