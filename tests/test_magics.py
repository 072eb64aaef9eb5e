"""The magics, driven through a real IPython shell with the real host and fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from _paths import GUESTS, ROAD_INPUT

IPython = pytest.importorskip("IPython")
from IPython.core.error import UsageError  # noqa: E402

from wasinn_nb.abi.wasi_nn import NnErrno  # noqa: E402
from wasinn_nb.magics import WasinnMagics  # noqa: E402
from wasinn_nb.results import Segmentation  # noqa: E402
from wasinn_nb.results.palette import ROAD_LABELS, ROAD_PALETTE  # noqa: E402

ROAD_ARGS = f"road-segmentation-adas-0001.xml road-segmentation-adas-0001.bin {ROAD_INPUT}"


@pytest.fixture(autouse=True)
def magics(ip):
    """The registered WasinnMagics; its settings are restored after each test."""
    magics = ip.magics_manager.registry["WasinnMagics"]
    yield magics
    magics.backend, magics.timeout, magics.show, magics.traceback = None, None, "text", False
    magics.mirror = None


@pytest.mark.openvino
def test_run_road_seg_puts_a_run_result_in_the_namespace(ip, road_workdir, capsys):
    pytest.importorskip("openvino")
    ip.run_line_magic("config", "WasinnMagics.show = 'text'")
    ip.run_line_magic("wasinn", f"run {GUESTS / 'road-seg.wasm'} --dir .:. -o road -- {ROAD_ARGS}")
    out = capsys.readouterr().out
    assert "Executed graph inference" in out  # guest stdout shown in the cell
    result = ip.user_ns["_wasinn"]
    assert ip.user_ns["road"] is result
    assert result.outputs[0].shape == (1, 4, 512, 896)
    seg = Segmentation.from_output(result.outputs[0], ROAD_LABELS, palette=ROAD_PALETTE)
    assert seg.shares["road"] == pytest.approx(0.192, abs=0.01)


def test_variables_expand_in_arguments(ip, tmp_path):
    ip.user_ns["guest"] = str(GUESTS / "named.wasm")
    with pytest.raises(UsageError, match="exited with status 2"):
        ip.run_line_magic("wasinn", "run {guest}")
    assert ip.user_ns["_wasinn"].exit_code == 2


WAT_BAD_LOAD = """
(module
  (import "wasi_ephemeral_nn" "load" (func $load (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; builder array pointer far outside the 64 KiB memory
    (call $exit (call $load (i32.const 0x7fff0000) (i32.const 1) (i32.const 0) (i32.const 0)
                            (i32.const 16)))))
"""


def test_wat_cell_with_a_bad_pointer_reports_the_errno(ip):
    with pytest.raises(UsageError, match="exited with status 1"):
        ip.run_cell_magic("wasinn", "", WAT_BAD_LOAD)
    result = ip.user_ns["_wasinn"]
    assert result.exit_code == NnErrno.INVALID_ARGUMENT
    assert result.calls[0].errno is NnErrno.INVALID_ARGUMENT
    assert "outside guest memory" in result.host_log[0]


def test_wat_cell_compile_error_names_the_line(ip):
    with pytest.raises(UsageError, match=r"line 3, column"):
        ip.run_cell_magic("wasinn", "", '(module\n  (func (export "_start")\n    (i32.bogus)))')


def test_wat_cell_output_and_args(ip, capsys):
    wat = """
    (module
      (import "wasi_snapshot_preview1" "fd_write"
        (func $write (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 8) "hi from wat\\n")
      (func (export "_start")
        (i32.store (i32.const 0) (i32.const 8)) (i32.store (i32.const 4) (i32.const 12))
        (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100)))))
    """
    ip.run_cell_magic("wasinn", "-o greeting", wat)
    assert "hi from wat" in capsys.readouterr().out
    assert ip.user_ns["greeting"].stdout == "hi from wat\n"


def test_im2tensor_returns_the_array_or_stores_it_without_an_echo(ip, road_dir):
    image = road_dir / "empty_road_mapillary.jpg"
    tensor = ip.run_line_magic("wasinn", f"im2tensor --image {image} --dims 64x112x3xu8")
    assert tensor.shape == (1, 3, 64, 112) and tensor.dtype == np.uint8
    stored = ip.run_line_magic("wasinn", f"im2tensor --image {image} --dims 64x112x3xu8 -o small")
    assert stored is None  # nothing for Jupyter to echo
    assert np.array_equal(ip.user_ns["small"], tensor)
    assert ip.user_ns["_wasinn"] is ip.user_ns["small"]


@pytest.fixture
def forget_road():
    yield
    from wasinn_nb.runtime import default_runner

    default_runner().graphs.remove("road")


@pytest.mark.usefixtures("forget_road")
def test_preload_and_models(ip, road_dir, capsys):
    xml, weights = (
        road_dir / "road-segmentation-adas-0001.xml",
        road_dir / "road-segmentation-adas-0001.bin",
    )
    ip.run_line_magic("wasinn", f"preload road openvino cpu {xml} {weights}")
    ip.run_line_magic("wasinn", "models")
    out = capsys.readouterr().out
    assert "preloaded 'road'" in out
    assert "road             openvino        cpu" in out


def test_backends_lists_versions_and_devices(ip, capsys):
    ip.run_line_magic("wasinn", "backends")
    out = capsys.readouterr().out
    assert "openvino" in out and "onnxruntime" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("runn x.wasm", "unknown command 'runn'; did you mean 'run'?"),
        ("run missing.wasm", "cannot read module missing.wasm"),
        ("run x.wasm --nn-preload bad", "bad preload 'bad'"),
        ("im2tensor --image x.jpg --dims 512x896", "bad dims '512x896'"),
        ("run", "the following arguments are required: MODULE.wasm"),
    ],
)
def test_errors_are_exactly_usage_error(ip, line, message):
    with pytest.raises(UsageError) as raised:
        ip.run_line_magic("wasinn", line)
    assert type(raised.value) is UsageError
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_traceback_config_shows_the_real_error(ip):
    from wasinn_nb.errors import GuestError

    ip.run_line_magic("config", "WasinnMagics.traceback = True")
    with pytest.raises(GuestError):
        ip.run_line_magic("wasinn", "run missing.wasm")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("WasinnMagics.backend = 'openvno'", "did you mean 'openvino'?"),
        ("WasinnMagics.show = 'widgte'", "did you mean 'widget'?"),
        ("WasinnMagics.target = 'gpx'", "did you mean 'gpu'?"),
    ],
)
def test_bad_config_values_get_a_hint(ip, setting, message, caplog, magics):
    before = (magics.backend, magics.show, magics.target)
    ip.run_line_magic("config", setting)  # %config reports the error instead of raising it
    assert message in caplog.text
    assert (magics.backend, magics.show, magics.target) == before


def test_config_values_apply(ip, magics):
    ip.run_line_magic("config", "WasinnMagics.timeout = 0.2")
    loop = '(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))'
    with pytest.raises(UsageError, match=r"timed out after 0\.2 s"):
        ip.run_cell_magic("wasinn", "", loop)
    assert isinstance(magics, WasinnMagics)


@pytest.mark.openvino
def test_bench_prints_a_phase_table(ip, road_workdir, capsys):
    pytest.importorskip("openvino")
    ip.run_line_magic("wasinn", f"bench {GUESTS / 'road-seg.wasm'} -n 2 --dir .:. -- {ROAD_ARGS}")
    out = capsys.readouterr().out
    assert "phase" in out and "compute" in out and "guest total / direct total" in out


def test_fetch_uses_the_configured_mirror(ip, tmp_path, magics):
    from _paths import FIXTURES

    if not FIXTURES.is_dir():
        pytest.skip("no mirror")
    magics.mirror = str(FIXTURES)
    assert ip.run_line_magic("wasinn", f"fetch birds --dest {tmp_path} -o birds") is None
    paths = ip.user_ns["birds"]
    assert paths["bird.jpg"] == tmp_path / "bird.jpg"
    with pytest.raises(UsageError, match="unknown asset 'bird'"):
        ip.run_line_magic("wasinn", f"fetch bird --dest {tmp_path}")


@pytest.mark.openvino
def test_default_display_of_a_road_run_is_one_summary_with_a_segmentation_view(
    ip, road_workdir, monkeypatch
):
    """``show = 'widget'`` (the default): one display, the summary plus a SegmentationView."""
    pytest.importorskip("openvino")
    pytest.importorskip("ipywidgets")
    import wasinn_nb.magics as magics_module
    from wasinn_nb.viz.display import result_views

    shown = []
    monkeypatch.setattr(magics_module, "display", lambda *objs, **kw: shown.append((objs, kw)))
    ip.run_line_magic("config", "WasinnMagics.show = 'widget'")
    ip.run_line_magic("wasinn", f"run {GUESTS / 'road-seg.wasm'} --dir .:. -o road -- {ROAD_ARGS}")
    result = ip.user_ns["road"]
    assert shown == [((result,), {})]  # exactly one render
    bundle = result._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"].count("<img") == 1 and "<table>" in bundle["text/html"]
    (view,) = result_views(result)
    assert type(view).__name__ == "SegmentationView"
    assert view.segmentation.labels == ROAD_LABELS and view.visible == [1, 2, 3]
    assert view.segmentation.shares["road"] == pytest.approx(0.192, abs=0.01)
    assert view.segmentation.image is not None  # the input tensor, drawn under the overlay

    shown.clear()
    ip.run_line_magic("config", "WasinnMagics.show = 'png'")
    ip.run_line_magic("wasinn", f"run {GUESTS / 'road-seg.wasm'} --dir .:. -- {ROAD_ARGS}")
    ((static,), options) = shown[0]
    assert len(shown) == 1 and options == {"raw": True}
    assert set(static) == {"text/plain", "text/html"}
