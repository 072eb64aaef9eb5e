"""The LiteRT backend: WasmEdge's TFLite numbers, Coral's quantized models, and its edges."""

from __future__ import annotations

import numpy as np
import pytest
from _paths import FIXTURES, GUESTS, TFLITE_BIRDS

from wasinn_nb import TensorSpec, image_to_tensor, load_tensor, run, save_tensor
from wasinn_nb.abi.wasi_nn import NnErrno
from wasinn_nb.backends import BackendChoice, default_backend
from wasinn_nb.backends.base import Quantization
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import BackendError, InvalidInputError, UnsupportedError

pytest.importorskip("ai_edge_litert", reason="the LiteRT backend needs pip install '.[tflite]'")

CORAL = FIXTURES / "coral-test-data"
BANANA = FIXTURES / "openvino-mobilenet"
BIRDS_MODEL = "lite-model_aiy_vision_classifier_birds_V1_3.tflite"
MOBILENET = "mobilenet_v2_1.0_224_quant.tflite"
DEEPLAB = "deeplabv3_mnv2_pascal_quant.tflite"
BIRD_CLASS = 3  # PASCAL VOC: background, aeroplane, bicycle, bird, ...


@pytest.fixture(autouse=True)
def _fixtures() -> None:
    if not (CORAL / DEEPLAB).is_file() or not (TFLITE_BIRDS / BIRDS_MODEL).is_file():
        pytest.skip(f"fixture mirror not found at {FIXTURES} (set WASINN_MIRROR)")


def _backend_of(result) -> str:
    (graph,) = set(result.context_graphs.values())
    return type(graph).__module__.rsplit(".", 1)[-1]


def _top(stdout: str) -> tuple[int, str, float]:
    fields = stdout.splitlines()[1].split()
    return int(fields[0]), " ".join(fields[1:-1]), float(fields[-1])


def tiny_model(dtype, out_dtype=None, signature=(-1, 4)) -> bytes:
    """A one-op TFLite model built here: CAST (or ADD x+x when out_dtype is None)."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    types = {np.float16: s.TensorType.FLOAT16, np.float32: s.TensorType.FLOAT32,
             np.float64: s.TensorType.FLOAT64, np.uint8: s.TensorType.UINT8,
             np.int8: s.TensorType.INT8, np.int16: s.TensorType.INT16,
             np.int32: s.TensorType.INT32, np.int64: s.TensorType.INT64}  # fmt: skip
    op = s.BuiltinOperator.ADD if out_dtype is None else s.BuiltinOperator.CAST

    def tensor(name, kind):
        t = s.TensorT()
        t.name, t.type, t.buffer = name, types[kind], 0
        t.shape = [1 if d < 0 else d for d in signature]
        t.shapeSignature = list(signature)
        return t

    code = s.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = op, op, 1
    node = s.OperatorT()
    node.opcodeIndex, node.outputs = 0, [1]
    node.inputs = [0] if out_dtype is not None else [0, 0]
    if out_dtype is None:
        node.builtinOptionsType, node.builtinOptions = s.BuiltinOptions.AddOptions, s.AddOptionsT()
    graph = s.SubGraphT()
    graph.tensors = [tensor("x", dtype), tensor("y", out_dtype or dtype)]
    graph.inputs, graph.outputs, graph.operators = [0], [1], [node]
    model = s.ModelT()
    model.version, model.operatorCodes, model.subgraphs = 3, [code], [graph]
    model.buffers = [s.BufferT()]
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _load(model: bytes, target=ExecutionTarget.CPU):
    return (
        BackendChoice("litert")
        .for_encoding(GraphEncoding.TENSORFLOWLITE)
        .load([model], GraphEncoding.TENSORFLOWLITE, target)
    )


# ---- acceptance: the three real models ------------------------------------------------------


@pytest.mark.parametrize("backend", [None, "openvino"])
def test_birds_on_wasmedges_own_tensor_scores_198(backend):
    """WasmEdge's birds example: its raw RGB tensor, top-1 166; LiteRT's score is 198 +- 1."""
    if backend == "openvino":
        pytest.importorskip("openvino")
    args = ["--dims", "1x224x224x3", "--dtype", "u8", "--output-dtype", "u8", BIRDS_MODEL,
            "birdx224x224x3.rgb"]  # fmt: skip
    result = run(GUESTS / "classify.wasm", args, dirs=[f"{TFLITE_BIRDS}::."], backend=backend)
    assert result.ok, result.stderr
    index, _label, score = _top(result.stdout)
    assert index == 166
    if backend is None:
        assert _backend_of(result) == "litert"  # the default for TFLite when installed
        assert abs(score - 198) <= 1, score  # WasmEdge's README: 198
    else:
        assert _backend_of(result) == "openvino"  # same top-1; OpenVINO's score is 202


@pytest.mark.parametrize("backend", [None, "openvino"])
def test_mobilenet_v2_quant_calls_the_banana_photo_banana(backend):
    if backend == "openvino":
        pytest.importorskip("openvino")
    args = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", f"model/{MOBILENET}",
            "img/input.jpg", "model/imagenet_labels.txt"]  # fmt: skip
    result = run(GUESTS / "classify.wasm", args, dirs=[f"{CORAL}::model", f"{BANANA}::img"],
                 backend=backend)  # fmt: skip
    assert result.ok, result.stderr
    assert _top(result.stdout)[:2] == (955, "banana")  # 1001 classes, 0 = background
    if backend is None:
        assert _backend_of(result) == "litert"


@pytest.fixture(scope="module")
def deeplab_maps(tmp_path_factory) -> dict[str, np.ndarray]:
    """DeepLab V3's i64 class map of bird.bmp at 513x513, via the named guest, per backend."""
    folder = tmp_path_factory.mktemp("deeplab")
    tensor = image_to_tensor(CORAL / "bird.bmp", TensorSpec(513, 513, dtype="u8", color="rgb",
                                                            layout="nhwc"))  # fmt: skip
    save_tensor(tensor, folder / "bird-1x513x513x3xu8.tensor")
    maps = {}
    for backend in ("litert", "openvino"):
        out = f"{backend}-1x513x513xi64.tensor"
        result = run(GUESTS / "named.wasm", ["deeplab", "bird-1x513x513x3xu8.tensor", out],
                     dirs=[f"{folder}::."], backend=backend,
                     preload=[f"deeplab:TensorflowLite:CPU:{CORAL / DEEPLAB}"])  # fmt: skip
        assert result.ok, f"{backend}: {result.host_log}"
        maps[backend] = load_tensor(folder / out)
    return maps


