"""Rendering is pixel-exact on tiny arrays; widgets are checked by their tree and observers."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from wasinn_nb.errors import ShapeError, SpecError
from wasinn_nb.results import Classification, Segmentation, load_labels
from wasinn_nb.results.palette import Color, Palette
from wasinn_nb.viz import render

RED_BLUE = Palette.from_hex("#ff0000", "#0000ff")


def test_color_channel_orders():
    color = Color.from_rgb((10, 20, 30))
    assert color.as_bgr() == (30, 20, 10)
    assert Color.from_bgr((30, 20, 10)) == color
    assert color.as_hex() == "#0a141e"
    with pytest.raises(SpecError):
        Color.from_hex("#12345")


def test_colorize_mask_is_bgr():
    pixels = render.colorize_mask(np.array([[0, 1], [1, 0]]), RED_BLUE)
    assert pixels.tolist() == [[[0, 0, 255], [255, 0, 0]], [[255, 0, 0], [0, 0, 255]]]


def test_overlay_blends_exactly():
    image = np.full((1, 2, 3), 100, np.uint8)
    mask = np.array([[0, 1]])
    blended = render.overlay(image, mask, palette=RED_BLUE, alpha=0.5)
    assert blended.tolist() == [[[50, 50, 178], [178, 50, 50]]]
    assert render.overlay(image, mask, palette=RED_BLUE, alpha=0.0).tolist() == image.tolist()
    hidden = render.overlay(image, mask, palette=RED_BLUE, alpha=1.0, visible=[1])
    assert hidden.tolist() == [[[100, 100, 100], [255, 0, 0]]]


def test_overlay_scales_a_smaller_mask_with_nearest_neighbour():
    image = np.zeros((2, 4, 3), np.uint8)
    blended = render.overlay(image, np.array([[0, 1]]), palette=RED_BLUE, alpha=1.0)
    assert blended[:, :2].tolist() == [[[0, 0, 255]] * 2] * 2
    assert blended[:, 2:].tolist() == [[[255, 0, 0]] * 2] * 2


BAD_SHAPES = [
    (np.zeros((2, 2, 4), np.uint8), np.zeros((2, 2), int)),
    (np.zeros((2, 2, 3), np.uint8), np.zeros((2,), int)),
]


@pytest.mark.parametrize(("image", "mask"), BAD_SHAPES)
def test_overlay_rejects_bad_shapes(image, mask):
    with pytest.raises(ShapeError):
        render.overlay(image, mask)


def test_side_by_side_places_images_with_a_gap():
    a = np.zeros((2, 2, 3), np.uint8)
    b = np.full((2, 3), 7, np.uint8)
    row = render.side_by_side([a, b], gap=1)
    assert row.shape == (2, 6, 3)
    assert (row[:, 2] == 255).all() and (row[:, 3:] == 7).all()


def test_png_round_trip():
    image = np.random.default_rng(0).integers(0, 256, (3, 5, 3), dtype=np.uint8)
    decoded = cv2.imdecode(np.frombuffer(render.encode_png(image), np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(decoded, image)


def test_segmentation_from_scores_and_indices():
    scores = np.zeros((1, 3, 2, 2), np.float32)
    scores[0, 2, 0, 0] = scores[0, 1, 1, :] = 1.0
    seg = Segmentation.from_output(scores, ["a", "b", "c"])
    assert seg.mask.tolist() == [[2, 0], [1, 1]]
    assert seg.shares == {"a": 0.25, "b": 0.5, "c": 0.25}
    same = Segmentation.from_output(seg.mask[None].astype(np.int64), ["a", "b", "c"])
    assert same.mask.tolist() == seg.mask.tolist()
    with pytest.raises(SpecError, match="only 2 labels"):
        Segmentation.from_output(scores, ["a", "b"])
    with pytest.raises(SpecError, match="no image to overlay"):
        render.blend(seg)


def test_classification_topk_softmax_threshold(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("background\ncat\ndog\nfox\n")
    c = Classification.from_output(np.array([[0.0, 2.0, 1.0, 2.0]]), labels)
    assert [(p.index, p.label) for p in c.top_k(3)] == [(1, "cat"), (3, "fox"), (2, "dog")]
    probs = c.softmax()
    assert probs.scores.sum() == pytest.approx(1.0)
    assert [p.label for p in probs.above(0.3)] == ["cat", "fox"]
    skipped = Classification.from_output(np.array([5.0, 1.0, 3.0]), ["one", "two"], skip_first=True)
    assert skipped.top_k(1)[0].index == 2 and skipped.top_k(1)[0].label == "two"
    quantized = Classification.from_output(np.array([[0, 227]], np.uint8), scale=1 / 256)
    assert quantized.top_k(1)[0].score == pytest.approx(0.887, abs=1e-3)
    with pytest.raises(ShapeError):
        Classification.from_output(np.zeros((2, 3)))
    assert load_labels(None) is None


def test_result_displays_carry_a_png_fallback():
    seg = Segmentation.from_output(np.zeros((1, 2, 4, 4), np.float32), ["a", "b"],
                                   image=np.zeros((4, 4, 3), np.uint8))  # fmt: skip
    for owner in (seg, Classification.from_output(np.arange(4.0))):
        bundle = owner._repr_mimebundle_()
        png = base64.b64decode(bundle["image/png"])
        assert png.startswith(b"\x89PNG")
        assert bundle["text/plain"] == repr(owner)


# ---- widgets ----------------------------------------------------------------------------------

widgets = pytest.importorskip("ipywidgets")


@pytest.fixture
def road_like():
    image = np.full((4, 6, 3), 80, np.uint8)
    mask = np.zeros((4, 6), np.int32)
    mask[2:] = 1
    return image, Segmentation(mask, ("bg", "road"), RED_BLUE, image)


def png_pixels(image_widget) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(image_widget.value, np.uint8), cv2.IMREAD_COLOR)


def test_segmentation_view_tree(road_like):
    from wasinn_nb.viz.widgets import SegmentationView

    image, seg = road_like
    view = SegmentationView(image, seg)
    panels, slider, legend = view.children
    titles = [panel.children[0].value for panel in panels.children]
    assert titles == ["<b>original</b>", "<b>segmentation</b>", "<b>overlay</b>"]
    assert slider.value == 0.5 and slider.description == "opacity"
    assert [row.children[1].description for row in legend.children] == [
        "bg (50.0%)",
        "road (50.0%)",
    ]
    assert "#ff0000" in legend.children[0].children[0].value


def test_opacity_slider_and_toggles_redraw_the_overlay(road_like):
    from wasinn_nb.viz.widgets import SegmentationView

    image, seg = road_like
    view = SegmentationView(image, seg)
    before = png_pixels(view.overlay_image)
    view.opacity.value = 1.0
    after = png_pixels(view.overlay_image)
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(
        after, render.overlay(image, seg.mask, palette=RED_BLUE, alpha=1.0)
    )
    view.toggles[1].value = False
    assert view.visible == [0]
    assert png_pixels(view.overlay_image)[3].tolist() == [[80, 80, 80]] * 6  # road rows unpainted


def test_topk_view_bars(road_like):
    from wasinn_nb.viz.widgets import TopKView

    view = TopKView(Classification.from_output(np.array([0.1, 0.6, 0.3]), ["a", "b", "c"]), k=2)
    rows = view.children
    assert [r.children[0].value for r in rows] == ["1 b", "2 c"]
    assert [r.children[1].value for r in rows] == [0.6, 0.3]
    assert rows[0].children[1].max == 0.6
    assert rows[1].children[2].value == "0.3000"


def test_tensor_view_steps_through_channels():
    from wasinn_nb.viz.widgets import TensorView

    array = np.zeros((1, 2, 2, 5), np.float32)
    array[0, 1, 0, 0] = 1.0
    view = TensorView(array)
    assert "shape  1x2x2x5" in view.summary.value
    assert png_pixels(view.picture)[:, :, 0].tolist() == [[0] * 5, [0] * 5]
    view.channel.value = 1
    assert png_pixels(view.picture)[:, :, 0].tolist() == [[255, 0, 0, 0, 0], [0] * 5]
