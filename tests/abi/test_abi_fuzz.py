"""Random sequences of every wasi-nn call, with random arguments, against real backends.

Each hypothesis example instantiates the forwarding guest of :mod:`.driver` once, through the
real host, on ONNX Runtime or OpenVINO with the tiny identity model (f32 1x4 in, the same out),
then makes a few dozen calls. Arguments mix handles the guest was given (live and dead), small
numbers, pointers at and near the structures placed in memory, near the end of memory, near
2**31 and 2**32, and huge lengths; between calls the guest pokes bytes into those structures,
restores them, grows its memory or traps on purpose. The properties, checked after every call:

* the forwarder returns (only the guest's own ``unreachable`` traps), and the errno is a known
  :class:`NnErrno`;
* no Python exception escapes a host method: every failure is a project error (a log line
  without ``(internal …)``);
* the host writes guest memory only where the call says (the handle out pointer, the output
  buffer and its length) and only when it succeeds (or reports the size it needed);
* the handle tables change exactly as the call says (a new, never reused handle written to the
  guest; an unknown handle gives ``invalid_argument``); the identity model hands back the
  bytes the guest set;

and after each example, finalizing and unloading every handle the guest got leaves the tables
empty. Across all examples, the host's resident memory stays bounded.

The quick mode runs in CI (deterministic, a few seconds). ``WASINN_FUZZ=slow`` runs the slow
mode, at least 10,000 calls::

    WASINN_FUZZ=slow .venv/bin/python -m pytest tests/abi/test_abi_fuzz.py -m slow -s
"""

from __future__ import annotations

import functools
import gc
import os
import struct
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from _paths import ONNX_FIXTURES

from wasinn_nb.abi import Limits
from wasinn_nb.abi.host import MAX_BUILDERS
from wasinn_nb.abi.wasi_nn import FUNCTIONS, NnErrno
from wasinn_nb.backends import BackendChoice
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.runtime import Runner
from wasinn_nb.runtime.graphs import GraphCache
from wasinn_nb.runtime.preload import Preload

from .driver import (
    BUILDERS2,
    CONFIG,
    CONFIG_DEEP,
    CONFIGS,
    DEEP_LEN,
    FORWARDER,
    INPUT,
    MASK,
    NAMES,
    POINTERS,
    PRELOADED,
    TENSOR_I32,
    TENSOR_SCALAR,
    Session,
    place_fixtures,
)
from .guests import (
    AUTO,
    BUILDERS,
    CPU,
    CTX_OUT,
    DATA,
    DIMS,
    F32,
    GPU,
    GRAPH_OUT,
    NAME,
    ONNX,
    OPENVINO,
    OUTBUF,
    TENSOR,
    TPU,
    WRITTEN_OUT,
    tensor_record,
)

pytest.importorskip("hypothesis")
pytest.importorskip("onnxruntime")
from hypothesis import HealthCheck, configuration, given, settings
from hypothesis import strategies as st

# No example database, and hypothesis's other caches go to a temp folder, not the checkout.
configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "wasinn-hypothesis")

MODEL_PATH = ONNX_FIXTURES / "identity_input_output.onnx"
SLOW = os.environ.get("WASINN_FUZZ") == "slow"
MiB = 1 << 20

#: Each function's arguments, by kind (each kind has its own strategy below).
SIGNATURES: dict[str, tuple[str, ...]] = {
    "load": ("builders", "count", "encoding", "target", "out"),
    "load_by_name": ("name", "name_len", "out"),
    "load_by_name_with_config": ("name", "name_len", "config", "config_len", "out"),
    "init_execution_context": ("graph", "out"),
    "set_input": ("context", "index", "tensor"),
    "compute": ("context",),
    "get_output": ("context", "index", "buffer", "size", "written"),
    "compute_single": ("context",),
    "get_output_single": ("context", "index", "buffer", "size", "written"),
    "fini_single": ("context",),
    "unload": ("graph",),
    "finalize_execution_context": ("context",),
}
LOADS = ("load", "load_by_name", "load_by_name_with_config")
OUTPUTS = ("get_output", "get_output_single")
# The happy path's calls come up more often, so that random sequences get deep.
CHOICES = (
    "load", "init_execution_context", "set_input", "compute", "get_output", "load",
    "init_execution_context", "set_input", "compute", "get_output", "load_by_name",
    "load_by_name_with_config", "compute_single", "get_output_single", "fini_single",
    "unload", "finalize_execution_context",
)  # fmt: skip
STEPS = ("call",) * 16 + ("poke", "restore", "grow", "trap")

