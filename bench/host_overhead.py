"""Benchmark: the road-seg wasm guest on wasinn's host vs calling OpenVINO directly.

Same tensor, same compiled model settings (f32), same run; the two paths are interleaved so
machine noise hits both alike. Prints min/median per path and the overhead ratios:

* guest run vs the bare ``infer`` call (model already compiled, tensor already in memory);
* guest run vs a native script doing the guest's whole job (read the tensor file, infer, write
  the output file).

Then cold vs cached guest start: compiling the module, loading it from the disk cache, and from
the in-memory cache. Run:  python bench/host_overhead.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import openvino as ov

from wasinn_nb import TensorSpec, image_to_tensor, load_tensor, save_tensor
from wasinn_nb.runtime import Runner

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared/fixtures"))
ROAD = FIXTURES / "openvino-road-segmentation-adas"
XML, BIN = "road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin"
INPUT = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
OUTPUT = "wasinn-openvino-inference-output-1x4x512x896xf32.tensor"


def stats(times: list[float]) -> str:
    return f"min {min(times):7.2f} ms   median {statistics.median(times):7.2f} ms"


def once(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1e3


def prepare(folder: Path) -> None:
    for name in (XML, BIN):
        shutil.copy(ROAD / name, folder / name)
    tensor = image_to_tensor(ROAD / "empty_road_mapillary.jpg", TensorSpec(512, 896))
    save_tensor(tensor, folder / INPUT)


def steady_state(folder: Path, repeat: int) -> None:
    compiled = ov.Core().compile_model(
        str(folder / XML), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    request = compiled.create_infer_request()
    tensor = load_tensor(folder / INPUT)

    def bare() -> None:
        request.infer({0: tensor})
        np.array(request.get_output_tensor(0).data)

    def native_job() -> None:
        data = np.fromfile(folder / INPUT, dtype="<f4").reshape(1, 3, 512, 896)
        request.infer({0: data})
        request.get_output_tensor(0).data.tofile(folder / "native-output.tensor")

    runner = Runner(cache_dir=None)
    args = [XML, BIN, INPUT]

    split: list[tuple[float, float]] = []

    def guest() -> None:
        result = runner.run(
            REPO / "guests/road-seg.wasm", args, dirs=[f"{folder}::."], record=False
        )
        assert result.ok, result.stderr
        timings, calls = result.timings, sum(c.seconds for c in result.calls)
        host = calls - timings["compute"] + timings["instantiate"]
        own = timings["total"] - calls - timings["compile"] - timings["instantiate"]
        split.append((host * 1e3, own * 1e3))

    for work in (bare, native_job, guest):  # warm-up: compile, caches, page faults
        work()
    times: dict[str, list[float]] = {"direct infer": [], "native job": [], "wasm guest": []}
    for _ in range(repeat):
        for name, work in zip(times, (bare, native_job, guest), strict=True):
            times[name].append(once(work))
    for name, values in times.items():
        print(f"{name:<14} {stats(values)}")
    guest_times = times["wasm guest"]
    for base in ("direct infer", "native job"):
        med = statistics.median(guest_times) / statistics.median(times[base]) - 1
        low = min(guest_times) / min(times[base]) - 1
        print(f"overhead vs {base:<12} {med:+6.1%} (median)  {low:+6.1%} (min)")
    host_ms = statistics.median(h for h, _ in split)
    own_ms = statistics.median(o for _, o in split)
    infer_ms = statistics.median(times["direct infer"])
    print(
        f"inside a guest run: host ABI work (instantiate + wasi-nn calls but compute) "
        f"{host_ms:.1f} ms = {host_ms / infer_ms:+.1%} of inference; the guest's own file I/O "
        f"and memory {own_ms:.1f} ms"
    )
    expected = np.fromfile(folder / "native-output.tensor", dtype="<f4")
    produced = np.fromfile(folder / OUTPUT, dtype="<f4")
    print(f"guest output equals direct output: max |diff| {np.abs(expected - produced).max():.2g}")


def start_up(folder: Path) -> None:
    cache = Path(tempfile.mkdtemp(prefix="wasinn-bench-cache-"))
    module = REPO / "guests/road-seg.wasm"
    cold = Runner(cache_dir=cache)
    compile_ms = once(lambda: cold.compile(module))
    disk_ms = once(lambda: Runner(cache_dir=cache).compile(module))
    memory_ms = once(lambda: cold.compile(module))
    print(
        f"module start: compile {compile_ms:.1f} ms, disk cache {disk_ms:.2f} ms, memory cache "
        f"{memory_ms:.3f} ms ({compile_ms / disk_ms:.0f}x faster from disk)"
    )
    runner = Runner(cache_dir=cache)
    args = [XML, BIN, INPUT]
    first = runner.run(module, args, dirs=[f"{folder}::."]).timings
    second = runner.run(module, args, dirs=[f"{folder}::."]).timings
    print(f"first run  {first.format()}")
    print(f"second run {second.format()}")
    shutil.rmtree(cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wasinn-bench-") as tmp:
        folder = Path(tmp)
        prepare(folder)
        start_up(folder)
        steady_state(folder, args.repeat)


if __name__ == "__main__":
    main()
