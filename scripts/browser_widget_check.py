#!/usr/bin/env python3
"""Check SegmentationView in a real JupyterLab, in headless Chromium, with a live kernel.

The check writes a small notebook that builds a :class:`wasinn_nb.viz.widgets.SegmentationView`
from a synthetic image and score array (no model files), starts ``jupyter lab`` headless on a
free localhost port in a temporary root, opens the notebook in Chromium through Playwright, runs
all cells, and then asserts that:

* the widget rendered (three panel images, the opacity slider and the legend), and no output
  says "Error displaying widget" or holds a traceback;
* dragging the opacity slider makes the kernel re-render the overlay image: its ``src`` changes
  and the new PNG differs from the old one.

Screenshots and the two overlay PNGs go to ``--artifacts``; the JupyterLab log goes there too.
Exit status 0 on success; otherwise 1 (check failed) or 2 (a prerequisite is missing), with a
one-line reason on stderr. The server, its kernel and the browser are always shut down.

Needs: ``jupyterlab`` (with ``ipykernel``; ipywidgets 8 brings ``jupyterlab_widgets``),
``playwright`` from PyPI, and Chromium at ``/usr/bin/chromium`` (Debian's ``chromium``);
Playwright's own browser download is not used.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "segmentation_view_check.ipynb"
KERNEL_PID_FILE = "kernel.pid"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET_ERROR = "Error displaying widget"

SETUP_CELL = """\
import os
from pathlib import Path

_ = Path("kernel.pid").write_text(str(os.getpid()))  # the check ends this kernel if it lingers
"""

BUILD_CELL = """\
import numpy as np

from wasinn_nb.results import Segmentation
from wasinn_nb.viz.widgets import SegmentationView

