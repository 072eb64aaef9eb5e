"""Issue 10's attacks from outside the process: the CLI, a real kernel, devices, caches, images.

The in-process attacks on the ABI (bombs, sleeps, spins) are in tests/abi/test_abi_limits.py and
tests/abi/test_abi_stopping.py; the model-format sandbox in tests/test_model_sandbox.py.
"""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from wasinn_nb import Runner
from wasinn_nb.cli import im2tensor_main, main
from wasinn_nb.errors import ImageReadError, TensorFileError
from wasinn_nb.files import atomic_write
from wasinn_nb.im2tensor import load_image

SPIN = '(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))'
#: Prints "spinning" (so a test knows the guest runs), then spins forever.
SPIN_SAYING_SO = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "spinning\\0a")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 9))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (loop $l (br $l))))
"""
#: Seconds a stop may take (the host checks every 0.1 s; the rest is room for a loaded machine).
SLACK = 5.0


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(args), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_ctrl_c_stops_the_cli(tmp_path):
    guest = tmp_path / "spin.wat"
    guest.write_text(SPIN_SAYING_SO)
    process = subprocess.Popen(
        [sys.executable, "-m", "wasinn_nb", "run", str(guest)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    assert process.stdout.readline() == "spinning\n"  # the guest runs (however slow the start)
    assert process.poll() is None
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert time.perf_counter() - sent < SLACK
    assert process.returncode == 130
    assert err.strip() == "wasinn: interrupted"


def test_the_kernel_interrupt_stops_a_cell_and_the_kernel_answers_again():
    jupyter_client = pytest.importorskip("jupyter_client")
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        assert (
            client.execute_interactive("%load_ext wasinn_nb", timeout=60)["content"]["status"]
            == "ok"
        )
        client.execute(f"%%wasinn\n{SPIN_SAYING_SO}")
        _wait_for_output(client, "spinning")
        sent = time.perf_counter()
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=30)
        assert time.perf_counter() - sent < SLACK
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        answer = client.execute_interactive("21 * 2", timeout=30)
        assert answer["content"]["status"] == "ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _wait_for_output(client, text: str, timeout: float = 60) -> None:
    """Read the kernel's iopub messages until a stream carries ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = client.get_iopub_msg(timeout=deadline - time.monotonic())
        if message["msg_type"] == "stream" and text in message["content"]["text"]:
            return
    raise AssertionError(f"the kernel never printed {text!r}")


@pytest.mark.parametrize("device", ["/dev/full", "/dev/null"])
def test_im2tensor_never_replaces_a_device(tmp_path, device):
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    image = tmp_path / "a.png"
    import cv2

    cv2.imwrite(str(image), np.zeros((4, 4, 3), np.uint8))
    err = io.StringIO()
    status = im2tensor_main(
        ["--image", str(image), "--dims", "4x4x3xu8", "--tensor", device], stderr=err
    )
    assert status == 1
    assert (
        err.getvalue()
        == f"im2tensor: error: cannot write {device}: not a regular file (it is never replaced)\n"
    )
    assert stat.S_ISCHR(Path(device).stat().st_mode)


def test_atomic_write_refuses_a_fifo_and_writes_through_a_link(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(TensorFileError, match="not a regular file"), atomic_write(fifo) as out:
        out.write(b"x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    real, link = tmp_path / "real.bin", tmp_path / "link.bin"
    real.write_bytes(b"old")
    link.symlink_to(real)
    with atomic_write(link) as out:
        out.write(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_a_module_that_is_not_a_regular_file_is_one_line(tmp_path, source):
    if source == "fifo":
        source = str(tmp_path / "guest.wasm")
        os.mkfifo(source)
    start = time.perf_counter()
    status, _, err = _cli("run", source)
    assert (status, err) == (1, f"wasinn: error: cannot read module {source}: not a regular file\n")
    assert time.perf_counter() - start < SLACK


def test_an_image_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageReadError, match="not a regular file"):
        load_image(fifo)


def _png_header(width: int, height: int) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk
            + struct.pack(">I", zlib.crc32(chunk)))  # fmt: skip


def test_a_png_claiming_a_huge_size_is_refused_from_its_header(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(100_000, 100_000) + b"\0" * 64)
    err = io.StringIO()
    assert im2tensor_main(["--image", str(bomb), "--dims", "8x8x3xu8"], stderr=err) == 1
    assert err.getvalue() == (
        f"im2tensor: error: cannot read image {bomb}: 100000x100000 pixels is more than the "
        "268,435,456 allowed (raise it with --max-pixels or $WASINN_MAX_PIXELS)\n"
    )


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".webp"])
def test_the_pixel_cap_reads_every_common_header(tmp_path, suffix):
    import cv2

    image = tmp_path / f"photo{suffix}"
    cv2.imwrite(str(image), np.zeros((30, 40, 3), np.uint8))
    assert load_image(image, max_pixels=1200).shape == (30, 40, 3)
    with pytest.raises(ImageReadError, match="40x30 pixels is more than the 1,199 allowed"):
        load_image(image, max_pixels=1199)
    status = im2tensor_main(["--image", str(image), "--dims", "8x8x3xu8", "--max-pixels", "100"],
                            stderr=io.StringIO())  # fmt: skip
    assert status == 1


