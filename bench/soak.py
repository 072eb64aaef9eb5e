"""Benchmark: the same guest run 200 times in one process; does anything grow?

Each soak runs in a fresh child process (``wasinn_nb.run``, the shared runner a notebook uses,
``record=True``); after runs 1, 10, 50, 100 and 200 it prints the process's RSS and its peak
(``/proc/self/status`` VmRSS, VmHWM), open fds (``/proc/self/fd``), threads
(``threading.active_count()`` and the kernel's count, ``Threads``), the ``wasinn-guest`` worker
threads still alive (after up to 1 s for them to end; and the most seen right after a run in
the window) and the median run time of the window. ``dRSS`` is the change since run 10.

Soaks:

* ``road-seg``: guests/road-seg.wasm with the road-segmentation model from the fixture mirror
  (OpenVINO), as bench/host_overhead.py runs it;
* ``onnx wat``: a tiny WAT guest: load an ONNX Identity model, set_input, compute, get_output
  (ONNX Runtime);
* ``spin stopped``: a spinning guest stopped by ``timeout=0.05``;
* ``loop cancelled``: an ONNX ``Loop`` of 10^12 iterations on ONNX Runtime, cancelled by
  ``timeout=0.1``.

Run:  python bench/soak.py [--runs N] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared/fixtures"))
ROAD = FIXTURES / "openvino-road-segmentation-adas"
XML, BIN = "road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin"
INPUT = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
CHECKPOINTS = (1, 10, 50, 100, 200)
SOAKS = ("road-seg", "onnx wat", "spin stopped", "loop cancelled")

_NN = """(module
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "init_execution_context" (func $init (param i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "set_input" (func $set_input (param i32 i32 i32) (result i32)))
  (import "wasi_ephemeral_nn" "compute" (func $compute (param i32) (result i32)))
  (import "wasi_ephemeral_nn" "get_output"
    (func $get_output (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  {segments}
  (func (export "_start")
    {body}))
"""
# load (builders at 0x100 -> model at 0x1000), context at 4, f32 input record at 0x300 (dims at
# 0x340, data at 0x400); output into 0x800, its size at 8. Any errno: unreachable (a trap).
_STEPS = (
    "(call $load (i32.const 0x100) (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 0))",
    "(call $init (i32.const 0) (i32.const 4))",
    "(call $set_input (i32.load (i32.const 4)) (i32.const 0) (i32.const 0x300))",
    "(call $compute (i32.load (i32.const 4)))",
    "(call $get_output (i32.load (i32.const 4)) (i32.const 0) (i32.const 0x800) (i32.const 256) "
    "(i32.const 8))",
)


def _hex(raw: bytes) -> str:
    return "".join(f"\\{b:02x}" for b in raw)


def _u32(*values: int) -> bytes:
    return b"".join(v.to_bytes(4, "little") for v in values)


def _onnx(loop_trips: int | None) -> bytes:
    """An ONNX model on ``x: float[4]``: Identity, or a Loop adding 1 ``loop_trips`` times."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    if loop_trips is None:
        graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "id", [x], [y])
    else:
        body = helper.make_graph(
            [helper.make_node("Identity", ["c"], ["c2"]),
             helper.make_node("Add", ["xin", "one"], ["out"])],
            "body",
            [helper.make_tensor_value_info("i", TensorProto.INT64, []),
             helper.make_tensor_value_info("c", TensorProto.BOOL, []),
             helper.make_tensor_value_info("xin", TensorProto.FLOAT, [4])],
            [helper.make_tensor_value_info("c2", TensorProto.BOOL, []),
             helper.make_tensor_value_info("out", TensorProto.FLOAT, [4])],
            [helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])],
        )  # fmt: skip
        graph = helper.make_graph(
            [helper.make_node("Loop", ["trips", "cond", "x"], ["y"], body=body)], "loop", [x], [y],
            [helper.make_tensor("trips", TensorProto.INT64, [], [loop_trips]),
             helper.make_tensor("cond", TensorProto.BOOL, [], [True])],
        )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


def nn_guest(model: bytes) -> str:
    x = np.array([1.5, -2.0, 7.25, 0.0], np.float32).tobytes()
    segments = [
        (0x100, _u32(0x1000, len(model))), (0x1000, model),
        (0x300, _u32(0x340, 1, 1, 0x400, len(x))), (0x340, _u32(4)), (0x400, x),
    ]  # fmt: skip
    data = "\n  ".join(f'(data (i32.const {a}) "{_hex(raw)}")' for a, raw in segments)
    body = "\n    ".join(f"(if {step} (then unreachable))" for step in _STEPS)
    return _NN.format(segments=data, body=body)


SPIN = '(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))'


# ---- one soak, in this (child) process ----------------------------------------------------------


def _status() -> dict[str, str]:
    lines = Path("/proc/self/status").read_text().splitlines()
    return {key: value.strip() for key, _, value in (line.partition(":") for line in lines)}


def _kib(value: str) -> float:
    return int(value.split()[0]) / 1024


def _guest_threads() -> int:
    return sum(t.name == "wasinn-guest" for t in threading.enumerate())


def _settled_guest_threads(wait: float = 1.0) -> int:
    limit = time.monotonic() + wait
    while _guest_threads() and time.monotonic() < limit:
        time.sleep(0.005)
    return _guest_threads()


def _road_seg(folder: Path) -> Callable[[], Any]:
    import wasinn_nb

    for name in (XML, BIN):
        shutil.copy(ROAD / name, folder / name)
    tensor = wasinn_nb.image_to_tensor(ROAD / "empty_road_mapillary.jpg",
                                       wasinn_nb.TensorSpec(512, 896))  # fmt: skip
    wasinn_nb.save_tensor(tensor, folder / INPUT)
    module = REPO / "guests/road-seg.wasm"
    return lambda: wasinn_nb.run(module, [XML, BIN, INPUT], dirs=[f"{folder}::."])


def soaks(folder: Path) -> dict[str, Callable[[], Callable[[], Any]]]:
    """Each soak: a function making the run to repeat (so only the chosen one is set up)."""
    import wasinn_nb

    def guest(model: Callable[[], bytes], timeout: float | None) -> Callable[[], Any]:
        wat = nn_guest(model())  # made once, before the first (timed) run
        return lambda: wasinn_nb.run(wat, timeout=timeout)

    return {
        "road-seg": lambda: _road_seg(folder),
        "onnx wat": lambda: guest(lambda: _onnx(None), None),
        "spin stopped": lambda: lambda: wasinn_nb.run(SPIN, timeout=0.05),
        "loop cancelled": lambda: guest(lambda: _onnx(10**12), 0.1),
    }


def _expected(name: str, result: Any) -> bool:
    if name in ("road-seg", "onnx wat"):
        return bool(result.ok)
    return str(result.error).startswith("timed out")


def soak(name: str, runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="wasinn-bench-soak-") as tmp:
        run = soaks(Path(tmp))[name]()
        times: list[float] = []
        most = 0
        failures = 0
        for n in range(1, runs + 1):
            start = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - start)
            most = max(most, _guest_threads())
            failures += not _expected(name, result)
            if n in CHECKPOINTS or n == runs:
                left = _settled_guest_threads()
                status = _status()
                fds = sum(1 for _ in Path("/proc/self/fd").iterdir())  # counts its own listing fd
                print(f"{n:>5} {_kib(status['VmRSS']):9.1f} {_kib(status['VmHWM']):9.1f} "
                      f"{fds:>4} {threading.active_count():>7} {status['Threads']:>7} "
                      f"{left:>6} {most:>7} {statistics.median(times) * 1e3:9.1f} "
                      f"{failures:>5}", flush=True)  # fmt: skip
                times, most = [], 0
        names = sorted(t.name for t in threading.enumerate())
        print(f"      python threads at the end: {', '.join(names)}", flush=True)


