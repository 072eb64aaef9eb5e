from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from wasinn_nb import ShapeError, TensorSpec, image_to_tensor, tensor_to_image
from wasinn_nb.viz.render import channel_to_image

COLORS = ("bgr", "rgb")
LAYOUTS = ("nchw", "nhwc")
DTYPES = ("fp16", "fp32", "fp64", "u8", "i8", "i32", "i64")


def expected_tensor(bgr: np.ndarray, color: str, layout: str, dtype: str) -> np.ndarray:
    """Build the expected tensor element by element, independently of the library."""
    height, width, _ = bgr.shape
    source_channel = [2, 1, 0] if color == "rgb" else [0, 1, 2]
    shape = (1, 3, height, width) if layout == "nchw" else (1, height, width, 3)
    out = np.zeros(shape, dtype=np.float64)
    for y, x, c in itertools.product(range(height), range(width), range(3)):
        value = bgr[y, x, source_channel[c]]
        if layout == "nchw":
            out[0, c, y, x] = value
        else:
            out[0, y, x, c] = value
    numpy_type = {"fp16": np.float16, "fp32": np.float32, "fp64": np.float64, "u8": np.uint8,
                  "i8": np.int8, "i32": np.int32, "i64": np.int64}[dtype]  # fmt: skip
    if np.issubdtype(numpy_type, np.integer):
        info = np.iinfo(numpy_type)
        out = np.clip(out, info.min, info.max)
    return out.astype(numpy_type)


@pytest.mark.parametrize(
    ("color", "layout", "dtype"), list(itertools.product(COLORS, LAYOUTS, DTYPES))
)
def test_every_color_layout_dtype_combination_is_exact(tiny_bgr, color, layout, dtype):
    spec = TensorSpec(2, 3, color=color, layout=layout, dtype=dtype)
    tensor = image_to_tensor(tiny_bgr, spec)
    expected = expected_tensor(tiny_bgr, color, layout, dtype)
    assert tensor.dtype == expected.dtype
    assert tensor.shape == spec.shape
    assert tensor.flags.c_contiguous
    np.testing.assert_array_equal(tensor, expected)


@pytest.mark.parametrize(
    ("color", "layout", "dtype"), list(itertools.product(COLORS, LAYOUTS, DTYPES))
)
def test_round_trip_image_tensor_image(color, layout, dtype):
    pixels = np.random.default_rng(7).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    normalized = dtype in ("fp16", "fp32", "fp64")
    options = {"mean": (123.7, 116.3, 103.5), "std": (58.4, 57.1, 57.4)} if normalized else {}
    spec = TensorSpec(5, 4, color=color, layout=layout, dtype=dtype, **options)
    back = tensor_to_image(image_to_tensor(pixels, spec), spec)
    if dtype == "i8":  # values above 127 are clipped by the cast: only the rest survive
        keep = pixels <= 127
        np.testing.assert_array_equal(back[keep], pixels[keep])
    else:
        np.testing.assert_array_equal(back, pixels)


def test_round_trip_accepts_unbatched_and_returns_requested_color(tiny_bgr):
    spec = TensorSpec(2, 3, color="rgb")
    tensor = image_to_tensor(tiny_bgr, spec)[0]
    np.testing.assert_array_equal(tensor_to_image(tensor, spec, color="rgb"), tiny_bgr[..., ::-1])


def test_tensor_to_image_rejects_wrong_size():
    with pytest.raises(ShapeError, match=r"expected shape 1x3x2x3, got \(1, 3, 2, 2\)"):
        tensor_to_image(np.zeros((1, 3, 2, 2), np.float32), TensorSpec(2, 3))


# ---- step order: decode -> resize -> colour -> normalize -> layout/batch -> cast ----------------


def test_normalization_uses_the_output_channel_order(tiny_bgr):
    spec = TensorSpec(2, 3, color="rgb", mean=(1, 2, 3), std=(1, 2, 4))
    tensor = image_to_tensor(tiny_bgr, spec)
    red, green, blue = tiny_bgr[..., 2], tiny_bgr[..., 1], tiny_bgr[..., 0]
    np.testing.assert_allclose(tensor[0, 0], (red - 1.0) / 1)
    np.testing.assert_allclose(tensor[0, 1], (green - 2.0) / 2)
    np.testing.assert_allclose(tensor[0, 2], (blue - 3.0) / 4)


def test_scale_is_applied_before_mean_and_std(tiny_bgr):
    spec = TensorSpec(2, 3, scale=1 / 255, mean=0.5, std=0.25)
    tensor = image_to_tensor(tiny_bgr, spec)
    np.testing.assert_allclose(
        tensor[0, 0], (tiny_bgr[..., 0] / 255 - 0.5) / 0.25, rtol=1e-6, atol=1e-6
    )


