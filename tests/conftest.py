"""Shared fixtures: the mirror of real data beside the checkout, and tiny synthetic images."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from _paths import FIXTURES, ROAD, ROAD_INPUT


@pytest.fixture
def road_dir() -> Path:
    """The road-segmentation fixture folder (model, weights and the Mapillary image)."""
    if not (ROAD / "empty_road_mapillary.jpg").is_file():
        pytest.skip(f"fixture mirror not found at {FIXTURES} (set WASINN_MIRROR)")
    return ROAD


@pytest.fixture
def tiny_bgr() -> np.ndarray:
    """A 2x3 BGR image with distinct values in every pixel and channel."""
    return np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3) * 10 + 5


@pytest.fixture(scope="session", autouse=True)
def _module_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the test run's compiled-module, compiled-model and build caches out of the user's."""
    os.environ["WASINN_CACHE_DIR"] = str(tmp_path_factory.mktemp("module-cache"))
    os.environ["WASINN_MODEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("model-cache"))
    os.environ["WASINN_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    os.environ["WASINN_BUILD_DIR"] = str(tmp_path_factory.mktemp("builds"))


@pytest.fixture
def road_workdir(road_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the road fixture folder with im2tensor's input tensor, as the current dir."""
    import shutil

    from wasinn_nb import TensorSpec, image_to_tensor, save_tensor

    for name in ("road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin"):
        shutil.copy(road_dir / name, tmp_path / name)
    tensor = image_to_tensor(road_dir / "empty_road_mapillary.jpg", TensorSpec(512, 896))
    save_tensor(tensor, tmp_path / ROAD_INPUT)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def ip():
    """The test session's one IPython shell, with the extension loaded."""
    pytest.importorskip("IPython")
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or __import__("IPython").get_ipython()
    shell.run_line_magic("load_ext", "wasinn_nb")
    return shell


@pytest.fixture(scope="session")
def kernel():
    """A real ipykernel (as JupyterLab starts one) with the extension loaded: its client."""
    pytest.importorskip("jupyter_client")
    pytest.importorskip("ipykernel")
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        reply = client.execute("%load_ext wasinn_nb", reply=True, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
