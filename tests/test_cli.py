from __future__ import annotations

import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from wasinn_nb import load_tensor
from wasinn_nb.cli import im2tensor_main, main


@dataclass
class Result:
    status: int
    stdout: str
    stderr: str


def im2tensor(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    status = im2tensor_main([str(a) for a in args], stdout=out, stderr=err)
    return Result(status, out.getvalue(), err.getvalue())


def wasinn(*args: str) -> Result:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in args], stdout=out, stderr=err)
    return Result(status, out.getvalue(), err.getvalue())


@pytest.fixture
def photo(tmp_path) -> Path:
    pixels = np.random.default_rng(3).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), pixels)
    return path


def test_convert_writes_raw_tensor_and_prints_summary(tmp_path, photo):
    out = tmp_path / "t.tensor"
    result = im2tensor("--image", photo, "--dims", "32x48x3xfp32", "--tensor", out)
    assert result.status == 0, result.stderr
    assert out.stat().st_size == 32 * 48 * 3 * 4
    assert "1x3x32x48 fp32 NCHW BGR" in result.stdout
    assert "B " in result.stdout  # per-channel statistics


def test_convert_into_a_folder_derives_the_name(tmp_path, photo):
    result = im2tensor("--image", photo, "--dims", "8x8x3xu8", "--color", "rgb", "--layout",
                       "nhwc", "--tensor", tmp_path, "-q")  # fmt: skip
    assert result.status == 0 and result.stdout == ""
    written = tmp_path / "photo-8x8x3xu8-rgb-nhwc.tensor"
    assert load_tensor(written).shape == (1, 8, 8, 3)


def test_every_spec_option_reaches_the_tensor(tmp_path, photo):
    out = tmp_path / "t.npy"
    result = im2tensor("--image", photo, "--dims", "10x10x3xf16", "--resize", "letterbox",
                       "--interp", "nearest", "--pad-value", "7", "--scale", "1/255", "--mean",
                       "0.5", "--std", "0.5,0.25,0.125", "--no-batch", "--tensor", out)  # fmt: skip
    assert result.status == 0, result.stderr
    tensor = np.load(out)
    assert tensor.shape == (3, 10, 10) and tensor.dtype == np.float16
    pad = (7 / 255 - 0.5) / np.array([0.5, 0.25, 0.125])
    np.testing.assert_allclose(tensor[:, 0, 0], pad, rtol=1e-3)


def test_glob_and_folder_inputs_convert_many(tmp_path, photo):
    cv2.imwrite(str(tmp_path / "second.jpg"), np.zeros((9, 9, 3), np.uint8))
    out = tmp_path / "out"
    result = im2tensor("--image", tmp_path / "*.*g", "--dims", "4x4x3xu8", "--tensor", out)
    assert result.status == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "photo-4x4x3xu8-bgr.tensor", "second-4x4x3xu8-bgr.tensor"]  # fmt: skip
    result = im2tensor("--image", tmp_path, "--dims", "4x4x3xu8", "--tensor", out, "--npy")
    assert "converted 2 of 2 images" in result.stdout


def test_batch_reports_bad_images_and_converts_the_rest(tmp_path, photo):
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "out"
    result = im2tensor("--image", tmp_path, "--dims", "4x4x3xu8", "--tensor", out)
    assert result.status == 1
    assert "broken.jpg" in result.stderr and "Traceback" not in result.stderr
    assert [p.name for p in out.iterdir()] == ["photo-4x4x3xu8-bgr.tensor"]


def test_batch_refuses_colliding_outputs(tmp_path, photo):
    cv2.imwrite(str(tmp_path / "photo.jpg"), np.zeros((9, 9, 3), np.uint8))
    result = im2tensor("--image", tmp_path, "--dims", "4x4x3xu8", "--tensor", tmp_path / "o")
    assert result.status == 1 and "would both be written" in result.stderr
    assert not (tmp_path / "o").exists()


