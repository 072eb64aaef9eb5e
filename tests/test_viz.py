"""Rendering is pixel-exact on tiny arrays; widgets are checked by their tree and observers."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from wasinn_nb.errors import ShapeError, SpecError
from wasinn_nb.results import Classification, Segmentation, load_labels
from wasinn_nb.results.palette import ROAD_LABELS, ROAD_PALETTE, Color, Palette
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
    titled = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(
        titled, render.segmentation_picture(seg, title="segmentation 4x4, 2 classes")
    )
    untitled = render.segmentation_picture(seg)
    band = titled.shape[0] - untitled.shape[0]
    assert band > 10 and (titled[band - 2 :, untitled.shape[1] :] == 255).all()
    picture = titled[band:, : untitled.shape[1]]
    np.testing.assert_array_equal(picture, untitled)
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
    """A toolbar, then the large overlay with the slider and the legend beside it."""
    from wasinn_nb.viz.widgets import SegmentationView

    image, seg = road_like
    view = SegmentationView(image, seg, title="road")
    title, toolbar, body = view.children
    assert "road" in title.value
    assert list(toolbar.children) == [view.mode, view.enlarge]
    panels, side = body.children
    assert list(panels.children) == [view.overlay_image]  # the overlay alone, by default
    slider, _, legend = side.children
    assert slider is view.opacity and slider.value == 0.5 and slider.description == "opacity"
    assert [t.description.rpartition("</span>")[2] for t in legend.children] == [
        "bg (50.0%)",
        "road (50.0%)",
    ]
    assert "#ff0000" in legend.children[0].description


def test_segmentation_view_enlarges_and_goes_side_by_side(road_like):
    from wasinn_nb.viz.widgets import OVERLAY_WIDTH, PANEL_WIDTH, SegmentationView

    image, seg = road_like
    view = SegmentationView(image, seg)
    assert view.overlay_image.layout.width == f"{OVERLAY_WIDTH[False]}px"
    view.enlarge.value = True
    assert view.overlay_image.layout.width == f"{OVERLAY_WIDTH[True]}px"
    assert view.enlarge.description == "shrink"
    view.mode.value = "side by side"
    boxes = view.panels.children
    assert [box.children[0].value for box in boxes] == [
        "<b>original</b>",
        "<b>segmentation</b>",
        "<b>overlay</b>",
    ]
    assert boxes[2].children[1] is view.overlay_image
    assert {box.children[1].layout.width for box in boxes} == {f"{PANEL_WIDTH[True]}px"}
    np.testing.assert_array_equal(png_pixels(boxes[0].children[1]), image)
    view.mode.value = "overlay"
    assert list(view.panels.children) == [view.overlay_image]


def test_segmentation_view_leaves_the_background_untinted_until_its_toggle_is_on():
    from wasinn_nb.viz.widgets import SegmentationView

    image = np.full((2, 2, 3), 80, np.uint8)
    seg = Segmentation(np.array([[0, 1], [0, 1]], np.int32), ("background", "cat"), RED_BLUE)
    view = SegmentationView(image, seg, alpha=1.0)
    assert [t.value for t in view.toggles] == [False, True] and view.visible == [1]
    assert png_pixels(view.overlay_image)[:, 0].tolist() == [[80, 80, 80]] * 2
    view.toggles[0].value = True
    assert png_pixels(view.overlay_image)[:, 0].tolist() == [[0, 0, 255]] * 2  # red, BGR


def test_views_carry_a_titled_static_png(road_like):
    from wasinn_nb.viz.widgets import SegmentationView, TensorView, TopKView

    image, seg = road_like
    scores = Classification.from_output(np.array([0.2, 0.8]), ["n01 a, aa", "n02 b"])
    for view in (
        SegmentationView(image, seg, title="t"),
        TopKView(scores, title="t", thumbnail=image),
        TensorView(np.zeros((1, 3, 8, 8), np.float32)),
    ):
        bundle = view._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        png = base64.b64decode(bundle["image/png"])
        assert png == view.to_png() == view._repr_png_() and png.startswith(b"\x89PNG")
        picture = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert (picture[:4] == 255).all()  # the title's white band on top


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


def test_topk_view_clean_labels_and_absolute_bars():
    from wasinn_nb.viz.widgets import TopKView

    labels = ["n01440764 tench, Tinca tinca", "n01443537 goldfish, Carassius auratus", "c"]
    view = TopKView(Classification.from_output(np.array([0.3, 0.4, 0.1]), labels), k=2)
    assert view.names == ["goldfish", "tench"]
    assert [bar.value for bar in view.bars] == [0.4, 0.3]
    assert {(bar.min, bar.max) for bar in view.bars} == {(0.0, 1.0)}  # not scaled to the top-1
    label, _, percent = view.rows[0].children
    assert ">goldfish</div>" in label.value and 'title="n01443537 goldfish' in label.value
    assert "white-space:normal" in label.value and percent.value == "40.0%"
    raw = TopKView(Classification.from_output(np.array([0.3, 0.4, 0.1]), labels), clean=False)
    assert raw.names[0] == labels[1]


def test_topk_view_title_and_thumbnail():
    from wasinn_nb.viz.widgets import THUMBNAIL_SIDE, TopKView

    photo = np.zeros((300, 600, 3), np.uint8)
    view = TopKView(Classification.from_output(np.array([0.5, 0.5])), title="top 2",
                    thumbnail=photo)  # fmt: skip
    title, content = view.children
    assert "top 2" in title.value
    thumb = png_pixels(content.children[0])
    assert thumb.shape[:2] == (THUMBNAIL_SIDE // 2, THUMBNAIL_SIDE)


def test_bar_chart_is_absolute_with_percentages_and_whole_labels():
    long = "a very long label that would have been cut at thirty six characters before"
    chart = render.bar_chart([long, "b"], [0.5, 0.25])
    assert chart.shape[0] > 2 * 24 + 6  # the long label wrapped onto more lines
    filled = (chart == [180, 119, 31]).all(axis=-1).sum(axis=1)  # bar pixels per row
    lengths = sorted({int(n) for n in filled if n}, reverse=True)
    assert lengths == [120, 60]  # 0.5 and 0.25 of the 240-pixel track, not scaled to the top
    assert render.clean_label("955 banana") == "banana"


def test_tensor_view_steps_through_named_channels():
    from wasinn_nb import TensorSpec
    from wasinn_nb.viz.widgets import TensorView

    array = np.zeros((1, 3, 2, 5), np.float32)
    array[0, 1, 0, 0] = 1.0
    view = TensorView(array, spec=TensorSpec(2, 5, color="rgb"))
    assert view.channel_names == ["R", "G", "B"]
    assert "shape  1x3x2x5" in view.summary.value and "  G  " in view.summary.value
    assert png_pixels(view.picture_widget)[:, :, 0].tolist() == [[0] * 5, [0] * 5]
    view.channel.value = 1
    assert png_pixels(view.picture_widget)[:, :, 0].tolist() == [[255, 0, 0, 0, 0], [0] * 5]
    assert TensorView(array).channel_names == ["0", "1", "2"]


def test_tensor_view_is_bounded():
    from wasinn_nb.viz.widgets import TENSOR_SIDE, TensorView

    view = TensorView(np.random.default_rng(0).random((1, 3, 640, 480), np.float32))
    assert png_pixels(view.picture_widget).shape[:2] == (TENSOR_SIDE, TENSOR_SIDE * 3 // 4)
    assert view.picture_widget.layout.width == f"{TENSOR_SIDE * 3 // 4}px"


def test_backend_picker_sets_the_choice():
    from wasinn_nb.viz.widgets import BackendPicker

    chosen = []
    picker = BackendPicker(["openvino", "litert"], "litert", on_change=chosen.append)
    picker.value = "openvino"
    assert chosen == ["litert", "openvino"] and picker.options == ("openvino", "litert")
    with pytest.raises(ValueError, match="no backend"):
        BackendPicker([])


# ---- what a run displays -----------------------------------------------------------------------


def _run(output, inputs=()):
    from wasinn_nb.results import RunResult, TensorRecord

    records = tuple(TensorRecord(0, i, a) for i, a in enumerate(inputs))
    return RunResult("g.wasm", (), 0, None, "", "", records, (TensorRecord(0, 0, output),))


@pytest.mark.parametrize(
    ("output", "kind"),
    [
        (np.zeros((1, 4, 16, 24), np.float32), Segmentation),  # score map, few classes
        (np.zeros((1, 16, 24), np.int64), Segmentation),  # class map
        (np.zeros((16, 24), np.uint8), Segmentation),
        (np.full((1, 1001), 3, np.uint8), Classification),  # classifier vector
        (np.zeros(10, np.float32), Classification),
        (np.zeros((1, 64, 16, 24), np.float32), type(None)),  # features, not classes
        (np.zeros((1, 3, 2, 2), np.float32), type(None)),  # too small to be a picture
        (np.full((1, 16, 16), -1, np.int32), type(None)),  # negative: not classes
        (np.zeros((2, 10), np.float32), type(None)),  # a batch
    ],
)
def test_recognize(output, kind):
    from wasinn_nb.viz.display import recognize

    assert type(recognize(output)) is kind


def test_recognized_classifier_scores_are_probabilities():
    from wasinn_nb.viz.display import recognize

    u8 = recognize(np.array([[0, 255, 51]], np.uint8))
    assert u8.scores.tolist() == pytest.approx([0.0, 1.0, 0.2])
    logits = recognize(np.array([1.0, 3.0, 2.0], np.float32))
    assert logits.scores.sum() == pytest.approx(1.0) and logits.top_k(1)[0].index == 1
    probs = recognize(np.array([0.25, 0.75], np.float32))
    assert probs.scores.tolist() == [0.25, 0.75]


def test_road_shaped_output_gets_the_road_labels_and_the_input_as_picture():
    from wasinn_nb.viz.display import input_picture, recognize

    photo = np.random.default_rng(1).integers(0, 256, (512, 896, 3), np.uint8)
    tensor = photo.transpose(2, 0, 1)[None].astype(np.float32)
    picture = input_picture(tensor)
    np.testing.assert_array_equal(picture, photo)
    seg = recognize(np.zeros((1, 4, 512, 896), np.float32), image=picture)
    assert seg.labels == ROAD_LABELS and seg.palette == ROAD_PALETTE and seg.image is picture
    rgb = np.zeros((1, 16, 16, 3), np.float32)
    rgb[..., 0] = 0.5  # red, in an NHWC (TensorFlow-style, RGB) tensor
    nhwc = input_picture(rgb)
    assert nhwc.shape == (16, 16, 3) and nhwc[0, 0].tolist() == [0, 0, 128]  # BGR


def test_run_display_is_the_summary_plus_one_view_per_recognised_output():
    pytest.importorskip("ipywidgets")
    from wasinn_nb.viz.display import result_views

    scores = np.zeros((1, 3, 16, 16), np.float32)
    scores[0, 1, 8:] = 1.0
    run = _run(scores, [np.full((1, 3, 16, 16), 200.0, np.float32)])
    bundle = run._repr_mimebundle_()
    assert bundle["text/plain"] == repr(run)
    assert "<table>" in bundle["text/html"] and bundle["text/html"].count("<img") == 1
    assert "application/vnd.jupyter.widget-view+json" in bundle
    (view,) = result_views(run)
    assert view.title == "output 0: segmentation 16x16, 3 classes"
    (top,) = result_views(_run(np.array([[0.1, 0.9]], np.float32)))
    assert type(top).__name__ == "TopKView" and top.names == ["class 1", "class 0"]
    plain = _run(np.zeros((1, 64, 4, 4), np.float32))
    assert result_views(plain) == [] and "<img" not in plain._repr_mimebundle_()["text/html"]


def test_overlay_hover_carries_a_small_class_map():
    pytest.importorskip("anywidget")
    from wasinn_nb.viz.widgets import HOVER_SIDE, SegmentationView

    mask = np.zeros((600, 1024), np.int32)
    mask[:, 512:] = 1
    view = SegmentationView(np.zeros((600, 1024, 3), np.uint8), Segmentation(mask, ("a", "b")))
    overlay = view.overlay_image
    assert type(overlay).__name__ == "OverlayImage" and overlay.labels == ["a", "b"]
    assert overlay.image_shape == [600, 1024] and overlay.class_shape == [300, HOVER_SIDE]
    classes = np.frombuffer(overlay.classes, np.uint8).reshape(overlay.class_shape)
    assert classes[:, :256].max() == 0 and classes[:, 256:].min() == 1
    assert "wasinn-pixel-readout" in str(overlay._esm)  # the front end, read from package data
