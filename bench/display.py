"""Benchmark: the default display of a road-segmentation run, against an argmax of its output.

A run of road-segmentation-adas-0001 returns 1x4x512x896 f32 scores (7.3 MB). Its default
display (``RunResult._repr_mimebundle_``: the summary, recognising the scores, the
SegmentationView over the input picture, and the static PNG for GitHub) is timed and its peak
extra memory traced (tracemalloc), and so is ``np.argmax(output, axis=1)``, the least any
display of it must do, in the same run. Targets: display <= 50 ms, peak extra memory <= 1.5x the
output's size. The output is the real model's on the road photo when OpenVINO and the mirror
are there, else smooth synthetic scores of the same shape (it says which).

Run:  python bench/display.py [--repeat N]     (WASINN_MIRROR=DIR for the real output)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROAD = "openvino-road-segmentation-adas"
TARGET_MS, TARGET_MEMORY = 50.0, 1.5


def mirror() -> Path:
    default = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
    return Path(os.environ.get("WASINN_MIRROR", default))


def road_tensors() -> tuple[np.ndarray, np.ndarray, str]:
    """The input tensor and the scores, and where the scores come from."""
    from wasinn_nb import TensorSpec, image_to_tensor

    folder = mirror() / ROAD
    photo = folder / "empty_road_mapillary.jpg"
    if photo.is_file():
        tensor = image_to_tensor(photo, TensorSpec.from_dims("512x896x3xfp32"))
    else:
        tensor = np.random.default_rng(0).uniform(0, 255, (1, 3, 512, 896)).astype(np.float32)
    try:
        import openvino as ov

        model = ov.Core().compile_model(str(folder / "road-segmentation-adas-0001.xml"), "CPU")
        scores = np.asarray(model(tensor)[0], np.float32)
        return tensor, scores, "road-segmentation-adas-0001 on OpenVINO, the road photo"
    except Exception as error:  # no openvino or no mirror: synthetic, said so
        y, x = np.mgrid[0:512, 0:896].astype(np.float32)
        planes = [(256 - y) / 512, (y - 256) / 512, -abs(x - 448) / 448, np.sin(x / 30) / 10]
        scores = np.stack(planes)[None].astype(np.float32)
        return tensor, scores, f"synthetic scores ({type(error).__name__}: no real model here)"


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    work()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def peak_bytes(work: Callable[[], object]) -> int:
    """The most memory ``work`` held at once beyond what was there before (tracemalloc)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        kept = work()
        peak = tracemalloc.get_traced_memory()[1]
        del kept
    finally:
        tracemalloc.stop()
    return peak - before


def main() -> None:
    """Print both timings and peaks, and their ratios (to the baseline, to the targets)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import wasinn_nb  # registers the displays
    from wasinn_nb.results import RunResult, TensorRecord

    tensor, scores, origin = road_tensors()
    result = RunResult(
        "road-seg.wasm", (), 0, None, "", "",
        (TensorRecord(0, 0, tensor),), (TensorRecord(0, 0, scores),),
    )  # fmt: skip
    print(f"wasinn-nb {wasinn_nb.__version__}; output {scores.shape} f32 from {origin}")
    size = scores.nbytes
    display = timed(result._repr_mimebundle_, args.repeat)
    baseline = timed(lambda: np.argmax(scores, axis=1), args.repeat)
    display_peak = peak_bytes(result._repr_mimebundle_)
    baseline_peak = peak_bytes(lambda: np.argmax(scores, axis=1))
    shown, base = statistics.median(display), statistics.median(baseline)
    print(f"{'':<28} {'median ms':>10} {'min ms':>8} {'peak extra MB':>14}")
    for name, times, peak in (
        ("default display", display, display_peak),
        ("np.argmax (baseline)", baseline, baseline_peak),
    ):
        print(
            f"{name:<28} {statistics.median(times):>10.1f} {min(times):>8.1f} {peak / 1e6:>14.2f}"
        )
    ratio = display_peak / baseline_peak
    print(f"display / argmax: {shown / base:.1f}x the time, {ratio:.1f}x the memory")
    print(
        f"targets: {shown:.1f} ms of {TARGET_MS:.0f} ms ({shown / TARGET_MS:.2f}x); "
        f"peak {display_peak / size:.2f}x the output's {size / 1e6:.1f} MB "
        f"(target {TARGET_MEMORY}x)"
    )  # fmt: skip


if __name__ == "__main__":
    main()