#: Values worth trying for each argument kind (besides the generic ones and handles).
GOOD = {
    "builders": st.sampled_from([BUILDERS, BUILDERS2]),
    "count": st.sampled_from([1, 1, 2, 0, MAX_BUILDERS, MAX_BUILDERS + 1]),
    "encoding": st.sampled_from([ONNX, ONNX, ONNX, OPENVINO, 2, 3, 4, 5, 6, 7, 0x100 + ONNX]),
    "target": st.sampled_from([CPU, CPU, CPU, GPU, TPU, AUTO, 4, 0x100 + CPU]),
    "out": st.sampled_from([GRAPH_OUT, CTX_OUT, WRITTEN_OUT, OUTBUF + 8]),
    "name": st.sampled_from(list(NAMES)),
    "config": st.sampled_from(list(CONFIGS)),
    "index": st.sampled_from([0, 0, 0, 1, MASK]),
    "tensor": st.sampled_from([TENSOR, TENSOR, TENSOR, TENSOR_I32, TENSOR_SCALAR]),
    "buffer": st.sampled_from([OUTBUF, OUTBUF, OUTBUF + 1, DATA]),
    "size": st.sampled_from([256, 16, 15, 0, 4]),
    "written": st.sampled_from([WRITTEN_OUT, WRITTEN_OUT, OUTBUF + 8]),  # the latter: in the buffer
}
#: What a correct guest passes (besides handles and lengths).
RIGHT = {"builders": BUILDERS, "count": 1, "encoding": ONNX, "target": CPU, "name": NAME,
         "config": CONFIG, "index": 0, "tensor": TENSOR, "buffer": OUTBUF, "size": 256,
         "written": WRITTEN_OUT}  # fmt: skip
#: What a pointer/length argument's good value is sized by (the previous argument's target).
SIZED_BY = {"name_len": NAMES, "config_len": CONFIGS}


@functools.cache
def generic(size: int) -> st.SearchStrategy[int]:
    """Any u32, biased to edges: small, at the fixtures, at the end of memory, near 2**31/2**32."""
    near = st.tuples(st.sampled_from(POINTERS), st.integers(-8, 8)).map(sum)
    return st.one_of(
        st.integers(0, 16),
        st.sampled_from(POINTERS),
        near,
        st.integers(0, 64).map(lambda k: size - k),
        st.integers(1, 64).map(lambda k: (1 << 32) - k),
        st.integers(-8, 8).map(lambda k: (1 << 31) + k),
        st.sampled_from([size, size + 1, 1 << 30, (1 << 31) - 1, 1 << 31, MASK]),
        st.integers(0, MASK),
    ).map(lambda v: v & MASK)


@dataclass
class Stats:
    """What the fuzzing did, for the report and the ≥ 10,000 check."""

    examples: int = 0
    calls: int = 0
    teardown_calls: int = 0
    steps: Counter[str] = field(default_factory=Counter)
    errnos: Counter[str] = field(default_factory=Counter)
    successes: Counter[str] = field(default_factory=Counter)
    rss: list[int] = field(default_factory=list)


@dataclass
class State:
    """One example's guest, and what the guest should know about its handles."""

    session: Session
    model: bytes
    stats: Stats
    live_graphs: set[int] = field(default_factory=set)
    live_contexts: set[int] = field(default_factory=set)
    seen_graphs: set[int] = field(default_factory=set)
    seen_contexts: set[int] = field(default_factory=set)
    pending: dict[int, bytes | None] = field(default_factory=dict)  # input 0 set, per context
    computed: dict[int, bytes | None] = field(default_factory=dict)  # input 0 at last compute
    failed_calls: int = 0


