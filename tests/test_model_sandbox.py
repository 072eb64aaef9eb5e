"""A guest given no --dir must not read host files through model formats that name files.

Each test is the attack: a WAT guest built at test time carries hostile model bytes in a data
segment, the host's working directory holds a secret, and the guest calls load, then
set_input/compute/get_output and dumps the output buffer. The guest must get an errno, the
secret must appear nowhere in what the run returns, and the host log must say why.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from _onnx_bytes import identity_model, leak_model
from _paths import FIXTURES
from abi.guests import (
    BUILDERS,
    CPU,
    CTX_OUT,
    DATA,
    DIMS,
    F32,
    GRAPH_OUT,
    OUTBUF,
    TENSOR,
    WRITTEN_OUT,
    call,
    data,
    dump,
    module,
    printed,
    tensor_record,
    u32,
)

from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.results import RunResult
from wasinn_nb.runtime import Runner
from wasinn_nb.runtime.graphs import GraphCache

SECRET = b"SECRET-0123456789abcdef"  # 23 bytes; the models read the first 16
MODEL_AT = 0x3000  # model bytes in the guest (below the printing helpers' scratch at 0xF000)
OPENVINO_ENC, ONNX_ENC, TENSORFLOW_ENC, PYTORCH_ENC, AUTODETECT_ENC = 0, 1, 2, 3, 5
VALUES = np.array([1.5, -2.0, 7.25, 0.0], np.float32)


def guest(model: bytes | list[bytes], encoding: int) -> str:
    """Load the builder(s) from guest memory, run on VALUES, print every errno and the output."""
    builders = [model] if isinstance(model, bytes) else model
    at, table, segments = MODEL_AT, [], []
    for builder in builders:
        table += [at, len(builder)]
        segments.append(data(at, builder))
        at += len(builder) + 16
    assert at < 0xF000
    segments += [
        data(BUILDERS, u32(*table)),
        data(TENSOR, tensor_record(DIMS, 1, F32, DATA, VALUES.nbytes)),
        data(DIMS, u32(4)),
        data(DATA, VALUES.tobytes()),
    ]
    body = [
        call("load", BUILDERS, len(builders), encoding, CPU, GRAPH_OUT),
        call("init_execution_context", 0, CTX_OUT),
        call("set_input", 0, 0, TENSOR),
        call("compute", 0),
        call("get_output", 0, 0, OUTBUF, 256, WRITTEN_OUT),
        dump(OUTBUF, 64),
    ]
    return module(*body, segments=segments)


def run_guest(model: bytes | list[bytes], encoding: int, backend: str | None) -> RunResult:
    """Run the guest with no --dir, no env, a fresh runner and graph cache."""
    runner = Runner(cache_dir=None, graphs=GraphCache())
    return runner.run(guest(model, encoding), backend=backend)


def assert_no_leak(result: RunResult, secret: bytes = SECRET) -> None:
    """The secret (or its first 16 bytes, raw or as hex) is in no part of the result."""
    piece = secret[:16]
    texts = [result.stdout, result.stderr, *result.host_log]
    for text in texts:
        assert piece.decode() not in text
        assert piece.hex() not in text
    for array in (*result.outputs, *result.inputs):
        assert piece not in np.ascontiguousarray(array).tobytes()
    for raw in printed(result.stdout).dumps:
        assert piece not in raw


def assert_refused(result: RunResult, cause: str) -> None:
    load = result.calls[0]
    assert load.name == "load"
    assert load.errno is not NnErrno.SUCCESS
    assert printed(result.stdout).errnos[0] == int(load.errno)  # what the guest received
    assert printed(result.stdout).errnos[4] != NnErrno.SUCCESS  # get_output
    assert any(line.startswith("wasi-nn load: ") and cause in line for line in result.host_log), (
        result.host_log
    )


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with secrets in it, beside it, and a symlink leading out of it."""
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "credentials.txt").write_bytes(SECRET)
    (work / "sub" / "key.txt").write_bytes(SECRET)
    (tmp_path / "outside.txt").write_bytes(SECRET)
    (work / "out").symlink_to(tmp_path)
    monkeypatch.chdir(work)
    return tmp_path


def backend_installed(backend: str | None, encoding: int) -> None:
    name = backend or ("onnxruntime" if encoding == ONNX_ENC else "openvino")
    pytest.importorskip(name)


ONNX_ROUTES = [
    pytest.param(None, ONNX_ENC, id="onnx-onnxruntime"),
    pytest.param("openvino", ONNX_ENC, id="onnx-openvino"),
    pytest.param(None, AUTODETECT_ENC, id="autodetect-openvino"),
    pytest.param(None, OPENVINO_ENC, id="onnx-bytes-as-openvino-ir"),
]


