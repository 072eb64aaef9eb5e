"""Progress bars: a widget in a Jupyter kernel, text on a terminal, nothing when quiet or piped.

The kernel tests run the real commands on a real ipykernel and look for the widget among the
messages it publishes (before, tqdm's ``disable=None`` turned every bar off in a kernel).
"""

from __future__ import annotations

import hashlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from wasinn_nb.cli import main
from wasinn_nb.progress import progress, progress_bar

WIDGET = "application/vnd.jupyter.widget-view+json"
PAYLOAD = b"weights " * 50_000


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_text_bar_is_drawn_on_a_terminal_only():
    shown, piped = Terminal(), io.StringIO()
    assert list(progress(range(3), desc="steps", unit="step", file=shown)) == [0, 1, 2]
    assert "steps" in shown.getvalue() and "3/3" in shown.getvalue()
    assert list(progress(range(3), desc="steps", file=piped)) == [0, 1, 2]
    assert piped.getvalue() == ""
    quiet = Terminal()
    with progress_bar(10, desc="bytes", enabled=False, file=quiet) as bar:
        bar.update(10)
    assert quiet.getvalue() == ""


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"p{i}.png"), np.full((8, 8, 3), i * 40, np.uint8))
    return folder


def test_a_folder_of_images_counts_on_the_terminal_and_is_silent_with_quiet(photos, tmp_path):
    args = ["im2tensor", "--image", str(photos), "--dims", "8x8x3xu8", "--tensor"]
    err = Terminal()
    assert main([*args, str(tmp_path / "t1")], stdout=io.StringIO(), stderr=err) == 0
    assert "im2tensor" in err.getvalue() and "3/3" in err.getvalue()
    err = Terminal()
    assert main([*args, str(tmp_path / "t2"), "-q"], stdout=io.StringIO(), stderr=err) == 0
    assert err.getvalue() == ""


def _widgets(kernel, code: str) -> list[dict]:
    """Run ``code`` on the kernel; the widgets it displayed (and fail on an error)."""
    shown: list[dict] = []

    def collect(message: dict) -> None:
        if message["msg_type"] in ("display_data", "update_display_data"):
            data = message["content"]["data"]
            if WIDGET in data:
                shown.append(data)

    reply = kernel.execute_interactive(code, output_hook=collect, timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
    return shown


@pytest.fixture
def upstream():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/toy.bin"
    httpd.shutdown()


def test_a_download_in_a_kernel_shows_a_widget(kernel, upstream, tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    code = f"""
from wasinn_nb.data import Asset, fetch_asset
toy = Asset("toy", "toy.bin", "model", ({upstream!r},), {len(PAYLOAD)}, {digest!r}, "MIT", "t")
path = fetch_asset(toy, dest={str(tmp_path)!r})
assert path.stat().st_size == {len(PAYLOAD)}
"""
    assert len(_widgets(kernel, code)) == 1
    assert _widgets(kernel, code) == []  # cached: nothing to show


def test_a_folder_of_images_and_a_bench_show_widgets_in_a_kernel(kernel, photos, tmp_path):
    convert = f"%wasinn im2tensor --image {photos} --dims 8x8x3xu8 --tensor {tmp_path}/t"
    assert len(_widgets(kernel, convert)) == 1
    assert _widgets(kernel, convert + "2 -q") == []
    guest = tmp_path / "noop.wat"
    guest.write_text('(module (memory (export "memory") 1) (func (export "_start")))')
    assert len(_widgets(kernel, f"%wasinn bench {guest} -n 2")) == 1
    assert _widgets(kernel, f"%wasinn bench {guest} -n 2 -q") == []