def truncated_jpeg(tmp_path: Path) -> Path:
    _, data = cv2.imencode(".jpg", np.full((64, 64, 3), 90, np.uint8))
    path = tmp_path / "cut.jpg"
    path.write_bytes(data.tobytes()[: len(data) // 2])
    return path


BAD_INPUTS = {
    "missing file": (lambda d: ["--image", d / "nope.jpg", "--dims", "8x8x3xfp32"], 1,
                     "cannot read image .*nope.jpg: No such file"),
    "not an image": (lambda d: ["--image", (d / "a.jpg").write_text("hello") and d / "a.jpg",
                                "--dims", "8x8x3xfp32"], 1, "not an image format"),
    "truncated jpeg": (lambda d: ["--image", truncated_jpeg(d), "--dims", "8x8x3xfp32"], 1,
                       "truncated JPEG"),
    "two dims": (lambda d: ["--image", "x.jpg", "--dims", "512x896"], 2, "bad dims '512x896'"),
    "zero dims": (lambda d: ["--image", "x.jpg", "--dims", "0x4x3xfp32"], 2, "height must be"),
    "bogus type": (lambda d: ["--image", "x.jpg", "--dims", "512x896x3xbogus"], 2,
                   "unknown tensor type 'bogus'"),
    "bad mean": (lambda d: ["--image", "x.jpg", "--dims", "8x8x3xf32", "--mean", "a"], 2,
                 "not a number"),
    "unknown flag": (lambda d: ["--image", "x.jpg", "--dims", "8x8x3xf32", "--colour", "rgb"], 2,
                     "unrecognized arguments"),
    "unwritable output": (lambda d: ["--image", d / "ok.png", "--dims", "8x8x3xfp32",
                                     "--tensor", d / "ok.png" / "out.tensor"], 1, "cannot write"),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_gives_one_line_and_no_output(tmp_path, case):
    make_args, status, message = BAD_INPUTS[case]
    cv2.imwrite(str(tmp_path / "ok.png"), np.zeros((9, 9, 3), np.uint8))
    args = make_args(tmp_path)
    if "--tensor" not in args:
        args += ["--tensor", tmp_path / "out.tensor"]
    before = set(tmp_path.rglob("*"))
    result = im2tensor(*args)
    assert result.status == status
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("im2tensor: error: ")
    assert "Traceback" not in result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert set(tmp_path.rglob("*")) == before  # nothing written, no temp file left


def test_failed_conversion_keeps_an_existing_output(tmp_path):
    out = tmp_path / "out.tensor"
    out.write_bytes(b"precious")
    result = im2tensor("--image", truncated_jpeg(tmp_path), "--dims", "8x8x3xf32", "--tensor", out)
    assert result.status == 1
    assert out.read_bytes() == b"precious"


def test_console_script_has_no_traceback_and_traceback_flag_shows_one(tmp_path):
    command = [sys.executable, "-m", "wasinn_nb", "im2tensor", "--image", tmp_path / "x.jpg",
               "--dims", "8x8x3xfp32"]  # fmt: skip
    quiet = subprocess.run(command, capture_output=True, text=True, check=False)
    assert quiet.returncode == 1 and quiet.stderr.startswith("wasinn: error: cannot read image")
    assert "Traceback" not in quiet.stderr
    loud = subprocess.run([*command, "--traceback"], capture_output=True, text=True, check=False)
    assert "Traceback" in loud.stderr and "ImageReadError" in loud.stderr


def test_inspect_reads_shape_from_the_name(tmp_path, photo):
    im2tensor("--image", photo, "--dims", "16x16x3xfp32", "--color", "rgb", "--tensor", tmp_path)
    path = tmp_path / "photo-16x16x3xf32-rgb.tensor"
    result = im2tensor("inspect", path)
    assert result.status == 0, result.stderr
    assert "shape  1x3x16x16   dtype fp32" in result.stdout
    assert [line.split()[0] for line in result.stdout.splitlines()[3:]] == ["R", "G", "B", "all"]
    assert wasinn("inspect", path).stdout == result.stdout


def test_inspect_with_explicit_dims(tmp_path):
    path = tmp_path / "scores.bin"
    path.write_bytes(np.arange(8, dtype=np.float32).tobytes())
    result = wasinn("inspect", path, "--dims", "1x2x2x2xf32")
    assert result.status == 0, result.stderr
    assert "shape from --dims" in result.stdout
    assert wasinn("inspect", path).stderr.startswith("wasinn: error: cannot tell the shape")
    assert "needs 64" in wasinn("inspect", path, "--dims", "1x2x2x2xf64").stderr


def test_to_png_round_trips_an_image(tmp_path, photo):
    im2tensor("--image", photo, "--dims", "60x80x3xfp32", "--scale", "1/255", "--mean",
              "0.4", "--std", "0.2", "--tensor", tmp_path / "t-60x80x3xf32-bgr.tensor")  # fmt: skip
    png = tmp_path / "back.png"
    result = im2tensor("to-png", tmp_path / "t-60x80x3xf32-bgr.tensor", png, "--scale", "1/255",
                       "--mean", "0.4", "--std", "0.2")  # fmt: skip
    assert result.status == 0, result.stderr
    np.testing.assert_array_equal(cv2.imread(str(png)), cv2.imread(str(photo)))


def test_to_png_renders_one_channel_of_scores(tmp_path):
    scores = np.zeros((1, 4, 2, 5), np.float32)
    scores[0, 1, 1, 4] = 1.0
    path = tmp_path / "out-1x4x2x5xf32.tensor"
    path.write_bytes(scores.tobytes())
    assert "--channel" in wasinn("to-png", path, tmp_path / "o.png").stderr
    assert wasinn("to-png", path, tmp_path / "o.png", "--channel", "1").status == 0
    assert cv2.imread(str(tmp_path / "o.png"), cv2.IMREAD_GRAYSCALE).tolist() == [
        [0] * 5,
        [0, 0, 0, 0, 255],
    ]
    bad = wasinn("to-png", path, tmp_path / "o.txt", "--channel", "1")
    assert bad.status == 1 and "not an image format" in bad.stderr


def test_help_lists_every_spec_option(capsys):
    assert im2tensor_main(["--help"]) == 0
    text = capsys.readouterr().out
    for flag in ("--image", "--dims", "--tensor", "--color", "--layout", "--resize", "--interp",
                 "--pad-value", "--mean", "--std", "--scale", "--no-batch"):  # fmt: skip
        assert flag in text