def draw_handle(draw: st.DrawFn, live: set[int], seen: set[int], size: int) -> int:
    """Mostly a live handle, else a dead one, a small number or any u32."""
    pick = draw(st.integers(0, 9))
    if live and pick < 6:
        return draw(st.sampled_from(sorted(live)))
    if seen and pick < 7:
        return draw(st.sampled_from(sorted(seen)))
    return draw(st.integers(0, 4) if pick < 8 else generic(size))


@st.composite
def steps(draw: st.DrawFn, state: State) -> tuple[object, ...]:
    """One step: ``("call", name, args)``, ``("poke", address, bytes)``, restore, grow, trap."""
    size = state.session.size
    kind = draw(st.sampled_from(STEPS))
    if kind == "poke":
        raw = draw(st.one_of(st.binary(min_size=1, max_size=8),
                             generic(size).map(lambda v: struct.pack("<I", v))))  # fmt: skip
        near = st.tuples(st.sampled_from(POINTERS), st.integers(0, 24)).map(sum)
        address = draw(st.one_of(near, st.integers(0, size - len(raw))))
        return ("poke", min(address, size - len(raw)), raw)
    if kind == "grow":
        return ("grow", draw(st.sampled_from([0, 1, 2, 16, 0xFFFF, MASK])))
    if kind in ("restore", "trap"):
        return (kind,)
    name = next_call(state) if draw(st.booleans()) else draw(st.sampled_from(CHOICES))
    kinds = SIGNATURES[name]
    # Mostly the right arguments, or one of them wrong (so that sequences get deep), else any.
    mode = draw(st.integers(0, 9))
    wrong = draw(st.integers(0, len(kinds) - 1)) if 4 <= mode < 8 else None
    args: list[int] = []
    for at, arg in enumerate(kinds):
        if mode < 8 and at != wrong:
            value = right(draw, state, arg, args)
        elif arg == "graph":
            value = draw_handle(draw, state.live_graphs, state.seen_graphs, size)
        elif arg == "context":
            value = draw_handle(draw, state.live_contexts, state.seen_contexts, size)
        elif arg in SIZED_BY and args[-1] in SIZED_BY[arg] and draw(st.booleans()):
            value = len(SIZED_BY[arg][args[-1]]) + draw(st.sampled_from([0, 0, 0, -1, 1]))
        elif arg in GOOD and draw(st.booleans()):
            value = draw(GOOD[arg])
        else:
            value = draw(generic(size))
        args.append(value & MASK)
    return ("call", name, tuple(args))


def next_call(state: State) -> str:
    """The call a correct guest would make next, to get further along the happy path."""
    if not state.live_graphs:
        return "load"
    if not state.live_contexts:
        return "init_execution_context"
    if not any(state.pending.get(c) for c in state.live_contexts):
        return "set_input"
    if not any(state.computed.get(c) for c in state.live_contexts):
        return "compute"
    return "get_output"


def right(draw: st.DrawFn, state: State, arg: str, args: list[int]) -> int:
    """The value a correct guest would pass (a live handle, the fixture, its length)."""
    if arg in ("graph", "context"):
        live = state.live_graphs if arg == "graph" else state.live_contexts
        return draw(st.sampled_from(sorted(live))) if live else 0
    if arg in SIZED_BY:
        return len(SIZED_BY[arg].get(args[-1], b""))
    if arg == "out":
        return GRAPH_OUT
    return RIGHT[arg]


def run_step(state: State, step: tuple[object, ...]) -> None:
    session, stats = state.session, state.stats
    stats.steps[str(step[0])] += 1
    if step[0] == "poke":
        session.write(int(step[1]), bytes(step[2]))  # type: ignore[call-overload]
    elif step[0] == "restore":
        place_fixtures(session, state.model)
    elif step[0] == "grow":
        old = session.size // 0x10000
        result = session.grow(int(step[1]))  # type: ignore[call-overload]
        assert result in (-1, old), result
    elif step[0] == "trap":
        from wasmtime import Trap

        with pytest.raises(Trap, match="unreachable"):
            session.trap()
    else:
        name, args = str(step[1]), tuple(step[2])  # type: ignore[arg-type]
        check_call(state, name, args)


