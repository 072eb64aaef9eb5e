"""Scenario (d): the same ONNX classifier in onnxruntime-web (pure wasm, Node) vs our guest.

onnxruntime-web is installed with ``npm install`` into ``artifacts/bench/node`` (git-ignored) the
first time; the scenario is skipped, with the reason, when node or npm is missing or the install
fails. Node runs ``session.run`` REPEAT times after 3 warm-ups with 1 and then 2 threads; in
between, our guest (``named.wasm`` on ONNX Runtime with ``--threads`` 1 and 2) runs as many
times in this process. The rounds alternate so that machine noise hits both. The guest's
rows are whole runs (a fresh instance, its WASI file I/O): ``session.run`` is compared with both
that and the guest's compute phase.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from bench.harness import Report
from bench.inprocess import NAMED
from bench.workdir import ARTIFACTS, EFFNET, EFFNET_INPUT, Work

NODE_DIR = ARTIFACTS / "node"
VERSION = "1.30.0"


def _install() -> str:
    """Install onnxruntime-web into NODE_DIR; the reason it cannot be had, or ''."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not installed"
    if (NODE_DIR / "node_modules/onnxruntime-web/package.json").is_file():
        return ""
    NODE_DIR.mkdir(parents=True, exist_ok=True)
    command = ["npm", "install", "--no-audit", "--no-fund", f"onnxruntime-web@{VERSION}"]
    done = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    if done.returncode != 0:
        return (
            f"npm install onnxruntime-web failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}"
        )
    return ""


def scenario(work: Work, report: Report, repeat: int) -> None:
    s = "d EfficientNet-Lite0: onnxruntime-web (Node, pure wasm) vs our guest on ORT"
    missing = work.effnet_missing or _install()
    if missing:
        report.skipped[s] = missing
        return
    from bench.harness import interleave
    from wasinn_nb.backends.options import BackendOptions
    from wasinn_nb.runtime import Preload, Runner

    script = NODE_DIR / "ortweb.mjs"
    shutil.copyfile(Path(__file__).with_name("ortweb.mjs"), script)
    runner = Runner(cache_dir=None)
    runner.graphs.add(Preload.parse(f"m:onnx:cpu:{work.cls / EFFNET}"))
    args = ["--dims", "1x3x224x224", "--type", "f32", "m", EFFNET_INPUT, "out.tensor"]
    web: dict[int, list[float]] = {1: [], 2: []}
    ours: dict[int, list[float]] = {1: [], 2: []}
    computes: dict[int, list[float]] = {1: [], 2: []}
    tops = {}
    for _ in range(1 if repeat < 20 else 2):
        for threads in (1, 2):
            node = ["node", str(script), str(work.cls / EFFNET), str(work.cls / EFFNET_INPUT)]
            done = subprocess.run([*node,
                                   str(threads), str(repeat)], capture_output=True, text=True,
                                  timeout=600, check=True)  # fmt: skip
            result = json.loads(done.stdout.strip().splitlines()[-1])
            web[threads] += result["times"]
            tops[f"ort-web {threads}"] = result["top"]
            options = BackendOptions(threads=threads)

            def guest(options: BackendOptions = options) -> None:
                run = runner.run(NAMED, args, dirs=[f"{work.cls}::."], backend="onnxruntime",
                                 backend_options=options, record=False)  # fmt: skip
                if not run.ok:
                    raise RuntimeError(run.stderr)
                computes[options.threads or 0].append(run.timings["compute"] * 1e3)

            ours[threads] += interleave({"g": guest}, repeat)["g"]
    tops["ours"] = int(np.fromfile(work.cls / "out.tensor", np.float32).argmax())
    for threads in (1, 2):
        report.add(s, f"onnxruntime-web, {threads} thread(s)", web[threads])
        row = report.add(s, f"our guest on ORT, {threads} thread(s)", ours[threads],
                         f"onnxruntime-web, {threads} thread(s)")  # fmt: skip
        report.add(s, f"our guest on ORT, {threads} thread(s): compute phase", computes[threads],
                   f"onnxruntime-web, {threads} thread(s)")  # fmt: skip
        if row.ratio:
            report.goal(f"faster than onnxruntime-web ({threads} thread(s)): 1/5 of its time",
                        row.ratio, 0.2)  # fmt: skip
    report.notes.append(f"d top-1 classes: {tops}")
    runner.close()
