"""Bad arguments: the guest gets the exact errno, the user one host_log line, and nothing traps.

Each table row is a guest whose calls all succeed except the last one. The guest prints every
errno it receives (``$show``), so the tests check the value that crossed into wasm, not only the
host's own record.
"""

from __future__ import annotations

import numpy as np
import pytest

from wasinn_nb.abi.wasi_nn import NnErrno

from .guests import (
    BUILDERS,
    COMPUTE,
    CPU,
    CTX_OUT,
    DATA,
    DIMS,
    GET,
    GRAPH_OUT,
    INIT,
    LOAD,
    MODEL,
    NAME,
    ONNX,
    OUTBUF,
    PAGE,
    READY,
    SET,
    TENSOR,
    TPU,
    WAT,
    WRITTEN_OUT,
    call,
    data,
    dump,
    layout,
    module,
    printed,
    read_u32,
    tensor_record,
    u32,
)

INVALID = NnErrno.INVALID_ARGUMENT
L = layout()
X = np.array([1.5, -2.0, 7.25, 0.0], np.float32)


def record(dims_ptr=DIMS, dims_len=1, ttype=1, data_ptr=DATA, data_len=16, dims=(4,)):
    """The standard layout with the tensor record (and dims) replaced."""
    return [
        *L[:2],
        data(TENSOR, tensor_record(dims_ptr, dims_len, ttype, data_ptr, data_len)),
        data(DIMS, u32(*dims)),
        L[4],
    ]


def model(text: bytes):
    return [data(BUILDERS, u32(MODEL, len(text))), data(MODEL, text), *L[2:]]


def load(builders=BUILDERS, count=1, encoding=ONNX, target=CPU, out=GRAPH_OUT):
    return call("load", builders, count, encoding, target, out)


