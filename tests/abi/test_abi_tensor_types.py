"""Tensor types: both numberings of the type byte, told apart by bytes per element.

Numbering A (wasi-nn crate <= 0.5, WasmEdge <= 0.14): F16=0 F32=1 U8=2 I32=3.
Numbering B (wasi-nn crate >= 0.6, current witx):    F16=0 F32=1 F64=2 U8=3 I32=4 I64=5.
"""

from __future__ import annotations

import numpy as np
import pytest

from wasinn_nb.enums import DType

from .guests import (
    GET,
    OUTBUF,
    READY,
    WRITTEN_OUT,
    dump,
    layout,
    module,
    printed,
    read_u32,
)

U8 = np.array([[1, 2], [3, 250]], np.uint8)
I32 = np.array([[1, -2], [3, 2**31 - 1]], np.int32)
I64 = np.array([[1, -2], [2**40, -(2**62)]], np.int64)
F16 = np.array([[0.5, -1.0], [2.0, 30000.0]], np.float16)
F32 = np.array([[1.5, -2.0], [7.25, 0.0]], np.float32)
F64 = np.array([[1.5, -2.0], [1e300, 2.0**-1000]], np.float64)


@pytest.mark.parametrize(
    ("ttype", "tensor", "dtype"),
    [
        pytest.param(0, F16, DType.FP16, id="0 is f16 in both"),
        pytest.param(1, F32, DType.FP32, id="1 is f32 in both"),
        pytest.param(2, U8, DType.U8, id="2 with 1-byte elements is legacy u8"),
        pytest.param(2, F64, DType.FP64, id="2 with 8-byte elements is current f64"),
        pytest.param(3, I32, DType.I32, id="3 with 4-byte elements is legacy i32"),
        pytest.param(3, U8, DType.U8, id="3 with 1-byte elements is current u8"),
        pytest.param(4, I32, DType.I32, id="4 is current i32"),
        pytest.param(5, I64, DType.I64, id="5 is current i64"),
    ],
)
def test_type_byte_decodes_by_bytes_per_element(run, ttype, tensor, dtype):
    body = [*READY, GET, dump(WRITTEN_OUT, 4), dump(OUTBUF, tensor.nbytes)]
    result = run(module(*body, segments=layout(tensor=tensor, ttype=ttype)))

    assert (result.exit_code, result.error) == (0, None)
    assert result.host_log == ()
    (given,) = result.inputs
    assert given.dtype == dtype.numpy
    assert given.shape == (2, 2)
    np.testing.assert_array_equal(given, tensor)
    # The fake doubles the input in its own dtype; the guest reads the raw little-endian bytes.
    written, raw = printed(result.stdout).dumps
    assert read_u32(written) == tensor.nbytes
    assert raw == (tensor * tensor.dtype.type(2)).astype(tensor.dtype).tobytes()


@pytest.mark.parametrize(
    "pad", [b"\0\0\0", b"\xff\xff\xff", b"\x01\x02\x03"], ids=lambda pad: f"pad {pad.hex()}"
)
@pytest.mark.parametrize(
    ("ttype", "tensor"),
    [
        pytest.param(1, F32, id="f32"),
        pytest.param(2, U8, id="legacy u8"),
        pytest.param(3, U8, id="current u8"),
        pytest.param(5, I64, id="i64"),
    ],
)
def test_padding_after_the_type_byte_is_ignored(run, pad, ttype, tensor):
    result = run(module(*READY, segments=layout(tensor=tensor, ttype=ttype, pad=pad)))

    assert [int(c.errno) for c in result.calls] == [0, 0, 0, 0], result.host_log
    assert result.inputs[0].dtype == tensor.dtype
    np.testing.assert_array_equal(result.inputs[0], tensor)


@pytest.mark.parametrize(
    ("ttype", "declared", "dtype"),
    [
        pytest.param(2, "fp64", DType.FP64, id="2, model takes f64"),
        pytest.param(2, "u8", DType.U8, id="2, model takes u8"),
        pytest.param(2, None, DType.FP64, id="2, model says nothing: current f64"),
        pytest.param(3, "i32", DType.I32, id="3, model takes i32"),
        pytest.param(3, "u8", DType.U8, id="3, model takes u8"),
        pytest.param(3, None, DType.U8, id="3, model says nothing: current u8"),
    ],
)
def test_declared_input_type_breaks_ties(run, ttype, declared, dtype):
    # An empty tensor (2 x 0) fits every element size, so only the model can decide.
    model = b"FAKE" if declared is None else f"FAKE dtype={declared}".encode()
    empty = np.zeros((2, 0), np.uint8)
    result = run(module(*READY, segments=layout(model, tensor=empty, ttype=ttype)))

    assert [int(c.errno) for c in result.calls] == [0, 0, 0, 0], result.host_log
    (given,) = result.inputs
    assert (given.dtype, given.shape) == (dtype.numpy, (2, 0))


@pytest.mark.parametrize(
    ("declared", "tensor", "got"),
    [
        pytest.param("u8", F64, "float64", id="8-byte data stays f64 for a u8 model"),
        pytest.param("fp64", U8, "uint8", id="1-byte data stays u8 for an f64 model"),
        pytest.param("u8", I32, "int32", id="4-byte data stays i32 for a u8 model"),
    ],
)
def test_data_size_beats_the_declared_type(run, declared, tensor, got):
    # The size decides when it can; the model then refuses the type (invalid_argument).
    model = f"FAKE dtype={declared}".encode()
    ttype = 3 if tensor is I32 else 2
    result = run(module(*READY[:3], segments=layout(model, tensor=tensor, ttype=ttype)))

    assert [int(c.errno) for c in result.calls] == [0, 0, 1]
    (line,) = result.host_log
    assert f"takes {declared}, got {got}" in line
