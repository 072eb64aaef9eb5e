"""README's first command: the road-segmentation demo end to end, from the mirror."""

from __future__ import annotations

import io

import cv2
import pytest
from _paths import FIXTURES

import wasinn_nb.data.fetcher as fetch_module
from wasinn_nb.cli import main
from wasinn_nb.data import FetchError


@pytest.mark.openvino
def test_demo_writes_the_overlay_and_reports_the_road_share(tmp_path, monkeypatch):
    pytest.importorskip("openvino")
    if not FIXTURES.is_dir():
        pytest.skip("no mirror")
    monkeypatch.setenv("WASINN_MIRROR", str(FIXTURES))
    out = io.StringIO()
    assert main(["demo", "--out", str(tmp_path)], stdout=out, stderr=io.StringIO()) == 0
    text = out.getvalue()
    assert "Executed graph inference" in text  # the guest's own output streams through
    assert "road 0.19" in text
    overlay = cv2.imread(str(tmp_path / "road-overlay.png"))
    assert overlay is not None and overlay.shape[0] == 512


def test_demo_without_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("WASINN_DATA_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("WASINN_MIRROR", raising=False)
    err = io.StringIO()
    monkeypatch.setattr(fetch_module, "_download", _offline)
    status = main(["demo", "--out", str(tmp_path / "out")], stdout=io.StringIO(), stderr=err)
    assert status == 1
    assert "cannot fetch road-segmentation-adas-0001.xml" in err.getvalue()
    assert "--mirror DIR" in err.getvalue()


def _offline(url, target, asset, progress):
    raise FetchError(f"{url}: no network")
