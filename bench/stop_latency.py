"""Benchmark: how long after its deadline (or Ctrl-C, or the kernel's interrupt) a guest stops.

Four guests that never finish on their own — a spinning wasm loop, a guest sleeping an hour in
``poll_oneoff``, and a backend ``compute`` of an ONNX ``Loop`` of 10^12 iterations on ONNX
Runtime and on OpenVINO — each stopped six ways:

* ``CLI --timeout 1``: ``python -m wasinn_nb run GUEST --timeout 1``; from the deadline to the
  process's exit. The deadline is taken as 1 s after the guest's first instruction (it writes a
  line to stderr); the run's clock started a few ms earlier (compile from the disk cache and
  instantiate), so this figure is low by those few ms.
* ``CLI SIGINT``: the same without ``--timeout``, SIGINT 1 s after that first line; from the
  signal to the process's exit.
* ``API timeout=1``: ``wasinn_nb.run(guest, timeout=1)`` in this process; from 1 s after the call
  to its return. ``API SIGINT``: no timeout, ``os.kill(own pid, SIGINT)`` from a timer thread
  1 s in; from the kill to ``KeyboardInterrupt`` caught.
* ``kernel --timeout 1``: a real IPython kernel (jupyter_client), ``%%wasinn --timeout 1`` with
  the WAT as the cell; from 1 s after the kernel's ``execute_input`` (its timestamp) to the
  ``execute_reply`` arriving here. ``kernel interrupt``: no timeout, ``interrupt_kernel()`` 1 s
  after ``execute_input``; from the interrupt to the reply. Then the kernel must answer ``1+1``.

OpenVINO cannot cancel a request inside a ``Loop``: the run returns after the 0.5 s grace and its
worker thread is abandoned, still computing. So every OpenVINO trial runs last, in its own
process (a child for the API, a fresh kernel per trial), which is killed afterwards.

Every guest's first instruction writes ``started`` to stderr; the sleeping guest and the
compute guests spin after their host call returns, as a guest going on after an errno would.
Below the table, ``after`` says what each trial left and where its time went: for the CLI, how
long the process took to exit after printing its ``wasinn:`` line; for the API, when the
``wasinn-guest`` worker thread ended (ms past the deadline or signal) and, for an OpenVINO child,
whether the process exited on its own; for the kernel, when it stamped its reply (kernel clock,
ms past the deadline or interrupt) and whether it answered ``1+1``. Lines a backend wrote to
stderr itself (not through wasinn) are counted as "raw". No timing assertions; the target is
<= 1000 ms. Run:  python bench/stop_latency.py [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEADLINE = 1.0  # seconds: the timeout, and when the signal or interrupt is sent
CAP = 15.0  # seconds past the deadline after which a run counts as "did not stop"
TARGET_MS = 1000.0

# ---- guests ----------------------------------------------------------------------------------

_IMPORTS = """
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context" (func $init (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input" (func $set_input (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0x4000) "started\\0a")
"""
# The first instruction of every guest: "started\n" to stderr, the marker the CLI waits for.
_STARTED = """
    (i32.store (i32.const 0x4010) (i32.const 0x4000))
    (i32.store (i32.const 0x4014) (i32.const 8))
    (drop (call $fd_write (i32.const 2) (i32.const 0x4010) (i32.const 1) (i32.const 0x4018)))
"""
_SPIN = "(loop $forever (br $forever))"
# poll_oneoff on one relative monotonic-clock subscription of an hour (48-byte subscription at
# 0x3100, event out at 0x3200, count out at 0x3300).
_SLEEP = """
    (i64.store (i32.const 0x3100) (i64.const 7))
    (i32.store8 (i32.const 0x3108) (i32.const 0))
    (i32.store (i32.const 0x3110) (i32.const 1))
    (i64.store (i32.const 0x3118) (i64.const 3600000000000))
    (i32.store16 (i32.const 0x3128) (i32.const 0))
    (drop (call $poll (i32.const 0x3100) (i32.const 0x3200) (i32.const 1) (i32.const 0x3300)))
