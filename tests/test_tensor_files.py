from __future__ import annotations

import numpy as np
import pytest

from wasinn_nb import (
    ColorOrder,
    DType,
    Layout,
    SpecError,
    TensorFileError,
    TensorSpec,
    load_tensor,
    parse_tensor_name,
    save_tensor,
)
from wasinn_nb.files import atomic_write
from wasinn_nb.im2tensor import tensor_file_name
from wasinn_nb.im2tensor.names import parse_dims_token


@pytest.mark.parametrize(
    ("name", "shape", "dtype", "color", "layout"),
    [
        ("wasinn-openvino-inference-input-512x896x3xf32-bgr.tensor", (1, 3, 512, 896), DType.FP32,
         ColorOrder.BGR, Layout.NCHW),
        ("wasinn-openvino-inference-output-1x4x512x896xf32.tensor", (1, 4, 512, 896), DType.FP32,
         None, None),
        ("cat-224x224x3xu8-rgb-nhwc.tensor", (1, 224, 224, 3), DType.U8, ColorOrder.RGB,
         Layout.NHWC),
        ("tensor-1x224x224x3-f32.bgr", (1, 224, 224, 3), DType.FP32, ColorOrder.BGR, None),
        ("birdx224x224x3.rgb", (224, 224, 3), None, ColorOrder.RGB, None),
        ("image-1x3x224x224.rgb", (1, 3, 224, 224), None, ColorOrder.RGB, None),
        ("/some/dir/probs-1x1000xFP16.bin", (1, 1000), DType.FP16, None, None),
    ],
)  # fmt: skip
def test_parse_tensor_name(name, shape, dtype, color, layout):
    parsed = parse_tensor_name(name)
    assert parsed is not None
    assert (parsed.shape, parsed.dtype, parsed.color, parsed.layout) == (
        shape,
        dtype,
        color,
        layout,
    )


def test_names_without_dims_give_none():
    assert parse_tensor_name("000000062808.rgb") is None
    assert parse_tensor_name("kitten.tensor") is None


def test_written_names_parse_back():
    for spec in (TensorSpec(512, 896), TensorSpec(224, 224, dtype="u8", color="rgb", layout="nhwc"),
                 TensorSpec(8, 8, channels=1, dtype="i32")):  # fmt: skip
        parsed = parse_tensor_name(tensor_file_name("photo", spec))
        assert parsed is not None
        assert (parsed.shape, parsed.dtype) == (spec.shape, spec.dtype)


@pytest.mark.parametrize("token", ["512x896", "1x4x512x896xf32", "512x896x3xfp32"])
def test_dims_tokens(token):
    assert parse_dims_token(token).dims[:2] in ((512, 896), (1, 4))


@pytest.mark.parametrize("token", ["512", "axb", "512x0x3xf32", "1x4xbogus", "1x4x"])
def test_bad_dims_tokens(token):
    with pytest.raises(SpecError):
        parse_dims_token(token)


@pytest.mark.parametrize(
    "dtype", ["float16", "float32", "float64", "uint8", "int8", "int32", "int64"]
)
@pytest.mark.parametrize("suffix", [".tensor", ".npy"])
def test_save_and_load_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(24) - 5).astype(dtype).reshape(1, 2, 3, 4)
    path = save_tensor(array, tmp_path / f"t-1x2x3x4x{DType.from_numpy(array.dtype).short}{suffix}")
    loaded = load_tensor(path)
    assert loaded.dtype == array.dtype
    np.testing.assert_array_equal(loaded, array)


def test_raw_files_are_little_endian(tmp_path):
    path = save_tensor(np.array([1], dtype=">i4"), tmp_path / "x-1xi32.tensor")
    assert path.read_bytes() == b"\x01\x00\x00\x00"


def test_explicit_shape_and_guessed_dtype(tmp_path):
    path = tmp_path / "raw.bin"
    path.write_bytes(np.arange(6, dtype=np.float32).tobytes())
    assert load_tensor(path, shape=(2, 3)).dtype == np.float32
    assert (
        load_tensor(path, shape=(2, 3), dtype="i32").tolist()
        == np.arange(6, dtype=np.float32).view(np.int32).reshape(2, 3).tolist()
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("plain.tensor", b"1234", "cannot tell the shape"),
        ("x-1x4xf32.tensor", b"123", "has 3 bytes but 1x4 fp32 needs 16"),
        ("y-1x3.tensor", b"12345", "not a whole number of elements"),
    ],
)
def test_unreadable_tensor_files(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(TensorFileError, match=message):
        load_tensor(tmp_path / name)


def test_missing_tensor_file(tmp_path):
    with pytest.raises(TensorFileError, match="No such file"):
        load_tensor(tmp_path / "nope-1x4xf32.tensor")


def test_failed_write_leaves_nothing_and_keeps_the_old_file(tmp_path):
    target = tmp_path / "x.tensor"
    target.write_bytes(b"old")
    with pytest.raises(TensorFileError, match="cannot write"):
        save_tensor(np.zeros(2, np.float32), tmp_path / "missing-dir" / "x.tensor")
    with pytest.raises(TensorFileError, match="object is not a numeric tensor type"):
        save_tensor(np.array([object()]), target)

    def interrupted_write() -> None:
        with atomic_write(target) as handle:
            handle.write(b"half a tens")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted_write()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.tensor"]


def test_new_files_get_normal_permissions(tmp_path):
    path = save_tensor(np.zeros(2, np.float32), tmp_path / "x-2xf32.tensor")
    assert path.stat().st_mode & 0o644 == 0o644
