"""Benchmark: the classifier graph (decode → infer → softmax → top-5 → labels) vs the witx guest.

Both classify the same photo with the same model and backend, measured interleaved:

* ``classify.wasm``: one ``Runner.run`` per photo (instantiate, read the files, load the model
  bytes — a graph-cache hit after the first run — decode, compute, rank, print);
* the pipeline: one ``Pipeline.run`` item per photo on operators instantiated once, ``infer``
  keeping its graph and execution context;
* ``echo``: what crossing the op ABI costs — an operator that returns its input, on a
  224x224x3 f32 tensor (602 KB in, 602 KB out, one copy each way into guest memory).

Run (with the fixture mirror):

    python bench/pipeline_vs_classify.py [--repeat N] [--backend NAME]
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

import wasinn_nb
from wasinn_nb.data import example_guest
from wasinn_nb.pipeline import Pipeline, parse_graph

MIRROR = Path(os.environ.get("WASINN_MIRROR", "../shared/fixtures"))
CORAL = MIRROR / "coral-test-data"
MODEL = "mobilenet_v2_1.0_224_quant.tflite"

GRAPH = """\
moduleConfigurations:
  - name: infer
    parameters:
      model: {default: mobilenet}
      output_type: {default: u8}
      output_dims: {default: 1x1001}
  - name: softmax
    parameters: {scale: {default: "0.00390625"}, from: {default: probabilities}}
  - name: labels
    parameters: {labels: {default: "@imagenet_labels.txt"}}
operations:
  - {operationType: source, name: photos}
  - {operationType: map, name: decode, module: decode}
  - {operationType: map, name: infer, module: infer}
  - {operationType: map, name: softmax, module: softmax}
  - {operationType: map, name: top5, module: topk}
  - {operationType: map, name: labels, module: labels}
  - {operationType: sink, name: results}
connections:
  - {from: {name: photos}, to: {name: decode}}
  - {from: {name: decode}, to: {name: infer}}
  - {from: {name: infer}, to: {name: softmax}}
  - {from: {name: softmax}, to: {name: top5}}
  - {from: {name: top5}, to: {name: labels}}
  - {from: {name: labels}, to: {name: results}}
"""

ECHO = """(module
  (memory (export "memory") 32)
  (global $last (mut i32) (i32.const 0))
  (func (export "op_abi_version") (result i32) (i32.const 1))
  (func (export "op_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "op_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "op_process") (param i32) (result i32) (global.set $last (local.get 0))
    (i32.const 0))
  (func (export "op_output") (result i32) (global.get $last)))
"""


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--backend", default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    for name in (MODEL, "imagenet_labels.txt", "parrot.jpg"):
        shutil.copy(CORAL / name, work / name)
    os.chdir(work)
    classify_args = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", "--top", "5",
                     MODEL, "parrot.jpg", "imagenet_labels.txt"]  # fmt: skip
    guest = example_guest("classify")
    pipe = Pipeline(parse_graph(GRAPH, folder=work), backend=args.backend,
                    preload=[f"mobilenet:TensorflowLite:CPU:{MODEL}"])  # fmt: skip
    (work / "echo.wat").write_text(ECHO)
    echo = Pipeline(parse_graph(ECHO_GRAPH, folder=work))
    photo = (work / "parrot.jpg").read_bytes()
    tensor = np.zeros((1, 224, 224, 3), np.float32)
    wasinn_nb.run(guest, classify_args, dirs=[".:."], backend=args.backend)  # warm up
    pipe.run([("parrot.jpg", photo)])
    echo.run([tensor])
    witx, piped, crossing = [], [], []
    stages: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = wasinn_nb.run(guest, classify_args, dirs=[".:."], backend=args.backend)
        witx.append(time.perf_counter() - start)
        assert result.ok, result.stderr
        start = time.perf_counter()
        item = pipe.run([("parrot.jpg", photo)])[0]
        piped.append(time.perf_counter() - start)
        assert item.ok, item.error
        for stage in item.stages:
            stages.setdefault(stage.operation, []).append(stage.seconds)
        crossing.append(echo.run([tensor])[0].stages[1].seconds)
    theirs = [line.rsplit(" ", 1)[0] for line in result.stdout.splitlines()[1:]]
    ours = [line.rsplit(" ", 1)[0] for line in item["labels"].decode().splitlines()]
    print(f"same top-5 as classify.wasm: {ours == theirs}  ({ours[0]})")
    print(f"classify.wasm run        {median_ms(witx):8.1f} ms  (median of {args.repeat})")
    print(f"pipeline item            {median_ms(piped):8.1f} ms  "
          f"({median_ms(piped) / median_ms(witx):.2f}x classify.wasm)")  # fmt: skip
    for name, samples in stages.items():
        if max(samples) > 0:
            print(f"  {name:<22} {median_ms(samples):8.2f} ms")
    print(f"echo operator, f32 224x224x3 in and out: {median_ms(crossing):.3f} ms "
          f"({tensor.nbytes / 1e3:.0f} KB each way)")  # fmt: skip


ECHO_GRAPH = """\
operations:
  - {operationType: source, name: in}
  - {operationType: map, name: echo, module: echo.wat}
  - {operationType: sink, name: out}
connections:
  - {from: {name: in}, to: {name: echo}}
  - {from: {name: echo}, to: {name: out}}
"""


if __name__ == "__main__":
    main()
