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


RGB3 = Palette.from_hex("#ff0000", "#0000ff", "#00ff00")
WHITE, RED, BLUE = [255, 255, 255], [0, 0, 255], [255, 0, 0]  # BGR


def test_overlay_leaves_the_background_untinted():
    image = np.full((1, 3, 3), 100, np.uint8)
    mask = np.array([[0, 1, 2]])
    blended = render.overlay(image, mask, palette=RGB3, alpha=0.5, background=0)
    assert blended.tolist() == [[[100, 100, 100], [178, 50, 50], [50, 178, 50]]]
    only_bg = render.overlay(image, mask, palette=RGB3, alpha=1.0, visible=[0, 2], background=0)
    assert only_bg.tolist() == [[[100, 100, 100], [100, 100, 100], [0, 255, 0]]]


def test_segmentation_from_class_maps():
    for output in (np.array([[[2, 0, 1]]], np.int64), np.array([[2, 0, 1]], np.uint8)):
        seg = Segmentation.from_output(output, ["a", "b", "c"])
        assert seg.mask.dtype == np.int32 and seg.mask.tolist() == [[2, 0, 1]]
    assert Segmentation.from_output(np.array([[0, 3]], np.int32)).labels[-1] == "class 3"
    with pytest.raises(ShapeError, match="class map"):
        Segmentation.from_output(np.zeros((1, 1, 2, 2), np.int64))
    with pytest.raises(ShapeError, match="class map"):
        Segmentation.from_output(np.zeros((2, 2, 2), np.int64))
    with pytest.raises(SpecError, match="negative class -1"):
        Segmentation.from_output(np.array([[0, -1]], np.int64))
    with pytest.raises(SpecError, match="only 2 labels"):
        Segmentation.from_output(np.array([[0, 2]], np.int64), ["a", "b"])
    with pytest.raises(SpecError, match="expected floats or ints"):
        Segmentation.from_output(np.array([[True, False]]))


def test_background_class_is_untinted_by_default_when_labelled():
    image = np.full((1, 3, 3), 100, np.uint8)
    mask = np.array([[0, 1, 2]], np.int64)
    voc = Segmentation.from_output(mask, ["Background", "cat", "dog"], palette=RGB3, image=image)
    assert voc.background == 0
    assert render.blend(voc, alpha=1.0).tolist() == [[[100, 100, 100], BLUE, [0, 255, 0]]]
    tinted = Segmentation.from_output(mask, ["background", "cat", "dog"], palette=RGB3,
                                      image=image, background=None)  # fmt: skip
    assert tinted.background is None and render.blend(tinted, alpha=1.0)[0, 0].tolist() == RED
    assert Segmentation.from_output(mask, ["sky", "cat", "dog"]).background is None
    assert Segmentation.from_output(mask, ["sky", "cat", "dog"], background=2).background == 2
    with pytest.raises(SpecError, match="background class 3"):
        Segmentation.from_output(mask, ["sky", "cat", "dog"], background=3)


def swatch(picture, row, left=0):
    """The 17x15 swatch of legend row ``row`` (x 6..22, y 3..17 of the row)."""
    top = 3 + 22 * row
    return picture[top + 3 : top + 18, left + 6 : left + 23]


def test_legend_swatches_shares_and_the_untinted_class():
    key = render.legend(["background", "cat"], RED_BLUE, shares=[0.75, 0.25], untinted=0)
    assert key.shape[0] == 2 * 22 + 6 and key.shape[1] >= 120
    hollow, filled = swatch(key, 0), swatch(key, 1)
    assert (filled == BLUE).all()
    border = np.ones(hollow.shape[:2], bool)
    border[1:-1, 1:-1] = False
    assert (hollow[border] == RED).all() and (hollow[~border] == WHITE).all()
    assert (key[:, :6] == WHITE).all() and (key[:, 23:30] == WHITE).all()  # margin, gap
    for row in (0, 1):  # each row's text is drawn from x = 30
        assert (key[3 + 22 * row : 25 + 22 * row, 30:] != WHITE).any(axis=-1).any()
    other = render.legend(["background", "cat"], RED_BLUE, shares=[0.25, 0.75], untinted=0)
    assert other.shape == key.shape and not np.array_equal(other[:, 30:], key[:, 30:])
    one = render.legend(["background", "cat"], RED_BLUE, shares=[0.75, 0.25], classes=[1])
    assert one.shape[0] == 28 and (swatch(one, 0) == BLUE).all()
    wide = render.legend(["a much longer label than any other in this legend"], RED_BLUE)
    assert wide.shape[1] > key.shape[1]


def test_with_legend_keeps_both_unscaled():
    picture, key = np.zeros((2, 3, 3), np.uint8), np.full((4, 2, 3), 7, np.uint8)
    canvas = render.with_legend(picture, key, gap=1)
    assert canvas.shape == (4, 6, 3)
    assert (canvas[:2, :3] == 0).all() and (canvas[2:, :4] == 255).all()
    assert (canvas[:, 3] == 255).all() and (canvas[:, 4:] == 7).all()


def test_segmentation_png_carries_the_legend_with_shares():
    image = np.full((4, 4, 3), 100, np.uint8)
    mask = np.zeros((1, 4, 4), np.int64)
    mask[0, :, 3] = 1  # cat: a quarter of the pixels
    seg = Segmentation.from_output(mask, ["background", "cat"], palette=RED_BLUE, image=image)
    png = base64.b64decode(seg._repr_mimebundle_()["image/png"])
    picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(picture, render.segmentation_picture(seg))
    key = render.legend(seg.labels, RED_BLUE, shares=[0.75, 0.25], untinted=0)
    left = 3 * 4 + 2 * 8 + 8  # three 4x4 panels with 8-pixel gaps, then the legend's gap
    np.testing.assert_array_equal(picture[: key.shape[0], left:], key)
    overlay = picture[:4, 24:28]
    assert (overlay[:, :3] == 100).all() and (overlay[:, 3] == [178, 50, 50]).all()


def test_long_label_lists_keep_only_present_classes_in_the_legend():
    labels = [f"class {i}" for i in range(30)]
    seg = Segmentation.from_output(np.array([[0, 7], [7, 29]], np.int64), labels)
    assert render.segmentation_legend(seg).shape[0] == 3 * 22 + 6
    small = Segmentation.from_output(np.array([[0, 1]], np.int64), labels[:21])
    assert render.segmentation_legend(small).shape[0] == 21 * 22 + 6


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