# A 64x96 BGR gradient and (1, 3, 64, 96) scores: class 0 above, 1 below, 2 a disc in between.
h, w = 64, 96
y, x = np.mgrid[0:h, 0:w]
bgr = np.stack(
    [x * 255 // (w - 1), y * 255 // (h - 1), np.full_like(x, 128)], axis=-1
).astype(np.uint8)
scores = np.zeros((1, 3, h, w), np.float32)
scores[0, 0] = (h / 2 - y) / h
scores[0, 1] = (y - h / 2) / h
scores[0, 2] = 0.6 - np.hypot(x - w / 2, y - h / 2) / 20
seg = Segmentation.from_output(scores, ["sky", "road", "car"], image=bgr)
"""

DISPLAY_CELL = """\
view = SegmentationView(bgr, seg, alpha=0.5, title="synthetic: sky, road and a car")
view.add_class("wasinn-check-view")             # stable hooks for the browser check
view.opacity.add_class("wasinn-check-opacity")
view.overlay_image.add_class("wasinn-check-overlay")
view.enlarge.add_class("wasinn-check-enlarge")
view.mode.add_class("wasinn-check-mode")
view
"""

TOPK_CELL = """\
from wasinn_nb.results import Classification
from wasinn_nb.viz.widgets import TensorView, TopKView

labels = [
    "n01440764 tench, Tinca tinca",
    "n02123045 tabby, tabby cat",
    "military uniform worn by an officer of a navy, a label long enough that it has to wrap",
    "n04350905 suit, suit of clothes",
    "n07753592 banana",
]
top = TopKView(Classification.from_output(np.array([0.05, 0.1, 0.5, 0.15, 0.2]), labels),
               title="top 5 (synthetic scores)", thumbnail=bgr)
top.add_class("wasinn-check-topk")
top
"""

TENSOR_CELL = """\
tensor = TensorView(np.random.default_rng(0).random((1, 3, 224, 224), np.float32), color="rgb")
tensor.add_class("wasinn-check-tensor")
tensor
"""

# Every selector below is scoped to the output of the cell that displays the view.
VIEW = ".wasinn-check-view"
OVERLAY = (
    f"{VIEW} img.wasinn-check-overlay, {VIEW} .wasinn-check-overlay img"  # Image, OverlayImage
)
SLIDER = f"{VIEW} .wasinn-check-opacity"
HANDLE = f"{SLIDER} .noUi-handle"
TRACK = f"{SLIDER} .noUi-target"
READOUT = f"{SLIDER} .widget-readout"

KERNEL_IDLE_JS = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const kernel = panel && panel.sessionContext && panel.sessionContext.session
        && panel.sessionContext.session.kernel;
    return !!kernel && kernel.status === 'idle';
}"""

# Resolves, once every code cell has run and the kernel is idle, with whether the view is up (its
# overlay image decoded); sooner if an output shows the widget error or a cell raised.
RENDERED_JS = """([overlay, error]) => {
    const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
    if (outputs.some(o => o.textContent.includes(error))) return 'widget-error';
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = [];
    for (let i = 0; i < panel.content.model.cells.length; i++)
        cells.push(panel.content.model.cells.get(i));
    for (const cell of cells.filter(c => c.type === 'code'))
        for (let j = 0; j < cell.outputs.length; j++) {
            const out = cell.outputs.get(j).toJSON();
            if (out.output_type === 'error') return `raised ${out.ename}: ${out.evalue}`;
        }
    const ran = cells.every(c => c.type !== 'code' || c.executionCount !== null);
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!ran || !kernel || kernel.status !== 'idle') return false;
    const img = document.querySelector(overlay);
    return img && img.complete && img.naturalWidth > 0 ? 'rendered' : 'ran-without-widget';
}"""

READ_IMAGE_JS = """async (img) => {
    const response = await fetch(img.src);
    const bytes = new Uint8Array(await response.arrayBuffer());
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000)
        text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return {src: img.src, png: btoa(text), width: img.naturalWidth, height: img.naturalHeight};
}"""


class CheckFailedError(Exception):
    """The front end did not behave: the message is the one-line reason."""


class MissingError(Exception):
    """A prerequisite (Chromium, Playwright, JupyterLab) is not installed."""


class Deadline:
    """One time budget shared by every wait of the check."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, what: str) -> float:
        """Seconds left; fails the check naming ``what`` when there are none."""
        left = self.end - time.monotonic()
        if left <= 0:
            raise CheckFailedError(f"timed out before {what}")
        return left

    def ms(self, what: str) -> float:
        """Milliseconds left, for Playwright's timeouts."""
        return self.left(what) * 1000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=REPO / "artifacts" / "browser",
        help="folder for screenshots, overlay PNGs and the server log (default: %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=240.0,
        help="seconds for the whole check, server start included (default: %(default)s)",
    )
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=None,
        help="folder for the screenshots of each widget and notebook (default: --artifacts)",
    )
    parser.add_argument(
        "--notebooks",
        type=Path,
        nargs="*",
        default=None,
        help="notebooks to run all cells of (default: every notebooks/*.ipynb; none: only the "
        "widget check)",
    )
    parser.add_argument(
        "--mirror",
        type=Path,
        default=Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared" / "fixtures")),
        help="the fixtures folder the notebooks read (default: $WASINN_MIRROR or %(default)s)",
    )
    parser.add_argument(
        "--chromium",
        type=Path,
        default=Path("/usr/bin/chromium"),
        help="the Chromium binary (default: %(default)s)",
    )
    return parser.parse_args(argv)


def check_prerequisites(chromium: Path) -> None:
    """Raise :class:`MissingError` naming the first thing that is not installed."""
    if not os.access(chromium, os.X_OK):
        raise MissingError(f"{chromium} not found (apt-get install -y chromium chromium-driver)")
    for module, package in (
        ("playwright", "playwright"),
        ("jupyterlab", "jupyterlab"),
        ("ipykernel", "ipykernel"),
        ("nbformat", "nbformat"),
        ("jupyterlab_widgets", "ipywidgets>=8"),
    ):
        if importlib.util.find_spec(module) is None:
            raise MissingError(f"Python module {module} not found (pip install {package})")


def write_notebook(path: Path) -> None:
    """The notebook the browser runs: set-up, data, and the view as the last output."""
    nbformat: Any = importlib.import_module("nbformat")  # untyped
    v4: Any = importlib.import_module("nbformat.v4")

    notebook = v4.new_notebook()
    notebook.cells = [
        v4.new_markdown_cell("# SegmentationView browser check"),
        v4.new_code_cell(SETUP_CELL),
        v4.new_code_cell(BUILD_CELL),
        v4.new_code_cell(DISPLAY_CELL),
        v4.new_code_cell(TOPK_CELL),
        v4.new_code_cell(TENSOR_CELL),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, path)


