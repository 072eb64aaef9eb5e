"""Backend options, defined once: the CLI's flags, the magics' config, the API, a guest's JSON."""

from __future__ import annotations

import io
import json

import pytest
from _paths import ONNX_FIXTURES, ROAD

from wasinn_nb.backends.options import BackendOptions, unknown_keys
from wasinn_nb.cli import main
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import SpecError

from .guests import GRAPH_OUT, NAME, call, data, module


def test_options_are_validated():
    assert BackendOptions(threads=1, precision="bf16").precision == "bf16"
    for bad in ({"threads": 0}, {"threads": 10_000}, {"precision": "fp8"},
                {"performance_hint": "fast"}):  # fmt: skip
        with pytest.raises(SpecError):
            BackendOptions(**bad)
    with pytest.raises(SpecError, match="unknown backend option 'turbo'"):
        BackendOptions().replace({"turbo": True})


def test_a_guest_config_keeps_known_keys_and_names_the_others():
    text = '{"threads": 1, "performance-hint": "latency", "ctx-size": 512}'
    options = BackendOptions.from_config(text, BackendOptions(precision="bf16"))
    assert options == BackendOptions(threads=1, precision="bf16", performance_hint="latency")
    assert unknown_keys(json.loads(text)) == ["ctx-size"]
    for bad in ("[1, 2]", "{not json", '{"threads": "many"}'):
        with pytest.raises(SpecError):
            BackendOptions.from_config(bad)


def _named_with_config(config: bytes) -> str:
    name = b"m"
    return module(
        call("load_by_name_with_config", NAME, len(name), NAME + 16, len(config), GRAPH_OUT),
        segments=[data(NAME, name), data(NAME + 16, config)],
    )


def test_load_by_name_with_config_sets_the_graphs_options(run, fake, tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes(b"FAKE")
    guest = _named_with_config(b'{"threads": 1, "n-gpu-layers": 0}')
    err = io.StringIO()
    result = run(guest, preload=[f"m:ONNX:CPU:{model}"], backend_options=BackendOptions(
        precision="auto"), stderr=err)  # fmt: skip
    assert result.ok and result.calls[0].errno == 0, result.host_log
    assert fake.loads[-1].options == BackendOptions(threads=1, precision="auto")
    assert "ignored config keys: n-gpu-layers" in err.getvalue()
    bad = run(_named_with_config(b'{"threads": -3}'), preload=[f"m:ONNX:CPU:{model}"])
    assert bad.calls[0].errno == 1 and "threads must be" in bad.host_log[0]


def test_the_cli_flags_reach_the_backend(run, fake, tmp_path, monkeypatch):
    from wasinn_nb.runtime import shared

    monkeypatch.setattr(shared, "_default", None)  # a fresh shared runner for this test
    model = tmp_path / "m.onnx"
    model.write_bytes(b"FAKE")
    guest = tmp_path / "g.wat"
    guest.write_text(module(call("load_by_name", NAME, 1, GRAPH_OUT), segments=[data(NAME, b"m")]))
    args = ["run", str(guest), "--backend", "fake", "--nn-preload", f"m:ONNX:CPU:{model}",
            "--threads", "1", "--precision", "bf16", "--performance-hint",
            "throughput"]  # fmt: skip
    assert main(args, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert fake.loads[-1].options == BackendOptions(
        threads=1, precision="bf16", performance_hint="throughput"
    )
    err = io.StringIO()
    assert main([*args[:2], "--precision", "fp8"], stderr=err) == 2
    assert "invalid choice: 'fp8'" in err.getvalue()


def test_the_magics_config_is_checked_and_applied(ip, fake, tmp_path):
    magics = ip.magics_manager.registry["WasinnMagics"]
    with pytest.raises(Exception, match="unknown precision 'fp8'"):
        magics.precision = "fp8"
    assert magics.precision is None
    model = tmp_path / "m.onnx"
    model.write_bytes(b"FAKE")
    guest = tmp_path / "g.wat"
    guest.write_text(module(call("load_by_name", NAME, 1, GRAPH_OUT), segments=[data(NAME, b"m")]))
    magics.precision, magics.show = "f16", "none"
    try:
        ip.run_line_magic("wasinn", f"run {guest} --backend fake --nn-preload m:ONNX:CPU:{model}")
    finally:
        magics.precision, magics.show = None, "text"
    assert fake.loads[-1].options == BackendOptions(precision="f16")


@pytest.mark.openvino
def test_openvino_compiles_with_the_precision_asked_for():
    pytest.importorskip("openvino")
    from wasinn_nb.backends import get_backend

    xml = (ROAD / "road-segmentation-adas-0001.xml").read_bytes()
    weights = (ROAD / "road-segmentation-adas-0001.bin").read_bytes()
    backend = get_backend("openvino")
    for precision in ("f32", "bf16"):
        options = BackendOptions(precision=precision, threads=1, performance_hint="latency")
        graph = backend.load([xml, weights], GraphEncoding.OPENVINO, ExecutionTarget.CPU, options)
        compiled = graph.compiled  # type: ignore[attr-defined]
        assert str(compiled.get_property("INFERENCE_NUM_THREADS")) == "1"
        assert "LATENCY" in str(compiled.get_property("PERFORMANCE_HINT"))
        hint = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
        # bf16 is honoured only where the CPU has it; f32 always is
        assert hint in (("<Type: 'float32'>",) if precision == "f32" else
                        ("<Type: 'bfloat16'>", "<Type: 'float32'>")), hint  # fmt: skip


@pytest.mark.onnxruntime
def test_onnx_runtime_takes_threads_and_providers():
    pytest.importorskip("onnxruntime")
    from wasinn_nb.backends import get_backend

    model = (ONNX_FIXTURES / "identity_input_output.onnx").read_bytes()
    backend = get_backend("onnxruntime")
    options = BackendOptions(threads=1, providers=("CPUExecutionProvider",))
    graph = backend.load([model], GraphEncoding.ONNX, ExecutionTarget.CPU, options)
    assert graph.session.get_providers() == ["CPUExecutionProvider"]  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="no provider 'NopeExecutionProvider'"):
        backend.load([model], GraphEncoding.ONNX, ExecutionTarget.CPU,
                     BackendOptions(providers=("NopeExecutionProvider",)))  # fmt: skip