"""
# load (builder array at 0x100 -> the model at 0x1000, ONNX, CPU), one context, one f32[1] input
# (tensor record at 0x300, dims at 0x340, data at 0x400), compute; then spin, as a guest would
# go on after an errno.
_COMPUTE = """
    (drop (call $load (i32.const 0x100) (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 0)))
    (drop (call $init (i32.const 0) (i32.const 4)))
    (drop (call $set_input (i32.const 0) (i32.const 0) (i32.const 0x300)))
    (drop (call $compute (i32.const 0)))
"""


def _hex(raw: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in raw)


def _u32(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "little") for v in values)


def loop_model(trips: int = 10**12) -> bytes:
    """An ONNX model: ``out = x + trips`` as a ``Loop`` adding 1 per iteration.

    The body's inputs have their own names: OpenVINO refuses a body whose input is named like
    the outer graph's input ("loop body graph canonical inputs size (2), does not match ...").
    """
    import onnx
    from onnx import TensorProto, helper

    body = helper.make_graph(
        [helper.make_node("Less", ["i", "limit"], ["more"]),
         helper.make_node("And", ["c", "more"], ["c2"]),
         helper.make_node("Add", ["xin", "one"], ["y"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("xin", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("c2", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
         helper.make_tensor("limit", TensorProto.INT64, [], [trips])],
    )  # fmt: skip
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "cond", "x"], ["out"], body=body)],
        "spin",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1])],
        [helper.make_tensor("trips", TensorProto.INT64, [], [trips]),
         helper.make_tensor("cond", TensorProto.BOOL, [], [True])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def guest(body: str, segments: tuple[str, ...] = ()) -> str:
    lines = ["(module", _IMPORTS, *(f"  {s}" for s in segments), '  (func (export "_start")']
    return "\n".join([*lines, _STARTED, body, "  ))"])


def compute_guest() -> str:
    model = loop_model()
    x = np.zeros(1, np.float32).tobytes()
    segments = (
        f'(data (i32.const 0x100) "{_hex(_u32(0x1000, len(model)))}")',
        f'(data (i32.const 0x1000) "{_hex(model)}")',
        f'(data (i32.const 0x300) "{_hex(_u32(0x340, 1, 1, 0x400, 4))}")',
        f'(data (i32.const 0x340) "{_hex(_u32(1))}")',
        f'(data (i32.const 0x400) "{_hex(x)}")',
    )
    return guest(_COMPUTE + _SPIN, segments)


@dataclass(frozen=True)
class Guest:
    label: str
    wat: str
    backend: str | None = None

    @property
    def options(self) -> list[str]:
        return ["--backend", self.backend] if self.backend else []


def guests() -> list[Guest]:
    loop = compute_guest()
    return [
        Guest("spinning wasm loop", guest(_SPIN)),
        Guest("poll_oneoff 1 h", guest(_SLEEP + _SPIN)),
        Guest("Loop 1e12 onnxruntime", loop, "onnxruntime"),
        Guest("Loop 1e12 openvino", loop, "openvino"),
    ]


# ---- one trial each way ----------------------------------------------------------------------


@dataclass
class Trial:
    latency: float | None  # seconds past the deadline/signal; None: did not stop within CAP
    outcome: str
    after: str = ""


def _summary(text: str, folder: Path) -> str:
    """The ``wasinn:`` line of a CLI's stderr, and a note of anything else it printed."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith("wasinn:")]
    summary = ours[-1].replace(f"{folder}/", "") if ours else "no wasinn: line"
    if "panicked" in text:
        summary += " [+ 'tokio-rt-worker panicked' at exit]"
    return summary + _raw_lines(text)


def _raw_lines(text: str) -> str:
    """A note of stderr lines that are neither the guest's nor wasinn's (a backend's own)."""
    ours = ("started", "[wasinn]", "wasinn:", "[IPKernelApp]")
    text = text.split("thread 'tokio-rt-worker'")[0]  # a panic's lines are noted apart
    count = sum(1 for line in text.splitlines() if line.strip() and not line.startswith(ours))
    return f" (+{count} raw stderr line{'s' * (count != 1)})" if count else ""


