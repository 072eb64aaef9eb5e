"""The fetcher: pinned digests, mirror copies, verified downloads, nothing partial left behind."""

from __future__ import annotations

import hashlib
import io
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import pytest
from _paths import FIXTURES

from wasinn_nb.cli import main
from wasinn_nb.data import ASSETS, BUNDLES, Asset, FetchError, fetch, fetch_asset
from wasinn_nb.data.fetcher import resolve_names

PAYLOAD = b"model bytes " * 1000
ASSET = Asset("toy", "toy.bin", "model", (), len(PAYLOAD), hashlib.sha256(PAYLOAD).hexdigest(),
              "MIT", "test payload")  # fmt: skip


class Handler(BaseHTTPRequestHandler):
    """/good serves the payload, /bad other bytes, /cut half of it then hangs up."""

    def do_GET(self) -> None:
        body = {"/good": PAYLOAD, "/bad": PAYLOAD[::-1], "/cut": PAYLOAD}.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if self.path == "/cut" else body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def toy(*urls: str) -> Asset:
    return replace(ASSET, urls=urls)


def test_download_is_verified_and_cached(server, tmp_path):
    path = fetch_asset(toy(f"{server}/good"), dest=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert fetch_asset(toy("http://127.0.0.1:9/unreachable"), dest=tmp_path) == path  # cached


def test_wrong_hash_is_an_error_and_leaves_no_file(server, tmp_path):
    with pytest.raises(FetchError, match="is not the pinned"):
        fetch_asset(toy(f"{server}/bad"), dest=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_leaves_no_partial_file(server, tmp_path):
    with pytest.raises(FetchError, match=r"cut short|IncompleteRead|Connection"):
        fetch_asset(toy(f"{server}/cut"), dest=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_next_url_is_tried_after_a_failure(server, tmp_path):
    path = fetch_asset(toy(f"{server}/missing", f"{server}/good"), dest=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD


def test_a_damaged_cached_copy_is_replaced(server, tmp_path):
    (tmp_path / "toy.bin").write_bytes(b"damaged")
    path = fetch_asset(toy(f"{server}/good"), dest=tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD


def test_offline_without_mirror_names_the_url_and_the_mirror_option(tmp_path, monkeypatch):
    monkeypatch.delenv("WASINN_MIRROR", raising=False)
    asset = replace(toy("http://127.0.0.1:9/toy.bin"), mirror="toys/toy.bin")
    with pytest.raises(FetchError) as raised:
        fetch_asset(asset, dest=tmp_path)
    message = str(raised.value)
    assert message.startswith("cannot fetch toy: no mirror (--mirror DIR or WASINN_MIRROR")
    assert "http://127.0.0.1:9/toy.bin" in message and "toys/toy.bin" in message
    assert "\n" not in message


def test_offline_with_a_mirror_that_lacks_the_file_names_the_path_tried(server, tmp_path):
    (tmp_path / "mirror").mkdir()
    asset = replace(toy(f"{server}/missing", "http://127.0.0.1:9/toy.bin"), mirror="toys/toy.bin")
    with pytest.raises(FetchError) as raised:
        fetch_asset(asset, dest=tmp_path / "out", mirror=tmp_path / "mirror", progress=False)
    message = str(raised.value)
    assert message.startswith(f"cannot fetch toy: not in the mirror (no {tmp_path}/mirror/toys")
    assert f"{server}/missing: Not Found" in message and "127.0.0.1:9/toy.bin: " in message
    assert "\n" not in message


def test_a_relative_wasinn_mirror_is_found_from_the_shell_folder(tmp_path, monkeypatch):
    """JupyterLab started in ``tmp`` with ``WASINN_MIRROR=mirror``; the kernel runs in ``nb``."""
    (tmp_path / "mirror" / "toys").mkdir(parents=True)
    (tmp_path / "mirror" / "toys" / "toy.bin").write_bytes(PAYLOAD)
    (tmp_path / "nb").mkdir()
    monkeypatch.chdir(tmp_path / "nb")
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("WASINN_MIRROR", "mirror")
    asset = replace(ASSET, mirror="toys/toy.bin")
    assert fetch_asset(asset, dest=tmp_path / "out").read_bytes() == PAYLOAD
    monkeypatch.setenv("WASINN_MIRROR", "../mirror")  # also right from the working folder
    assert fetch_asset(asset, dest=tmp_path / "out2").read_bytes() == PAYLOAD


def test_a_relative_mirror_that_is_nowhere_names_every_path_tried(tmp_path, monkeypatch):
    (tmp_path / "nb").mkdir()
    monkeypatch.chdir(tmp_path / "nb")
    monkeypatch.setenv("PWD", str(tmp_path))
    monkeypatch.setenv("WASINN_MIRROR", "../shared/fixtures")
    with pytest.raises(FetchError) as raised:
        fetch_asset(ASSET, dest=tmp_path / "out")
    assert str(raised.value) == (
        f"cannot fetch toy: WASINN_MIRROR='../shared/fixtures' is not a folder: tried "
        f"{tmp_path.parent}/shared/fixtures (from $PWD) and "
        f"{tmp_path}/shared/fixtures (from the working folder)"
    )
    assert not (tmp_path / "out").exists()
    # --mirror (and mirror=) was given here: only the working folder counts
    (tmp_path / "mirror").mkdir()
    with pytest.raises(FetchError, match=r"^cannot fetch toy: mirror 'mirror' is not a folder: "
                       rf"tried {tmp_path}/nb/mirror \(from the working folder\)$"):  # fmt: skip
        fetch_asset(ASSET, dest=tmp_path / "out", mirror="mirror")


def test_a_mirror_file_with_the_wrong_hash_is_refused(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "toys").mkdir(parents=True)
    (mirror / "toys" / "toy.bin").write_bytes(b"not the model")
    with pytest.raises(FetchError, match="does not have the sha256"):
        fetch_asset(replace(ASSET, mirror="toys/toy.bin"), dest=tmp_path / "out", mirror=mirror)
    assert not (tmp_path / "out" / "toy.bin").exists()


def test_unknown_names_list_the_known_ones():
    with pytest.raises(FetchError, match=r"unknown asset .roads..*road-segmentation"):
        resolve_names(["roads"])


@pytest.mark.parametrize("asset", [a for a in ASSETS.values() if a.mirror], ids=lambda a: a.name)
def test_manifest_matches_the_mirror(asset):
    path = FIXTURES / str(asset.mirror)
    if not path.is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    assert path.stat().st_size == asset.size
    assert hashlib.sha256(path.read_bytes()).hexdigest() == asset.sha256


def test_every_coral_file_in_the_mirror_is_in_the_manifest():
    folder = FIXTURES / "coral-test-data"
    if not folder.is_dir():
        pytest.skip(f"mirror not found at {FIXTURES}")
    listed = {a.mirror for a in ASSETS.values() if a.mirror}
    files = {f"coral-test-data/{p.name}" for p in folder.iterdir() if p.name != "LICENSE"}
    assert files <= listed, sorted(files - listed)
    coral = [a for a in ASSETS.values() if str(a.mirror).startswith("coral-test-data/")]
    prefix = (
        "https://github.com/google-coral/test_data/raw/104342d2d3480b3e66203073dac24f4e2dbb4c41/"
    )
    assert all(a.urls == (prefix + a.filename,) and a.license == "Apache-2.0" for a in coral)
    for bundle in ("coral-mobilenet", "coral-deeplab"):
        assert all(ASSETS[name].mirror for name in BUNDLES[bundle]), bundle


def test_manifest_is_complete():
    for asset in ASSETS.values():
        assert asset.urls and all(u.startswith("https://") for u in asset.urls), asset.name
        assert len(asset.sha256) == 64 and asset.size > 0 and asset.license
    for members in BUNDLES.values():
        assert all(m in ASSETS for m in members)


def test_fetch_bundle_from_the_mirror_via_the_cli(tmp_path):
    if not (FIXTURES / "tflite-birds_v1-image").is_dir():
        pytest.skip("no mirror")
    out, err = io.StringIO(), io.StringIO()
    status = main(["fetch", "birds", "--mirror", str(FIXTURES), "--dest", str(tmp_path)],
                  stdout=out, stderr=err)  # fmt: skip
    assert status == 0, err.getvalue()
    assert "bird.jpg" in out.getvalue()
    assert (tmp_path / "bird.jpg").stat().st_size == ASSETS["bird.jpg"].size
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bird.jpg", "lite-model_aiy_vision_classifier_birds_V1_3.tflite"]  # fmt: skip


def test_fetch_returns_paths_under_the_data_dir(tmp_path, monkeypatch):
    if not (FIXTURES / "wasi-nn-onnx").is_dir():
        pytest.skip("no mirror")
    monkeypatch.setenv("WASINN_DATA_DIR", str(tmp_path))
    paths = fetch("identity.onnx", mirror=FIXTURES)
    assert paths["identity.onnx"] == Path(tmp_path) / "model" / "identity_input_output.onnx"


# ---- the seed's MobileNet IR: its weights are only upstream --------------------------------------

WEIGHTS = b"\x00\x01 generated stand-in for mobilenet.bin " * 512


class UpstreamHandler(BaseHTTPRequestHandler):
    """Serves ``files`` (URL path -> bytes) and counts the requests per path."""

    files: ClassVar[dict[str, bytes]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def upstream():
    """A local server that answers for the manifest's upstream hosts (same URL paths)."""
    UpstreamHandler.files, UpstreamHandler.requests = {}, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), UpstreamHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


def local(url: str, server: str) -> str:
    """``url`` with its scheme and host replaced by the local server's."""
    return server + urlsplit(url).path


def test_mobilenet_weights_are_pinned_and_not_in_the_mirror():
    weights = ASSETS["mobilenet.bin"]
    assert weights.sha256.startswith("8371f708") and weights.size == 13_956_476
    assert weights.mirror is None
    assert BUNDLES["openvino-mobilenet"] == ("mobilenet.xml", "mobilenet.bin", "banana.jpg")


def test_mobilenet_bundle_downloads_the_weights_the_mirror_lacks(upstream, tmp_path, monkeypatch):
    """The notebook's ``fetch("openvino-mobilenet", mirror=...)``, with upstream served locally.

    The first upstream URL (GitHub's LFS redirect) fails, the second (download.01.org) serves
    the bytes; the xml and the photo still come from the mirror.
    """
    if not (FIXTURES / "openvino-mobilenet" / "mobilenet.xml").is_file():
        pytest.skip("no mirror")
    pinned = ASSETS["mobilenet.bin"]
    first, second = (local(url, upstream) for url in pinned.urls)
    UpstreamHandler.files = {urlsplit(second).path: WEIGHTS}
    stand_in = replace(pinned, urls=(first, second), size=len(WEIGHTS),
                       sha256=hashlib.sha256(WEIGHTS).hexdigest())  # fmt: skip
    monkeypatch.setitem(ASSETS, "mobilenet.bin", stand_in)
    paths = fetch("openvino-mobilenet", mirror=FIXTURES, dest=tmp_path, progress=False)
    assert paths["mobilenet.bin"].read_bytes() == WEIGHTS
    assert paths["mobilenet.xml"].stat().st_size == ASSETS["mobilenet.xml"].size
    assert UpstreamHandler.requests == [urlsplit(first).path, urlsplit(second).path]


def test_mobilenet_weights_with_the_wrong_bytes_upstream_are_refused(upstream, tmp_path):
    """Served bytes that do not have the pinned sha256 are not kept, from either URL."""
    pinned = ASSETS["mobilenet.bin"]
    urls = tuple(local(url, upstream) for url in pinned.urls)
    UpstreamHandler.files = {urlsplit(u).path: WEIGHTS for u in urls}
    with pytest.raises(FetchError) as raised:
        fetch_asset(replace(pinned, urls=urls, size=len(WEIGHTS)), dest=tmp_path, progress=False)
    assert str(raised.value).count("is not the pinned 8371f708") == 2
    assert list(tmp_path.iterdir()) == []
