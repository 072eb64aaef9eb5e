from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest

from wasinn_nb import ColorOrder, DType, Layout, SpecError, TensorSpec
from wasinn_nb.im2tensor import parse_dims


@pytest.mark.parametrize(
    ("text", "expected", "expectation"),
    [
        ("512x896x3xfp32", (512, 896, 3, DType.FP32), does_not_raise()),
        ("512x896x3xf32", (512, 896, 3, DType.FP32), does_not_raise()),
        ("224X224X1XU8", (224, 224, 1, DType.U8), does_not_raise()),
        (" 8 x 8 x 3 x i64 ", (8, 8, 3, DType.I64), does_not_raise()),
        ("512x896", None, pytest.raises(SpecError, match="HEIGHTxWIDTHxCHANNELSxTYPE")),
        ("0x4x3xfp32", None, pytest.raises(SpecError, match="height must be between 1")),
        ("4x99999x3xfp32", None, pytest.raises(SpecError, match="width must be between 1")),
        ("4x4x2xfp32", None, pytest.raises(SpecError, match="channels must be 1")),
        ("512x896x3xbogus", None, pytest.raises(SpecError, match="unknown tensor type 'bogus'")),
        ("-1x4x3xfp32", None, pytest.raises(SpecError)),
    ],
)
def test_parse_dims(text, expected, expectation):
    with expectation:
        assert parse_dims(text) == expected


@pytest.mark.parametrize(
    ("spelling", "dtype"),
    [("fp16", DType.FP16), ("f16", DType.FP16), ("float32", DType.FP32), ("F64", DType.FP64),
     ("uint8", DType.U8), ("i8", DType.I8), ("int32", DType.I32), ("i64", DType.I64)],
)  # fmt: skip
def test_dtype_spellings(spelling, dtype):
    assert DType.parse(spelling) is dtype
    assert DType.from_numpy(dtype.numpy) is dtype


def test_defaults_are_the_road_segmentation_input():
    spec = TensorSpec.from_dims("512x896x3xfp32")
    assert (spec.color, spec.layout, spec.batch) == (ColorOrder.BGR, Layout.NCHW, True)
    assert spec.shape == (1, 3, 512, 896)
    assert spec.nbytes == 5_505_024
    assert spec.is_identity_normalization


def test_strings_are_coerced_and_per_channel_values_broadcast():
    spec = TensorSpec(4, 4, dtype="f16", color="RGB", layout="nhwc", resize="center-crop",
                      interpolation="bicubic", mean=0.5, std=[0.25])  # fmt: skip
    assert spec.dtype is DType.FP16 and spec.layout is Layout.NHWC
    assert spec.mean == (0.5, 0.5, 0.5) and spec.std == (0.25, 0.25, 0.25)
    assert spec.shape == (1, 4, 4, 3)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"std": (1, 0, 1)}, "std must not contain 0"),
        ({"mean": (1, 2)}, "mean needs 1 or 3 values"),
        ({"mean": (float("nan"),)}, "finite"),
        ({"scale": 0}, "scale must be"),
        ({"pad_value": 300}, "pad value"),
        ({"layout": "chwn"}, "unknown layout"),
        ({"color": "yuv"}, "unknown colour order 'yuv' \\(choose from: bgr, rgb\\)"),
    ],
)
def test_invalid_specs_are_rejected(changes, message):
    with pytest.raises(SpecError, match=message):
        TensorSpec(4, 4, **changes)


def test_spec_is_frozen_and_replace_revalidates():
    spec = TensorSpec(4, 4)
    with pytest.raises(AttributeError):
        spec.height = 5  # type: ignore[misc]
    assert spec.replace(batch=False).shape == (3, 4, 4)
    with pytest.raises(SpecError):
        spec.replace(channels=2)


def test_from_options_ignores_unset_values():
    spec = TensorSpec.from_options({"dims": "2x3x3xu8", "color": None, "layout": Layout.NHWC,
                                    "image": "x.jpg", "quiet": False})  # fmt: skip
    assert spec == TensorSpec(2, 3, 3, DType.U8, layout=Layout.NHWC)