def free_port() -> int:
    """A TCP port on localhost that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(work: Path) -> dict[str, str]:
    """The environment of the server and its kernel: this checkout first, Jupyter state in
    ``work`` so that no user settings, workspaces or kernelspecs leak in.
    """
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        folder = work / name.lower()
        folder.mkdir()
        env[name] = str(folder)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.pop("JUPYTER_PATH", None)
    return env


def user_settings(work: Path) -> Path:
    """JupyterLab user settings that keep the "official Jupyter news?" toast away."""
    folder = work / "lab-user-settings"
    notification = folder / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false"}))
    tracker = folder / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))  # every cell in the DOM
    return folder


@contextlib.contextmanager
def jupyter_lab(
    root: Path, work: Path, log: Path, deadline: Deadline, mirror: Path | None
) -> Iterator[tuple[str, str]]:
    """Run ``jupyter lab`` headless in ``root``; yields its base URL and its token."""
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyter", "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        "--LabApp.expose_app_in_browser=True",   # window.jupyterapp, to run commands
        f"--LabApp.user_settings_dir={user_settings(work)}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI and these machines run as root
    with log.open("wb") as out:
        env = server_env(work)
        if mirror is not None:
            env["WASINN_MIRROR"] = str(mirror)
            env["WASINN_DATA_DIR"] = str(work / "data")
        server = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(server, base, token, log, deadline)
        yield base, token
    finally:
        stop_server(server, base, token, root / KERNEL_PID_FILE)


def wait_for_server(
    server: subprocess.Popen[bytes], base: str, token: str, log: Path, deadline: Deadline
) -> None:
    """Poll ``/api/status`` until the server answers."""
    while True:
        if server.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise CheckFailedError(f"jupyter lab exited with {server.returncode}: {tail[0]}")
        deadline.left("jupyter lab answered")
        request = urllib.request.Request(
            f"{base}/api/status", headers={"Authorization": f"token {token}"}
        )
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.25)


def stop_server(server: subprocess.Popen[bytes], base: str, token: str, kernel_pid: Path) -> None:
    """Ask the server to shut down (it ends its kernels), then make sure of it."""
    if server.poll() is None:
        request = urllib.request.Request(
            f"{base}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
        )
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=5).close()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    # The kernel runs in a session of its own; end it by its pid if the server did not.
    with contextlib.suppress(OSError, ValueError):
        pid = int(kernel_pid.read_text())
        for _ in range(20):
            os.kill(pid, 0)  # raises once it is gone
            time.sleep(0.25)
        os.kill(pid, signal.SIGKILL)


def read_overlay(page: Any) -> dict[str, Any]:
    """The overlay <img>'s src and its PNG bytes, read back from the page."""
    shown: dict[str, Any] = page.locator(OVERLAY).evaluate(READ_IMAGE_JS)
    shown["png"] = base64.b64decode(shown["png"])
    return shown


def drag_slider_to_end(page: Any, deadline: Deadline) -> None:
    """Drag the opacity handle with the mouse to the right end of its track."""
    handle = page.locator(HANDLE)
    handle.wait_for(state="visible", timeout=deadline.ms("the slider handle showed"))
    handle.scroll_into_view_if_needed()
    grip, track = handle.bounding_box(), page.locator(TRACK).bounding_box()
    if grip is None or track is None:
        raise CheckFailedError("the opacity slider has no box on the page")
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + track["width"] + 20, y, steps=12)
    page.mouse.up()


def wait_for_new_overlay(page: Any, old_src: str, seconds: float) -> bool:
    """Whether the overlay's src changed (and the new one decoded) within ``seconds``."""
    try:
        page.wait_for_function(
            """([selector, old]) => {
                const img = document.querySelector(selector);
                return !!img && img.src !== old && img.complete && img.naturalWidth > 0;
            }""",
            arg=[OVERLAY, old_src],
            timeout=seconds * 1000,
        )
    except Exception as error:  # playwright's TimeoutError
        if type(error).__name__ != "TimeoutError":
            raise
        return False
    return True


