"""Package-level contracts: light imports, a resolvable public API, the version."""

from __future__ import annotations

import subprocess
import sys

import wasinn_nb
import wasinn_nb.im2tensor

HEAVY = ("openvino", "onnxruntime", "cv2", "ipywidgets", "matplotlib", "IPython", "tqdm")

BLOCKER = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            raise ImportError("blocked by test: " + name)
sys.meta_path.insert(0, Block())
"""


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_import_does_not_load_heavy_dependencies():
    loaded = run_python(
        "import sys, wasinn_nb, wasinn_nb.im2tensor, wasinn_nb.cli\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    assert loaded == "[]"


def test_the_cli_loads_no_batch_or_pipeline_code_until_those_commands_run():
    """`wasinn run` pays for what it uses: not the process pool, Dask glue or operator graphs."""
    loaded = run_python(
        "import sys, wasinn_nb.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith(('wasinn_nb.batch', "
        "'wasinn_nb.pipeline', 'multiprocessing', 'concurrent.futures', 'yaml'))))"
    )
    assert loaded == "[]"


def test_import_works_with_heavy_dependencies_missing():
    code = BLOCKER + "import wasinn_nb; print(wasinn_nb.TensorSpec.from_dims('8x8x3xu8').shape)"
    assert run_python(code) == "(1, 3, 8, 8)"


def test_every_public_name_resolves():
    for module in (wasinn_nb, wasinn_nb.im2tensor):
        for name in module.__all__:
            assert getattr(module, name) is not None, name


def test_version_is_set():
    assert wasinn_nb.__version__.count(".") >= 2