CASES = [
    # ---- load ------------------------------------------------------------------------------
    ("load: builder array past the end", L, [load(builders=PAGE - 4)], INVALID),
    ("load: builder array at the end", L, [load(builders=PAGE)], INVALID),
    ("load: builder array pointer -8", L, [load(builders=-8)], INVALID),
    ("load: builder bytes past the end", [data(BUILDERS, u32(PAGE - 2, 4))], [load()], INVALID),
    ("load: builder length 4 GiB", [data(BUILDERS, u32(MODEL, -1))], [load()], INVALID),
    ("load: 65 builders", L, [load(count=65)], INVALID),
    ("load: builder count -1", L, [load(count=-1)], INVALID),
    ("load: encoding 9", L, [load(encoding=9)], NnErrno.INVALID_ENCODING),
    ("load: encoding 7", L, [load(encoding=7)], NnErrno.INVALID_ENCODING),
    ("load: encoding -1", L, [load(encoding=-1)], NnErrno.INVALID_ENCODING),
    ("load: target 7", L, [load(target=7)], INVALID),
    ("load: target 4", L, [load(target=4)], INVALID),
    ("load: graph out past the end", L, [load(out=PAGE - 2)], INVALID),
    ("load: encoding no backend reads", L, [load(encoding=2)], NnErrno.UNSUPPORTED_OPERATION),
    ("load: target the backend lacks", L, [load(target=TPU)], NnErrno.UNSUPPORTED_OPERATION),
    ("load: engine rejects the model", model(b"NOPE"), [load()], NnErrno.RUNTIME_ERROR),
    ("load: wrong builder count", L, [load(count=2)], INVALID),
    # ---- load_by_name ----------------------------------------------------------------------
    (
        "load_by_name: name not UTF-8",
        [data(NAME, b"n\xff\xfe")],
        [call("load_by_name", NAME, 3, GRAPH_OUT)],
        INVALID,
    ),
    (
        "load_by_name: name past the end",
        L,
        [call("load_by_name", PAGE - 2, 4, GRAPH_OUT)],
        INVALID,
    ),
    (
        "load_by_name: name length -1",
        L,
        [call("load_by_name", NAME, -1, GRAPH_OUT)],
        INVALID,
    ),
    (
        "load_by_name: unknown name",
        [data(NAME, b"nope")],
        [call("load_by_name", NAME, 4, GRAPH_OUT)],
        NnErrno.MODEL_NOT_FOUND,
    ),
    (
        "load_by_name: empty name",
        L,
        [call("load_by_name", NAME, 0, GRAPH_OUT)],
        NnErrno.MODEL_NOT_FOUND,
    ),
    (
        "load_by_name_with_config: config past the end",
        [data(NAME, b"nope")],
        [call("load_by_name_with_config", NAME, 4, PAGE - 2, 8, GRAPH_OUT)],
        INVALID,
    ),
    (
        "load_by_name_with_config: unknown name",
        [data(NAME, b"nope{}")],
        [call("load_by_name_with_config", NAME, 4, NAME + 4, 2, GRAPH_OUT)],
        NnErrno.MODEL_NOT_FOUND,
    ),
    # ---- graphs and contexts ---------------------------------------------------------------
    ("init: no graph loaded yet", L, [call("init_execution_context", 0, CTX_OUT)], INVALID),
    ("init: unknown graph", L, [LOAD, call("init_execution_context", 5, CTX_OUT)], INVALID),
    ("init: graph -1", L, [LOAD, call("init_execution_context", -1, CTX_OUT)], INVALID),
    ("init: context out past the end", L, [LOAD, call("init_execution_context", 0, PAGE)], INVALID),
    ("unload: unknown graph", L, [LOAD, call("unload", 1)], INVALID),
    ("finalize: unknown context", L, [LOAD, INIT, call("finalize_execution_context", 1)], INVALID),
    # ---- set_input -------------------------------------------------------------------------
    ("set_input: unknown context", L, [LOAD, INIT, call("set_input", 3, 0, TENSOR)], INVALID),
    ("set_input: context -1", L, [LOAD, INIT, call("set_input", -1, 0, TENSOR)], INVALID),
    (
        "set_input: tensor record past the end",
        L,
        [LOAD, INIT, call("set_input", 0, 0, PAGE - 19)],
        INVALID,
    ),
    ("set_input: tensor pointer -4", L, [LOAD, INIT, call("set_input", 0, 0, -4)], INVALID),
    (
        "set_input: dims past the end",
        record(dims_ptr=PAGE - 4, dims_len=2),
        [LOAD, INIT, SET],
        INVALID,
    ),
    ("set_input: 17 dims", record(dims_len=17), [LOAD, INIT, SET], INVALID),
    ("set_input: dims_len -1", record(dims_len=-1), [LOAD, INIT, SET], INVALID),
    ("set_input: data past the end", record(data_ptr=PAGE - 8), [LOAD, INIT, SET], INVALID),
    ("set_input: data_len one byte short", record(data_len=15), [LOAD, INIT, SET], INVALID),
    ("set_input: data_len one element long", record(data_len=20), [LOAD, INIT, SET], INVALID),
    ("set_input: data_len -1", record(data_len=-1), [LOAD, INIT, SET], INVALID),
    (
        "set_input: dims product wraps at 2**32",  # 65536 x 65536 x 4 bytes == 0 mod 2**32
        record(dims_len=2, dims=(0x10000, 0x10000), data_len=0),
        [LOAD, INIT, SET],
        INVALID,
    ),
    (
        "set_input: empty tensor with huge dims",
        record(dims_len=3, dims=(0xFFFFFFFF, 0xFFFFFFFF, 0), data_len=0),
        [LOAD, INIT, SET],
        INVALID,
    ),
    ("set_input: tensor type 9", record(ttype=9), [LOAD, INIT, SET], INVALID),
    (
        "set_input: tensor type 6 (WIT i64)",
        record(ttype=6, data_len=32),
        [LOAD, INIT, SET],
        INVALID,
    ),
    ("set_input: tensor type 255", record(ttype=255), [LOAD, INIT, SET], INVALID),
    ("set_input: input index 1", L, [LOAD, INIT, call("set_input", 0, 1, TENSOR)], INVALID),
    ("set_input: input index -1", L, [LOAD, INIT, call("set_input", 0, -1, TENSOR)], INVALID),
    ("set_input: type the model refuses", model(b"FAKE dtype=fp64"), [LOAD, INIT, SET], INVALID),
    # ---- compute ---------------------------------------------------------------------------
    ("compute: unknown context", L, [LOAD, INIT, call("compute", 7)], INVALID),
    ("compute: no input set", L, [LOAD, INIT, COMPUTE], INVALID),
    ("compute: engine fails", model(b"FAKE fail=compute"), READY, NnErrno.RUNTIME_ERROR),
    (
        "compute_single: not an LLM backend",
        L,
        [*READY, call("compute_single", 0)],
        NnErrno.UNSUPPORTED_OPERATION,
    ),
    ("compute_single: unknown context", L, [LOAD, INIT, call("compute_single", 1)], INVALID),
    (
        "fini_single: not an LLM backend",
        L,
        [LOAD, INIT, call("fini_single", 0)],
        NnErrno.UNSUPPORTED_OPERATION,
    ),
    ("fini_single: unknown context", L, [LOAD, INIT, call("fini_single", 1)], INVALID),
    # ---- get_output ------------------------------------------------------------------------
    ("get_output: before compute", L, [LOAD, INIT, SET, GET], INVALID),
    (
        "get_output: unknown context",
        L,
        [*READY, call("get_output", 1, 0, OUTBUF, 256, WRITTEN_OUT)],
        INVALID,
    ),
    (
        "get_output: output index 2",
        L,
        [*READY, call("get_output", 0, 2, OUTBUF, 256, WRITTEN_OUT)],
        INVALID,
    ),
    (
        "get_output: output index -1",
        L,
        [*READY, call("get_output", 0, -1, OUTBUF, 256, WRITTEN_OUT)],
        INVALID,
    ),
    (
        "get_output: buffer past the end",
        L,
        [*READY, call("get_output", 0, 0, PAGE - 8, 16, WRITTEN_OUT)],
        INVALID,
    ),
    (
        "get_output: bytes_written past the end",
        L,
        [*READY, call("get_output", 0, 0, OUTBUF, 256, PAGE - 2)],
        INVALID,
    ),
    (
        "get_output: buffer one byte short",
        L,
        [*READY, call("get_output", 0, 0, OUTBUF, 15, WRITTEN_OUT)],
        NnErrno.TOO_LARGE,
    ),
    (
        "get_output_single: before compute",
        L,
        [LOAD, INIT, SET, call("get_output_single", 0, 0, OUTBUF, 256, WRITTEN_OUT)],
        INVALID,
    ),
    (
        "get_output_single: buffer one byte short",
        L,
        [*READY, call("get_output_single", 0, 1, OUTBUF, 7, WRITTEN_OUT)],
        NnErrno.TOO_LARGE,
    ),
]