@pytest.mark.parametrize(("backend", "encoding"), ONNX_ROUTES)
@pytest.mark.parametrize("location", ["credentials.txt", "sub/key.txt"])
def test_onnx_external_data_in_the_working_directory_is_refused(
    secrets, backend, encoding, location
):
    backend_installed(backend, encoding)
    result = run_guest(leak_model(location), encoding, backend)
    assert_no_leak(result)
    if encoding == OPENVINO_ENC:
        assert_refused(result, "OpenVINO IR must be XML")
        assert result.calls[0].errno is NnErrno.UNSUPPORTED_OPERATION
    else:
        assert_refused(result, f"refers to an external data file {location!r}")
        assert result.calls[0].errno is NnErrno.UNSUPPORTED_OPERATION


@pytest.mark.parametrize(("backend", "encoding"), ONNX_ROUTES)
@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink"])
def test_onnx_external_data_outside_the_working_directory_is_refused(
    secrets, backend, encoding, kind
):
    backend_installed(backend, encoding)
    location = {
        "traversal": "../outside.txt",
        "absolute": str(secrets / "outside.txt"),
        "symlink": "out/outside.txt",
    }[kind]
    result = run_guest(leak_model(location), encoding, backend)
    assert_no_leak(result)
    cause = "OpenVINO IR must be XML" if encoding == OPENVINO_ENC else "external data file"
    assert_refused(result, cause)


@pytest.mark.parametrize("backend", [None, "openvino"])
def test_a_benign_onnx_model_from_guest_memory_still_runs(secrets, backend):
    backend_installed(backend, ONNX_ENC)
    result = run_guest(identity_model(), ONNX_ENC, backend)
    assert printed(result.stdout).errnos == [0, 0, 0, 0, 0], result.host_log
    np.testing.assert_array_equal(result.outputs[0], VALUES)
    assert printed(result.stdout).dumps[0][:16] == VALUES.tobytes()


@pytest.mark.parametrize("backend", [None, "openvino"])
def test_the_real_onnx_fixture_from_guest_memory_still_runs(secrets, backend):
    backend_installed(backend, ONNX_ENC)
    fixture = FIXTURES / "wasi-nn-onnx" / "identity_input_output.onnx"
    if not fixture.is_file():
        pytest.skip(f"fixture mirror not found at {FIXTURES} (set WASINN_MIRROR)")
    runner = Runner(cache_dir=None, graphs=GraphCache())
    model = fixture.read_bytes()
    source = guest(model, ONNX_ENC).replace(  # the fixture's input is f32[1, 4]
        data(DIMS, u32(4)), data(DIMS, u32(1, 4))
    ).replace(data(TENSOR, tensor_record(DIMS, 1, F32, DATA, 16)),
              data(TENSOR, tensor_record(DIMS, 2, F32, DATA, 16)))  # fmt: skip
    result = runner.run(source, backend=backend)
    assert printed(result.stdout).errnos == [0, 0, 0, 0, 0], result.host_log
    np.testing.assert_array_equal(result.outputs[0].ravel(), VALUES)


# ---- OpenVINO IR: read from memory, OpenVINO took the weights from ./.bin -------------------

IR_CONST = b"""<?xml version="1.0"?>
<net name="leak" version="11">
  <layers>
    <layer id="0" name="c" type="Const" version="opset1">
      <data element_type="u8" shape="16" offset="0" size="16"/>
      <output><port id="0" precision="U8" names="c"><dim>16</dim></port></output>
    </layer>
    <layer id="1" name="y" type="Result" version="opset1">
      <input><port id="0" precision="U8"><dim>16</dim></port></input>
    </layer>
  </layers>
  <edges><edge from-layer="0" from-port="0" to-layer="1" to-port="0"/></edges>
</net>
"""


def test_ir_without_weights_does_not_read_dot_bin_from_the_working_directory(secrets):
    pytest.importorskip("openvino")
    Path(".bin").write_bytes(SECRET)
    result = run_guest([IR_CONST], OPENVINO_ENC, None)
    assert_no_leak(result)
    assert_refused(result, "Incorrect weights in bin file")


def test_ir_weights_come_from_the_guest_not_from_dot_bin(secrets):
    pytest.importorskip("openvino")
    Path(".bin").write_bytes(SECRET)
    result = run_guest([IR_CONST, b"W" * 16], OPENVINO_ENC, None)
    assert_no_leak(result)
    assert result.calls[0].errno is NnErrno.SUCCESS, result.host_log
    assert result.outputs[0].tobytes() == b"W" * 16


