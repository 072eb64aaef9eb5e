"""``demo``: the road-segmentation walkthrough, end to end, from the command line.

Fetch the model and photo, im2tensor, the road-seg guest, an overlay PNG: the same steps as the
notebook ``notebooks/road-segmentation.ipynb``, each done by the layer that owns it.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.errors import GuestError

__all__ = ["DemoResult", "demo", "road_segmentation"]

_INPUT = "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"
_OUTPUT = "wasinn-openvino-inference-output-1x4x512x896xf32.tensor"


@dataclass(frozen=True)
class DemoResult:
    """What the demo produced: class shares and the files it wrote."""

    shares: dict[str, float]
    overlay: Path
    output_tensor: Path


def road_segmentation(
    out: str | os.PathLike[str], session: Session, *, mirror: str | None = None
) -> DemoResult:
    """Segment the road photo with the road-seg guest; write tensors and an overlay into ``out``."""
    from wasinn_nb.data import example_guest, fetch
    from wasinn_nb.im2tensor import (
        TensorSpec,
        image_to_tensor,
        load_image,
        load_tensor,
        save_tensor,
    )
    from wasinn_nb.im2tensor.io import save_image
    from wasinn_nb.im2tensor.ops import resize_image
    from wasinn_nb.results import ROAD_LABELS, ROAD_PALETTE, Segmentation
    from wasinn_nb.runtime import default_runner
    from wasinn_nb.viz import render

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = fetch("road-segmentation", mirror=mirror)
    xml = paths["road-segmentation-adas-0001.xml"]
    image = paths["empty_road_mapillary.jpg"]
    save_tensor(image_to_tensor(image, TensorSpec.from_dims("512x896x3xfp32")), folder / _INPUT)
    args = [f"model/{xml.name}", f"model/{paths['road-segmentation-adas-0001.bin'].name}", _INPUT]
    result = default_runner().run(
        example_guest("road-seg"), args, dirs=[f".:{folder}", f"model:{xml.parent}"],
        stdout=session.out, stderr=session.err, record=False,
    )  # fmt: skip
    if not result.ok:
        raise GuestError(f"the road-seg guest failed: {result.error or result.exit_code}")
    photo = resize_image(load_image(image), 512, 896)
    seg = Segmentation.from_output(load_tensor(folder / _OUTPUT), ROAD_LABELS,
                                   palette=ROAD_PALETTE, image=photo)  # fmt: skip
    picture = render.side_by_side([photo, render.paint(seg), render.blend(seg, alpha=0.5)])
    overlay = save_image(picture, folder / "road-overlay.png")
    return DemoResult(seg.shares, overlay, folder / _OUTPUT)


def demo(args: argparse.Namespace, session: Session) -> Outcome[DemoResult]:
    """``demo``: the road-segmentation walkthrough; prints class shares and the overlay's path."""
    result = road_segmentation(args.out, session, mirror=args.mirror)
    shares = ", ".join(f"{label} {share:.3f}" for label, share in result.shares.items())
    return Outcome(result, f"class shares: {shares}\noverlay: {result.overlay}")
