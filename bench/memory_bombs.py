"""Benchmark: the host's peak memory when a guest with 1 GiB of its own asks for far more.

Each bomb runs in a fresh process, through the CLI (``python -m wasinn_nb run bomb.wat``,
stdout to /dev/null, nothing recorded) and through the API as a notebook would
(``wasinn_nb.run(bomb, record=True)`` in a ``python -c`` child); the child's peak RSS is
``ru_maxrss`` from ``os.wait4`` on it. Every guest first fills its whole memory (``memory.fill``,
so each page is resident), then throws its bomb:

* ``baseline``: nothing more (the guest's own 1 GiB plus the host: what any such run costs);
* ``16 builders``: ``load`` with 16 builders each covering the whole memory (16 GiB);
* ``1 builder``: one builder of the whole memory (1 GiB, at the default --max-model-bytes);
* ``set_input``: 20 contexts of an ONNX Identity model, each ``set_input`` of a 256 MiB tensor;
* ``stdout``: 1 GiB written to stdout: in one ``fd_write``, in 1 MiB writes, and in one
  ``fd_write`` of bytes that are not UTF-8 (each decodes to U+FFFD, two bytes in a str).

Printed: peak RSS, the baseline's, RSS / (1.5 x guest memory + 300 MiB) (the target is <= 1.0),
what the guest got (errnos as it saw them; bytes fd_write reported) and its exit, seconds.
A child passing --cap (default 6 GiB) RSS is killed. Run:  python bench/memory_bombs.py
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MiB, GiB = 1 << 20, 1 << 30
PAGE = 0x10000
DATA = 0x10000  # the filled region starts here; records and scratch live below it
ERRNO_NAMES = {0: "success", 1: "invalid_argument", 5: "runtime_error", 7: "too_large"}
WASI_ERRNO_NAMES = {0: "success", 8: "badf", 28: "inval", 29: "io", 48: "nomem"}

_PRELUDE = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context" (func $init (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input" (func $set_input (param i32 i32 i32) (result i32)))
  (memory (export "memory") {pages})
  (data (i32.const 0xF000) "0123456789abcdef")
  ;; "v:<8 hex digits>\\n" to stderr: a value as the guest saw it
  (func $show (param $v i32) (local $i i32)
    (i32.store16 (i32.const 0xF020) (i32.const 0x3A76))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 8)))
      (i32.store8 offset=0xF022 (local.get $i) (i32.load8_u offset=0xF000 (i32.and
        (i32.shr_u (local.get $v) (i32.sub (i32.const 28) (i32.shl (local.get $i) (i32.const 2))))
        (i32.const 15))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i32.store8 (i32.const 0xF02A) (i32.const 10))
    (i32.store (i32.const 0xF010) (i32.const 0xF020))
    (i32.store (i32.const 0xF014) (i32.const 11))
    (drop (call $fd_write (i32.const 2) (i32.const 0xF010) (i32.const 1) (i32.const 0xF018))))
"""


def _hex(raw: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in raw)


def _u32(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "little") for v in values)


def _data(address: int, raw: bytes) -> str:
    return f'(data (i32.const {address}) "{_hex(raw)}")'


