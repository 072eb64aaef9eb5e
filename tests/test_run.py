"""The host end to end: the example guests on real models through OpenVINO and ONNX Runtime."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from _paths import GUESTS, ONNX_FIXTURES, ROAD_INPUT, ROAD_OUTPUT, TFLITE_BIRDS

from wasinn_nb import load_tensor, run
from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.cli import main

ROAD_ARGS = ["road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin", ROAD_INPUT]


def wasinn(*args: str | Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in args], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def class_shares(scores: np.ndarray) -> np.ndarray:
    classes = scores.argmax(axis=1)
    return np.bincount(classes.ravel(), minlength=scores.shape[1]) / classes.size


@pytest.mark.openvino
def test_road_seg_guest_matches_direct_openvino(road_workdir):
    ov = pytest.importorskip("openvino")
    status, stdout, stderr = wasinn(
        "run", GUESTS / "road-seg.wasm", "--dir", ".:.", "--", *ROAD_ARGS
    )
    assert status == 0, stderr
    assert "bytes_written: 7340032" in stdout
    output = road_workdir / ROAD_OUTPUT
    assert output.stat().st_size == 7_340_032
    scores = load_tensor(output)
    assert class_shares(scores)[1] == pytest.approx(0.192, abs=0.01)

    model = ov.Core().compile_model(
        str(road_workdir / ROAD_ARGS[0]), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    direct = model(load_tensor(road_workdir / ROAD_INPUT))[0]
    assert np.abs(scores - direct).max() <= 1e-4


@pytest.mark.openvino
def test_run_result_carries_tensors_timings_and_output(road_workdir):
    pytest.importorskip("openvino")
    result = run(GUESTS / "road-seg.wasm", ROAD_ARGS, dirs=[".:."])
    assert result.ok and result.error is None
    assert "Executed graph inference" in result.stdout
    assert result.inputs[0].shape == (1, 3, 512, 896) and result.inputs[0].dtype == np.float32
    assert result.outputs[0].shape == (1, 4, 512, 896)
    assert [c.name for c in result.calls] == [
        "load", "init_execution_context", "set_input", "compute", "get_output"]  # fmt: skip
    assert all(c.errno is NnErrno.SUCCESS for c in result.calls)
    for phase in ("compile", "load", "set_input", "compute", "get_output", "total"):
        assert result.timings[phase] > 0
    assert result.timings["total"] >= result.timings["compute"]


@pytest.mark.openvino
def test_named_guest_loads_a_preloaded_model_and_probes_the_output_size(road_workdir):
    pytest.importorskip("openvino")
    preload = "road:OpenVINO:CPU:road-segmentation-adas-0001.xml:road-segmentation-adas-0001.bin"
    result = run(GUESTS / "named.wasm", ["road", ROAD_INPUT, "out-1x4x512x896xf32.tensor"],
                 dirs=[".:."], preload=[preload])  # fmt: skip
    assert result.ok, result.stderr
    errnos = [(c.name, c.errno) for c in result.calls if c.name == "get_output"]
    assert errnos == [("get_output", NnErrno.TOO_LARGE), ("get_output", NnErrno.SUCCESS)]
    assert class_shares(load_tensor("out-1x4x512x896xf32.tensor"))[1] == pytest.approx(
        0.192, abs=0.01
    )


def test_named_guest_gets_103_for_an_unknown_name(tmp_path):
    (tmp_path / "x-1x4xf32.tensor").write_bytes(bytes(16))
    result = run(GUESTS / "named.wasm", ["nosuch", "x-1x4xf32.tensor"], dirs=[f"{tmp_path}::."])
    assert result.exit_code == 1
    assert result.calls[0].errno is NnErrno.MODEL_NOT_FOUND
    assert "not found (errno 103)" in result.stderr
    assert result.host_log == (
        "wasi-nn load_by_name: no model named 'nosuch' is preloaded (preloaded: none) "
        "-> errno 103 (model_not_found)",
    )


@pytest.mark.openvino
def test_birds_tflite_through_legacy_numbering_guest(tmp_path):
    pytest.importorskip("openvino")
    model = "lite-model_aiy_vision_classifier_birds_V1_3.tflite"
    for name in (model, "bird.jpg"):
        shutil.copy(TFLITE_BIRDS / name, tmp_path / name)
    result = run(GUESTS / "classify.wasm",
                 ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", model, "bird.jpg"],
                 dirs=[f"{tmp_path}::."])  # fmt: skip
    assert result.ok, result.stderr
    top = result.stdout.splitlines()[1].split()
    assert top[0] == "166"
    assert result.inputs[0].dtype == np.uint8  # type byte 2 = U8 in the <=0.5 numbering
    assert result.outputs[0].argmax() == 166


@pytest.mark.onnxruntime
@pytest.mark.parametrize("backend", [None, "openvino"])
def test_onnx_identity_model(tmp_path, backend):
    if backend is None:
        pytest.importorskip("onnxruntime")
    else:
        pytest.importorskip(backend)
    shutil.copy(ONNX_FIXTURES / "identity_input_output.onnx", tmp_path / "identity.onnx")
    values = np.array([[0.1, 0.7, -0.2, 0.4]], np.float32)
    (tmp_path / "values-1x4xf32.tensor").write_bytes(values.tobytes())
    result = run(GUESTS / "classify.wasm", ["identity.onnx", "values-1x4xf32.tensor"],
                 dirs=[f"{tmp_path}::."], backend=backend)  # fmt: skip
    assert result.ok, result.stderr
    np.testing.assert_array_equal(result.outputs[0], values)
    assert [line.split()[0] for line in result.stdout.splitlines()[1:5]] == ["1", "3", "0", "2"]


@pytest.mark.onnxruntime
def test_wasmtime_style_named_graph_folder(tmp_path):
    pytest.importorskip("onnxruntime")
    folder = tmp_path / "ident"
    folder.mkdir()
    shutil.copy(ONNX_FIXTURES / "identity_input_output.onnx", folder / "model.onnx")
    (tmp_path / "v-1x4xf32.tensor").write_bytes(np.arange(4, dtype=np.float32).tobytes())
    status, _stdout, stderr = wasinn("run", "-S", "nn", "-S", f"nn-graph=onnx::{folder}",
                                    "--dir", f"{tmp_path}::.", GUESTS / "named.wasm", "ident",
                                    "v-1x4xf32.tensor", "o-1x4xf32.tensor")  # fmt: skip
    assert status == 0, stderr
    assert load_tensor(tmp_path / "o-1x4xf32.tensor").tolist() == [[0.0, 1.0, 2.0, 3.0]]


def test_exit_status_is_the_guests(tmp_path):
    status, _stdout, stderr = wasinn("run", GUESTS / "named.wasm")
    assert status == 2  # the guest's usage error
    assert "usage" in stderr.lower()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.wasm"], "wasinn: error: cannot read module missing.wasm"),
        (["run", str(GUESTS / "named.wasm"), "--backend", "trt"], "unknown backend 'trt'"),
        (["run", str(GUESTS / "named.wasm"), "--nn-preload", "x:onnx"], "bad preload 'x:onnx'"),
        (["run", str(GUESTS / "named.wasm"), "--nn-preload", "x:bogus:cpu:m.onnx"],
         "unknown encoding 'bogus'"),
        (["run", str(GUESTS / "named.wasm"), "--nn-preload", "x:onnx:cpu:nope.onnx"],
         "no such file: nope.onnx"),
        (["run", str(GUESTS / "named.wasm"), "--dir", "/no/such/dir"], "--dir /no/such/dir"),
        (["run", str(GUESTS / "named.wasm"), "--env", "novalue"], "bad --env 'novalue'"),
        (["run", str(GUESTS / "named.wasm"), "-S", "threads"], "unknown -S option 'threads'"),
        (["run", str(GUESTS / "README.md")], "is neither a wasm binary nor WAT text"),
    ],
)  # fmt: skip
def test_run_errors_are_one_line(args, message):
    status, _stdout, stderr = wasinn(*args)
    assert status != 0
    assert stderr.count("\n") == 1 and message in stderr, stderr
    assert "Traceback" not in stderr


def test_env_and_args_reach_the_guest():
    guest = """
    (module
      (import "wasi_snapshot_preview1" "environ_sizes_get"
        (func $sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $args (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (drop (call $sizes (i32.const 0) (i32.const 4)))
        (drop (call $args (i32.const 8) (i32.const 12)))
        ;; exit with 10 * env count + argc
        (call $exit (i32.add (i32.mul (i32.load (i32.const 0)) (i32.const 10))
                             (i32.load (i32.const 8))))))
    """
    result = run(guest, ["a", "b"], env={"X": "1", "Y": "2"})
    assert result.exit_code == 23


def test_compiled_modules_are_cached_on_disk(tmp_path):
    from wasinn_nb.runtime import Runner

    first = Runner(cache_dir=tmp_path).run(GUESTS / "named.wasm")
    assert len(list(tmp_path.glob("*.cwasm"))) == 1
    second = Runner(cache_dir=tmp_path).run(GUESTS / "named.wasm")
    assert second.exit_code == first.exit_code == 2
    assert second.timings["compile"] < first.timings["compile"]


@pytest.mark.onnxruntime
def test_cli_passes_dashed_guest_arguments_after_double_dash(tmp_path):
    pytest.importorskip("onnxruntime")
    shutil.copy(ONNX_FIXTURES / "identity_input_output.onnx", tmp_path / "identity.onnx")
    (tmp_path / "v-1x4xf32.tensor").write_bytes(np.array([3, 1, 4, 2], np.float32).tobytes())
    guest_args = ["--top", "2", "identity.onnx", "v-1x4xf32.tensor"]
    status, stdout, stderr = wasinn(
        "run", GUESTS / "classify.wasm", "--dir", f"{tmp_path}::.", "--", *guest_args
    )
    assert status == 0, stderr
    assert [line.split()[0] for line in stdout.splitlines()[1:]] == ["2", "0"]