def png_difference(before: bytes, after: bytes) -> float:
    """Mean absolute difference of two PNGs' pixels (0-255), or -1 if they cannot be decoded."""
    try:
        import cv2
        import numpy as np
    except ImportError:
        return -1.0
    a = cv2.imdecode(np.frombuffer(before, np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(after, np.uint8), cv2.IMREAD_COLOR)
    if a is None or b is None or a.shape != b.shape:
        return -1.0
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def run_all_cells(page: Any, url: str, deadline: Deadline) -> None:
    """Open the notebook, wait for its kernel, run every cell and wait for the view."""
    page.goto(url, timeout=deadline.ms("the JupyterLab page loaded"))
    page.wait_for_function(
        "() => !!window.jupyterapp", timeout=deadline.ms("JupyterLab started in the page")
    )
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(
        timeout=deadline.ms("the notebook opened")
    )
    page.wait_for_function(KERNEL_IDLE_JS, timeout=deadline.ms("the kernel was idle"))
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    outcome = page.wait_for_function(
        RENDERED_JS, arg=[OVERLAY, WIDGET_ERROR], timeout=deadline.ms("the widget rendered")
    ).json_value()
    if outcome == "widget-error":
        raise CheckFailedError(f"the page says '{WIDGET_ERROR}'")
    if outcome.startswith("raised "):
        raise CheckFailedError(f"a notebook cell {outcome[:200]}")
    if outcome != "rendered":
        shown = page.locator(".jp-OutputArea-output").all_inner_texts()
        last = " ".join(shown[-1].split())[:120] if shown else "no output"
        raise CheckFailedError(
            f"all cells ran but the SegmentationView did not render (shows: {last})"
        )


def assert_view_complete(page: Any) -> None:
    """The rendered view: its title, the overlay alone, the slider at 0.50, three toggles."""
    if page.get_by_text(WIDGET_ERROR).count():
        raise CheckFailedError(f"the page says '{WIDGET_ERROR}'")
    count, loaded = loaded_images(page, VIEW)
    if count != 1 or loaded != 1:
        raise CheckFailedError(f"expected the overlay alone, found {loaded}/{count} loaded images")
    if "synthetic" not in page.locator(VIEW).inner_text():
        raise CheckFailedError("the view has no title")
    readout = page.locator(READOUT).inner_text().strip()
    if readout != "0.50":
        raise CheckFailedError(f"the opacity slider reads {readout!r}, not '0.50'")
    toggles = page.locator(f"{VIEW} .widget-checkbox").count()
    if toggles != 3:
        raise CheckFailedError(f"expected 3 legend toggles, found {toggles}")
    slider, overlay = page.locator(SLIDER).bounding_box(), page.locator(OVERLAY).bounding_box()
    if slider is None or overlay is None or slider["x"] < overlay["x"] + overlay["width"]:
        raise CheckFailedError("the opacity slider is not beside (right of) the overlay")


def loaded_images(page: Any, scope: str) -> tuple[int, int]:
    """How many <img> the scope holds, and how many of them have decoded."""
    images = page.locator(f"{scope} img")
    loaded = images.evaluate_all("(all) => all.filter(i => i.complete && i.naturalWidth > 0)")
    return images.count(), len(loaded)


def wait_for_images(page: Any, scope: str, count: int, deadline: Deadline, what: str) -> None:
    """Wait until ``scope`` shows exactly ``count`` decoded images."""
    page.wait_for_function(
        """([scope, count]) => {
            const all = [...document.querySelectorAll(scope + ' img')];
            return all.length === count && all.every(i => i.complete && i.naturalWidth > 0);
        }""",
        arg=[scope, count],
        timeout=min(20000.0, deadline.ms(what)),
    )


def check_enlarge_and_modes(page: Any, shots: Path, deadline: Deadline) -> str:
    """Enlarge grows the overlay; side by side shows three captioned panels; a toggle redraws."""
    overlay = page.locator(OVERLAY)
    before = overlay.bounding_box()["width"]
    page.locator(f"{VIEW} .wasinn-check-enlarge").click()
    page.wait_for_function(
        """([selector, width]) => {
            const img = document.querySelector(selector);
            return !!img && img.getBoundingClientRect().width > width + 50;
        }""",
        arg=[OVERLAY, before],
        timeout=min(20000.0, deadline.ms("the overlay grew")),
    )
    after = overlay.bounding_box()["width"]
    label = page.locator(f"{VIEW} .wasinn-check-enlarge").inner_text().strip()
    if label != "shrink":
        raise CheckFailedError(f"the enlarge button reads {label!r} once enlarged, not 'shrink'")
    page.locator(VIEW).screenshot(path=shots / "widget-segmentation-enlarged.png")

    page.locator(f"{VIEW} .wasinn-check-mode button", has_text="side by side").click()
    wait_for_images(page, VIEW, 3, deadline, "the side-by-side panels showed")
    captions = [t.strip() for t in page.locator(f"{VIEW} .widget-html b").all_inner_texts()]
    if [c for c in captions if c in ("original", "segmentation", "overlay")] != [
        "original", "segmentation", "overlay"
    ]:  # fmt: skip
        raise CheckFailedError(f"side-by-side captions are {captions}")
    page.locator(VIEW).screenshot(path=shots / "widget-segmentation-side-by-side.png")
    page.locator(f"{VIEW} .wasinn-check-mode button", has_text="overlay").first.click()
    wait_for_images(page, VIEW, 1, deadline, "the overlay alone showed again")

    hover = check_hover(page, deadline)
    old = read_overlay(page)["src"]
    page.locator(f"{VIEW} .widget-checkbox input").first.click()
    if not wait_for_new_overlay(page, old, min(20.0, deadline.left("a toggle redrew"))):
        raise CheckFailedError("turning a class toggle off did not redraw the overlay")
    return f"enlarge {before:.0f} -> {after:.0f} px, side by side 3 panels, {hover}, toggle redrew"


def check_hover(page: Any, deadline: Deadline) -> str:
    """Hovering the overlay's centre (the synthetic car) reads its class under the picture."""
    readout = page.locator(f"{VIEW} .wasinn-pixel-readout")
    if not readout.count():
        return "no hover readout (anywidget not installed)"
    box = page.locator(OVERLAY).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    try:
        page.wait_for_function(
            "(el) => el.textContent.includes(': car')",
            arg=readout.element_handle(),
            timeout=min(10000.0, deadline.ms("the hover readout")),
        )
    except Exception as error:
        if type(error).__name__ != "TimeoutError":
            raise
        raise CheckFailedError(f"hovering the car reads {readout.inner_text()!r}") from None
    return f"hover reads {readout.inner_text().strip()!r}"


LABEL_SIZES_JS = """(labels) => labels.map(label => {
    const box = label.closest('.widget-html') || label.parentElement;
    return {text: label.innerText, width: label.scrollWidth, shown: label.clientWidth,
            boxWidth: box.scrollWidth, boxShown: box.clientWidth};
})"""


def check_labels_not_clipped(page: Any, scope: str) -> int:
    """Every TopKView label in ``scope`` fits its box (scrollWidth <= clientWidth); how many."""
    sizes = page.locator(f"{scope} .wasinn-topk-label").evaluate_all(LABEL_SIZES_JS)
    if not sizes:
        raise CheckFailedError(f"no TopKView labels in {scope}")
    for size in sizes:
        if size["width"] > size["shown"] or size["boxWidth"] > size["boxShown"]:
            raise CheckFailedError(f"a TopKView label is clipped: {size}")
    return len(sizes)


def check_topk_and_tensor(page: Any, shots: Path) -> str:
    """TopKView's labels whole and clean; TensorView's channel at most 320 px wide."""
    topk, tensor = ".wasinn-check-topk", ".wasinn-check-tensor"
    count = check_labels_not_clipped(page, topk)
    names = [t.strip() for t in page.locator(f"{topk} .wasinn-topk-label").all_inner_texts()]
    if names[0] != "military uniform worn by an officer of a navy" or "n0" in " ".join(names):
        raise CheckFailedError(f"TopKView labels are {names}")
    page.locator(topk).scroll_into_view_if_needed()
    page.locator(topk).screenshot(path=shots / "widget-topk.png")
    picture = page.locator(f"{tensor} img").bounding_box()
    if picture is None or picture["width"] > 321:
        raise CheckFailedError(f"TensorView's picture is {picture} wide, not at most 320 px")
    buttons = page.locator(f"{tensor} .widget-toggle-buttons button").all_inner_texts()
    if [b.strip() for b in buttons] != ["R", "G", "B"]:
        raise CheckFailedError(f"TensorView's channels are {buttons}, not R, G, B")
    page.locator(tensor).scroll_into_view_if_needed()
    page.locator(tensor).screenshot(path=shots / "widget-tensor.png")
    return f"{count} TopK labels unclipped, TensorView {picture['width']:.0f} px with R/G/B"


def check(page: Any, url: str, artifacts: Path, shots: Path, deadline: Deadline) -> str:
    """The browser part of the check; returns a one-line summary."""
    run_all_cells(page, url, deadline)
    assert_view_complete(page)
    page.locator(VIEW).scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "1-rendered.png", full_page=True)
    page.locator(VIEW).screenshot(path=artifacts / "1-widget.png")
    before = read_overlay(page)
    (artifacts / "overlay-before.png").write_bytes(before["png"])

    how = "mouse drag"
    drag_slider_to_end(page, deadline)
    if not wait_for_new_overlay(page, before["src"], min(20.0, deadline.left("slider moved"))):
        how = "keyboard End (the drag did not change the image)"
        page.locator(HANDLE).focus()
        page.keyboard.press("End")
        if not wait_for_new_overlay(page, before["src"], min(20.0, deadline.left("slider moved"))):
            readout = page.locator(READOUT).inner_text().strip()
            raise CheckFailedError(
                f"moving the opacity slider (readout now {readout}) did not change the overlay"
            )
    # Let the kernel's last re-render (the slider sends values while it moves) arrive.
    with contextlib.suppress(Exception):
        page.wait_for_load_state("networkidle", timeout=2000)
    page.wait_for_timeout(1000)
    after = read_overlay(page)
    (artifacts / "overlay-after.png").write_bytes(after["png"])
    page.screenshot(path=artifacts / "2-after-slider.png", full_page=True)
    page.locator(VIEW).screenshot(path=artifacts / "2-widget.png")

    readout = page.locator(READOUT).inner_text().strip()
    modes = check_enlarge_and_modes(page, shots, deadline)
    widgets = check_topk_and_tensor(page, shots)
    if after["png"] == before["png"]:
        raise CheckFailedError("the overlay src changed but its PNG is byte for byte the same")
    diff = png_difference(before["png"], after["png"])
    if diff == 0.0:
        raise CheckFailedError("the overlay PNG changed but its pixels are the same")
    if page.get_by_text(WIDGET_ERROR).count():
        raise CheckFailedError(f"the page says '{WIDGET_ERROR}' after the slider moved")
    return (
        f"SegmentationView rendered; {how} set opacity 0.50 -> {readout} and the overlay "
        f"changed ({before['width']}x{before['height']} picture, mean pixel difference "
        f"{diff:.1f}); {modes}; {widgets}"
    )


