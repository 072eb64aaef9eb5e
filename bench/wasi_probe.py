"""Where road-seg's WASI file I/O time goes: a WAT probe doing only that I/O.

The probe reads the three files road-seg reads (the IR xml 401,509 B and weights 737,192 B, the
input tensor 5,505,024 B) into linear memory with ``fd_read`` and writes 7,340,032 B (the output
tensor) with ``fd_write`` to a new file, as road-seg does, and nothing else. It runs:

* under wasinn (``Runner.run``, a fresh store and instance each time, module cached),
  with its 16 MiB memory declared up front, or grown from 1 page at start (``memory.grow``),
  as a Rust guest's ``Vec`` grows it;
* under the wasmtime CLI, as a whole process, minus the same process running an empty module;
* natively: numpy reading the same files and writing the same bytes.

``python -m bench --only wasi`` runs it; the guest's other time (its own ``Vec`` growth,
zeroing and copies) is road-seg's ``guest own`` minus the probe.
"""

from __future__ import annotations

import subprocess
import time

import numpy as np

from bench.harness import Report, interleave
from bench.workdir import ROAD_FILES, ROAD_INPUT, Work

OUT_BYTES = 7_340_032
PAGES = 256  # 16 MiB: files at 64 KiB, 1 MiB, 2 MiB; the output at 8 MiB


def probe_wat(grow: bool) -> str:
    """The probe module's text (``grow``: declare 1 page and grow to 16 MiB at start)."""
    names = [*ROAD_FILES, ROAD_INPUT, "probe-output.tensor"]
    data, offset, spots = [], 256, []
    for name in names:
        data.append(f'(data (i32.const {offset}) "{name}")')
        spots.append((offset, len(name)))
        offset += len(name) + 8
    reads = "".join(
        f"(call $slurp (i32.const {ptr}) (i32.const {length}) (i32.const {at}))"
        for (ptr, length), at in zip(spots[:3], (65536, 1 << 20, 2 << 20), strict=True)
    )
    out_ptr, out_len = spots[3]
    start = f"(drop (memory.grow (i32.const {PAGES - 1})))" if grow else ""
    return f"""(module
  (import "wasi_snapshot_preview1" "path_open" (func $open
    (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
  (memory (export "memory") {1 if grow else PAGES})
  {" ".join(data)}
  (func $check (param i32) (if (local.get 0) (then unreachable)))
  (func $slurp (param $path i32) (param $len i32) (param $at i32) (local $fd i32)
    (call $check (call $open (i32.const 3) (i32.const 0) (local.get $path) (local.get $len)
      (i32.const 0) (i64.const 0x1fffffff) (i64.const 0x1fffffff) (i32.const 0) (i32.const 12)))
    (local.set $fd (i32.load (i32.const 12)))
    (loop $more
      (i32.store (i32.const 0) (local.get $at))
      (i32.store (i32.const 4) (i32.const 8388608))
      (call $check (call $read (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $at (i32.add (local.get $at) (i32.load (i32.const 8))))
      (br_if $more (i32.load (i32.const 8))))
    (call $check (call $close (local.get $fd))))
  (func (export "_start") (local $fd i32) (local $at i32) (local $left i32)
    {start}
    {reads}
    (call $check (call $open (i32.const 3) (i32.const 0) (i32.const {out_ptr})
      (i32.const {out_len}) (i32.const 9) (i64.const 0x1fffffff) (i64.const 0x1fffffff)
      (i32.const 0) (i32.const 12)))
    (local.set $fd (i32.load (i32.const 12)))
    (local.set $at (i32.const 8388608))
    (local.set $left (i32.const {OUT_BYTES}))
    (loop $more
      (i32.store (i32.const 0) (local.get $at))
      (i32.store (i32.const 4) (local.get $left))
      (call $check (call $write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
      (local.set $at (i32.add (local.get $at) (i32.load (i32.const 8))))
      (local.set $left (i32.sub (local.get $left) (i32.load (i32.const 8))))
      (br_if $more (local.get $left)))
    (call $check (call $close (local.get $fd)))))
"""


EMPTY = '(module (memory (export "memory") 1) (func (export "_start")))'


def scenario(work: Work, report: Report, repeat: int) -> None:
    from wasmtime import wat2wasm

    from wasinn_nb.runtime import Runner

    folder = work.road
    runner = Runner(cache_dir=None)
    s = "wasi road-seg's file I/O alone (WAT probe)"
    probes = {grow: probe_wat(grow) for grow in (False, True)}

    def under_wasinn(grow: bool) -> None:
        result = runner.run(probes[grow], dirs=[f"{folder}::."], record=False)
        if not result.ok:
            raise RuntimeError(f"probe failed: {result.error} {result.stderr}")

    def native() -> None:
        for name in (*ROAD_FILES, ROAD_INPUT):
            np.fromfile(folder / name, np.uint8)
        np.zeros(OUT_BYTES, np.uint8).tofile(folder / "probe-native.tensor")

    cases = {"native numpy": native, "wasinn, 16 MiB memory": lambda: under_wasinn(False),
             "wasinn, memory grown at start": lambda: under_wasinn(True)}  # fmt: skip
    if work.wasmtime is not None and work.wasmtime_env is not None:
        wasm = {"probe": wat2wasm(probes[False]), "empty": wat2wasm(EMPTY)}
        paths = {}
        for name, data in wasm.items():
            paths[name] = folder / f"probe-{name}.wasm"
            paths[name].write_bytes(data)
        cli, env = work.wasmtime, work.wasmtime_env

        def process(name: str) -> None:
            subprocess.run([str(cli), "run", "--dir", ".", str(paths[name])], cwd=folder,
                           env=env, check=True)  # fmt: skip

        cases["wasmtime CLI process, probe"] = lambda: process("probe")
        cases["wasmtime CLI process, empty module"] = lambda: process("empty")
    else:
        report.skipped["wasi wasmtime CLI"] = work.wasmtime_missing
    times = interleave(cases, repeat)
    report.add(s, "native numpy", times["native numpy"])
    for name in ("wasinn, 16 MiB memory", "wasinn, memory grown at start"):
        report.add(s, name, times[name], "native numpy")
    if "wasmtime CLI process, probe" in times:
        empty = np.median(times["wasmtime CLI process, empty module"])
        report.add(
            s, "wasmtime CLI process, empty module", times["wasmtime CLI process, empty module"]
        )
        probe = [t - empty for t in times["wasmtime CLI process, probe"]]
        report.add(s, "wasmtime CLI, probe - empty process", probe, "native numpy")
    produced = (folder / "probe-output.tensor").stat().st_size
    report.notes.append(
        f"wasi probe wrote {produced:,} bytes; runs interleaved at {time.strftime('%H:%M')}"
    )
    runner.close()