def identity_model() -> bytes:
    """An ONNX model ``y = Identity(x)`` with ``x: float[N]`` (any length)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


@dataclass(frozen=True)
class Bomb:
    name: str
    body: tuple[str, ...]
    segments: tuple[str, ...] = ()
    fill: int = 0x78  # "x"
    locals_: str = ""

    def wat(self, memory: int) -> str:
        size = memory - DATA
        fill = f"(memory.fill (i32.const {DATA}) (i32.const {self.fill}) (i32.const {size}))"
        lines = [_PRELUDE.format(pages=memory // PAGE), *(f"  {s}" for s in self.segments)]
        lines.append(f'  (func (export "_start") {self.locals_}')
        lines += [f"    {fill}", *(f"    {b}" for b in self.body), "  ))"]
        return "\n".join(lines)


def _load(builders: int) -> str:
    return (f"(call $show (call $load (i32.const 0x100) (i32.const {builders}) (i32.const 1) "
            "(i32.const 0) (i32.const 0)))")  # fmt: skip


def _stdout(chunk: int, writes: int, start: int) -> tuple[str, ...]:
    """``writes`` fd_writes of ``chunk`` bytes at ``start``; show the last errno, bytes total."""
    return (
        f"(i32.store (i32.const 0x20) (i32.const {start}))",
        f"(i32.store (i32.const 0x24) (i32.const {chunk}))",
        "(block $end (loop $again",
        "  (local.set $e (call $fd_write (i32.const 1) (i32.const 0x20) (i32.const 1) "
        "(i32.const 0x28)))",
        "  (local.set $total (i32.add (local.get $total) (i32.load (i32.const 0x28))))",
        "  (br_if $end (local.get $e))",
        "  (local.set $n (i32.add (local.get $n) (i32.const 1)))",
        f"  (br_if $again (i32.lt_u (local.get $n) (i32.const {writes})))))",
        "(call $show (local.get $e))",
        "(call $show (local.get $total))",
    )


def bombs(memory: int, tensor: int, contexts: int) -> list[Bomb]:
    whole = _u32(0, memory)
    model = identity_model()
    count = tensor // 4
    set_inputs = [_load(1)]
    context = "(i32.load (i32.const 4))"
    for _ in range(contexts):
        set_inputs += [
            "(call $show (call $init (i32.const 0) (i32.const 4)))",
            f"(call $show (call $set_input {context} (i32.const 0) (i32.const 0x300)))",
        ]
    tensor_data = (
        _data(0x100, _u32(0x1000, len(model))), _data(0x1000, model),
        _data(0x300, _u32(0x340, 1, 1, DATA, count * 4)), _data(0x340, _u32(count)),
    )  # fmt: skip
    stdout_locals = "(local $e i32) (local $total i32) (local $n i32)"
    span = memory - DATA
    return [
        Bomb("baseline (fill, exit)", ()),
        Bomb("16 builders x memory", (_load(16),), (_data(0x100, whole * 16),)),
        Bomb("1 builder x memory", (_load(1),), (_data(0x100, whole),)),
        Bomb(f"set_input {contexts} x {tensor // MiB} MiB", tuple(set_inputs), tensor_data),
        Bomb("stdout 1 x 1 GiB", _stdout(span, 1, DATA), locals_=stdout_locals),
        Bomb("stdout 1024 x 1 MiB", _stdout(MiB, 1024, DATA), locals_=stdout_locals),
        Bomb("stdout 1024x1MiB not UTF-8", _stdout(MiB, 1024, DATA), (), 0xFF, stdout_locals),
    ]


# ---- one child -------------------------------------------------------------------------------

_PYTHON = (sys.executable, "-X", "faulthandler")  # a crash prints where it happened
_API = """
import sys, wasinn_nb
result = wasinn_nb.run(sys.argv[1], record=True)
sys.stderr.write(result.stderr)
kept = sum(r.array.nbytes for r in (*result.input_records, *result.output_records))
sys.stderr.write(f"wasinn: exit={result.exit_code} error={result.error} kept={kept}\\n")
sys.exit(result.exit_code or 0)
"""


@dataclass
class Outcome:
    peak: int  # bytes
    seconds: float
    code: int  # exit status (negative: killed by that signal)
    killed: str
    stderr: str


def run_child(command: list[str], cap: int, limit: float) -> Outcome:
    """Run ``command`` with stdout to /dev/null; its peak RSS from ``wait4``; kill past ``cap``."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err,
                                   start_new_session=True)  # fmt: skip
        killed: list[str] = []

        def watch() -> None:
            status = Path(f"/proc/{process.pid}/status")
            while process.returncode is None:
                try:
                    fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
                except (OSError, ValueError):
                    return
                rss = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
                slow = time.perf_counter() - start > limit
                over = "RSS > cap" if rss > cap else "too slow" if slow else ""
                if over:
                    killed.append(f"killed: {over} ({rss / MiB:,.0f} MiB)")
                    os.killpg(process.pid, signal.SIGKILL)
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        watcher.join(1)
        err.seek(0)
        text = err.read().decode(errors="replace")
    reason = killed[0] if killed else ""
    return Outcome(usage.ru_maxrss * 1024, seconds, process.returncode, reason, text)