def test_deeplab_bird_share_on_litert(deeplab_maps):
    classes = deeplab_maps["litert"]
    assert classes.dtype == np.int64 and classes.shape == (1, 513, 513)
    share = np.count_nonzero(classes == BIRD_CLASS) / classes.size
    assert share == pytest.approx(0.188, abs=0.01)


def test_deeplab_on_openvino_agrees_with_litert(deeplab_maps):
    pytest.importorskip("openvino")
    assert np.mean(deeplab_maps["openvino"] == deeplab_maps["litert"]) >= 0.995


def test_quantization_of_mobilenet_is_declared():
    graph = _load((CORAL / MOBILENET).read_bytes())
    (inp,), (out,) = graph.inputs, graph.outputs
    assert (inp.dtype.value, inp.shape) == ("u8", (1, 224, 224, 3))
    assert inp.quantization == Quantization(0.0078125, 128)
    assert out.quantization == Quantization(1 / 256, 0)
    deeplab = _load((CORAL / DEEPLAB).read_bytes())
    assert deeplab.outputs[0].dtype.value == "i64" and deeplab.outputs[0].quantization is None


# ---- the backend's rules ---------------------------------------------------------------------


def test_litert_is_the_default_for_tflite_only_when_installed(monkeypatch):
    import wasinn_nb.backends as registry

    assert default_backend(GraphEncoding.TENSORFLOWLITE) == "litert"
    installed = tuple(n for n in registry.available_backends() if n != "litert")
    monkeypatch.setattr(registry, "available_backends", lambda: installed)
    assert default_backend(GraphEncoding.TENSORFLOWLITE) == "openvino"


def test_each_context_has_its_own_interpreter():
    graph = _load(tiny_model(np.float32))
    first, second = graph.init_context(), graph.init_context()
    first.set_input(0, np.ones((1, 4), np.float32))
    second.set_input(0, np.full((1, 4), 5, np.float32))
    second.compute()
    first.compute()
    np.testing.assert_array_equal(first.get_output(0), [[2, 2, 2, 2]])
    np.testing.assert_array_equal(second.get_output(0), [[10, 10, 10, 10]])


def test_a_shape_is_resized_only_where_the_model_leaves_it_open():
    context = _load(tiny_model(np.float32)).init_context()  # declared [-1, 4]
    context.set_input(0, np.arange(12, dtype=np.float32).reshape(3, 4))
    context.compute()
    assert context.get_output(0).shape == (3, 4)
    with pytest.raises(InvalidInputError, match=r"has shape \?x4, got 3x5"):
        context.set_input(0, np.zeros((3, 5), np.float32))
    fixed = _load((CORAL / MOBILENET).read_bytes()).init_context()
    with pytest.raises(InvalidInputError, match="has shape 1x224x224x3, got 2x224x224x3"):
        fixed.set_input(0, np.zeros((2, 224, 224, 3), np.uint8))


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
                                   np.float32])  # fmt: skip
def test_element_types_in_and_out(dtype):
    values = np.array([[0, 1, 2, 100]])
    inward = _load(tiny_model(dtype, np.float32)).init_context()
    inward.set_input(0, values.astype(dtype))
    inward.compute()
    np.testing.assert_array_equal(inward.get_output(0), values.astype(np.float32))
    outward = _load(tiny_model(np.float32, dtype)).init_context()
    outward.set_input(0, values.astype(np.float32))
    outward.compute()
    result = outward.get_output(0)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, values.astype(dtype))