def check_call(state: State, name: str, args: tuple[int, ...]) -> None:
    """Make one wasi-nn call and check every per-call property."""
    from wasmtime import Trap, WasmtimeError

    session, host, stats = state.session, state.session.host, state.stats
    graphs, contexts = set(host._graph_table), set(host._context_table)
    assert graphs == state.live_graphs and contexts == state.live_contexts
    before = session.view().copy()
    logged = len(host.log)
    input_data = session.tensor_data(args[2]) if name == "set_input" else None
    try:
        errno = session.call(name, *args)
    except (Trap, WasmtimeError) as error:
        pytest.fail(f"{name}{args} trapped: {error}")
    stats.calls += 1
    assert errno in set(NnErrno), f"{name}{args} returned {errno}"
    stats.errnos[f"{name} {NnErrno(errno).name.lower()}"] += 1
    state.failed_calls += errno != NnErrno.SUCCESS
    internal = [line for line in host.log[logged:] if "(internal " in line]
    assert not internal, f"{name}{args}: a Python exception escaped: {internal}"
    limits = host.limits
    assert host._held_input_bytes() <= limits.tensor_bytes, "inputs held past the limit"
    assert host.recorded_bytes <= limits.tensor_bytes and len(host.calls) <= limits.call_records
    kw = dict(zip(SIGNATURES[name], args, strict=True))
    check_writes(session, name, kw, errno, before)
    if check_tables(state, name, kw, errno, graphs, contexts):
        stats.successes[name] += 1
        check_data(state, name, kw, input_data)


def check_writes(
    session: Session, name: str, kw: dict[str, int], errno: int, before: np.ndarray
) -> None:
    """Guest memory changed only where this call may write: out pointers, the output buffer."""
    allowed: list[tuple[int, int]] = []
    if errno == NnErrno.SUCCESS and (name in LOADS or name == "init_execution_context"):
        allowed.append((kw["out"], kw["out"] + 4))
    if name in OUTPUTS and errno in (NnErrno.SUCCESS, NnErrno.TOO_LARGE):
        written = session.read_u32(kw["written"])
        assert written is not None, "the host wrote outside memory?"
        allowed.append((kw["written"], kw["written"] + 4))
        if errno == NnErrno.SUCCESS:
            assert written <= kw["size"]
            allowed.append((kw["buffer"], kw["buffer"] + written))
        else:
            assert written > kw["size"], "too_large, but the needed size fits"
    after = session.view()
    changed = np.flatnonzero(before[: after.size] != after[: before.size])
    ok = np.zeros(changed.size, bool)
    for low, high in allowed:
        ok |= (changed >= low) & (changed < high)
    assert ok.all(), f"{name}{kw} -> {errno} wrote guest memory at {changed[~ok][:8]}"


