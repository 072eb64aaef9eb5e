"""Embed a model in a component guest: a new data segment, and the guest's model reference.

The committed ``classify-component.wasm`` carries no model (third-party model bytes are never
committed). Its core module holds a 24-byte ``ModelRef``: the magic ``wasinn:model-ref``, then
``table`` and ``end`` (u32, zero). :func:`embed_model` appends one data segment above the
module's initial memory with ``encoding u32, target u32, count u32, count x (ptr u32, len
u32)`` and the model parts, raises the memory's minimum to cover it, and fills in ``table``
and ``end`` (the guest's heap starts at ``end``). Everything else stays byte for byte, so the
result is as reproducible as its inputs. The guest then calls ``wasi:nn/graph.load`` with the
parts, once, and reuses the graph and its execution context for every input.

Example:
    >>> from wasinn_nb.data import example_guest
    >>> plain = example_guest("classify-component").read_bytes()
    >>> embedded = embed_model(plain, [b"the model's bytes"], "onnx")
    >>> len(embedded) > len(plain), embedded.count(b"the model's bytes")
    (True, 1)
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from wasinn_nb.errors import GuestError

__all__ = ["ENCODINGS", "MAGIC", "embed_model", "read_uleb", "uleb"]

MAGIC = b"wasinn:model-ref"
#: ``wasi:nn`` WIT ``graph-encoding`` cases (the guest passes the index to ``load``).
ENCODINGS = ("openvino", "onnx", "tensorflow", "pytorch", "tensorflowlite", "ggml", "autodetect")
_TARGETS = ("cpu", "gpu", "tpu")
_COMPONENT = b"\0asm\x0d\0\x01\0"
_CORE = b"\0asm\x01\0\0\0"
_PAGE = 65536
_CORE_MODULE_SECTION, _MEMORY, _DATA, _DATA_COUNT = 1, 5, 11, 12


def uleb(value: int) -> bytes:
    """Unsigned LEB128.

    Example:
        >>> uleb(624485).hex()
        'e58e26'
    """
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _sleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte | (0 if done else 0x80))
        if done:
            return bytes(out)


def read_uleb(data: bytes, at: int) -> tuple[int, int]:
    """The unsigned LEB128 at ``at`` and the offset after it."""
    value = shift = 0
    while True:
        if at >= len(data) or shift > 35:
            raise GuestError("malformed wasm: bad LEB128 number")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def _sections(data: bytes, start: int) -> list[tuple[int, bytes]]:
    sections, at = [], start
    while at < len(data):
        kind = data[at]
        size, at = read_uleb(data, at + 1)
        if at + size > len(data):
            raise GuestError("malformed wasm: a section runs past the end")
        sections.append((kind, data[at : at + size]))
        at += size
    return sections


def _join(header: bytes, sections: list[tuple[int, bytes]]) -> bytes:
    return header + b"".join(bytes([k]) + uleb(len(p)) + p for k, p in sections)


def embed_model(
    component: bytes, parts: Sequence[bytes], encoding: str, target: str = "cpu"
) -> bytes:
    """``component`` with the model ``parts`` embedded for ``wasi:nn`` ``load``.

    Args:
        component: A component whose core module has an empty ``ModelRef``.
        parts: The graph builders (one file, or an OpenVINO IR's xml and bin).
        encoding: A WIT ``graph-encoding`` name (``tensorflowlite``, ``onnx``, ``openvino``…).
        target: ``cpu``, ``gpu`` or ``tpu``.

    Raises:
        GuestError: If the binary is not such a component, or already has a model.
    """
    if encoding not in ENCODINGS or target not in _TARGETS:
        raise GuestError(f"unknown encoding {encoding!r} or target {target!r}")
    if not component.startswith(_COMPONENT):
        raise GuestError("not a component binary")
    sections = _sections(component, len(_COMPONENT))
    for i, (kind, payload) in enumerate(sections):
        if kind == _CORE_MODULE_SECTION and MAGIC in payload:
            sections[i] = (kind, _embed_core(payload, parts, encoding, target))
            return _join(_COMPONENT, sections)
    raise GuestError("the component has no model reference (not built for embedding)")


def _embed_core(module: bytes, parts: Sequence[bytes], encoding: str, target: str) -> bytes:
    if not module.startswith(_CORE):
        raise GuestError("malformed component: its core module has no wasm header")
    sections = _sections(module, len(_CORE))
    kinds = [kind for kind, _ in sections]
    if _MEMORY not in kinds or _DATA not in kinds:
        raise GuestError("the guest's core module has no memory or no data section")
    memory_at = kinds.index(_MEMORY)
    minimum, rest = _memory(sections[memory_at][1])
    base = minimum * _PAGE
    blob, end = _model_blob(base, parts, encoding, target)
    pages = -(-end // _PAGE)
    sections[memory_at] = (_MEMORY, b"\x01\x00" + uleb(pages) + rest)
    data_at = kinds.index(_DATA)
    count, body = _patched_data(sections[data_at][1], base, end)
    segment = b"\x00\x41" + _sleb(base) + b"\x0b" + uleb(len(blob)) + blob
    sections[data_at] = (_DATA, uleb(count + 1) + body + segment)
    if _DATA_COUNT in kinds:
        sections[kinds.index(_DATA_COUNT)] = (_DATA_COUNT, uleb(count + 1))
    return _join(_CORE, sections)


def _memory(payload: bytes) -> tuple[int, bytes]:
    """The first memory's minimum pages, and what follows its limits (a maximum is dropped)."""
    count, at = read_uleb(payload, 0)
    if count != 1 or payload[at] not in (0, 1):
        raise GuestError("the guest's core module must have one plain 32-bit memory")
    flags = payload[at]
    minimum, at = read_uleb(payload, at + 1)
    if flags == 1:
        _, at = read_uleb(payload, at)
    return minimum, payload[at:]


def _model_blob(base: int, parts: Sequence[bytes], encoding: str, target: str) -> tuple[bytes, int]:
    header = 12 + 8 * len(parts)
    offsets, at = [], base + header
    for part in parts:
        at = (at + 15) & ~15
        offsets.append(at)
        at += len(part)
    blob = bytearray(at - base)
    struct.pack_into("<III", blob, 0, ENCODINGS.index(encoding), _TARGETS.index(target), len(parts))
    for i, (offset, part) in enumerate(zip(offsets, parts, strict=True)):
        struct.pack_into("<II", blob, 12 + 8 * i, offset, len(part))
        blob[offset - base : offset - base + len(part)] = part
    return bytes(blob), at


def _patched_data(payload: bytes, table: int, end: int) -> tuple[int, bytes]:
    """The data section's segment count, and its segments with the ModelRef filled in."""
    count, at = read_uleb(payload, 0)
    body = bytearray(payload[at:])
    spot = body.find(MAGIC)
    if spot < 0 or body.find(MAGIC, spot + 1) >= 0:
        raise GuestError("the model reference is missing or not unique")
    if body[spot + 16 : spot + 24] != bytes(8):
        raise GuestError("the component already has an embedded model")
    body[spot + 16 : spot + 24] = struct.pack("<II", table, end)
    return count, bytes(body)