@pytest.mark.parametrize(
    ("segments", "body", "errno"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_argument_gives_errno_not_trap(run, segments, body, errno):
    result = run(module(*body, segments=segments))

    assert (result.exit_code, result.error) == (0, None), result.error
    expected = [0] * (len(body) - 1) + [int(errno)]
    assert [int(c.errno) for c in result.calls] == expected, result.host_log
    assert printed(result.stdout).errnos == expected  # what the guest actually received
    (line,) = result.host_log
    name = result.calls[-1].name
    assert line.startswith(f"wasi-nn {name}: ")
    assert line.endswith(f"-> errno {int(errno)} ({errno.name.lower()})")
    assert "internal" not in line  # a guest's mistake is not a host bug
    assert f"[wasinn] {line}\n" in result.stderr


def test_short_output_buffer_reports_the_size_needed(run):
    body = [
        *READY,
        call("get_output", 0, 0, OUTBUF, 0, WRITTEN_OUT),  # probe with an empty buffer
        dump(WRITTEN_OUT, 4),
        call("get_output", 0, 0, OUTBUF, 15, 0x0C),  # one byte short
        dump(0x0C, 4),
        dump(OUTBUF, 16),  # untouched
        call("get_output", 0, 0, OUTBUF, 16, 0x0C),  # exact fit
        dump(OUTBUF, 16),
    ]
    segments = [*L, data(OUTBUF, b"\xee" * 16)]
    result = run(module(*body, segments=segments))

    assert (result.exit_code, result.error) == (0, None)
    assert printed(result.stdout).errnos == [0, 0, 0, 0, 7, 7, 0]
    needed_probe, needed_short, before, after = printed(result.stdout).dumps
    assert read_u32(needed_probe) == read_u32(needed_short) == 16
    assert before == b"\xee" * 16
    assert after == (2 * X).tobytes()
    assert len(result.host_log) == 2
    assert "needs 16 bytes" in result.host_log[0]


def test_engine_crash_during_compute_is_a_runtime_error(run):
    # An exception that is not a WasinnError is a backend bug: errno 5, logged as internal.
    result = run(module(*READY, segments=model(b"FAKE fail=crash")))

    assert (result.exit_code, result.error) == (0, None)
    assert printed(result.stdout).errnos == [0, 0, 0, int(NnErrno.RUNTIME_ERROR)]
    (line,) = result.host_log
    assert "fake engine: a bug (internal RuntimeError)" in line


def test_failed_calls_leave_state_usable(run):
    # After each kind of failure the same context still completes the pipeline.
    body = [
        LOAD,
        call("load", BUILDERS, 1, 9, CPU, 0x10),
        INIT,
        call("set_input", 0, 0, PAGE - 4),
        GET,
        SET,
        COMPUTE,
        call("get_output", 0, 0, OUTBUF, 3, WRITTEN_OUT),
        GET,
        dump(OUTBUF, 16),
    ]
    result = run(module(*body, segments=L))

    assert printed(result.stdout).errnos == [0, 2, 0, 1, 1, 0, 0, 7, 0]
    assert printed(result.stdout).dumps == [(2 * X).tobytes()]
    assert len(result.host_log) == 4


def test_missing_memory(run):
    result = run(str(WAT / "no_memory.wat"))

    assert (result.exit_code, result.error) == (0, None)  # the guest saw errno 3
    assert [(c.name, c.errno) for c in result.calls] == [("load", NnErrno.MISSING_MEMORY)]
    (line,) = result.host_log
    assert "exports no memory named 'memory'" in line
    assert line.endswith("-> errno 3 (missing_memory)")


def test_memory_exported_under_another_name_is_missing(run):
    guest = """(module
      (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
      (memory (export "mem") 1)
      (func (export "_start")
        (if (i32.ne (call $compute (i32.const 0)) (i32.const 3)) (then unreachable))))"""
    result = run(guest)

    assert (result.exit_code, result.error) == (0, None)
    assert [c.errno for c in result.calls] == [NnErrno.MISSING_MEMORY]


def test_empty_memory_is_still_memory(run):
    guest = """(module
      (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
      (import "wasi_ephemeral_nn" "init_execution_context"
        (func $init (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (memory (export "memory") 0)
      (func (export "_start")
        (if (i32.ne (call $compute (i32.const 0)) (i32.const 1))
          (then (call $proc_exit (i32.const 10))))
        (call $proc_exit (call $init (i32.const 0) (i32.const 0)))))"""
    result = run(guest)

    assert (result.exit_code, result.error) == (int(INVALID), None)
    assert [c.errno for c in result.calls] == [INVALID, INVALID]


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        pytest.param(
            [call("load", BUILDERS, 1, 0x101, CPU, GRAPH_OUT)], L, id="encoding 0x101 is onnx"
        ),
        pytest.param(
            [call("load", BUILDERS, 1, ONNX, 0x100, GRAPH_OUT)], L, id="target 0x100 is cpu"
        ),
        pytest.param(
            [*READY, call("get_output", 0, 0, OUTBUF, -1, WRITTEN_OUT)],
            L,
            id="buffer length -1 is 4 GiB",
        ),
        pytest.param(
            [*READY, call("get_output", 0, 0, PAGE - 16, -16, PAGE - 20)],
            L,
            id="buffer at the very end",
        ),
    ],
)
def test_i32_arguments_are_read_as_unsigned_and_enums_as_bytes(run, fake, body, segments):
    result = run(module(*body, segments=segments))

    assert (result.exit_code, result.error) == (0, None)
    assert printed(result.stdout).errnos == [0] * len(body), result.host_log