@contextlib.contextmanager
def raw_stderr(notes: list[str]) -> Iterator[None]:
    """Collect what is written to this process's fd 2 (a backend's own logging) meanwhile."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            notes.append(_raw_lines(capture.read().decode(errors="replace")))


def cli_trial(path: Path, item: Guest, *, interrupt: bool) -> Trial:
    """One CLI process: deadline (or SIGINT) 1 s after the guest's first line, until exit."""
    command = [sys.executable, "-m", "wasinn_nb", "run", str(path), *item.options]
    command += [] if interrupt else ["--timeout", f"{DEADLINE:g}"]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True,
    )  # fmt: skip
    started, lines, exited = threading.Event(), [], threading.Event()
    marks: dict[str, float] = {}

    def read() -> None:
        assert process.stderr is not None
        for raw in process.stderr:
            if b"started" in raw and not started.is_set():
                marks["started"] = time.perf_counter()
                started.set()
            if raw.startswith(b"wasinn:"):
                marks["said"] = time.perf_counter()
            lines.append(raw.decode(errors="replace"))

    def wait() -> None:
        process.wait()  # a blocking waitpid: returns the moment the process exits
        marks["exit"] = time.perf_counter()
        exited.set()

    reader = threading.Thread(target=read, daemon=True)
    waiter = threading.Thread(target=wait, daemon=True)
    reader.start()
    waiter.start()
    try:
        if not started.wait(60):
            return Trial(None, "never started: " + _summary("".join(lines), path.parent))
        reference = marks["started"] + DEADLINE
        time.sleep(max(0.0, reference - time.perf_counter()))
        if interrupt:
            reference = time.perf_counter()
            process.send_signal(signal.SIGINT)
        if not exited.wait(reference + CAP - time.perf_counter()):
            return Trial(None, f"still running {CAP:g} s later (killed)")
        reader.join(5)
        outcome = f"exit {process.returncode}: {_summary(''.join(lines), path.parent)}"
        said = marks.get("said")
        after = f"exit {(marks['exit'] - said) * 1e3:.0f} ms after its wasinn: line" if said else ""
        return Trial(marks["exit"] - reference, outcome, after)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        waiter.join(5)


def _guest_threads() -> int:
    return sum(t.name == "wasinn-guest" for t in threading.enumerate())


def _thread_end(reference: float, before: int, wait: float = 3.0) -> str:
    """When this run's ``wasinn-guest`` thread ended, in ms past ``reference``."""
    limit = time.perf_counter() + wait
    while _guest_threads() > before and time.perf_counter() < limit:
        time.sleep(0.002)
    if _guest_threads() > before:
        return f"guest thread still running {wait:g} s later"
    return f"guest thread ended {(time.perf_counter() - reference) * 1e3:+.0f} ms"


def api_trial(item: Guest, *, interrupt: bool) -> Trial:
    """``wasinn_nb.run`` in this process, stopped by its timeout or by SIGINT to itself."""
    notes: list[str] = []
    with raw_stderr(notes):
        trial = _api_trial(item, interrupt=interrupt)
    trial.outcome += notes[0]
    return trial


def _api_trial(item: Guest, *, interrupt: bool) -> Trial:
    import wasinn_nb

    options: dict[str, Any] = {"backend": item.backend} if item.backend else {}
    before = _guest_threads()
    if not interrupt:
        start = time.perf_counter()
        result = wasinn_nb.run(item.wat, timeout=DEADLINE, **options)
        end = time.perf_counter()
        reference = start + DEADLINE
        outcome = f"error={result.error!r} exit={result.exit_code}"
        return Trial(end - reference, outcome, _thread_end(reference, before))
    sent: list[float] = []

    def kill() -> None:
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(DEADLINE, kill)
    timer.start()
    try:
        result = wasinn_nb.run(item.wat, **options)
    except KeyboardInterrupt:
        end = time.perf_counter()
        return Trial(end - sent[0], "KeyboardInterrupt", _thread_end(sent[0], before))
    timer.cancel()
    return Trial(None, f"returned without the signal: error={result.error!r}")