def check_tables(
    state: State, name: str, kw: dict[str, int], errno: int, graphs: set[int], contexts: set[int]
) -> bool:
    """The handle tables changed exactly as the call says; return whether it succeeded."""
    host = state.session.host
    now_graphs, now_contexts = set(host._graph_table), set(host._context_table)
    kind = next((k for k in ("graph", "context") if k in kw), None)
    live = state.live_graphs if kind == "graph" else state.live_contexts
    if kind is not None and kw[kind] not in live:
        assert errno == NnErrno.INVALID_ARGUMENT, f"{name}{kw} on an unknown handle -> {errno}"
    if errno != NnErrno.SUCCESS:
        assert (now_graphs, now_contexts) == (graphs, contexts), f"{name}{kw} failed: tables"
        if name == "compute" and kw["context"] in live:
            state.computed[kw["context"]] = None  # a failed compute leaves outputs unknown
        return False
    if name in LOADS or name == "init_execution_context":
        table, old, seen, other = (
            (now_graphs, graphs, state.seen_graphs, now_contexts == contexts) if name in LOADS
            else (now_contexts, contexts, state.seen_contexts, now_graphs == graphs)
        )  # fmt: skip
        new = table - old
        assert len(new) == 1 and table - new == old and other, f"{name}{kw}: tables"
        (fresh,) = new
        assert state.session.read_u32(kw["out"]) == fresh, "the guest was not given the handle"
        assert fresh not in seen, f"handle {fresh} reused"
        seen.add(fresh)
        (state.live_graphs if name in LOADS else state.live_contexts).add(fresh)
        assert len(table) <= (host.limits.graphs if name in LOADS else host.limits.contexts)
    elif name == "unload":
        assert now_graphs == graphs - {kw["graph"]} and now_contexts == contexts
        state.live_graphs.discard(kw["graph"])
    elif name == "finalize_execution_context":
        assert now_contexts == contexts - {kw["context"]} and now_graphs == graphs
        state.live_contexts.discard(kw["context"])
    else:
        assert (now_graphs, now_contexts) == (graphs, contexts)
    return True


def check_data(state: State, name: str, kw: dict[str, int], input_data: bytes | None) -> None:
    """After a successful call: the identity model gives back what was set and computed."""
    assert name not in ("compute_single", "fini_single"), f"{name} succeeded without an LLM"
    if name == "set_input":
        assert kw["index"] == 0, "the identity model has one input"
        state.pending[kw["context"]] = input_data
    elif name == "compute":
        assert kw["context"] in state.pending, "compute succeeded with the input never set"
        state.computed[kw["context"]] = state.pending[kw["context"]]
    elif name in OUTPUTS:
        assert kw["index"] == 0, "the identity model has one output"
        assert state.session.read_u32(kw["written"]) == INPUT.nbytes
        expected = state.computed.get(kw["context"])
        if expected is None:  # the last compute failed: the backend may keep older outputs
            return
        buffer, written = kw["buffer"], kw["written"]
        got = bytearray(state.session.read(buffer, INPUT.nbytes) or b"")
        for at in range(max(buffer, written), min(buffer + INPUT.nbytes, written + 4)):
            got[at - buffer] = expected[at - buffer]  # bytes_written was stored over the buffer
        assert bytes(got) == expected, f"identity output {bytes(got)!r}, input {expected!r}"


def teardown(state: State) -> None:
    """Finalize and unload every handle the guest was given; nothing may be left."""
    session, host = state.session, state.session.host
    for name, seen, live in (
        ("finalize_execution_context", state.seen_contexts, state.live_contexts),
        ("unload", state.seen_graphs, state.live_graphs),
    ):
        for handle_ in sorted(seen):
            errno = session.call(name, handle_)
            state.stats.teardown_calls += 1
            state.failed_calls += errno != 0
            assert errno == (NnErrno.SUCCESS if handle_ in live else NnErrno.INVALID_ARGUMENT)
    assert host._graph_table == {} and host._context_table == {}, "leaked handles"
    assert host.failures == state.failed_calls, "a failed call was not counted"


def _rss() -> int:
    gc.collect()
    status = Path("/proc/self/status").read_text()
    kib = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(kib) << 10


@pytest.fixture(scope="module")
def fuzz_runner() -> Iterator[Runner]:
    """One runner for the module: its engine, module cache and graph cache (the graphs stay
    compiled across examples, as across a notebook's runs)."""
    if not MODEL_PATH.is_file():
        pytest.skip(f"fixture mirror not found at {MODEL_PATH} (set WASINN_MIRROR)")
    with Runner(cache_dir=None, graphs=GraphCache()) as runner:
        yield runner


def _backends() -> list[str | None]:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return [None]
    return [None, "openvino"]


LIMITS = [
    Limits(log_lines=1_000_000),
    Limits(graphs=3, contexts=3, tensor_bytes=40, log_lines=1_000_000),  # 2 inputs fit
]


