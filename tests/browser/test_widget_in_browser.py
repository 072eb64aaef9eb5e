"""The widgets and the notebooks in a real JupyterLab in headless Chromium.

``scripts/browser_widget_check.py`` does the work: the SegmentationView's slider, enlarge,
side-by-side and class toggles (clicked, and the DOM observed), TopKView's labels not clipped
(``scrollWidth <= clientWidth`` of every label), TensorView's bounded picture, then every
notebook in ``notebooks/`` cleared and run all in JupyterLab with no error output (bar cells
tagged ``raises-exception``). Skipped unless Chromium (Debian's ``chromium``), ``playwright`` and
``jupyterlab`` are installed, or without the mirror. The screenshots (one per widget and per
notebook) stay in ``artifacts/browser/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared" / "fixtures"))
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
def test_widgets_work_and_every_notebook_runs_in_jupyterlab() -> None:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    if not FIXTURES.is_dir():
        pytest.skip(f"no mirror at {FIXTURES}: the notebooks would download their data")
    command = [sys.executable, str(SCRIPT), "--artifacts", str(ARTIFACTS), "--timeout", "420"]
    done = subprocess.run(
        [*command, "--mirror", str(FIXTURES)],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
        cwd=REPO,
    )
    report = f"stdout: {done.stdout.strip()}\nstderr: {done.stderr.strip()[-2000:]}"
    assert done.returncode == 0, f"browser check failed ({done.returncode})\n{report}"
    assert done.stdout.startswith("OK"), report
    widgets = ("segmentation-enlarged", "segmentation-side-by-side", "topk", "tensor")
    notebooks = [
        f"notebook-{path.stem}.png" for path in sorted((REPO / "notebooks").glob("*.ipynb"))
    ]
    for name in (
        "1-rendered.png", "1-widget.png", "2-after-slider.png", "2-widget.png",
        *(f"widget-{widget}.png" for widget in widgets), *notebooks,
    ):  # fmt: skip
        shot = ARTIFACTS / name
        assert shot.is_file(), f"no screenshot {shot}"
        assert shot.read_bytes()[:8] == PNG, f"{shot} is not a PNG"
    before = (ARTIFACTS / "overlay-before.png").read_bytes()
    after = (ARTIFACTS / "overlay-after.png").read_bytes()
    assert before[:8] == PNG and after[:8] == PNG
    assert before != after, "the overlay PNG did not change when the slider moved"
    for checked in ("enlarge", "side by side 3 panels", "toggle redrew", "TopK labels unclipped"):
        assert checked in done.stdout, report
    assert done.stdout.count(".ipynb") == len(notebooks), report