NOTEBOOK_DONE_JS = """([error]) => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) return false;
    const outputs = [...panel.node.querySelectorAll('.jp-OutputArea-output')];
    if (outputs.some(o => o.textContent.includes(error))) return 'widget-error';
    const code = [];
    for (let i = 0; i < panel.content.model.cells.length; i++) {
        const cell = panel.content.model.cells.get(i);
        if (cell.type === 'code') code.push(cell);
    }
    for (const [n, cell] of code.entries()) {
        const tags = (cell.getMetadata && cell.getMetadata('tags')) || [];
        for (let j = 0; j < cell.outputs.length; j++) {
            const out = cell.outputs.get(j).toJSON();
            if (out.output_type === 'error' && !tags.includes('raises-exception'))
                return `code cell ${n} raised ${out.ename}: ${out.evalue}`;
        }
    }
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const ran = code.length > 0 && code.every(c => c.executionCount !== null);
    return ran && !!kernel && kernel.status === 'idle' ? 'ran' : false;
}"""


def run_notebook(
    page: Any, base: str, token: str, name: str, shots: Path, deadline: Deadline
) -> str:
    """Open ``notebooks/NAME`` in JupyterLab, clear it, run all, and check every output."""
    page.goto(f"{base}/lab/tree/notebooks/{name}?reset&token={token}",
              timeout=deadline.ms(f"{name} loaded"))  # fmt: skip
    page.wait_for_function("() => !!window.jupyterapp", timeout=deadline.ms("JupyterLab started"))
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=deadline.ms(f"{name} opened"))
    page.wait_for_function(KERNEL_IDLE_JS, timeout=deadline.ms(f"{name}'s kernel was idle"))
    started = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    outcome = page.wait_for_function(
        NOTEBOOK_DONE_JS, arg=[WIDGET_ERROR], timeout=deadline.ms(f"{name} ran"), polling=500
    ).json_value()
    if outcome != "ran":
        with contextlib.suppress(Exception):
            page.screenshot(path=shots / f"failure-{Path(name).stem}.png")
        raise CheckFailedError(f"{name}: {outcome}")
    seconds = time.monotonic() - started
    labels = page.locator(".jp-NotebookPanel .wasinn-topk-label").count()
    if labels:
        check_labels_not_clipped(page, ".jp-NotebookPanel")
    first = page.locator(".jp-NotebookPanel .jp-OutputArea-output .widget-vbox").first
    if first.count():  # the first view; a notebook without one is shown where it ended
        first.scroll_into_view_if_needed()
    page.screenshot(path=shots / f"notebook-{Path(name).stem}.png")
    page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    return f"{name} {seconds:.0f} s" + (f" ({labels} TopK labels unclipped)" if labels else "")


