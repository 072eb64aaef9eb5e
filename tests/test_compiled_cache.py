"""The on-disk compiled-model cache: hit, miss, corrupt entries, the size cap, concurrent writers,
and OpenVINO importing what an earlier process compiled instead of reading and compiling."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _paths import ONNX_FIXTURES, REPO, ROAD

from wasinn_nb.backends.compiled_cache import CompiledCache, cache_key, default_model_cache
from wasinn_nb.enums import ExecutionTarget, GraphEncoding

IDENTITY = ONNX_FIXTURES / "identity_input_output.onnx"


def test_a_miss_then_a_hit_of_the_same_key_only(tmp_path: Path) -> None:
    cache = CompiledCache(tmp_path / "models")
    key = cache_key("openvino", "1", [b"model"], {"precision": "f32"})
    other = cache_key("openvino", "2", [b"model"], {"precision": "f32"})
    assert cache.get(key) is None
    cache.put(key, b"blob" * 100)
    assert cache.get(key) == b"blob" * 100
    assert cache.get(other) is None
    assert cache_key("openvino", "1", [b"mod", b"el"], {}) != cache_key(
        "openvino", "1", [b"model"], {}
    )


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage"])
def test_a_corrupt_entry_reads_as_a_miss_and_is_removed(tmp_path: Path, damage: str) -> None:
    cache = CompiledCache(tmp_path)
    key = cache_key("x", "1", [b"m"], {})
    cache.put(key, bytes(range(256)) * 64)
    (path,) = tmp_path.glob("*.blob")
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data[-1] ^= 0xFF
    else:
        data = bytearray(b"not a cache entry")
    path.write_bytes(bytes(data))
    assert cache.get(key) is None
    assert not path.exists()
    cache.put(key, b"again")
    assert cache.get(key) == b"again"


def test_the_cap_evicts_the_least_recently_used(tmp_path: Path) -> None:
    cache = CompiledCache(tmp_path, max_bytes=3 * 1100)
    keys = [cache_key("x", "1", [bytes([i])], {}) for i in range(4)]
    for number, key in enumerate(keys[:3]):
        cache.put(key, b"a" * 1000)
        os.utime(tmp_path / f"{key}.blob", (1000 + number, 1000 + number))
    assert cache.get(keys[0]) is not None  # a hit: now the most recently used
    cache.put(keys[3], b"b" * 1000)
    assert cache.nbytes <= cache.max_bytes
    assert cache.get(keys[1]) is None  # the oldest untouched entry went
    assert cache.get(keys[0]) is not None and cache.get(keys[3]) is not None
    cache.put(cache_key("x", "1", [b"huge"], {}), b"c" * 10_000)  # bigger than the cap
    assert cache.nbytes <= cache.max_bytes


_WRITER = """
import sys
from pathlib import Path
from wasinn_nb.backends.compiled_cache import CompiledCache
cache = CompiledCache(Path(sys.argv[1]))
payload = bytes([int(sys.argv[2])]) * (2 << 20)
for _ in range(15):
    cache.put("k" * 64, payload)
    got = cache.get("k" * 64)
    assert got is None or len(set(got)) == 1 and len(got) == len(payload), "torn entry"
