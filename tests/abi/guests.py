"""Build small WAT guests for the ABI tests, and read back what they printed.

A guest made by :func:`module` imports every ``wasi_ephemeral_nn`` function, exports one page of
``memory`` and has two printing helpers (they use the scratch area at 0xF000, so test data must
stay below it):

* ``(call $show <errno>)`` prints ``e:<4 bytes hex>`` — the errno *as the guest received it*;
* ``(call $dump <ptr> <len>)`` prints ``d:<hex>`` — a region of guest memory after the calls.

:func:`call` writes ``(call $show (call $<name> (i32.const a) …))`` so a test body is a list of
calls; :func:`printed` parses stdout back into errnos and byte strings.

Memory map used by :func:`layout` and the ``*_OUT`` pointers::

    0x000 graph handle out   0x004 context handle out   0x008 bytes_written out
    0x100 builder array      0x200 model bytes (builder 0)   0x280 builder 1
    0x300 tensor record      0x340 dims      0x400 tensor data
    0x800 output buffer      0x2000 names / config
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wasinn_nb.abi.wasi_nn import FUNCTIONS

WAT = Path(__file__).parent / "wat"

GRAPH_OUT, CTX_OUT, WRITTEN_OUT = 0x000, 0x004, 0x008
BUILDERS, MODEL, MODEL2 = 0x100, 0x200, 0x280
TENSOR, DIMS, DATA = 0x300, 0x340, 0x400
OUTBUF, NAME = 0x800, 0x2000
PAGE = 0x10000

# Enum values as a guest passes them.
OPENVINO, ONNX = 0, 1
CPU, GPU, TPU, AUTO = 0, 1, 2, 3
F32 = 1  # the same in both tensor-type numberings

_IMPORTS = "\n".join(
    f'  (import "wasi_ephemeral_nn" "{name}" (func ${name} (param{" i32" * count}) (result i32)))'
    for name, count in FUNCTIONS.items()
)

_PRELUDE = f"""(module
{_IMPORTS}
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") {{pages}})
  (data (i32.const 0xF000) "0123456789abcdef")
  ;; Print "<tag>:<hex of len bytes at ptr>\\n" to stdout. Scratch: 0xF010 iovec, 0xF018
  ;; nwritten, 0xF01C one u32 value, 0xF020.. the text line.
  (func $emit (param $tag i32) (param $ptr i32) (param $len i32)
    (local $i i32) (local $b i32) (local $out i32)
    (i32.store8 (i32.const 0xF020) (local.get $tag))
    (i32.store8 (i32.const 0xF021) (i32.const 58))
    (local.set $out (i32.const 0xF022))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $b (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (i32.store8 (local.get $out)
          (i32.load8_u offset=0xF000 (i32.shr_u (local.get $b) (i32.const 4))))
        (i32.store8 offset=1 (local.get $out)
          (i32.load8_u offset=0xF000 (i32.and (local.get $b) (i32.const 15))))
        (local.set $out (i32.add (local.get $out) (i32.const 2)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store8 (local.get $out) (i32.const 10))
    (i32.store (i32.const 0xF010) (i32.const 0xF020))
    (i32.store (i32.const 0xF014) (i32.sub (local.get $out) (i32.const 0xF01F)))
    (drop (call $fd_write (i32.const 1) (i32.const 0xF010) (i32.const 1) (i32.const 0xF018))))
  (func $show (param $errno i32)
    (i32.store (i32.const 0xF01C) (local.get $errno))
    (call $emit (i32.const 101) (i32.const 0xF01C) (i32.const 4)))
  (func $dump (param $ptr i32) (param $len i32)
    (call $emit (i32.const 100) (local.get $ptr) (local.get $len)))
"""


def module(*body: str, segments: Iterable[str] = (), pages: int = 1) -> str:
    """A complete guest whose ``_start`` runs ``body`` (WAT instructions, one per item)."""
    lines = [_PRELUDE.format(pages=pages), *(f"  {s}" for s in segments)]
    lines.append('  (func (export "_start")')
    lines.extend(f"    {instruction}" for instruction in body)
    lines.append("  ))")
    return "\n".join(lines)


def call(name: str, *args: int) -> str:
    """Call wasi-nn function ``name`` with i32 constants and print the errno it returned."""
    consts = " ".join(f"(i32.const {a})" for a in args)
    return f"(call $show (call ${name} {consts}))"


def dump(pointer: int, length: int) -> str:
    """Print ``length`` bytes of guest memory at ``pointer``."""
    return f"(call $dump (i32.const {pointer}) (i32.const {length}))"


def data(address: int, raw: bytes) -> str:
    """A data segment placing ``raw`` at ``address``."""
    escaped = "".join(f"\\{b:02x}" for b in raw)
    return f'(data (i32.const {address}) "{escaped}")'


def u32(*values: int) -> bytes:
    """Little-endian u32 words (negative values wrap, as a guest's i32 would)."""
    return b"".join(struct.pack("<I", v & 0xFFFFFFFF) for v in values)


def tensor_record(
    dims_ptr: int, dims_len: int, ttype: int, data_ptr: int, data_len: int, pad: bytes = b"\0" * 3
) -> bytes:
    """The 20-byte tensor record: dims ptr/len, type byte + 3 padding bytes, data ptr/len."""
    assert len(pad) == 3
    return u32(dims_ptr, dims_len) + bytes([ttype]) + pad + u32(data_ptr, data_len)


def layout(
    model: bytes = b"FAKE",
    tensor: np.ndarray | None = None,
    ttype: int = F32,
    *,
    dims: Sequence[int] | None = None,
    data_len: int | None = None,
    pad: bytes = b"\0" * 3,
) -> list[str]:
    """Data segments for one builder (``model``) and one tensor record describing ``tensor``."""
    array = np.array([1.5, -2.0, 7.25, 0.0], np.float32) if tensor is None else tensor
    raw = np.ascontiguousarray(array).tobytes()
    shape = array.shape if dims is None else tuple(dims)
    length = len(raw) if data_len is None else data_len
    return [
        data(BUILDERS, u32(MODEL, len(model))),
        data(MODEL, model),
        data(TENSOR, tensor_record(DIMS, len(shape), ttype, DATA, length, pad)),
        data(DIMS, u32(*shape)) if shape else "",
        data(DATA, raw),
    ]


# The happy path, step by step, on the memory map above.
LOAD = call("load", BUILDERS, 1, ONNX, CPU, GRAPH_OUT)
INIT = call("init_execution_context", 0, CTX_OUT)
SET = call("set_input", 0, 0, TENSOR)
COMPUTE = call("compute", 0)
GET = call("get_output", 0, 0, OUTBUF, 256, WRITTEN_OUT)
READY = (LOAD, INIT, SET, COMPUTE)


@dataclass(frozen=True)
class Printed:
    errnos: list[int]
    dumps: list[bytes]


def printed(stdout: str) -> Printed:
    """Parse a guest's ``$show``/``$dump`` lines."""
    errnos, dumps = [], []
    for line in stdout.splitlines():
        tag, _, hexdata = line.partition(":")
        raw = bytes.fromhex(hexdata)
        if tag == "e":
            errnos.append(int.from_bytes(raw, "little"))
        elif tag == "d":
            dumps.append(raw)
    return Printed(errnos, dumps)


def read_u32(raw: bytes) -> int:
    return int.from_bytes(raw, "little")