def test_a_corrupted_module_cache_entry_is_recompiled_and_replaced(tmp_path):
    guest = '(module (memory (export "memory") 1) (func (export "_start")))'
    with Runner(cache_dir=tmp_path) as first:
        assert first.run(guest).ok
    (entry,) = tmp_path.glob("*.cwasm")
    good = entry.read_bytes()
    corrupted = bytearray(good)
    corrupted[len(corrupted) // 2] ^= 0xFF  # one flipped byte of machine code
    entry.write_bytes(bytes(corrupted))
    with Runner(cache_dir=tmp_path) as second:
        assert second.run(guest).ok
    assert entry.read_bytes() == good
    entry.write_bytes(b"garbage")
    with Runner(cache_dir=tmp_path) as third:
        assert third.run(guest).ok
    assert entry.read_bytes() == good


def _spin_loop_onnx() -> bytes:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    one = helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])
    body = helper.make_graph(
        [helper.make_node("Identity", ["c"], ["c2"]), helper.make_node("Add", ["x", "one"], ["y"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("c2", TensorProto.BOOL, []),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
        [one],
    )  # fmt: skip
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "cond", "x"], ["out"], body=body)],
        "spin",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1])],
        [helper.make_tensor("trips", TensorProto.INT64, [], [10**12]),
         helper.make_tensor("cond", TensorProto.BOOL, [], [True])],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return bytes(model.SerializeToString())


@pytest.mark.onnxruntime
def test_a_long_onnx_runtime_compute_is_cancelled_at_the_deadline():
    pytest.importorskip("onnxruntime")
    from abi.guests import BUILDERS, CTX_OUT, GRAPH_OUT, call, data, module, u32

    model = _spin_loop_onnx()
    x = np.zeros(1, np.float32).tobytes()
    tensor = u32(0x340, 1) + bytes([1, 0, 0, 0]) + u32(0x400, 4)
    guest = module(
        call("load", BUILDERS, 1, 1, 0, GRAPH_OUT), call("init_execution_context", 0, CTX_OUT),
        call("set_input", 0, 0, 0x300), call("compute", 0),
        segments=[data(BUILDERS, u32(0x1000, len(model))), data(0x1000, model),
                  data(0x300, tensor), data(0x340, u32(1)), data(0x400, x)],
    )  # fmt: skip
    start = time.perf_counter()
    with Runner(cache_dir=None) as runner:
        result = runner.run(guest, timeout=1.0)
    assert result.error == "timed out after 1 s"
    assert time.perf_counter() - start < 1.0 + SLACK
    assert any("ONNX Runtime inference was cancelled" in line for line in result.host_log)


CREATE = """(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "new.txt")
  (func (export "_start")
    ;; path_open(preopen 3, no flags, "new.txt", O_CREAT, rights fd_write|fd_read) -> exit(errno)
    (call $exit (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 7)
                            (i32.const 1) (i64.const 66) (i64.const 66) (i32.const 0)
                            (i32.const 64)))))
"""


@pytest.mark.parametrize("spelling", ["{d}:ro", "{d}::{d}:ro", "{d}:{d}:readonly"])
def test_a_read_only_dir_cannot_be_written(tmp_path, spelling):
    shared = tmp_path / "shared"
    shared.mkdir()
    with Runner(cache_dir=None) as runner:
        refused = runner.run(CREATE, dirs=[spelling.format(d=shared)])
        assert not (shared / "new.txt").exists()
        allowed = runner.run(CREATE, dirs=[str(shared)])
    assert refused.exit_code not in (0, None), refused.error
    assert allowed.exit_code == 0 and (shared / "new.txt").exists()
