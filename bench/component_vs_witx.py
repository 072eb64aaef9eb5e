"""Benchmark: component-model (WIT) wasi:nn guests against witx guests, on the same runner.

Three parts, each compared in the same run:

* ``list<u8>`` crossing the component boundary (an echo component written here): ns per
  byte guest->host and host->guest, our pinned fast path against wasmtime-py's own converters;
* a 224x224 classifier (Coral MobileNet V2 quant, u8 input, LiteRT): the witx ``classify``
  guest against ``classify-component`` on the same tensor, warm caches. ``host`` is a run's
  time after instantiation (the wasi:nn calls and the guest's own work, which is small and the
  same for both), ``end to end`` the whole ``Runner.run``;
* road-seg (OpenVINO, 5.5 MB f32 in, 7.3 MB out): the witx ``road-seg`` guest, and the same
  model through ``classify-component``, which wasmtime refuses: a list of more than ~2.7 M
  elements cannot be lifted into the host ("fuel allocated for hostcalls has been exhausted").

Run (needs the fixture mirror):

    WASINN_MIRROR=../shared/fixtures python bench/component_vs_witx.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from wasinn_nb import TensorSpec, image_to_tensor, save_tensor
from wasinn_nb.runtime import Runner

REPO = Path(__file__).resolve().parents[1]
GUESTS = REPO / "guests"
MIRROR = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared" / "fixtures"))
CORAL = MIRROR / "coral-test-data"
ROAD = MIRROR / "openvino-road-segmentation-adas"
IMAGE_224_F32 = 224 * 224 * 3 * 4

# An echo component: the host's echo(list<u8>) -> list<u8>, called by the export go(n).
ECHO = """(component
  (type (;0;)
    (instance
      (type (;0;) (list u8))
      (type (;1;) (func (param "data" 0) (result 0)))
      (export (;0;) "echo" (func (type 1)))
    )
  )
  (import "wasinn:bench/echo" (instance (;0;) (type 0)))
  (core module (;0;)
    (type (;0;) (func (param i32 i32 i32)))
    (type (;1;) (func (param i32 i32 i32 i32) (result i32)))
    (type (;2;) (func (param i32) (result i32)))
    (import "wasinn:bench/echo" "echo" (func (;0;) (type 0) (param i32 i32 i32)))
    (memory (;0;) 1024)
    (global (;0;) (mut i32) i32.const 65536)
    (export "memory" (memory 0))
    (export "cabi_realloc" (func 1))
    (export "go" (func 2))
    (func (;1;) (type 1) (param i32 i32 i32 i32) (result i32)
      (local i32)
      global.get 0
      local.get 2
      i32.const 1
      i32.sub
      i32.add
      i32.const 0
      local.get 2
      i32.sub
      i32.and
      local.set 4
      local.get 4
      local.get 3
      i32.add
      global.set 0
      local.get 4
    )
    (func (;2;) (type 2) (param i32) (result i32)
      i32.const 1048576
      local.get 0
      i32.const 16
      call 0
      i32.const 20
      i32.load
    )
  )
  (core module (;1;)
    (type (;0;) (func (param i32 i32 i32)))
    (table (;0;) 1 1 funcref)
    (export "0" (func 0))
    (export "$imports" (table 0))
    (func (;0;) (type 0) (param i32 i32 i32)
      local.get 0
      local.get 1
      local.get 2
      i32.const 0
      call_indirect (type 0)
    )
  )
  (core instance (;0;) (instantiate 1))
  (alias core export 0 "0" (core func (;0;)))
  (core instance (;1;)
    (export "echo" (func 0))
  )
  (core instance (;2;) (instantiate 0
      (with "wasinn:bench/echo" (instance 1))
    )
  )
  (alias core export 2 "memory" (core memory (;0;)))
  (core module (;2;)
    (type (;0;) (func (param i32 i32 i32)))
    (import "actual" "0" (func (;0;) (type 0) (param i32 i32 i32)))
    (import "shim" "$imports" (table (;0;) 1 1 funcref))
    (elem (;0;) (i32.const 0) func 0)
  )
  (alias export 0 "echo" (func (;0;)))
  (alias core export 2 "cabi_realloc" (core func (;1;)))
  (core func (;2;) (canon lower (func 0) (memory 0) (realloc 1)))
  (core instance (;3;)
    (export "0" (func 2))
  )
  (core instance (;4;) (instantiate 2
      (with "actual" (instance 3))
      (with "shim" (instance 0))
    )
  )
  (type (;1;) (func (param "n" u32) (result u32)))
  (alias core export 2 "go" (core func (;3;)))
  (func (;1;) (type 1) (canon lift (core func 3)))
  (export (;2;) "go" (func 1))
)
"""


def _echo_time(fast: bool, size: int, direction: str) -> float:
    """Seconds for one crossing of ``size`` bytes (``up``: guest->host, ``down``: host->guest)."""
    from wasmtime import Engine, Store
    from wasmtime.component import Component, Linker

    from wasinn_nb.abi import canon

    small = np.zeros(16, np.uint8) if fast else bytes(16)
    big = np.zeros(size, np.uint8) if fast else bytes(size)

    def echo(store, data):
        return small if direction == "up" else big

    engine = Engine()
    linker = Linker(engine)
    with linker.root() as root, root.add_instance("wasinn:bench/echo") as instance:
        if fast:
            canon.define_func(instance, "echo", echo)
        else:
            instance.add_func("echo", echo)
    store = Store(engine)
    go = linker.instantiate(store, Component(engine, ECHO)).get_func(store, "go")
    start = time.perf_counter()
    go(store, size if direction == "up" else 16)
    go.post_return(store)
    return time.perf_counter() - start


def bench_lists() -> None:
    print(f"list<u8> crossing, {IMAGE_224_F32:,} bytes (one 224x224x3 f32 image):")
    for direction, label in (("up", "guest->host"), ("down", "host->guest")):
        fast = min(_echo_time(True, IMAGE_224_F32, direction) for _ in range(3))
        slow = _echo_time(False, IMAGE_224_F32, direction)
        print(f"  {label}: fast {fast * 1e3:7.1f} ms ({fast / IMAGE_224_F32 * 1e9:5.0f} ns/B)"
              f"   wasmtime-py {slow * 1e3:7.1f} ms ({slow / IMAGE_224_F32 * 1e9:5.0f} ns/B)"
              f"   {slow / fast:5.1f}x faster")  # fmt: skip


def _timed(runner, repeat, *args, **kwargs):
    """Median (host, end to end) seconds of ``repeat`` runs after one warm-up."""
    runner.run(*args, **kwargs)
    hosts, totals = [], []
    for _ in range(repeat):
        result = runner.run(*args, **kwargs)
        assert result.ok, result.stderr
        t = result.timings
        hosts.append(t["total"] - t["compile"] - t["instantiate"])
        totals.append(t["total"])
    return statistics.median(hosts), statistics.median(totals), result


def bench_classifier(runner, work: Path, repeat: int) -> None:
    model = "mobilenet_v2_1.0_224_quant.tflite"
    shutil.copy(CORAL / model, work / model)
    spec = TensorSpec(224, 224, dtype="u8", color="rgb", layout="nhwc")
    save_tensor(image_to_tensor(CORAL / "parrot.jpg", spec), work / "parrot-1x224x224x3xu8.tensor")
    witx_args = ["--dims", "1x224x224x3", "--dtype", "u8", "--output-dtype", "u8", model,
                 "parrot-1x224x224x3xu8.tensor"]  # fmt: skip
    component_args = ["--model", "mobilenet", "parrot-1x224x224x3xu8.tensor"]
    preload = [f"mobilenet:TensorflowLite:CPU:{model}"]
    w_host, w_total, witx = _timed(runner, repeat, GUESTS / "classify.wasm", witx_args,
                                   dirs=[".:."])  # fmt: skip
    c_host, c_total, comp = _timed(runner, repeat, GUESTS / "classify-component.wasm",
                                   component_args, dirs=[".:."], preload=preload)  # fmt: skip
    same = witx.stdout.splitlines()[1:] == comp.stdout.splitlines()[1:]
    print(f"224x224 classifier (Coral MobileNet V2 quant, u8 150,528 B in), median of {repeat}:")
    print(f"  witx      host {w_host * 1e3:7.1f} ms   end to end {w_total * 1e3:7.1f} ms")
    print(f"  component host {c_host * 1e3:7.1f} ms   end to end {c_total * 1e3:7.1f} ms"
          f"   (top-5 identical: {same})")  # fmt: skip
    print(f"  ratio component/witx: host {c_host / w_host:.2f}x   end to end "
          f"{c_total / w_total:.2f}x")  # fmt: skip


def bench_classifier_f32(runner, work: Path, repeat: int) -> None:
    """The same MobileNet as an OpenVINO IR with an f32 input (602,112 B per image)."""
    import openvino as ov

    model = ov.convert_model(str(CORAL / "mobilenet_v2_1.0_224_quant.tflite"))
    steps = ov.preprocess.PrePostProcessor(model)
    steps.input().tensor().set_element_type(ov.Type.f32)
    ov.save_model(steps.build(), str(work / "mobilenet-f32.xml"), compress_to_fp16=False)
    spec = TensorSpec(224, 224, dtype="f32", color="rgb", layout="nhwc")
    save_tensor(image_to_tensor(CORAL / "parrot.jpg", spec), work / "parrot-1x224x224x3xf32.tensor")
    tensor = "parrot-1x224x224x3xf32.tensor"
    witx_args = ["--dims", "1x224x224x3", "--dtype", "f32", "--output-dtype", "u8",
                 "mobilenet-f32.xml", tensor]  # fmt: skip
    component_args = ["--model", "m32", "--input", "input", "--type", "f32", tensor]
    preload = ["m32:OpenVINO:CPU:mobilenet-f32.xml:mobilenet-f32.bin"]
    w_host, w_total, witx = _timed(runner, repeat, GUESTS / "classify.wasm", witx_args,
                                   dirs=[".:."], backend="openvino")  # fmt: skip
    c_host, c_total, comp = _timed(runner, repeat, GUESTS / "classify-component.wasm",
                                   component_args, dirs=[".:."], preload=preload,
                                   backend="openvino")  # fmt: skip
    same = witx.stdout.splitlines()[1:] == comp.stdout.splitlines()[1:]
    print(f"224x224 classifier, f32 input (OpenVINO IR of the same model, 602,112 B in), "
          f"median of {repeat}:")  # fmt: skip
    print(f"  witx      host {w_host * 1e3:7.1f} ms   end to end {w_total * 1e3:7.1f} ms")
    print(f"  component host {c_host * 1e3:7.1f} ms   end to end {c_total * 1e3:7.1f} ms"
          f"   (top-5 identical: {same})")  # fmt: skip
    print(f"  ratio component/witx: host {c_host / w_host:.2f}x   end to end "
          f"{c_total / w_total:.2f}x")  # fmt: skip


def bench_road_seg(runner, work: Path, repeat: int) -> None:
    for name in ("road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin"):
        shutil.copy(ROAD / name, work / name)
    spec = TensorSpec(512, 896, dtype="f32", color="bgr")
    tensor = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
    save_tensor(image_to_tensor(ROAD / "empty_road_mapillary.jpg", spec), work / tensor)
    args = ["road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin", tensor]
    w_host, w_total, _ = _timed(runner, repeat, GUESTS / "road-seg.wasm", args, dirs=[".:."])
    print(f"road-seg (OpenVINO, 5,505,024 B in, 7,340,032 B out), median of {repeat}:")
    print(f"  witx      host {w_host * 1e3:7.1f} ms   end to end {w_total * 1e3:7.1f} ms")
    result = runner.run(
        GUESTS / "classify-component.wasm",
        ["--model", "road", "--dims", "1x3x512x896", "--type", "f32", tensor],
        dirs=[".:."],
        preload=[f"road:OpenVINO:CPU:{args[0]}:{args[1]}"],
    )
    print(f"  component: {result.error or 'ran'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args(argv)
    if not (CORAL / "mobilenet_v2_1.0_224_quant.tflite").is_file():
        raise SystemExit(f"fixture mirror not found at {MIRROR} (set WASINN_MIRROR)")
    bench_lists()
    with tempfile.TemporaryDirectory() as folder, Runner(cache_dir=None) as runner:
        work = Path(folder)
        cwd = Path.cwd()
        os.chdir(work)
        try:
            bench_classifier(runner, work, options.repeat)
            bench_classifier_f32(runner, work, options.repeat)
            bench_road_seg(runner, work, options.repeat)
        finally:
            os.chdir(cwd)


if __name__ == "__main__":
    main()
