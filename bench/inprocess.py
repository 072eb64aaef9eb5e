"""Scenarios (a) guest vs direct call, per phase, and (c) module start, in one process.

(a) The same compiled model and the same tensor, called three ways in turn:

* ``direct``: the engine's own API on a model compiled once with wasinn's settings (OpenVINO
  ``INFERENCE_PRECISION_HINT=f32``, every engine's default threads);
* ``native job`` (road-seg only): a Python script doing the guest's whole job: read the tensor
  file, infer, write the output file;
* ``guest``: a whole ``Runner.run`` of the guest (fresh store and instance, the guest's WASI file
  I/O, every wasi-nn call); road-seg loads its IR by bytes (the graph cache hits), the
  classifiers run ``named.wasm`` on a preloaded model. Its phases come from the run's timings:
  ``host ABI`` = instantiate + every wasi-nn call but compute; ``guest own`` = the rest of the
  run outside compile (the guest's WASI I/O and memory work).

(c) Module start: compiling the wasm, loading it from the on-disk cache (a fresh ModuleCache,
same engine), from the in-memory cache, and a whole run of a cached guest that exits at once
(its usage error: a fresh store, WASI and wasi-nn linked, instantiate, ``_start``). The cheap
cases are interleaved among themselves with 10x the samples of the cold compile.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.harness import Report, interleave
from bench.workdir import (
    EFFNET,
    EFFNET_INPUT,
    GUESTS,
    MOBILENET,
    MOBILENET_INPUT,
    ROAD_FILES,
    ROAD_INPUT,
    Work,
)

ROAD_SEG = GUESTS / "road-seg.wasm"
NAMED = GUESTS / "named.wasm"


def road_seg(work: Work, report: Report, repeat: int) -> None:
    """(a) road-seg: guest vs a direct OpenVINO f32 infer and vs a native script."""
    import openvino as ov

    from wasinn_nb.runtime import Runner

    folder = work.road
    compiled = ov.Core().compile_model(str(folder / ROAD_FILES[0]), "CPU",
                                       {"INFERENCE_PRECISION_HINT": "f32"})  # fmt: skip
    request = compiled.create_infer_request()
    tensor = np.fromfile(folder / ROAD_INPUT, "<f4").reshape(1, 3, 512, 896)

    def direct() -> None:
        request.infer({0: tensor})
        np.array(request.get_output_tensor(0).data)

    def native_job() -> None:
        data = np.fromfile(folder / ROAD_INPUT, dtype="<f4").reshape(1, 3, 512, 896)
        request.infer({0: data})
        request.get_output_tensor(0).data.tofile(folder / "native-output.tensor")

    runner = Runner(cache_dir=None)
    phases: dict[str, list[float]] = {"compute": [], "host ABI": [], "guest own": []}

    def guest() -> None:
        result = runner.run(ROAD_SEG, [*ROAD_FILES, ROAD_INPUT], dirs=[f"{folder}::."],
                            record=False)  # fmt: skip
        if not result.ok:
            raise RuntimeError(f"road-seg guest failed: {result.stderr}")
        _split(result, phases)

    times = interleave({"direct": direct, "native job": native_job, "guest": guest}, repeat)
    for values in phases.values():
        del values[:1]  # the warm-up's
    s = "a road-seg OV f32"
    report.add(s, "direct infer", times["direct"])
    report.add(s, "native job", times["native job"])
    report.add(s, "guest", times["guest"], "direct infer")
    report.add(s, "guest ", times["guest"], "native job", note="same samples")
    report.add(s, "guest: compute phase", phases["compute"], "direct infer")
    report.add(s, "guest: host ABI", phases["host ABI"])
    report.add(s, "guest: own WASI I/O + memory", phases["guest own"])
    expected = np.fromfile(folder / "native-output.tensor", "<f4")
    produced = np.fromfile(
        folder / "wasinn-openvino-inference-output-1x4x512x896xf32.tensor", "<f4"
    )
    report.notes.append(
        f"road-seg guest output vs direct: max |diff| {np.abs(expected - produced).max():.2g}"
    )
    report.goal(
        "in-process road-seg guest / direct (f32)", report.find(s, "guest").ratio or 0, 1.15
    )
    report.goal("road-seg host ABI work", report.find(s, "guest: host ABI").median, 1.0, " ms")
    runner.close()


def _split(result: Any, phases: dict[str, list[float]]) -> None:
    t = result.timings
    calls = sum(c.seconds for c in result.calls)
    phases["compute"].append(t["compute"] * 1e3)
    phases["host ABI"].append((calls - t["compute"] + t["instantiate"]) * 1e3)
    phases["guest own"].append((t["total"] - calls - t["compile"] - t["instantiate"]) * 1e3)


def _direct(backend: str, path: Path, tensor: np.ndarray) -> Callable[[], object]:
    """The engine's own call on a model compiled once, with wasinn's default settings."""
    if backend == "openvino":
        import openvino as ov

        compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        request = compiled.create_infer_request()

        def ov_call() -> object:
            request.infer({0: tensor})
            return np.array(request.get_output_tensor(0).data)

        return ov_call
    if backend == "onnxruntime":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda: session.run(None, {name: tensor})[0]
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    index = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]

    def litert_call() -> object:
        interpreter.set_tensor(index, tensor)
        interpreter.invoke()
        return interpreter.get_tensor(out).copy()

    return litert_call


CLASSIFIERS = (
    ("EfficientNet-Lite0 onnx", EFFNET, EFFNET_INPUT, "onnx", "onnxruntime", "1x3x224x224", "f32"),
    ("EfficientNet-Lite0 onnx", EFFNET, EFFNET_INPUT, "onnx", "openvino", "1x3x224x224", "f32"),
    ("MobileNetV2 quant tflite", MOBILENET, MOBILENET_INPUT, "tensorflowlite", "litert",
     "1x224x224x3", "u8"),
    ("MobileNetV2 quant tflite", MOBILENET, MOBILENET_INPUT, "tensorflowlite", "openvino",
     "1x224x224x3", "u8"),
)  # fmt: skip


def classifiers(work: Work, report: Report, repeat: int, quick: bool) -> None:
    """(a) the 224x224 classifiers on each backend: ``named.wasm`` vs the engine's call."""
    from wasinn_nb.backends import available_backends
    from wasinn_nb.runtime import Preload, Runner

    have = set(available_backends())
    runner = Runner(cache_dir=None)
    for label, model, tensor_name, encoding, backend, dims, dtype in CLASSIFIERS:
        scenario = f"a {label} on {backend}"
        if model == EFFNET and work.effnet_missing:
            report.skipped[scenario] = work.effnet_missing
            continue
        if backend not in have:
            report.skipped[scenario] = f"{backend} is not installed"
            continue
        if quick and backend == "openvino" and encoding == "tensorflowlite":
            report.skipped[scenario] = "--quick (OpenVINO's TFLite read takes about 1 s)"
            continue
        path = work.cls / model
        raw = np.fromfile(work.cls / tensor_name, np.float32 if dtype == "f32" else np.uint8)
        tensor = raw.reshape([int(d) for d in dims.split("x")])
        direct = _direct(backend, path, tensor)
        runner.graphs.add(Preload.parse(f"m:{encoding}:cpu:{path}"))
        phases: dict[str, list[float]] = {"compute": [], "host ABI": [], "guest own": []}
        args = ["--dims", dims, "--type", dtype, "m", tensor_name, "out.tensor"]

        def guest(args: list[str] = args, backend: str = backend,
                  phases: dict[str, list[float]] = phases) -> None:  # fmt: skip
            result = runner.run(NAMED, args, dirs=[f"{work.cls}::."], backend=backend,
                                record=False)  # fmt: skip
            if not result.ok:
                raise RuntimeError(f"named guest failed: {result.stderr}")
            _split(result, phases)

        times = interleave({"direct": direct, "guest": guest}, repeat)
        for values in phases.values():
            del values[:1]
        report.add(scenario, "direct call", times["direct"])
        guest_row = report.add(scenario, "guest", times["guest"], "direct call")
        report.add(scenario, "guest: compute phase", phases["compute"], "direct call")
        report.add(scenario, "guest: host ABI", phases["host ABI"])
        report.add(scenario, "guest: own WASI I/O + memory", phases["guest own"])
        out = np.fromfile(work.cls / "out.tensor", raw.dtype if dtype == "u8" else np.float32)
        ref = np.asarray(direct()).reshape(-1)
        report.notes.append(f"{label} on {backend}: guest top-1 {int(out.argmax())}, "
                            f"direct top-1 {int(ref.argmax())}")  # fmt: skip
        extra = guest_row.median - report.find(scenario, "direct call").median
        report.goal(f"{label} on {backend}: guest - direct", extra, 0.5, " ms")
        runner.graphs.clear()
    runner.close()