def test_a_wrong_element_type_is_invalid_argument():
    context = _load((CORAL / MOBILENET).read_bytes()).init_context()
    with pytest.raises(InvalidInputError, match="takes uint8, got float32"):
        context.set_input(0, np.zeros((1, 224, 224, 3), np.float32))
    with pytest.raises(InvalidInputError, match="get_output before compute"):
        context.get_output(0)
    with pytest.raises(InvalidInputError, match="output index 1 is out of range"):
        context.get_output(1)


def test_targets_other_than_cpu_are_unsupported():
    with pytest.raises(UnsupportedError, match="the litert backend runs on the CPU only"):
        _load(tiny_model(np.float32), ExecutionTarget.GPU)


def test_threads_come_from_the_backend_options(monkeypatch):
    import wasinn_nb.backends.litert as litert

    made = []
    real = litert.Interpreter
    monkeypatch.setattr(litert, "Interpreter", lambda **kw: made.append(kw) or real(**kw))
    backend = BackendChoice("litert").for_encoding(GraphEncoding.TENSORFLOWLITE)
    graph = backend.load([tiny_model(np.float32)], GraphEncoding.TENSORFLOWLITE,
                         ExecutionTarget.CPU, BackendOptions(threads=1))  # fmt: skip
    both = graph.init_context(), graph.init_context()  # both alive: the second needs a new one
    assert len(both) == 2
    assert [kw["num_threads"] for kw in made] == [1, 1]  # the check's interpreter, then a new one


# ---- when LiteRT cannot read a model -----------------------------------------------------------


def test_a_corrupt_model_names_the_cause_and_the_other_backend():
    model = (CORAL / MOBILENET).read_bytes()
    with pytest.raises(BackendError) as caught:
        _load(model[: len(model) // 2])
    message = str(caught.value)
    assert message.splitlines() == [message]
    assert message.startswith(
        "LiteRT cannot load the tensorflowlite model: The model is not a valid Flatbuffer buffer"
    )
    assert message.endswith(" (try --backend openvino)")


def test_an_unresolved_op_is_reported_with_its_name(tmp_path):
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    model = s.ModelT.InitFromPackedBuf(tiny_model(np.float32), 0)
    model.operatorCodes[0].builtinCode = s.BuiltinOperator.CUSTOM
    model.operatorCodes[0].deprecatedBuiltinCode = s.BuiltinOperator.CUSTOM
    model.operatorCodes[0].customCode = "NoSuchOp"
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    (tmp_path / "custom.tflite").write_bytes(bytes(builder.Output()))
    (tmp_path / "x-1x4xf32.tensor").write_bytes(bytes(16))
    result = run(GUESTS / "named.wasm", ["custom", "x-1x4xf32.tensor"], dirs=[f"{tmp_path}::."],
                 preload=[f"custom:TensorflowLite:CPU:{tmp_path / 'custom.tflite'}"])  # fmt: skip
    assert result.calls[0].errno is NnErrno.RUNTIME_ERROR
    assert result.host_log == (
        "wasi-nn load_by_name: LiteRT cannot load the tensorflowlite model: Encountered "
        "unresolved custom op: NoSuchOp. (try --backend openvino) -> errno 5 (runtime_error)",
    )


def test_openvino_failing_on_tflite_names_litert(monkeypatch):
    pytest.importorskip("openvino")
    import wasinn_nb.backends as registry

    model = (CORAL / MOBILENET).read_bytes()[:1000]
    openvino = BackendChoice("openvino").for_encoding(GraphEncoding.TENSORFLOWLITE)
    with pytest.raises(BackendError, match=r"\(try --backend litert\)$"):
        openvino.load([model], GraphEncoding.TENSORFLOWLITE, ExecutionTarget.CPU)
    installed = tuple(n for n in registry.available_backends() if n != "litert")
    monkeypatch.setattr(registry, "available_backends", lambda: installed)
    with pytest.raises(BackendError) as caught:
        openvino.load([model], GraphEncoding.TENSORFLOWLITE, ExecutionTarget.CPU)
    assert str(caught.value).endswith(
        "(try --backend litert after pip install 'wasinn-nb[tflite]')"
    )


def test_a_later_context_reuses_a_free_interpreter_but_never_its_inputs(monkeypatch):
    import gc

    import wasinn_nb.backends.litert as litert

    made = []
    real = litert.Interpreter
    monkeypatch.setattr(litert, "Interpreter", lambda **kw: made.append(kw) or real(**kw))
    graph = _load(tiny_model(np.float32))
    first = graph.init_context()
    first.set_input(0, np.ones((1, 4), np.float32))
    first.compute()
    del first
    gc.collect()
    again = graph.init_context()  # the first context's interpreter, not a new one
    assert len(made) == 1
    with pytest.raises(InvalidInputError, match="inputs not set before compute"):
        again.compute()
    resized = graph.init_context()
    resized.set_input(0, np.ones((3, 4), np.float32))
    del again, resized
    gc.collect()
    fresh = graph.init_context()  # the resized interpreter was not taken back
    fresh.set_input(0, np.full((1, 4), 5, np.float32))
    fresh.compute()
    np.testing.assert_array_equal(fresh.get_output(0), [[10, 10, 10, 10]])
    assert len(made) == 2
