"""The road-segmentation demo, end to end: fetch, im2tensor, the road-seg guest, an overlay PNG.

``wasinn demo`` runs it from the command line; the notebook ``notebooks/road-segmentation.ipynb``
walks through the same steps.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from wasinn_nb.errors import GuestError

__all__ = ["DemoResult", "find_guest", "road_segmentation"]

_INPUT = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
_OUTPUT = "wasinn-openvino-inference-output-1x4x512x896xf32.tensor"


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: class shares and the files it wrote."""

    shares: dict[str, float]
    overlay: Path
    output_tensor: Path


def find_guest(name: str) -> Path:
    """An example guest from the repository's ``guests/`` folder (or ``$WASINN_GUESTS``)."""
    folder = Path(os.environ.get("WASINN_GUESTS", Path(__file__).resolve().parents[1] / "guests"))
    path = folder / f"{name}.wasm"
    if not path.is_file():
        raise GuestError(
            f"example guest {path} not found: run from a checkout, or set WASINN_GUESTS"
        )
    return path


def road_segmentation(
    out: str | os.PathLike[str], *, mirror: str | None = None, stdout: TextIO | None = None
) -> DemoResult:
    """Segment the road photo with the road-seg guest; write tensors and an overlay into ``out``."""
    import cv2

    from wasinn_nb.data import fetch
    from wasinn_nb.im2tensor import (
        TensorSpec,
        image_to_tensor,
        load_image,
        load_tensor,
        save_tensor,
    )
    from wasinn_nb.im2tensor.ops import resize_image
    from wasinn_nb.postprocess import Segmentation
    from wasinn_nb.runner import default_runner
    from wasinn_nb.viz import ROAD_LABELS, ROAD_PALETTE, render

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = fetch("road-segmentation", mirror=mirror)
    xml = paths["road-segmentation-adas-0001.xml"]
    image = paths["empty_road_mapillary.jpg"]
    save_tensor(image_to_tensor(image, TensorSpec.from_dims("512x896x3xfp32")), folder / _INPUT)
    args = [f"model/{xml.name}", f"model/{paths['road-segmentation-adas-0001.bin'].name}", _INPUT]
    result = default_runner().run(
        find_guest("road-seg"), args, dirs=[f".:{folder}", f"model:{xml.parent}"],
        stdout=stdout or sys.stdout, stderr=sys.stderr, record=False,
    )  # fmt: skip
    if not result.ok:
        raise GuestError(f"the road-seg guest failed: {result.error or result.exit_code}")
    photo = resize_image(load_image(image), 512, 896)
    seg = Segmentation.from_output(load_tensor(folder / _OUTPUT), ROAD_LABELS,
                                   palette=ROAD_PALETTE, image=photo)  # fmt: skip
    overlay = folder / "road-overlay.png"
    picture = render.side_by_side([photo, seg.colorized(), seg.overlay(alpha=0.5)])
    cv2.imwrite(str(overlay), picture)
    return DemoResult(seg.shares, overlay, folder / _OUTPUT)