def api_child_trial(path: Path, item: Guest, *, interrupt: bool) -> Trial:
    """:func:`api_trial` in a child process (for OpenVINO), killed afterwards."""
    command = [sys.executable, __file__, "--child", "interrupt" if interrupt else "timeout",
               str(path), item.backend or ""]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, start_new_session=True)  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            process.wait(5)
            return Trial(None, f"child printed nothing (exit {process.returncode})")
        trial = Trial(**json.loads(line))
        try:
            process.wait(5)
            trial.after += f"; child exited on its own ({process.returncode})"
        except subprocess.TimeoutExpired:
            trial.after += "; child still alive 5 s later (killed)"
        return trial
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def child_main(mode: str, path: str, backend: str) -> None:
    item = Guest("child", Path(path).read_text(), backend or None)
    trial = api_trial(item, interrupt=mode == "interrupt")
    print(json.dumps(vars(trial)), flush=True)


# ---- the kernel ------------------------------------------------------------------------------


def _timestamp(value: Any) -> float:
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return float(value.timestamp())


class Kernel:
    """A real IPython kernel with ``%load_ext wasinn_nb``."""

    def __init__(self) -> None:
        from jupyter_client import KernelManager

        self.stderr = tempfile.TemporaryFile()  # noqa: SIM115 - the kernel's fd 2, until close()
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(stderr=self.stderr)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        reply = self.client.execute_interactive("%load_ext wasinn_nb", timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        self.stderr.close()

    def _new_stderr(self, since: int) -> str:
        self.stderr.seek(since)
        return _raw_lines(self.stderr.read().decode(errors="replace"))

    def _message(self, get: Callable[..., Any], msg_id: str, until: float, kind: str) -> Any:
        while True:
            message = get(timeout=max(0.01, until - time.time()))
            if (message["parent_header"].get("msg_id") == msg_id
                    and message["msg_type"] == kind):  # fmt: skip
                return message

    def trial(self, item: Guest, *, interrupt: bool) -> Trial:
        """One cell, stopped by ``--timeout`` or the interrupt; then ``1+1``."""
        options = " ".join(item.options + ([] if interrupt else ["--timeout", f"{DEADLINE:g}"]))
        since = self.stderr.seek(0, os.SEEK_END)
        msg_id = self.client.execute(f"%%wasinn {options}\n{item.wat}")
        until = time.time() + 60
        began = self._message(self.client.get_iopub_msg, msg_id, until, "execute_input")
        reference = _timestamp(began["header"]["date"]) + DEADLINE
        time.sleep(max(0.0, reference - time.time()))
        if interrupt:
            reference = time.time()
            self.manager.interrupt_kernel()
        try:
            reply = self._message(
                self.client.get_shell_msg, msg_id, reference + CAP, "execute_reply"
            )
        except Exception:  # queue.Empty: no reply within CAP
            return Trial(None, f"no reply {CAP:g} s later", self.answers())
        latency = time.time() - reference
        stamped = (_timestamp(reply["header"]["date"]) - reference) * 1e3
        content = reply["content"]
        outcome = f"{content['status']}: {content.get('ename', '')} {content.get('evalue', '')}"
        answers = f"reply stamped {stamped:+.0f} ms; {self.answers()}"
        return Trial(latency, outcome.strip()[:70] + self._new_stderr(since), answers)

    def answers(self) -> str:
        """Whether the kernel still computes ``1+1`` (within 10 s).

        ipykernel aborts execute requests that arrive just after a cell failed (its
        stop-on-error), so an ``aborted`` reply is tried again, up to twice, and noted.
        """
        results: list[str] = []

        def hook(message: dict[str, Any]) -> None:
            if message["msg_type"] == "execute_result":
                results.append(message["content"]["data"].get("text/plain", ""))

        aborted = 0
        for _ in range(3):
            try:
                reply = self.client.execute_interactive("1+1", timeout=10, output_hook=hook)
            except Exception as error:  # TimeoutError
                return f"kernel answers: no ({type(error).__name__})"
            if reply["content"]["status"] != "aborted":
                break
            aborted += 1
            time.sleep(0.2)
        note = f" (after {aborted} aborted)" if aborted else ""
        if reply["content"]["status"] == "ok" and results == ["2"]:
            return f"kernel answers: yes{note}"
        content = reply["content"]
        return f"kernel answers: no ({content['status']} {content.get('ename', '')} {results})"


def fresh_kernel_trial(item: Guest, *, interrupt: bool) -> Trial:
    kernel = Kernel()
    try:
        return kernel.trial(item, interrupt=interrupt)
    finally:
        kernel.close()


# ---- the table -------------------------------------------------------------------------------


HEADER = (f"{'guest':<22} {'way':<19} {'n':>2} {'median ms':>9} {'max ms':>8} {'<=1s':<5}"
          f"{'kernel answers after':<21} each trial (ms past the deadline or signal)")  # fmt: skip


def row(item: Guest, way: str, trials: list[Trial]) -> tuple[str, str]:
    """The table row, and a line of what each trial returned and left."""
    stopped = [t.latency * 1e3 for t in trials if t.latency is not None]
    if len(stopped) == len(trials):
        median, worst = f"{statistics.median(stopped):9.1f}", f"{max(stopped):8.1f}"
        within = "yes" if max(stopped) <= TARGET_MS else "NO"
    else:
        median, worst, within = f"{'-':>9}", f"{'-':>8}", "NO"
    answers = "-"
    if way.startswith("kernel"):
        answers = "yes" if all("kernel answers: yes" in t.after for t in trials) else "no"
    each = " ".join(f"{t.latency * 1e3:.1f}" if t.latency is not None else "none" for t in trials)
    table = (f"{item.label:<22} {way:<19} {len(trials):>2} {median} {worst} {within:<5}"
             f"{answers:<21} {each}")  # fmt: skip
    outcomes = " | ".join(sorted({t.outcome for t in trials}))
    afters = " | ".join(t.after for t in trials if t.after)
    return table, f"{item.label}, {way}: {outcomes}" + (f"\n    after: {afters}" if afters else "")


TrialFunction = Callable[[Guest, bool], Trial]
WAYS = {"CLI": ("CLI --timeout 1", "CLI SIGINT"), "API": ("API timeout=1", "API SIGINT"),
        "kernel": ("kernel --timeout 1", "kernel interrupt")}  # fmt: skip


def measure(items: list[Guest], folder: Path, repeat: int) -> None:
    print(HEADER)
    details: list[str] = []
    paths = {item.label: folder / f"guest{n}.wat" for n, item in enumerate(items)}
    for item in items:
        paths[item.label].write_text(item.wat)
        cli_trial(paths[item.label], item, interrupt=False)  # warm the module cache; not measured

    import wasinn_nb

    # the shared runner (engine, caches) is made by the first run: not inside a measured one
    assert wasinn_nb.run('(module (memory (export "memory") 1) (func (export "_start")))').ok

    def cli(item: Guest, interrupt: bool) -> Trial:
        return cli_trial(paths[item.label], item, interrupt=interrupt)

    def api_child(item: Guest, interrupt: bool) -> Trial:
        return api_child_trial(paths[item.label], item, interrupt=interrupt)

    kernel = Kernel()
    try:
        shared: dict[str, TrialFunction] = {
            "CLI": cli,
            "API": lambda item, interrupt: api_trial(item, interrupt=interrupt),
            "kernel": lambda item, interrupt: kernel.trial(item, interrupt=interrupt),
        }
        # OpenVINO leaves a thread computing until its process dies: a process per trial
        isolated: dict[str, TrialFunction] = {
            "CLI": cli,
            "API": api_child,
            "kernel": lambda item, interrupt: fresh_kernel_trial(item, interrupt=interrupt),
        }
        for item in items:  # the OpenVINO guest comes last
            ways = isolated if item.backend == "openvino" else shared
            for name, trial in ways.items():
                for way, interrupt in zip(WAYS[name], (False, True), strict=True):
                    trials = [trial(item, interrupt) for _ in range(repeat)]
                    table, detail = row(item, way, trials)
                    print(table, flush=True)
                    details.append(detail)
    finally:
        kernel.close()
    print("\nwhat each returned (outcomes) and what was left after it:")
    print("\n".join(details))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("MODE", "WAT", "BACKEND"),
                        help=argparse.SUPPRESS)  # fmt: skip
    args = parser.parse_args()
    if args.child:
        child_main(*args.child)
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="wasinn-bench-stop-") as tmp:
        measure(guests(), Path(tmp), args.repeat)
    print(f"target: stop <= {TARGET_MS:.0f} ms after the deadline; bench took "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