def test_ir_with_no_constants_needs_no_weights(secrets):
    pytest.importorskip("openvino")
    passthrough = b"""<?xml version="1.0"?>
<net name="id" version="11">
  <layers>
    <layer id="0" name="x" type="Parameter" version="opset1">
      <data shape="4" element_type="f32"/>
      <output><port id="0" precision="FP32" names="x"><dim>4</dim></port></output>
    </layer>
    <layer id="1" name="y" type="Result" version="opset1">
      <input><port id="0" precision="FP32"><dim>4</dim></port></input>
    </layer>
  </layers>
  <edges><edge from-layer="0" from-port="0" to-layer="1" to-port="0"/></edges>
</net>
"""
    result = run_guest([passthrough], OPENVINO_ENC, None)
    assert printed(result.stdout).errnos == [0, 0, 0, 0, 0], result.host_log
    np.testing.assert_array_equal(result.outputs[0], VALUES)


# ---- PyTorch: loading TorchScript runs its __setstate__ on the host ------------------------


def torchscript_leak(path: str) -> bytes:
    """A TorchScript module whose __setstate__ reads ``path`` into the tensor forward returns."""
    torch = pytest.importorskip("torch")

    class Leak(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.zeros(16, dtype=torch.uint8)
            self.path = path

        def forward(self) -> torch.Tensor:
            return self.w * 1

        @torch.jit.export
        def __getstate__(self) -> tuple[torch.Tensor, bool, str]:
            return (self.w, self.training, self.path)

        @torch.jit.export
        def __setstate__(self, state: tuple[torch.Tensor, bool, str]) -> None:
            self.w = torch.from_file(state[2], False, 16, dtype=torch.uint8)
            self.training = state[1]
            self.path = state[2]

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Leak()), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["relative", "absolute"])
def test_torchscript_that_reads_a_host_file_when_loaded_is_refused(secrets, kind):
    pytest.importorskip("openvino")
    path = "credentials.txt" if kind == "relative" else str(secrets / "outside.txt")
    model = torchscript_leak(path)
    result = run_guest(model, PYTORCH_ENC, None)
    assert_no_leak(result)
    assert_refused(result, "calls aten::from_file, which touches files on the host")
    assert result.calls[0].errno is NnErrno.UNSUPPORTED_OPERATION


def test_benign_torchscript_still_loads(secrets):
    pytest.importorskip("openvino")
    torch = pytest.importorskip("torch")

    class Count(torch.nn.Module):  # no inputs: ov.convert_model leaves inputs' rank dynamic
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.arange(16, dtype=torch.uint8)

        def forward(self) -> torch.Tensor:
            return self.w * 1

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Count()), buffer)
    result = run_guest(buffer.getvalue(), PYTORCH_ENC, None)
    assert result.calls[0].errno is NnErrno.SUCCESS, result.host_log
    assert [c.errno for c in result.calls if c.name != "set_input"] == [NnErrno.SUCCESS] * 4
    assert result.outputs[0].tolist() == list(range(16))


def test_a_conversion_failure_is_a_backend_error_not_an_internal_one(secrets):
    pytest.importorskip("openvino")
    torch = pytest.importorskip("torch")

    class Attribute(torch.nn.Module):  # OpenVINO's converter raises GeneralFailure on this
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.zeros(4)

        def forward(self) -> torch.Tensor:
            return self.w

    buffer = io.BytesIO()
    torch.jit.save(torch.jit.script(Attribute()), buffer)
    result = run_guest(buffer.getvalue(), PYTORCH_ENC, "openvino")
    failed = [c for c in result.calls if c.errno is not NnErrno.SUCCESS and c.name != "set_input"]
    assert failed[0].name == "compute" and failed[0].errno is NnErrno.RUNTIME_ERROR
    (line,) = [line for line in result.host_log if line.startswith("wasi-nn compute")]
    assert line.startswith("wasi-nn compute: OpenVINO cannot convert the pytorch model for inputs")
    assert "internal" not in line


def test_the_secret_is_really_there(secrets):
    """The attacks above would have something to find (the fixture is not vacuous)."""
    assert Path("credentials.txt").read_bytes() == SECRET
    assert Path("sub/key.txt").read_bytes() == SECRET
    assert Path("out/outside.txt").read_bytes() == SECRET
    assert not Path(".bin").exists()  # the IR tests write their own
    assert Path.cwd().name == "work"