def test_resize_happens_on_8bit_pixels_before_normalization():
    image = np.array([[0, 1], [0, 1]], np.uint8)[..., None].repeat(3, axis=2)
    tensor = image_to_tensor(image, TensorSpec(1, 1, resize="stretch", interpolation="area"))
    value = float(tensor[0, 0, 0, 0])
    assert value in (0.0, 1.0)  # an 8-bit resize rounds; a float resize would give 0.5


def test_letterbox_padding_is_a_pixel_value_normalized_like_the_image():
    image = np.full((2, 4, 3), 200, np.uint8)
    spec = TensorSpec(4, 4, resize="letterbox", pad_value=100, mean=50, std=2)
    tensor = image_to_tensor(image, spec)[0, 0]
    np.testing.assert_array_equal(tensor[1:3], np.full((2, 4), (200 - 50) / 2))
    np.testing.assert_array_equal(tensor[[0, 3]], np.full((2, 4), (100 - 50) / 2))


def test_cast_is_last_so_integers_clip_instead_of_wrapping():
    image = np.array([[[0, 128, 255]]], np.uint8)
    tensor = image_to_tensor(image, TensorSpec(1, 1, dtype="i8", mean=128, layout="nhwc"))
    assert tensor.ravel().tolist() == [-128, 0, 127]
    tensor = image_to_tensor(image, TensorSpec(1, 1, dtype="u8", mean=100, layout="nhwc"))
    assert tensor.ravel().tolist() == [0, 28, 155]


def test_layout_comes_after_colour(tiny_bgr):
    nchw = image_to_tensor(tiny_bgr, TensorSpec(2, 3, color="rgb", layout="nchw"))
    nhwc = image_to_tensor(tiny_bgr, TensorSpec(2, 3, color="rgb", layout="nhwc"))
    np.testing.assert_array_equal(nchw[0].transpose(1, 2, 0), nhwc[0])
    np.testing.assert_array_equal(nhwc[0, ..., 0], tiny_bgr[..., 2])


# ---- resize modes ---------------------------------------------------------------------------


def test_stretch_matches_cv2_resize():
    image = np.random.default_rng(1).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    tensor = image_to_tensor(image, TensorSpec(12, 20, layout="nhwc", dtype="u8"))
    np.testing.assert_array_equal(tensor[0], cv2.resize(image, (20, 12)))


def test_letterbox_keeps_aspect_and_centres():
    image = np.full((10, 20, 3), 255, np.uint8)
    tensor = image_to_tensor(
        image, TensorSpec(20, 20, layout="nhwc", dtype="u8", resize="letterbox")
    )
    rows = tensor[0, :, :, 0].max(axis=1)
    assert rows.tolist() == [0] * 5 + [255] * 10 + [0] * 5


def test_crop_cuts_the_centre():
    image = np.zeros((4, 8, 3), np.uint8)
    image[:, 2:6] = 255
    tensor = image_to_tensor(image, TensorSpec(4, 4, layout="nhwc", dtype="u8", resize="crop"))
    assert (tensor == 255).all()


def test_grey_spec_converts_colour_input():
    image = np.zeros((2, 2, 3), np.uint8)
    image[..., 1] = 100
    tensor = image_to_tensor(image, TensorSpec(2, 2, channels=1, dtype="u8"))
    assert tensor.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(tensor, cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[None, None])


@pytest.mark.parametrize("shape", [(2, 2, 4), (2,), (0, 3, 3), (2, 2, 2)])
def test_array_inputs_of_wrong_shape_are_rejected(shape):
    with pytest.raises(ShapeError):
        image_to_tensor(np.zeros(shape, np.uint8), TensorSpec(2, 2))


def test_rgb_array_input_is_declared_explicitly(tiny_bgr):
    rgb = tiny_bgr[..., ::-1]
    from_rgb = image_to_tensor(rgb, TensorSpec(2, 3), input_color="rgb")
    np.testing.assert_array_equal(from_rgb, image_to_tensor(tiny_bgr, TensorSpec(2, 3)))


def test_channel_to_image_scales_to_full_range():
    scores = np.zeros((1, 2, 2, 2), np.float32)
    scores[0, 0] = [[1, 2], [3, 5]]
    assert channel_to_image(scores, 1, 0).tolist() == [[0, 64], [128, 255]]
    assert channel_to_image(scores, 1, 1).tolist() == [[0, 0], [0, 0]]
    with pytest.raises(ShapeError):
        channel_to_image(scores, 1, 2)