# ---- the parent ----------------------------------------------------------------------------------

HEADER = (f"{'runs':>5} {'RSS MiB':>9} {'peak MiB':>9} {'fds':>4} {'threads':>7} "
          f"{'/proc':>7} {'guest':>6} {'guest*':>7} {'median ms':>9} {'fails':>5}  "
          "dRSS since run 10")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--only", choices=SOAKS)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        soak(args.child, args.runs)
        return
    print("guest: wasinn-guest threads alive after up to 1 s; guest*: the most seen right after "
          "a run since the last row; fails: runs that did not end as expected")  # fmt: skip
    for name in [args.only] if args.only else SOAKS:
        print(f"\n{name} ({args.runs} runs, fresh process)\n{HEADER}", flush=True)
        command = [sys.executable, __file__, "--child", name, "--runs", str(args.runs)]
        with tempfile.TemporaryFile() as err:
            _follow(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err, text=True))
            err.seek(0)
            lines = err.read().decode(errors="replace").splitlines()
        if lines:
            first = lines[0][:150]
            print(f"      the child wrote {len(lines)} lines to stderr; the first: {first}")


def _follow(process: subprocess.Popen[str]) -> None:
    """Print the child's rows as they come, each with its RSS change since run 10."""
    assert process.stdout is not None
    at_ten: float | None = None
    for line in process.stdout:
        fields = line.split()
        if fields and fields[0].isdigit():
            rss = float(fields[1])
            at_ten = rss if fields[0] == "10" else at_ten
            delta = f"  {rss - at_ten:+.1f}" if at_ten is not None else ""
            print(line.rstrip() + delta, flush=True)
        else:
            print(line.rstrip(), flush=True)
    process.wait()
    if process.returncode:
        print(f"      the child exited with status {process.returncode}")


if __name__ == "__main__":
    main()
