"""The walkthrough notebooks run top to bottom on a live kernel, offline (with the mirror).

nbclient, not nbmake: nbmake reports a notebook as passing when a cell fails with IPython's
``UsageError`` (which the magics raise on purpose), so a broken ``%wasinn`` line would slip by.
Executed copies are kept under ``artifacts/notebooks/`` for a look at their outputs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _paths import FIXTURES, REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ARTIFACTS = REPO / "artifacts" / "notebooks"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if not FIXTURES.is_dir():
        pytest.skip(f"no mirror at {FIXTURES}: the notebooks would download their data")
    monkeypatch.setenv("WASINN_MIRROR", str(FIXTURES))
    notebook = nbformat.read(path, as_version=4)
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
        nbformat.write(notebook, ARTIFACTS / path.name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear outputs"
