"""wasinn_nb.batch: one guest over many inputs, here, on a process pool and on Dask.

The acceptance runs use the classify guest with Coral's MobileNet V2 (quantized TFLite) on
generated variants of the mirror's photos. The bench (bench/batch_throughput.py) runs 200
items; these tests run 40 (plus a corrupt image and a missing file) to keep CI short.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from _paths import FIXTURES, GUESTS, ROAD

from wasinn_nb.batch import (
    ResultsFile,
    make_variants,
    map_guest,
    parse_top_k,
    resolve_inputs,
    to_frame,
    without_timings,
)
from wasinn_nb.errors import SpecError

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

CORAL = FIXTURES / "coral-test-data"
MOBILENET = "mobilenet_v2_1.0_224_quant.tflite"
PHOTOS = [CORAL / "parrot.jpg", CORAL / "cat.bmp", CORAL / "grace_hopper.bmp", CORAL / "bird.bmp",
          FIXTURES / "openvino-mobilenet" / "input.jpg"]  # fmt: skip
#: The guest sees the model folder at /models and each item's folder at /input.
ARGS = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", "--top", "3",
        f"/models/{MOBILENET}", "{input}", "/models/imagenet_labels.txt"]  # fmt: skip
DIRS = [f"{CORAL}::/models:ro"]
ITEMS = 40

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """40 variants of the photos, then a corrupt image and a missing file."""
    pytest.importorskip("ai_edge_litert")
    if not (CORAL / MOBILENET).is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    folder = tmp_path_factory.mktemp("variants")
    items = [str(p) for p in make_variants(PHOTOS, folder, ITEMS)]
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 10)
    return [*items, str(folder / "corrupt.png"), str(folder / "missing.jpg")]


def classify(items: list[str], **options: object) -> pd.DataFrame:
    return map_guest(GUESTS / "classify.wasm", items, args=ARGS, dirs=DIRS, progress=False,
                     **options)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture(scope="module")
def serial(inputs: list[str]) -> pd.DataFrame:
    return classify(inputs, workers=1)


@pytest.fixture(scope="module")
def cluster():
    """A Dask LocalCluster of 2 worker processes, 1 thread each."""
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:  # fmt: skip
        yield local


def test_serial_pool_and_dask_give_identical_frames(inputs, serial, cluster):
    from dask.distributed import Client

    pool = classify(inputs, workers=2)
    with Client(cluster) as client:
        on_dask = classify(inputs, client=client)
    expected = without_timings(serial)
    pd.testing.assert_frame_equal(without_timings(pool), expected)
    pd.testing.assert_frame_equal(without_timings(on_dask), expected)
    assert list(serial["input"]) == inputs
    assert serial["time_total"].iloc[:ITEMS].gt(0).all()


def test_lazy_gives_a_dask_frame_of_the_same_rows(inputs, serial, cluster):
    """lazy=True: partitions run when computed; columns, dtypes and index as the eager frame."""
    from dask.distributed import Client

    dd = pytest.importorskip("dask.dataframe")
    with Client(cluster) as client:
        lazy = classify(inputs, client=client, lazy=True, chunk=8)
        assert isinstance(lazy, dd.DataFrame) and lazy.known_divisions
        assert lazy.npartitions == 1 + -(-(len(inputs) - 1) // 8)  # the probed item, then 8s
        assert list(lazy.columns) == list(serial.columns)
        computed = lazy.compute()
        errors = lazy[lazy["error"].notnull()]["input"].compute()
    pd.testing.assert_frame_equal(without_timings(computed), without_timings(serial))
    assert list(errors) == inputs[-2:]  # the corrupt image and the missing file, in their rows


def test_lazy_needs_a_cluster_and_writes_no_results_file(inputs, tmp_path):
    with pytest.raises(SpecError, match="lazy=True needs a Dask cluster"):
        classify(inputs[:2], lazy=True)
    with pytest.raises(SpecError, match="instead of results="):
        classify(inputs[:2], lazy=True, results=tmp_path / "rows.csv")
    assert not (tmp_path / "rows.csv").exists()


def _dies_on(victim: str):
    """A postprocess that kills the worker process running ``victim`` (never this process)."""
    import os

    parent = os.getpid()

    def postprocess(result):
        if os.getpid() != parent and any(victim in arg for arg in result.args):
            os._exit(3)
        return parse_top_k(result.stdout)

    return postprocess


def _check_deaths(frame: pd.DataFrame, serial: pd.DataFrame, reason: str) -> None:
    """Only the victim (item 2) is an error row; the rest are the serial rows."""
    died = frame["error"].notna()
    assert list(frame["input"]) == list(serial["input"].iloc[:6])
    assert died.tolist() == [False, False, True, False, False, False]
    assert frame.loc[2, "error"].startswith(reason)
    expected = without_timings(serial.iloc[:6]).drop(index=2)
    pd.testing.assert_frame_equal(without_timings(frame).drop(index=2), expected)


def test_a_dead_pool_worker_makes_error_rows_and_the_next_batch_a_new_pool(inputs, serial):
    items = inputs[:6]
    frame = classify(items, workers=2, chunk=2, postprocess=_dies_on(Path(items[2]).name))
    _check_deaths(frame, serial, "the worker process died running it: ")
    again = classify(items, workers=2)
    pd.testing.assert_frame_equal(without_timings(again), without_timings(serial.iloc[:6]))


def test_a_dead_dask_worker_makes_error_rows_and_the_rest_complete(inputs, serial):
    distributed = pytest.importorskip("dask.distributed")
    import dask

    items = inputs[:6]
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as local, \
            distributed.Client(local) as client:  # fmt: skip
        frame = classify(items, client=client, chunk=2, postprocess=_dies_on(Path(items[2]).name))
        _check_deaths(frame, serial, "the Dask worker died running it: ")
        client.wait_for_workers(1, timeout=60)  # the nanny starts a new one
        again = classify(items, client=client)
    pd.testing.assert_frame_equal(without_timings(again), without_timings(serial.iloc[:6]))


class _Workers:
    """A stand-in for a Client: what client.run(version, ...) returns from each worker."""

    def __init__(self, found):
        self.found = found

    def run(self, function, *args, on_error):
        return self.found


def test_workers_without_wasinn_or_with_another_version_are_named():
    from importlib.metadata import PackageNotFoundError, version

    from wasinn_nb.batch.cluster import check_workers

    ours = version("wasinn-nb")
    check_workers(_Workers({"tcp://a:1": ours, "tcp://b:1": ours}))
    with pytest.raises(
        SpecError,
        match=r"^Dask worker tcp://b:1 cannot run batches: wasinn-nb is "
        r"not installed there \(.*\); install wasinn-nb ",
    ):
        check_workers(_Workers({"tcp://a:1": ours, "tcp://b:1": PackageNotFoundError("wasinn-nb")}))
    with pytest.raises(SpecError, match=r"^Dask worker tcp://a:1 has wasinn-nb 0\.0\.1, this"):
        check_workers(_Workers({"tcp://a:1": "0.0.1"}))
    with pytest.raises(SpecError, match="no workers"):
        check_workers(_Workers({}))


def test_the_answers_are_the_models(serial):
    """Unchanged photos get the top-1 the model gives them (tests/test_coral_models.py)."""
    originals = serial[serial["input"].str.contains("-orig-")].set_index("input")
    top1 = {Path(name).name.split("-orig-")[0]: label for name, label in originals["label"].items()}
    assert top1 == {"parrot": "macaw", "cat": "Egyptian cat", "grace_hopper": "military uniform",
                    "bird": top1["bird"], "input": "banana"}  # fmt: skip
    ok = serial.iloc[:ITEMS]
    assert (ok["exit_code"] == 0).all() and ok["error"].isna().all()
    assert ok["top_labels"].map(len).eq(3).all() and ok["top_labels"].str[0].eq(ok["label"]).all()
    assert ok["score"].between(0, 255).all()


def test_a_corrupt_image_and_a_missing_file_are_error_rows(inputs, serial):
    errors = serial[serial["error"].notna()]
    assert list(errors["input"]) == inputs[-2:]
    corrupt, missing = errors["error"]
    assert "\n" not in corrupt + missing
    assert corrupt.startswith("exit status 1: ") and "PNG" in corrupt
    assert missing == f"cannot read input {inputs[-1]}: no such file"
    assert errors["exit_code"].tolist() == [1, pd.NA]
    assert serial["error"].isna().sum() == ITEMS


def test_an_interrupt_keeps_finished_rows_and_a_rerun_skips_them(inputs, serial, tmp_path):
    """Ctrl-C after 5 items (a postprocess raising KeyboardInterrupt, as SIGINT would there)."""
    results = tmp_path / "rows.parquet"
    seen = []

    def interrupt_after_five(result):
        if len(seen) == 5:
            raise KeyboardInterrupt
        seen.append(result)
        return parse_top_k(result.stdout)

    first = classify(inputs, workers=1, results=results, postprocess=interrupt_after_five)
    assert first.attrs["interrupted"] and len(first) == 5
    kept = ResultsFile(results).load()
    assert [row["input"] for row in kept] == inputs[:5]
    again = classify(inputs, workers=2, results=results)
    assert again.attrs == {"resumed": 5, "interrupted": False}
    pd.testing.assert_frame_equal(without_timings(again), without_timings(serial))
    pd.testing.assert_frame_equal(again.iloc[:5], first)  # the same rows: timings included
    assert len(ResultsFile(results).load()) == len(inputs)


def test_an_interrupt_stops_a_process_pool_and_keeps_its_rows(inputs, tmp_path, monkeypatch):
    """Ctrl-C in the parent while a pool works (raised where SIGINT would land: its loop)."""
    from wasinn_nb.batch import api

    real = api.progress_bar

    @contextlib.contextmanager
    def bar_interrupted_at_item_9(*args, **kwargs):
        with real(*args, **kwargs) as bar:
            ticks = []

            class Interrupting:
                def update(self, n=1):
                    if len(ticks) == 8:
                        raise KeyboardInterrupt
                    ticks.append(n)
                    return bar.update(n)

            yield Interrupting()

    monkeypatch.setattr(api, "progress_bar", bar_interrupted_at_item_9)
    results = tmp_path / "rows.csv"
    frame = classify(inputs, workers=2, results=results)
    assert frame.attrs["interrupted"] and list(frame["input"]) == inputs[:9]  # the 9th had come
    assert [row["input"] for row in ResultsFile(results).load()] == inputs[:9]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_the_results_file_gives_back_the_rows(serial, tmp_path, suffix):
    rows = serial.to_dict("records")
    store = ResultsFile(tmp_path / f"rows{suffix}")
    store.save([{k: v for k, v in row.items() if not _missing(v)} for row in rows])
    back = to_frame(store.load())
    pd.testing.assert_frame_equal(back, serial)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def test_a_spec_converts_each_image_on_the_host_first(inputs):
    """The guest then reads a u8 NHWC tensor file, not the PNG; the top-1s mostly agree."""
    from wasinn_nb import TensorSpec

    spec = TensorSpec.from_dims("224x224x3xu8", color="rgb", layout="nhwc")
    items = inputs[:5]
    host = classify(items, workers=1, spec=spec)
    guest = classify(items, workers=1)
    assert (host["exit_code"] == 0).all()
    assert (host["label"] == guest["label"]).sum() >= 4
    from wasinn_nb.batch.job import _warm

    (state,) = _warm.values()
    assert list(Path(state.scratch.name).iterdir()) == []  # each tensor went with its run


def test_a_segmenter_gives_class_shares(tmp_path):
    """road-seg on OpenVINO: the Mapillary photo is mostly road and background."""
    pytest.importorskip("openvino")
    if not (ROAD / "empty_road_mapillary.jpg").is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    from wasinn_nb import TensorSpec

    shutil.copy(ROAD / "empty_road_mapillary.jpg", tmp_path / "road.jpg")
    frame = map_guest(
        GUESTS / "road-seg.wasm", [str(tmp_path / "road.jpg")],
        args=["/model/road-segmentation-adas-0001.xml", "/model/road-segmentation-adas-0001.bin",
              "{input}"],
        dirs=[f"{ROAD}::/model:ro", f"{tmp_path}::."], spec=TensorSpec.from_dims("512x896x3xf32"),
        workers=1, progress=False,
    )  # fmt: skip
    assert frame["error"].isna().all(), frame["error"].tolist()
    (shares,) = frame["shares"]
    assert set(shares) == {"class 0", "class 1", "class 2", "class 3"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["class 1"] > 0.1 and frame["top_class"].iloc[0] in ("class 0", "class 1")


def test_inputs_from_a_folder_a_glob_a_list_and_a_column(tmp_path):
    for name in ("b.png", "a.png", ".hidden.png", "c.jpg"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    expected = [str(tmp_path / n) for n in ("a.png", "b.png", "c.jpg")]
    assert resolve_inputs(tmp_path) == expected
    assert resolve_inputs(f"{tmp_path}/*.png") == expected[:2]
    assert resolve_inputs(pd.Series(expected[::-1])) == expected[::-1]
    assert resolve_inputs(pd.DataFrame({"path": expected})["path"]) == expected
    with pytest.raises(SpecError, match="no inputs match"):
        resolve_inputs(f"{tmp_path}/*.gif")


def test_bad_options_fail_before_any_item_runs(tmp_path):
    guest = '(module (memory (export "memory") 1) (func (export "_start")))'
    with pytest.raises(SpecError, match="no such folder"):
        map_guest(guest, ["a"], dirs=[str(tmp_path / "nowhere")], workers=1, progress=False)
    with pytest.raises(SpecError, match=r"use \.parquet, \.pq or \.csv"):
        map_guest(guest, ["a"], results=tmp_path / "rows.xlsx", workers=1, progress=False)
    with pytest.raises(SpecError, match="workers must be at least 1"):
        map_guest(guest, ["a"], workers=0, progress=False)


def test_a_postprocess_value_and_a_failing_postprocess(tmp_path):
    guest = '(module (memory (export "memory") 1) (func (export "_start")))'
    (tmp_path / "x.bin").write_bytes(b"1")
    items = [str(tmp_path / "x.bin")]
    frame = map_guest(guest, items, workers=1, progress=False, postprocess=lambda r: r.exit_code)
    assert frame["result"].tolist() == [0]

    def broken(result):
        raise ZeroDivisionError("division by zero")

    frame = map_guest(guest, items, workers=1, progress=False, postprocess=broken)
    assert frame["error"].tolist() == [
        "internal error: ZeroDivisionError: division by zero (rerun with --traceback)"
    ]
    assert frame["exit_code"].tolist() == [0]


def test_summary_views_draw_the_frame(serial):
    pytest.importorskip("matplotlib")
    from wasinn_nb.viz.summary import confidence_grid, share_histogram, top1_bar_chart

    ax = top1_bar_chart(serial["label"])
    heights = sorted(int(bar.get_width()) for bar in ax.patches)
    assert sum(heights) == ITEMS and heights[-1] == serial["label"].value_counts().iloc[0]
    figure = confidence_grid(serial["input"], serial["score"], serial["label"], count=3)
    titles = [a.get_title() for a in figure.axes if a.get_title()]
    assert len(titles) == 6
    best = serial["score"].max()
    assert titles[0].endswith(f"{best:.3g}")
    ax = share_histogram([{"road": 0.5, "sky": 0.5}, {"road": 1.0}, None])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["road", "sky"]


def test_wasinn_batch_writes_and_resumes_its_results_file(inputs, serial, tmp_path):
    """The CLI: rows go to the file; a second run finds them all there and runs nothing."""
    import io

    from wasinn_nb.cli import main

    results = tmp_path / "rows.parquet"
    argv = ["batch", str(GUESTS / "classify.wasm"), "-i", inputs[0], "-i", inputs[-1], "-q",
            "--dir", DIRS[0], "--results", str(results), "--workers", "1", "--", *ARGS]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
    first = out.getvalue()
    assert first.startswith("2 inputs: 1 ok, 1 failed\n")
    assert f"  {inputs[-1]}: cannot read input {inputs[-1]}: no such file\n" in first
    assert f"top-1: {serial['label'].iloc[0]} 1" in first
    out = io.StringIO()
    assert main(argv, stdout=out, stderr=err) == 0
    assert out.getvalue().startswith("2 inputs: 1 ok, 1 failed (2 from the results file)\n")
    rows = ResultsFile(results).load()
    assert [row["input"] for row in rows] == [inputs[0], inputs[-1]]


def test_the_magic_runs_on_the_configured_scheduler(ip, inputs, serial, cluster, capsys):
    from IPython.core.error import UsageError

    magics = ip.magics_manager.registry["WasinnMagics"]
    guest_args = " ".join(ARGS).replace("{input}", "{{input}}")  # IPython expands {name}
    line = " ".join(["batch", str(GUESTS / "classify.wasm"), "-i", inputs[0], "-i", inputs[1],
                     "--dir", DIRS[0], "-q", "--", guest_args])  # fmt: skip
    try:
        magics.scheduler = "tcp://127.0.0.1:9"
        with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127"):
            ip.run_line_magic("wasinn", line)
        magics.scheduler = cluster.scheduler_address
        frame = ip.run_line_magic("wasinn", line)
    finally:
        magics.scheduler = None
    pd.testing.assert_frame_equal(without_timings(frame), without_timings(serial.iloc[:2]))
    assert ip.user_ns["_wasinn"] is frame
    assert capsys.readouterr().out.startswith("2 inputs: 2 ok, 0 failed\n")
