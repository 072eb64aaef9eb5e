"""Every wasi_ephemeral_nn function with good arguments: errno 0, right bytes, right handles."""

from __future__ import annotations

import numpy as np
import pytest

from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.runtime.graphs import Preload

from .guests import (
    AUTO,
    BUILDERS,
    COMPUTE,
    CPU,
    CTX_OUT,
    DATA,
    DIMS,
    GET,
    GPU,
    GRAPH_OUT,
    INIT,
    LOAD,
    MODEL,
    MODEL2,
    NAME,
    ONNX,
    OPENVINO,
    OUTBUF,
    PAGE,
    READY,
    SET,
    TENSOR,
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

X = np.array([1.5, -2.0, 7.25, 0.0], np.float32)


def calls_of(result):
    return [(c.name, int(c.errno)) for c in result.calls]


def assert_clean(result):
    """The guest ran to the end, every wasi-nn call succeeded and it saw errno 0 each time."""
    assert (result.exit_code, result.error) == (0, None), result.stderr
    assert all(c.errno is NnErrno.SUCCESS for c in result.calls), result.host_log
    assert result.host_log == ()
    seen = printed(result.stdout).errnos
    assert seen == [0] * len(seen)


def test_classify_guest_runs_the_whole_pipeline(run, fake):
    result = run(str(WAT / "classify.wat"))

    assert (result.exit_code, result.error) == (0, None), result.host_log
    assert [name for name, _ in calls_of(result)] == [
        "load",
        "init_execution_context",
        "set_input",
        "compute",
        "get_output",
        "get_output",
        "finalize_execution_context",
        "unload",
    ]
    assert result.host_log == ()
    (given,) = result.inputs
    assert given.dtype == np.float32 and given.shape == (1, 4)
    np.testing.assert_array_equal(given, X.reshape(1, 4))
    scaled, argmax = result.outputs
    np.testing.assert_array_equal(scaled, 2 * X.reshape(1, 4))
    assert argmax.tolist() == [2]
    assert [(r.context, r.index) for r in result.output_records] == [(0, 0), (0, 1)]


def test_load_one_builder_reads_exactly_the_bytes_pointed_at(run, fake):
    # The model sits between junk bytes; it contains NUL and 0xFF, so no C-string reading.
    model = b"FAKE \x00\xff\x10 end"
    segments = [
        data(BUILDERS, u32(MODEL + 3, len(model))),
        data(MODEL, b"XYZ" + model + b"JUNK"),
    ]
    result = run(module(LOAD, segments=segments))

    assert_clean(result)
    (loaded,) = fake.loads
    assert loaded.builders == (model,)
    assert (loaded.encoding, loaded.target) == (GraphEncoding.ONNX, ExecutionTarget.CPU)


@pytest.mark.parametrize(
    ("target", "expected"),
    [(CPU, ExecutionTarget.CPU), (GPU, ExecutionTarget.GPU), (AUTO, ExecutionTarget.AUTO)],
    ids=["cpu", "gpu", "auto"],
)
def test_load_two_builders_in_order(run, fake, target, expected):
    xml, weights = b"FAKE <net/>", bytes(range(256)) * 2
    segments = [
        data(BUILDERS, u32(MODEL, len(xml), 0x1000, len(weights))),
        data(MODEL, xml),
        data(0x1000, weights),
    ]
    result = run(module(call("load", BUILDERS, 2, OPENVINO, target, GRAPH_OUT), segments=segments))

    assert_clean(result)
    (loaded,) = fake.loads
    assert loaded.builders == (xml, weights)
    assert (loaded.encoding, loaded.target) == (GraphEncoding.OPENVINO, expected)


def test_handles_start_at_zero_and_increase(run, fake):
    segments = [
        data(BUILDERS, u32(MODEL, 4)),
        data(BUILDERS + 8, u32(MODEL2, 6)),
        data(MODEL, b"FAKE"),
        data(MODEL2, b"FAKE 2"),
    ]
    body = [
        call("load", BUILDERS, 1, ONNX, CPU, 0x10),
        call("load", BUILDERS + 8, 1, ONNX, CPU, 0x14),
        call("load", BUILDERS, 1, ONNX, CPU, 0x18),  # same bytes again: new handle, same graph
        call("init_execution_context", 0, 0x20),
        call("init_execution_context", 2, 0x24),
        call("init_execution_context", 1, 0x28),
        dump(0x10, 12),
        dump(0x20, 12),
    ]
    result = run(module(*body, segments=segments))

    assert_clean(result)
    graphs, contexts = printed(result.stdout).dumps
    assert graphs == u32(0, 1, 2)
    assert contexts == u32(0, 1, 2)
    assert [c.builders for c in fake.loads] == [(b"FAKE",), (b"FAKE 2",)]  # compiled once each


def test_load_by_name_with_a_preload_string(run, fake, tmp_path):
    model = tmp_path / "x.onnx"
    model.write_bytes(b"FAKE named")
    body = [call("load_by_name", NAME, 3, GRAPH_OUT), INIT, SET, COMPUTE, GET, dump(OUTBUF, 16)]
    segments = [*layout(), data(NAME, b"netXYZ")]  # the name is 3 bytes, not NUL-terminated

    result = run(module(*body, segments=segments), preload=[f"net:onnx:cpu:{model}"])

    assert_clean(result)
    (loaded,) = fake.loads
    assert loaded.builders == (b"FAKE named",)
    assert (loaded.encoding, loaded.target) == (GraphEncoding.ONNX, ExecutionTarget.CPU)
    assert printed(result.stdout).dumps == [(2 * X).tobytes()]


def test_load_by_name_with_a_registered_preload_compiles_once(run, runner, fake, tmp_path):
    xml, weights = tmp_path / "m.xml", tmp_path / "m.bin"
    xml.write_bytes(b"FAKE xml")
    weights.write_bytes(b"\x00\x01weights")
    runner.graphs.add(Preload("road", GraphEncoding.OPENVINO, ExecutionTarget.GPU, (xml, weights)))
    body = [
        call("load_by_name", NAME, 4, 0x10),
        call("load_by_name", NAME, 4, 0x14),
        dump(0x10, 8),
    ]

    result = run(module(*body, segments=[data(NAME, b"road")]))

    assert_clean(result)
    assert printed(result.stdout).dumps == [u32(0, 1)]
    (loaded,) = fake.loads
    assert loaded.builders == (b"FAKE xml", b"\x00\x01weights")
    assert (loaded.encoding, loaded.target) == (GraphEncoding.OPENVINO, ExecutionTarget.GPU)


def test_load_by_name_with_config(run, fake, tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "model.onnx").write_bytes(b"FAKE")
    config = b'{"ctx-size": 512}'
    body = [call("load_by_name_with_config", NAME, 4, NAME + 0x20, len(config), GRAPH_OUT)]
    body += [INIT, SET, COMPUTE, GET, dump(GRAPH_OUT, 4), dump(OUTBUF, 16)]
    segments = [*layout(), data(NAME, b"tiny"), data(NAME + 0x20, config)]

    result = run(module(*body, segments=segments), preload=[f"onnx::{folder}"])

    assert_clean(result)
    assert printed(result.stdout).dumps == [u32(0), (2 * X).tobytes()]
    assert [c.builders for c in fake.loads] == [(b"FAKE",)]


@pytest.mark.parametrize("function", ["get_output", "get_output_single"])
def test_get_output_writes_data_and_bytes_written(run, function):
    body = [
        *READY,
        call(function, 0, 0, OUTBUF, 256, WRITTEN_OUT),
        dump(WRITTEN_OUT, 4),
        dump(OUTBUF, 16),
        call(function, 0, 1, OUTBUF + 0x100, 8, WRITTEN_OUT),  # exactly the 8 bytes needed
        dump(WRITTEN_OUT, 4),
        dump(OUTBUF + 0x100, 8),
    ]
    result = run(module(*body, segments=layout()))

    assert_clean(result)
    written0, out0, written1, out1 = printed(result.stdout).dumps
    assert read_u32(written0) == 16
    assert out0 == (2 * X).tobytes()
    assert read_u32(written1) == 8
    assert out1 == np.int64(2).tobytes()


def test_get_output_leaves_the_rest_of_the_buffer_alone(run):
    segments = [*layout(), data(OUTBUF, b"\xee" * 24)]
    result = run(module(*READY, GET, dump(OUTBUF, 24), segments=segments))

    assert_clean(result)
    assert printed(result.stdout).dumps == [(2 * X).tobytes() + b"\xee" * 8]


def test_contexts_of_one_graph_are_independent(run):
    other = np.array([9.0, 1.0, -1.0, 4.0], np.float32)
    segments = [
        *layout(),
        data(0x600, tensor_record(DIMS, 1, 1, 0x700, 16)),
        data(0x700, other.tobytes()),
    ]
    body = [
        LOAD,
        call("init_execution_context", 0, 0x10),
        call("init_execution_context", 0, 0x14),
        call("set_input", 0, 0, TENSOR),
        call("set_input", 1, 0, 0x600),
        call("compute", 1),
        call("compute", 0),
        call("get_output", 1, 0, OUTBUF, 16, WRITTEN_OUT),
        call("get_output", 0, 0, OUTBUF + 16, 16, WRITTEN_OUT),
        dump(OUTBUF, 32),
    ]
    result = run(module(*body, segments=segments))

    assert_clean(result)
    assert printed(result.stdout).dumps == [(2 * other).tobytes() + (2 * X).tobytes()]
    assert [(r.context, r.index) for r in result.input_records] == [(0, 0), (1, 0)]


def test_finalize_execution_context_drops_only_that_context(run):
    body = [
        LOAD,
        call("init_execution_context", 0, 0x10),
        call("init_execution_context", 0, 0x14),
        call("set_input", 1, 0, TENSOR),
        call("finalize_execution_context", 0),
        call("compute", 1),  # the other context still works
        call("compute", 0),  # the finalized one is gone
        call("finalize_execution_context", 0),  # and cannot be finalized twice
    ]
    result = run(module(*body, segments=layout()))

    assert calls_of(result)[-4:] == [
        ("finalize_execution_context", 0),
        ("compute", 0),
        ("compute", 1),
        ("finalize_execution_context", 1),
    ]
    assert printed(result.stdout).errnos == [0, 0, 0, 0, 0, 0, 1, 1]
    assert len(result.host_log) == 2


def test_unload_drops_the_handle_and_handles_are_not_reused(run, fake):
    body = [
        LOAD,
        call("unload", 0),
        call("init_execution_context", 0, CTX_OUT),  # unloaded: unknown graph
        call("unload", 0),  # twice: unknown graph
        call("load", BUILDERS, 1, ONNX, CPU, GRAPH_OUT),
        dump(GRAPH_OUT, 4),
        call("init_execution_context", 1, CTX_OUT),
    ]
    result = run(module(*body, segments=layout()))

    assert (result.exit_code, result.error) == (0, None)
    assert printed(result.stdout).errnos == [0, 0, 1, 1, 0, 0]
    assert printed(result.stdout).dumps == [u32(1)]


def test_pointers_need_no_alignment(run, fake):
    # Builder array, tensor record, dims, data and out-pointers all at odd addresses.
    segments = [
        data(0x101, u32(0x203, 4)),
        data(0x203, b"FAKE"),
        data(0x305, tensor_record(0x347, 1, 1, 0x409, 16)),
        data(0x347, u32(4)),
        data(0x409, X.tobytes()),
    ]
    body = [
        call("load", 0x101, 1, ONNX, CPU, 0x11),
        call("init_execution_context", 0, 0x15),
        call("set_input", 0, 0, 0x305),
        call("compute", 0),
        call("get_output", 0, 0, 0x803, 16, 0x19),
        dump(0x11, 12),
        dump(0x803, 16),
    ]
    result = run(module(*body, segments=segments))

    assert_clean(result)
    assert printed(result.stdout).dumps == [u32(0, 0, 16), (2 * X).tobytes()]


def test_memory_grown_by_the_guest_is_visible_to_the_host(run):
    # The tensor record is copied into the second page, which exists only after memory.grow.
    body = [
        LOAD,
        INIT,
        call("set_input", 0, 0, PAGE + 0x10),  # not there yet: invalid_argument
        "(drop (memory.grow (i32.const 1)))",
        f"(memory.copy (i32.const {PAGE + 0x10}) (i32.const {TENSOR}) (i32.const 20))",
        call("set_input", 0, 0, PAGE + 0x10),
        COMPUTE,
        call("get_output", 0, 0, PAGE + 0x100, 16, PAGE + 0x200),
        dump(PAGE + 0x100, 16),
    ]
    result = run(module(*body, segments=layout()))

    assert (result.exit_code, result.error) == (0, None)
    assert printed(result.stdout).errnos == [0, 0, 1, 0, 0, 0]
    assert printed(result.stdout).dumps == [(2 * X).tobytes()]


def test_scalar_input_with_empty_dims(run):
    # dims_len 0 is a scalar (one element). Rust passes an empty slice as the dangling
    # pointer 4 (u32 alignment) with length 0.
    scalar = np.float32(3.5)
    segments = [
        data(BUILDERS, u32(MODEL, 4)),
        data(MODEL, b"FAKE"),
        data(TENSOR, tensor_record(4, 0, 1, DATA, 4)),
        data(DATA, scalar.tobytes()),
    ]
    result = run(module(*READY, GET, dump(OUTBUF, 4), segments=segments))

    assert_clean(result)
    assert result.inputs[0].shape == ()
    assert printed(result.stdout).dumps == [np.float32(7.0).tobytes()]


def test_set_input_is_recorded_with_dims_from_guest_memory(run):
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    result = run(module(*READY, segments=layout(tensor=x)))

    assert_clean(result)
    (record,) = result.input_records
    assert (record.context, record.index) == (0, 0)
    np.testing.assert_array_equal(record.array, x)


def test_guest_errno_matches_host_record(run):
    result = run(module(*READY, GET, segments=layout()))
    assert printed(result.stdout).errnos == [int(c.errno) for c in result.calls]


def test_timings_cover_the_wasi_nn_phases(run):
    result = run(module(*READY, GET, segments=layout()))
    assert_clean(result)
    for phase in ("load", "init", "set_input", "compute", "get_output"):
        assert result.timings[phase] > 0