"""


def test_two_concurrent_writers_never_leave_a_torn_entry(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(n)], env=env)
        for n in (1, 2)
    ]
    assert [w.wait(60) for w in writers] == [0, 0]
    got = CompiledCache(tmp_path).get("k" * 64)
    assert got in (b"\1" * (2 << 20), b"\2" * (2 << 20))
    assert [p.name for p in tmp_path.iterdir()] == ["k" * 64 + ".blob"]  # no temporary left


def test_turned_off_and_moved_by_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WASINN_MODEL_CACHE_DIR", "off")
    assert default_model_cache() is None
    monkeypatch.setenv("WASINN_MODEL_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("WASINN_MODEL_CACHE_BYTES", "12345")
    cache = default_model_cache()
    assert cache is not None and cache.folder == tmp_path and cache.max_bytes == 12345


def _road() -> list[bytes]:
    if not (ROAD / "road-segmentation-adas-0001.xml").is_file():
        pytest.skip(f"fixture mirror not found at {ROAD}")
    return [(ROAD / f"road-segmentation-adas-0001.{ext}").read_bytes() for ext in ("xml", "bin")]


def test_openvino_imports_what_another_backend_compiled(tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    from wasinn_nb.backends.openvino import OpenVinoBackend

    builders, cache = _road(), CompiledCache(tmp_path)
    first = OpenVinoBackend(cache).load(builders, GraphEncoding.OPENVINO, ExecutionTarget.CPU)
    assert len(list(tmp_path.glob("*.blob"))) == 1
    second = OpenVinoBackend(cache)
    second._read = None  # type: ignore[assignment,method-assign]  # a read would fail
    graph = second.load(builders, GraphEncoding.OPENVINO, ExecutionTarget.CPU)
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 512, 896)).astype(np.float32)
    outputs = []
    for g in (first, graph):
        context = g.init_context()
        context.set_input(0, x)
        context.compute()
        outputs.append(np.array(context.get_output(0)))
    assert graph.inputs == first.inputs and graph.outputs == first.outputs
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_openvino_replaces_an_entry_it_cannot_import(tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    from wasinn_nb.backends.openvino import OpenVinoBackend

    builders, cache = [IDENTITY.read_bytes()], CompiledCache(tmp_path)
    backend = OpenVinoBackend(cache)
    backend.load(builders, GraphEncoding.ONNX, ExecutionTarget.CPU)
    (path,) = tmp_path.glob("*.blob")
    good = path.read_bytes()
    junk = b"\0" * 64  # a whole, verified entry whose blob OpenVINO cannot import
    path.write_bytes(good[:15] + hashlib.sha256(junk).digest() + junk)
    graph = OpenVinoBackend(cache).load(builders, GraphEncoding.ONNX, ExecutionTarget.CPU)
    context = graph.init_context()
    context.set_input(0, np.array([[0.1, 0.7, -0.2, 0.4]], np.float32))
    context.compute()
    np.testing.assert_allclose(context.get_output(0), [[0.1, 0.7, -0.2, 0.4]], rtol=1e-6)
    assert path.read_bytes() == good


def test_a_named_model_is_read_again_only_when_its_files_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    from wasinn_nb.backends import BackendChoice
    from wasinn_nb.backends.options import BackendOptions
    from wasinn_nb.runtime import GraphCache, Preload

    model = tmp_path / "model.onnx"
    model.write_bytes(IDENTITY.read_bytes())
    preload = Preload.parse(f"m:onnx:cpu:{model}")
    reads: list[int] = []
    read = Preload.read
    monkeypatch.setattr(Preload, "read", lambda self: reads.append(1) or read(self))
    cache, choice, options = GraphCache(), BackendChoice("onnxruntime"), BackendOptions()
    first = cache.load_preload(preload, choice, options)
    assert cache.load_preload(preload, choice, options) is first and len(reads) == 1
    model.write_bytes(IDENTITY.read_bytes() + b"")  # same bytes, new mtime: read, same graph
    os.utime(model, ns=(1, 1))
    assert cache.load_preload(preload, choice, options) is first and len(reads) == 2
    model.unlink()
    with pytest.raises(Exception, match="cannot read"):
        cache.load_preload(preload, choice, options)


def test_recording_copies_inputs_and_outputs_and_not_recording_copies_nothing(
    road_workdir: Path,
) -> None:
    from wasinn_nb.runtime import Runner

    args = ["road-segmentation-adas-0001.xml", "road-segmentation-adas-0001.bin",
            "wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor"]  # fmt: skip
    with Runner(cache_dir=None) as runner:
        bare = runner.run(REPO / "guests/road-seg.wasm", args, dirs=[".:."], record=False)
        kept = runner.run(REPO / "guests/road-seg.wasm", args, dirs=[".:."])
    assert bare.ok and kept.ok and not bare.input_records and not bare.output_records
    (given,), (read,) = kept.input_records, kept.output_records
    assert given.array.flags.owndata and read.array.flags.owndata  # copies, not guest memory
    expected = np.fromfile(road_workdir / args[2], "<f4").reshape(1, 3, 512, 896)
    np.testing.assert_array_equal(given.array, expected)
    assert read.array.shape == (1, 4, 512, 896)


def test_onnxruntime_loads_the_optimized_model_an_earlier_backend_saved(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from wasinn_nb.backends.onnxruntime import OnnxRuntimeBackend

    builders, cache = [IDENTITY.read_bytes()], CompiledCache(tmp_path)
    x = np.array([[0.1, 0.7, -0.2, 0.4]], np.float32)
    OnnxRuntimeBackend(cache).load(builders, GraphEncoding.ONNX, ExecutionTarget.CPU)
    (path,) = tmp_path.glob("*.blob")
    saved = path.read_bytes()
    for payload in (saved[47:], b"a verified entry ONNX Runtime cannot load"):
        path.write_bytes(saved[:15] + hashlib.sha256(payload).digest() + payload)
        graph = OnnxRuntimeBackend(cache).load(builders, GraphEncoding.ONNX, ExecutionTarget.CPU)
        context = graph.init_context()
        context.set_input(0, x)
        context.compute()
        np.testing.assert_array_equal(context.get_output(0), x)
        assert path.read_bytes() == saved  # a junk entry was replaced by a good one