def fuzz(
    runner: Runner, *, examples: int, calls: tuple[int, int], batches: int, derandomize: bool
) -> Stats:
    """Run ``batches`` hypothesis runs of ``examples`` sequences of ``calls`` (min, max) steps.

    RSS is read after the warm-up and after each run: hypothesis keeps what it needs about a
    run's examples until the run ends, so between runs is where the host's own memory shows.
    """
    model = MODEL_PATH.read_bytes()
    stats = Stats()
    warm(runner)
    stats.rss.append(_rss())

    @settings(max_examples=examples, deadline=None, database=None, derandomize=derandomize,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(st.data())
    def example(data: st.DataObject) -> None:
        backend = data.draw(st.sampled_from(_backends()), label="backend")
        limits = data.draw(st.sampled_from(LIMITS), label="limits")
        record = data.draw(st.booleans(), label="record")
        session = _session(runner, backend, limits=limits, record=record)
        state = State(session, model, stats)
        for i in range(data.draw(st.integers(*calls), label="steps")):
            run_step(state, data.draw(steps(state), label=f"step {i}"))
        teardown(state)
        stats.examples += 1

    for _ in range(batches):
        example()
        stats.rss.append(_rss())
    return stats


def _session(
    runner: Runner, backend: str | None, *, limits: Limits = LIMITS[0], record: bool = True
) -> Session:
    """A forwarder instance with the fixtures placed, on ``backend``, the model preloaded."""
    module, _ = runner.compile(FORWARDER)  # cached after the first time
    preload = Preload(PRELOADED.decode(), GraphEncoding.ONNX, ExecutionTarget.CPU, (MODEL_PATH,))
    models = runner.graphs.for_run([preload], BackendChoice(backend))
    session = Session(runner.engine, module, models, limits, record=record)
    place_fixtures(session, MODEL_PATH.read_bytes())
    return session


def warm(runner: Runner) -> None:
    """Load every encoding on every backend once, so the RSS baseline has the engines in it."""
    for backend in _backends():
        session = _session(runner, backend)
        for encoding in range(8):
            for target in (CPU, AUTO):
                session.call("load", BUILDERS, 1, encoding, target, GRAPH_OUT)
        assert session.call("load_by_name", NAME, len(PRELOADED), GRAPH_OUT) == 0
        handle_ = session.read_u32(GRAPH_OUT)
        assert session.call("init_execution_context", handle_, CTX_OUT) == 0
        context = session.read_u32(CTX_OUT)
        assert session.call("set_input", context, 0, TENSOR) == 0
        assert session.call("compute", context) == 0
        assert session.call("get_output", context, 0, OUTBUF, 256, WRITTEN_OUT) == 0


def report(stats: Stats, seconds: float) -> str:
    rss = " -> ".join(f"{r / MiB:.0f}" for r in stats.rss)
    top = ", ".join(f"{k} {v}" for k, v in stats.successes.most_common())
    return (f"fuzz: {stats.examples} examples, {stats.calls} calls (+{stats.teardown_calls} "
            f"teardown) in {seconds:.1f} s; steps {dict(stats.steps)}; successes: {top}; "
            f"{len(stats.errnos)} distinct (call, errno); RSS MiB {rss}")  # fmt: skip


def _assert_bounded(stats: Stats, slack: int) -> None:
    growth = max(stats.rss) - stats.rss[0]
    assert growth <= slack, f"host RSS grew {growth / MiB:.0f} MiB"


def test_every_wasi_nn_function_is_fuzzed():
    assert {name: len(kinds) for name, kinds in SIGNATURES.items()} == FUNCTIONS
    assert set(CHOICES) == set(FUNCTIONS)


@pytest.mark.onnxruntime
def test_random_wasi_nn_call_sequences(fuzz_runner):
    """Quick mode (CI): 30 deterministic examples of 10 to 40 steps."""
    start = time.perf_counter()
    stats = fuzz(fuzz_runner, examples=30, calls=(10, 40), batches=1, derandomize=True)
    print(report(stats, time.perf_counter() - start))
    assert stats.examples >= 30 and stats.calls >= 500
    named = stats.successes["load_by_name"] + stats.successes["load_by_name_with_config"]
    assert stats.successes["get_output"] > 0 and named > 0
    _assert_bounded(stats, 64 * MiB)


@pytest.mark.slow
@pytest.mark.onnxruntime
@pytest.mark.skipif(not SLOW, reason="set WASINN_FUZZ=slow for 10,000+ fuzzed calls")
def test_random_wasi_nn_call_sequences_slow(fuzz_runner):
    """Slow mode: 5 random runs of 100 examples of 25 to 60 steps, at least 10,000 calls."""
    start = time.perf_counter()
    stats = fuzz(fuzz_runner, examples=100, calls=(25, 60), batches=5, derandomize=False)
    print(report(stats, time.perf_counter() - start))
    for key, count in sorted(stats.errnos.items()):
        print(f"  {key}: {count}")
    assert stats.calls >= 10_000
    _assert_bounded(stats, 64 * MiB)
    first, last = stats.rss[1], stats.rss[-1]
    assert last - first <= 32 * MiB, f"RSS grew {(last - first) / MiB:.0f} MiB after the first run"


# ---- what the fuzzing found ----------------------------------------------------------------


def test_a_deeply_nested_config_gets_an_errno_not_an_internal_error(fuzz_runner):
    """20,000 "[" as load_by_name_with_config's JSON: json's RecursionError escaped (42b9054)."""
    session = _session(fuzz_runner, None)
    errno = session.call("load_by_name_with_config", NAME, len(PRELOADED), CONFIG_DEEP, DEEP_LEN,
                         GRAPH_OUT)  # fmt: skip
    assert errno == NnErrno.INVALID_ARGUMENT
    assert not [line for line in session.host.log if "(internal " in line], session.host.log


@pytest.mark.openvino
def test_openvino_refuses_compute_before_set_input(fuzz_runner):
    """OpenVINO computed on memory nobody wrote; get_output gave the guest host heap (42b9054)."""
    pytest.importorskip("openvino")
    session = _session(fuzz_runner, "openvino")
    assert session.call("load", BUILDERS, 1, ONNX, CPU, GRAPH_OUT) == NnErrno.SUCCESS
    assert session.call("init_execution_context", 0, CTX_OUT) == NnErrno.SUCCESS
    assert session.call("compute", 0) == NnErrno.INVALID_ARGUMENT


@pytest.mark.openvino
def test_openvino_context_keeps_its_input_when_not_recording(fuzz_runner):
    """Once context 0's input was freed (6a5bf12 fixed it), context 1's copy took its memory."""
    pytest.importorskip("openvino")
    session = _session(fuzz_runner, "openvino", record=False)  # as `wasinn run` outside Jupyter
    other = np.full(4, 9.0, np.float32)
    session.write(OUTBUF + 0x100, tensor_record(DIMS, 2, F32, OUTBUF + 0x140, other.nbytes))
    session.write(OUTBUF + 0x140, other.tobytes())
    assert session.call("load", BUILDERS, 1, ONNX, CPU, GRAPH_OUT) == NnErrno.SUCCESS
    for _ in range(2):  # contexts 0 and 1
        assert session.call("init_execution_context", 0, CTX_OUT) == NnErrno.SUCCESS
    # Empty numpy's cache of small data blocks, so that a freed 16-byte block is the next one
    # handed out (as it is in a fresh process): the test does not depend on what ran before.
    taken = [np.empty(4, np.float32) for _ in range(64)]
    assert session.call("set_input", 0, 0, TENSOR) == NnErrno.SUCCESS
    assert session.call("set_input", 1, 0, OUTBUF + 0x100) == NnErrno.SUCCESS
    assert session.call("compute", 0) == NnErrno.SUCCESS
    assert session.call("get_output", 0, 0, OUTBUF, 256, WRITTEN_OUT) == NnErrno.SUCCESS
    assert session.read(OUTBUF, 16) == INPUT.tobytes()
    del taken
