"""SegmentationView in a real JupyterLab in headless Chromium: scripts/browser_widget_check.py.

Skipped unless Chromium (Debian's ``chromium``), ``playwright`` and ``jupyterlab`` are installed.
The screenshots stay in ``artifacts/browser/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "browser_widget_check.py"
ARTIFACTS = REPO / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
PNG = b"\x89PNG\r\n\x1a\n"


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} not found (apt-get install -y chromium chromium-driver)"
    for module in ("playwright", "jupyterlab", "ipykernel", "nbformat", "jupyterlab_widgets"):
        if importlib.util.find_spec(module) is None:
            return f"Python module {module} not installed (pip install jupyterlab playwright)"
    return None


@pytest.mark.browser
@pytest.mark.slow
def test_segmentation_view_renders_and_slider_redraws_overlay() -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--artifacts", str(ARTIFACTS), "--timeout", "300"],
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
        cwd=REPO,
    )
    report = f"stdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()[-2000:]}"
    assert done.returncode == 0, f"browser check failed ({done.returncode})\n{report}"
    assert done.stdout.startswith("OK"), report
    for name in ("1-rendered.png", "1-widget.png", "2-after-slider.png", "2-widget.png"):
        shot = ARTIFACTS / name
        assert shot.is_file(), f"no screenshot {shot}"
        assert shot.read_bytes()[:8] == PNG, f"{shot} is not a PNG"
    before = (ARTIFACTS / "overlay-before.png").read_bytes()
    after = (ARTIFACTS / "overlay-after.png").read_bytes()
    assert before[:8] == PNG and after[:8] == PNG
    assert before != after, "the overlay PNG did not change when the slider moved"
