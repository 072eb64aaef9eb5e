"""Benchmark: im2tensor (OpenCV + numpy) vs a straightforward PIL + numpy pipeline.

Both convert the same 1920x1080 JPEG to a 512x896 float32 BGR NCHW tensor (decode, bilinear
resize, channel swap, transpose, cast), measured in the same run. Prints min/median milliseconds
and the speed ratio. Run:  python bench/im2tensor_vs_pil.py [IMAGE] [--repeat N]
(``python -m bench --only im2tensor`` runs it as scenario (e).)
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from wasinn_nb import TensorSpec, image_to_tensor

if TYPE_CHECKING:
    from bench.harness import Report

DEFAULT_IMAGE = (
    Path(os.environ.get("WASINN_MIRROR", Path(__file__).resolve().parents[2] / "shared/fixtures"))
    / "openvino-road-segmentation-adas/empty_road_mapillary.jpg"
)


def pil_baseline(data: bytes) -> np.ndarray:
    """What a notebook would write without wasinn-nb."""
    image = Image.open(io.BytesIO(data)).convert("RGB").resize((896, 512), Image.BILINEAR)
    bgr = np.asarray(image, dtype=np.float32)[:, :, ::-1]
    return np.ascontiguousarray(bgr.transpose(2, 0, 1))[None]


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    work()  # warm-up: imports, allocator, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def scenario(report: Report, repeat: int) -> None:
    """(e) for ``python -m bench``: both pipelines interleaved, PIL + numpy the baseline."""
    from bench.harness import interleave

    data = DEFAULT_IMAGE.read_bytes()
    spec = TensorSpec.from_dims("512x896x3xfp32")
    times = interleave({"pil": lambda: pil_baseline(data),
                        "ours": lambda: image_to_tensor(data, spec)}, repeat)  # fmt: skip
    s = "e image to 512x896 f32 tensor"
    report.add(s, "PIL + numpy", times["pil"])
    report.add(s, "wasinn_nb.image_to_tensor", times["ours"], "PIL + numpy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    data = args.image.read_bytes()
    with Image.open(io.BytesIO(data)) as probe:
        print(f"image {args.image.name}: {probe.width}x{probe.height}, {len(data):,} bytes")
    spec = TensorSpec.from_dims("512x896x3xfp32")

    ours = image_to_tensor(data, spec)
    theirs = pil_baseline(data)
    assert ours.shape == theirs.shape == (1, 3, 512, 896)
    diff = np.abs(ours - theirs)
    print(f"outputs agree: mean |diff| {diff.mean():.2f} grey levels (different resamplers)")

    results = {
        "PIL + numpy (baseline)": timed(lambda: pil_baseline(data), args.repeat),
        "wasinn_nb.image_to_tensor": timed(lambda: image_to_tensor(data, spec), args.repeat),
    }
    for name, times in results.items():
        print(f"{name:<28} min {min(times):7.2f} ms   median {statistics.median(times):7.2f} ms")
    base, fast = (statistics.median(t) for t in results.values())
    base_min, fast_min = (min(t) for t in results.values())
    print(f"speed-up: {base / fast:.2f}x (median), {base_min / fast_min:.2f}x (min)")


if __name__ == "__main__":
    main()