def copy_notebooks(paths: list[Path], folder: Path) -> list[str]:
    """Copy the notebooks into the server's root; their names."""
    folder.mkdir()
    for path in paths:
        (folder / path.name).write_bytes(path.read_bytes())
    return [path.name for path in paths]


def run(args: argparse.Namespace) -> str:
    """Start everything, run the checks, stop everything; returns the summary."""
    from playwright.sync_api import sync_playwright

    deadline = Deadline(args.timeout)
    artifacts = args.artifacts.resolve()
    shots = (args.screenshots or args.artifacts).resolve()
    for folder in (artifacts, shots):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
    notebooks = (
        sorted((REPO / "notebooks").glob("*.ipynb")) if args.notebooks is None else args.notebooks
    )
    with tempfile.TemporaryDirectory(prefix="wasinn-browser-check-") as temp:
        work = Path(temp)
        root = work / "root"
        root.mkdir()
        write_notebook(root / NOTEBOOK)
        names = copy_notebooks(notebooks, root / "notebooks")
        mirror = args.mirror.resolve() if notebooks else None
        with (
            jupyter_lab(root, work, artifacts / "jupyter-lab.log", deadline, mirror) as (
                base,
                token,
            ),
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch_persistent_context(
                str(work / "chromium-profile"),
                executable_path=str(args.chromium),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1400, "height": 1000},
                timeout=deadline.ms("Chromium started"),
            )
            try:
                page = browser.pages[0] if browser.pages else browser.new_page()
                console: list[str] = []
                page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
                try:
                    url = f"{base}/lab/tree/{NOTEBOOK}?reset&token={token}"
                    summary = check(page, url, artifacts, shots, deadline)
                    page.evaluate(
                        "() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()"
                    )
                    ran = [run_notebook(page, base, token, n, shots, deadline) for n in names]
                except Exception:
                    with contextlib.suppress(Exception):
                        page.screenshot(path=artifacts / "failure.png", full_page=True)
                    raise
                finally:
                    (artifacts / "console.log").write_text("\n".join(console) + "\n")
            finally:
                browser.close()
    return summary + (f"; run all without errors: {', '.join(ran)}" if ran else "")


def main(argv: list[str] | None = None) -> int:
    """Run the check; 0 on success, 1 if it failed, 2 if a prerequisite is missing."""
    args = parse_args(argv)
    started = time.monotonic()
    try:
        check_prerequisites(args.chromium)
        summary = run(args)
    except MissingError as error:
        print(f"MISSING: {error}", file=sys.stderr)
        return 2
    except CheckFailedError as error:
        print(f"FAIL: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # a Playwright timeout or crash: still one line
        reason = " ".join(str(error).split())[:300]
        print(f"FAIL: {type(error).__name__}: {reason}", file=sys.stderr)
        return 1
    print(f"OK in {time.monotonic() - started:.1f} s: {summary}")
    print(json.dumps({"artifacts": str(args.artifacts.resolve())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