def describe(bomb: Bomb, outcome: Outcome) -> str:
    """What the guest got: its errnos (or bytes written), the exit, the host's first line."""
    lines = outcome.stderr.splitlines()
    values = [int(line[2:10], 16) for line in lines if line.startswith("v:") and len(line) >= 10]
    if bomb.name.startswith("stdout") and len(values) == 2:
        name = WASI_ERRNO_NAMES.get(values[0], "?")
        got = f"fd_write errno {values[0]} ({name}), {values[1]:,} bytes written"
    elif bomb.name.startswith("set_input") and values:
        got = f"load {_errnos(values[:1])}; init {_errnos(values[1::2])}; "
        got += f"set_input {_errnos(values[2::2])}"
    elif values:
        got = f"load {_errnos(values)}"
    else:
        got = "no values"
    host = [line for line in lines if line.startswith("[wasinn]")]
    result = [line for line in lines if line.startswith("wasinn:")]
    tail = f"; {result[-1][8:]}" if result else ""
    first = f"; {len(host)} [wasinn] lines, first: {host[0][9:][:110]}" if host else ""
    return f"{got}; exit {outcome.code}{_crash(outcome)}{tail}{first}"


def _errnos(values: list[int]) -> str:
    counts = collections.Counter(values)
    return " ".join(f"{n}x{v} ({ERRNO_NAMES.get(v, '?')})" for v, n in counts.items())


def _crash(outcome: Outcome) -> str:
    """For a child killed by a signal: which, and the first line of what it printed about it."""
    if outcome.code >= 0:
        return ""
    notes = [line.strip() for line in outcome.stderr.splitlines()
             if "panicked" in line or "Fatal Python error" in line]  # fmt: skip
    return f" ({signal.Signals(-outcome.code).name}: {notes[0] if notes else 'nothing printed'})"


def measure(memory: int, tensor: int, contexts: int, cap: int, limit: float) -> None:
    budget = 1.5 * memory + 300 * MiB
    print(f"guest memory {memory / MiB:,.0f} MiB; budget 1.5 x guest + 300 MiB = "
          f"{budget / MiB:,.0f} MiB; RSS in MiB (ru_maxrss of the child)")  # fmt: skip
    print(f"{'bomb':<26} {'via':<4} {'guest MiB':>9} {'peak RSS':>9} {'baseline':>9} "
          f"{'RSS-base':>9} {'RSS/budget':>10} {'seconds':>8}  guest got / exit")  # fmt: skip
    drivers: dict[str, Callable[[Path], list[str]]] = {
        "CLI": lambda path: [*_PYTHON, "-m", "wasinn_nb", "run", str(path)],
        "API": lambda path: [*_PYTHON, "-c", _API, str(path)],
    }
    crashes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wasinn-bench-bombs-") as tmp:
        baseline: dict[str, int] = {}
        for n, bomb in enumerate(bombs(memory, tensor, contexts)):
            path = Path(tmp) / f"bomb{n}.wat"
            path.write_text(bomb.wat(memory))
            for via, command in drivers.items():
                outcome = run_child(command(path), cap, limit)
                baseline.setdefault(via, outcome.peak)
                base = baseline[via]
                got = outcome.killed or describe(bomb, outcome)
                print(f"{bomb.name:<26} {via:<4} {memory / MiB:9,.0f} {outcome.peak / MiB:9,.1f} "
                      f"{base / MiB:9,.1f} {(outcome.peak - base) / MiB:+9,.1f} "
                      f"{outcome.peak / budget:10.3f} {outcome.seconds:8.2f}  {got}",
                      flush=True)  # fmt: skip
                if outcome.code < 0 and not outcome.killed:
                    text = [line for line in outcome.stderr.splitlines() if line[:2] != "v:"]
                    crashes.append(f"{bomb.name}, {via}, exit {outcome.code}:")
                    crashes += [f"    {line}" for line in text[:40]]
    if crashes:
        print("\nchildren killed by a signal (stderr without the guest's v: lines):")
        print("\n".join(crashes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-mib", type=int, default=1024, help="guest memory (MiB)")
    parser.add_argument("--tensor-mib", type=int, default=256, help="set_input tensor (MiB)")
    parser.add_argument("--contexts", type=int, default=20)
    parser.add_argument("--cap-gib", type=float, default=6.0, help="kill a child past this RSS")
    parser.add_argument("--limit", type=float, default=120.0, help="kill a child after (s)")
    args = parser.parse_args()
    measure(args.memory_mib * MiB, args.tensor_mib * MiB, args.contexts,
            int(args.cap_gib * GiB), args.limit)  # fmt: skip


if __name__ == "__main__":
    main()