def module_start(work: Work, report: Report, repeat: int) -> None:
    """(c) cold compile vs the disk cache vs the memory cache vs a whole instant run."""
    from wasmtime import Module

    from wasinn_nb.runtime import Runner
    from wasinn_nb.runtime.modules import ModuleCache

    cache = Path(tempfile.mkdtemp(prefix="wasinn-bench-modules-"))
    try:
        runner = Runner(cache_dir=cache)
        for guest in (ROAD_SEG, GUESTS / "classify.wasm"):
            data = guest.read_bytes()
            runner.compile(guest)  # fills the disk cache
            scenario = f"c module start {guest.name} ({len(data) / 1e6:.1f} MB)"
            cold = {"compile (cold)": lambda d=data: Module(runner.engine, d)}
            cases = {
                "disk cache": lambda g=guest: ModuleCache(runner.engine, cache).get(
                    g.read_bytes(), "x"
                ),
                "memory cache": lambda g=guest: runner.compile(g),
                "run to exit (cached)": lambda g=guest: runner.run(g, [], record=False),
            }
            # the cheap cases get 10x the samples (they are ~100x faster than compiling)
            times = {**interleave(cold, max(3, repeat // 2)), **interleave(cases, 10 * repeat)}
            report.add(scenario, "compile (cold)", times["compile (cold)"])
            for case in ("disk cache", "memory cache", "run to exit (cached)"):
                report.add(scenario, case, times[case], "compile (cold)")
            if guest == ROAD_SEG:
                start = report.find(scenario, "run to exit (cached)").median
                report.goal("cached module start + instantiate (road-seg run to exit)", start,
                            2.0, " ms")  # fmt: skip
        runner.close()
    finally:
        shutil.rmtree(cache, ignore_errors=True)
