"""Memory bombs, written as the guest that throws them: each hits a limit, never the host.

Each test is an attack from issue 10 (a guest making the host hold far more than the guest
has): the guest gets an errno, the user one line, and the host keeps a bounded amount.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest

from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.errors import GuestError
from wasinn_nb.runtime import Limits

from .guests import (
    BUILDERS,
    CTX_OUT,
    DIMS,
    GRAPH_OUT,
    LOAD,
    MODEL,
    ONNX,
    PAGE,
    TENSOR,
    call,
    data,
    layout,
    module,
    printed,
    tensor_record,
    u32,
)

MiB = 1 << 20


def test_builders_covering_all_memory_are_refused_before_hashing(run, fake):
    pages = 256  # 16 MiB of guest memory
    whole = u32(*[v for _ in range(16) for v in (0, pages * PAGE)])
    guest = module(call("load", BUILDERS, 16, ONNX, 0, GRAPH_OUT), pages=pages,
                   segments=[data(BUILDERS, whole)])  # fmt: skip
    start = time.perf_counter()
    result = run(guest, limits=Limits(model_bytes=8 * MiB))
    assert printed(result.stdout).errnos == [NnErrno.TOO_LARGE]
    assert fake.loads == []  # never hashed, copied or handed to the backend
    assert "more than the 8M --max-model-bytes" in result.host_log[0]
    assert time.perf_counter() - start < 5


def _on_context(name: str, *args: int) -> str:
    """Call ``name`` on the context whose handle is at CTX_OUT; print the errno."""
    rest = "".join(f" (i32.const {a})" for a in args)
    return f"(call $show (call ${name} (i32.load (i32.const {CTX_OUT})){rest}))"


def _big_input(nbytes: int) -> list[str]:
    """A FAKE model and a tensor record for ``nbytes`` of f32 data at page 1."""
    count = nbytes // 4
    return [
        data(BUILDERS, u32(MODEL, 4)), data(MODEL, b"FAKE"),
        data(TENSOR, tensor_record(DIMS, 1, 1, PAGE, count * 4)), data(DIMS, u32(count)),
    ]  # fmt: skip


def test_inputs_held_across_contexts_are_bounded(run):
    body = [LOAD]
    for _ in range(6):
        body += [call("init_execution_context", 0, CTX_OUT), _on_context("set_input", 0, TENSOR)]
    guest = module(*body, segments=_big_input(4 * MiB), pages=66)
    result = run(guest, limits=Limits(tensor_bytes=10 * MiB))
    errnos = printed(result.stdout).errnos
    assert errnos[0] == 0
    assert errnos[1:] == [0, 0, 0, 0, 0, 7, 0, 7, 0, 7, 0, 7]  # two 4 MiB inputs fit in 10 MiB
    assert "--max-tensor-bytes" in result.host_log[0]
    assert sum(r.array.nbytes for r in result.input_records) <= 10 * MiB


def test_finalizing_a_context_frees_its_share(run):
    body = [LOAD]
    for _ in range(5):  # 5 x 3 MiB through a 4 MiB budget, finalizing each time
        body += [call("init_execution_context", 0, CTX_OUT), _on_context("set_input", 0, TENSOR),
                 _on_context("finalize_execution_context")]  # fmt: skip
    guest = module(*body, segments=_big_input(3 * MiB), pages=64)
    result = run(guest, limits=Limits(tensor_bytes=4 * MiB))
    assert printed(result.stdout).errnos == [0] * 16


def test_live_contexts_and_graphs_are_bounded(run):
    body = [LOAD] + [call("init_execution_context", 0, CTX_OUT)] * 4 + [LOAD] * 3
    result = run(module(*body, segments=layout()), limits=Limits(contexts=3, graphs=2))
    assert printed(result.stdout).errnos == [0, 0, 0, 0, 7, 0, 7, 7]


def test_nothing_is_recorded_unless_asked(run):
    guest = module(*[LOAD, call("init_execution_context", 0, CTX_OUT),
                     call("set_input", 0, 0, TENSOR)], segments=layout())  # fmt: skip
    assert run(guest, record=False).input_records == ()
    assert len(run(guest).input_records) == 1


def test_failed_call_lines_are_capped_with_a_count(run):
    loop = ("(block $end (loop $again (drop (call $compute (i32.const 99))) "
            "(br_if $again (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) "
            "(i32.const 500)))))")  # fmt: skip
    guest = module(loop).replace('(func (export "_start")', '(func (export "_start") (local i32)')
    err = io.StringIO()
    result = run(guest, stderr=err, limits=Limits(log_lines=10, call_records=50))
    assert len(result.host_log) == 11
    assert result.host_log[-1] == "490 more failed wasi-nn calls not shown"
    assert err.getvalue().count("[wasinn]") == 11
    assert len(result.calls) == 50
    assert result.ok


def test_stdout_streams_through_and_only_its_tail_is_kept(run):
    chunk = 64 * 1024
    writes = 64  # 4 MiB
    loop = (f"(i32.store (i32.const 0x20000) (i32.const 0x10000)) "
            f"(i32.store (i32.const 0x20004) (i32.const {chunk})) "
            "(block $end (loop $again "
            "(drop (call $fd_write (i32.const 1) (i32.const 0x20000) (i32.const 1) (i32.const 0x20008))) "  # noqa: E501
            "(br_if $again (i32.lt_u (local.tee 0 (i32.add (local.get 0) (i32.const 1))) "
            f"(i32.const {writes})))))")  # fmt: skip
    fill = data(0x10000, b"x" * 1024)
    guest = module(loop, segments=[fill], pages=4)
    guest = guest.replace('(func (export "_start")', '(func (export "_start") (local i32)')
    seen = []
    result = run(
        guest, stdout=lambda text: seen.append(len(text)), limits=Limits(captured_bytes=100_000)
    )
    assert sum(seen) == chunk * writes  # everything streamed through
    assert result.stdout.startswith(f"[wasinn: {chunk * writes - 100_000:,} earlier characters")
    assert len(result.stdout) < 100_100


def test_memory_grow_stops_at_max_memory(run):
    guest = module("(call $show (memory.grow (i32.const 100)))",
                   "(call $show (memory.grow (i32.const 10)))")  # fmt: skip
    result = run(guest, limits=Limits(memory=1 * MiB))  # 16 pages: 1 now, 10 more fit
    assert printed(result.stdout).errnos == [0xFFFFFFFF, 1]


def test_a_module_bigger_than_max_memory_is_one_line(run):
    with pytest.raises(GuestError, match=r"cannot instantiate the module: .*memory") as error:
        run(module(pages=64), limits=Limits(memory=1 * MiB))
    assert "\n" not in str(error.value)


def test_the_graph_cache_forgets_the_least_recently_used(runner, run, fake):
    for n in range(5):
        model = f"FAKE {n}".encode()
        guest = module(LOAD, segments=[data(BUILDERS, u32(MODEL, len(model))), data(MODEL, model)])
        run(guest)
    assert len(runner.graphs) == 5
    runner.graphs.max_graphs = 3
    run(module(LOAD, segments=[data(BUILDERS, u32(MODEL, 6)), data(MODEL, b"FAKE 9")]))
    assert len(runner.graphs) == 3
    assert runner.graphs.nbytes == 3 * 6
    runner.graphs.clear()
    assert len(runner.graphs) == 0


def test_limits_are_validated():
    with pytest.raises(Exception, match="at most 4G"):
        Limits(memory=5 << 30)
    with pytest.raises(Exception, match="positive whole number"):
        Limits(graphs=0)
    assert np.iinfo(np.uint32).max + 1 == 4 << 30  # wasm32's own bound, the ceiling above
