"""README's Python examples run as written (the magics one in a real IPython shell)."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from _paths import GUESTS, REPO, ROAD, ROAD_INPUT

BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)


def test_readme_has_the_examples_this_test_runs():
    assert len(BLOCKS) == 3
    assert BLOCKS[0].startswith("%load_ext wasinn_nb")


@pytest.mark.openvino
def test_readme_examples_run(ip, road_workdir, capsys):
    pytest.importorskip("openvino")
    pytest.importorskip("ipywidgets")
    import cv2

    (road_workdir / "guests").mkdir()
    shutil.copy(GUESTS / "road-seg.wasm", road_workdir / "guests")
    for name in ("xml", "bin"):
        (road_workdir / f"road-segmentation-adas-0001.{name}").rename(road_workdir / f"road.{name}")
    shutil.copy(ROAD / "empty_road_mapillary.jpg", road_workdir / "road.jpg")
    (road_workdir / "labels.txt").write_text("".join(f"class {i}\n" for i in range(10)))
    namespace = {
        "input_tensor": ROAD_INPUT,
        "bgr_image": cv2.resize(cv2.imread("road.jpg"), (896, 512)),
        "scores": np.linspace(0, 1, 10, dtype=np.float32)[None],
    }
    ip.user_ns.update(namespace)
    magics = ip.magics_manager.registry["WasinnMagics"]
    try:
        result = ip.run_cell(BLOCKS[0])
        result.raise_error()
        assert ip.user_ns["road"].outputs[0].shape == (1, 4, 512, 896)
        scope = dict(ip.user_ns)
        exec(BLOCKS[1], scope)  # README's own example
        assert abs(scope["seg"].shares["road"] - 0.192) < 0.01
        assert scope["picture"].shape == (512, 896, 3)
        exec(BLOCKS[2], {})
    finally:
        magics.timeout, magics.show = None, "text"
    assert (road_workdir / "road-512x896x3xf32-bgr.tensor").stat().st_size == 512 * 896 * 3 * 4
