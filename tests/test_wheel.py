"""The wheel stands alone: built from the repository, installed into a fresh venv, run there.

The wheel is built from a copy of the working tree (its tracked and unignored files), so the
build leaves nothing in the checkout. The venv is new and holds only the wheel (``pip install
--no-deps``); its dependencies come from the environment running the tests, through a ``.pth``
line naming that environment's site-packages. A ``.pth`` line only adds the folder: the
``.pth`` files in it are not run, so the checkout's editable install is not active there, and
everything runs from a folder outside the checkout. What runs is the wheel's own code and its
own copies of the example guests and notebooks.

The wheel's name, size and sha256 are written to ``artifacts/wheel.txt``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from _paths import FIXTURES, REPO, ROAD

pytestmark = pytest.mark.slow

#: As in setup.py: the files of each repository folder a wheel carries, by glob.
EXAMPLES = {
    "guests": ("*.wasm", "nn/Cargo.toml", "nn/src/*.rs", "nn-c/*.h"),
    "notebooks": ("*.ipynb",),
}


def _examples(folder: str) -> dict[str, Path]:
    """The files of ``folder`` a wheel carries, by their path below it."""
    base = REPO / folder
    return {
        p.relative_to(base).as_posix(): p
        for pattern in EXAMPLES[folder]
        for p in base.glob(pattern)
    }


PIP = (sys.executable, "-m", "pip")
#: Installing the wheel alone, from the file.
INSTALL = ("--no-deps", "--no-index", "-q")


def _setuptools_major() -> int:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return int(version("setuptools").split(".")[0])
    except PackageNotFoundError:
        return 0


#: Building it with this environment's setuptools, offline, when it is new enough for
#: pyproject.toml (77: the licence as an SPDX string); else pip fetches one (network).
BUILD = (*INSTALL, "--no-build-isolation") if _setuptools_major() >= 77 else ("--no-deps", "-q")
ARTIFACT = REPO / "artifacts" / "wheel.txt"


#: Left out of the copy when git cannot list the files: build outputs, caches, local data.
_UNTRACKED_AT_TOP = {".git", ".venv", "build", "dist", "artifacts", "model", "image", "tensor"}
_UNTRACKED = {"__pycache__", "target", "work", ".ipynb_checkpoints"}


def _ignored(folder: str, names: list[str]) -> set[str]:
    """``shutil.copytree``'s ignore: what git would not list (see .gitignore)."""
    top = _UNTRACKED_AT_TOP if Path(folder) == REPO else set()
    return {n for n in names if n in top | _UNTRACKED or n.endswith((".egg-info", "_cache"))}


def _source_tree(target: Path) -> Path:
    """A copy of the working tree's tracked and unignored files (all but build outputs)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if listing.returncode != 0:  # not a git checkout, or git refuses it: copy, leaving out
        shutil.copytree(REPO, target, ignore=_ignored)
        return target
    for name in filter(None, listing.stdout.decode().split("\0")):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built with this environment's setuptools where it can (see BUILD)."""
    work = tmp_path_factory.mktemp("wheel")
    source = _source_tree(work / "source")
    subprocess.run([*PIP, "wheel", str(source), *BUILD, "-w", str(work / "dist")], check=True)
    (built,) = (work / "dist").glob("wasinn_nb-*.whl")
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    size = built.stat().st_size
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(f"{built.name} {size} bytes ({size / 1024:.0f} KiB) sha256 {digest}\n")
    print(f"\n{built.name}: {size:,} bytes")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the wheel installed; dependencies from the running environment."""
    root = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    subprocess.run([*PIP, "--python", str(python), "install", *INSTALL, str(wheel)], check=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    (Path(site) / "dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(ours)))
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the checkout to run in."""
    assert not tmp_path.resolve().is_relative_to(REPO)
    return tmp_path


def _env(tmp: Path) -> dict[str, str]:
    """The environment of a run in the venv: the mirror, fresh caches, no path overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "WASINN_"))}
    env.update(
        WASINN_MIRROR=str(FIXTURES),
        WASINN_DATA_DIR=str(tmp / "data"),
        WASINN_CACHE_DIR=str(tmp / "cache"),
        WASINN_BUILD_DIR=str(tmp / "builds"),
    )
    return env


def _run(venv: Path, tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / tool), *args],
        cwd=cwd,
        env=_env(cwd),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_wheel_carries_the_example_guests_and_notebooks_byte_for_byte(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for folder in EXAMPLES:
            sources = _examples(folder)
            prefix = f"wasinn_nb/data/examples/{folder}/"
            packaged = {n.removeprefix(prefix) for n in names if n.startswith(prefix)}
            assert packaged == set(sources), folder
            for name, source in sources.items():
                assert archive.read(prefix + name) == source.read_bytes(), name
    assert {"road-seg", "classify", "named", "pytorch-image"} <= {
        Path(n).stem for n in names if n.endswith(".wasm")
    }
    assert not [n for n in names if n.startswith(("tests/", "guests/", "notebooks/"))]


def test_a_wheel_built_from_the_sdist_carries_them_too(
    wheel: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``python -m build`` makes the wheel from the sdist: MANIFEST.in must bring the examples."""
    import tarfile

    if _setuptools_major() < 77:
        pytest.skip("this environment's setuptools is too old to build the sdist (77 or later)")
    work = tmp_path_factory.mktemp("sdist")
    source = _source_tree(work / "source")
    code = "from setuptools import build_meta; print(build_meta.build_sdist('../dist'))"
    subprocess.run([sys.executable, "-c", code], cwd=source, check=True, capture_output=True)
    (sdist,) = (work / "dist").glob("wasinn_nb-*.tar.gz")
    with tarfile.open(sdist) as archive:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(work / "unpacked", **safe)  # our own sdist
    (unpacked,) = (work / "unpacked").iterdir()
    subprocess.run([*PIP, "wheel", str(unpacked), *BUILD, "-w", str(work / "dist")], check=True)
    (rebuilt,) = (work / "dist").glob("wasinn_nb-*.whl")
    with zipfile.ZipFile(wheel) as direct, zipfile.ZipFile(rebuilt) as via_sdist:
        examples = [n for n in direct.namelist() if n.startswith("wasinn_nb/data/examples/")]
        assert len(examples) == sum(len(_examples(folder)) for folder in EXAMPLES)
        assert all(via_sdist.read(name) == direct.read(name) for name in examples)


def test_the_venv_imports_the_wheel_not_the_checkout(venv: Path, outside: Path) -> None:
    code = (
        "import os, sys, wasinn_nb, wasinn_nb.data as d\n"
        "print(wasinn_nb.__file__)\n"
        "print(d.example_guest('road-seg'))\n"
        "print([p for p in sys.path if os.path.isdir(os.path.join(p or '.', 'wasinn_nb'))])\n"
        "print([type(f).__name__ for f in sys.meta_path if 'editable' in repr(f).lower()])\n"
    )
    done = _run(venv, "python", "-c", code, cwd=outside)
    assert done.returncode == 0, done.stderr
    module, guest, with_wasinn_nb, finders = done.stdout.splitlines()
    assert Path(module).is_relative_to(venv) and Path(guest).is_relative_to(venv)
    assert Path(guest).parent.name == "guests" and Path(guest).parent.parent.name == "examples"
    assert with_wasinn_nb == repr([str(Path(module).parent.parent)])  # the venv's site-packages
    assert finders == "[]"  # the checkout's editable install is not active


def test_wasinn_demo_runs_from_the_installed_wheel(venv: Path, outside: Path) -> None:
    pytest.importorskip("openvino")
    if not ROAD.is_dir():
        pytest.skip(f"no mirror at {FIXTURES}")
    done = _run(venv, "wasinn", "demo", "--out", "overlay", cwd=outside)
    assert done.returncode == 0, done.stderr
    assert "class shares: background 0.77" in done.stdout and "road 0.19" in done.stdout
    overlay = outside / "overlay" / "road-overlay.png"
    assert f"overlay: {Path('overlay') / 'road-overlay.png'}" in done.stdout
    assert overlay.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wasinn_notebooks_copies_the_packaged_notebooks(venv: Path, outside: Path) -> None:
    sources = sorted((REPO / "notebooks").glob("*.ipynb"))
    done = _run(venv, "wasinn", "notebooks", "walkthroughs", cwd=outside)
    assert done.returncode == 0, done.stderr
    target = outside / "walkthroughs"
    assert done.stdout.splitlines() == [f"wrote {Path('walkthroughs') / p.name}" for p in sources]
    for source in sources:
        assert (target / source.name).read_bytes() == source.read_bytes()
    (target / "tour.ipynb").write_text("my edits")
    again = _run(venv, "wasinn", "notebooks", "walkthroughs", cwd=outside)
    assert again.returncode == 0 and again.stdout.count("kept  ") == len(sources), again
    assert (target / "tour.ipynb").read_text() == "my edits"
    forced = _run(venv, "wasinn", "notebooks", "walkthroughs", "--force", cwd=outside)
    assert forced.returncode == 0 and forced.stdout.count("wrote ") == len(sources), forced
    assert (target / "tour.ipynb").read_bytes() == (REPO / "notebooks" / "tour.ipynb").read_bytes()


def test_a_copied_notebook_runs_on_the_installed_wheel(venv: Path, outside: Path) -> None:
    """The road-segmentation walkthrough, from ``wasinn notebooks DIR``, on the venv's kernel."""
    pytest.importorskip("openvino")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    if not ROAD.is_dir():
        pytest.skip(f"no mirror at {FIXTURES}")
    assert _run(venv, "wasinn", "notebooks", "nb", cwd=outside).returncode == 0
    code = (
        "import sys, nbclient, nbformat\n"
        "notebook = nbformat.read('nb/road-segmentation.ipynb', as_version=4)\n"
        "notebook.cells.append(nbformat.v4.new_code_cell(\n"
        "    'import sys, wasinn_nb; print(\"kernel:\", sys.executable, wasinn_nb.__file__)'))\n"
        "nbclient.NotebookClient(notebook, timeout=300, kernel_name='python3',\n"
        "    resources={'metadata': {'path': 'nb'}}).execute()\n"
        "print(''.join(o.get('text', '') for c in notebook.cells if c.cell_type == 'code'\n"
        "    for o in c.outputs if o.output_type == 'stream'))\n"
    )
    done = _run(venv, "python", "-c", code, cwd=outside)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "road         0.19" in done.stdout
    kernel = done.stdout.split("kernel: ")[1].split()
    assert Path(kernel[0]).is_relative_to(venv) and Path(kernel[1]).is_relative_to(venv)
    assert (outside / "nb" / "work" / "road-overlay.png").is_file()


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("guest.rs", "use nn::Encoding;\nfn main() { println!(\"{}\", Encoding::Onnx.name()); }\n"),
        ("guest.c", '#include <stdio.h>\n#include <wasi_nn.h>\n'
                    'int main(void) { printf("%d\\n", WASI_NN_ENCODING_ONNX); }\n'),
    ],
)  # fmt: skip
def test_the_installed_package_builds_guests_with_its_own_bindings(
    venv: Path, outside: Path, name: str, source: str
) -> None:
    """``wasinn build`` from the wheel: the nn crate and wasi_nn.h come with it."""
    from wasinn_nb.build import ToolchainMissingError, c_toolchain, rust_toolchain

    try:
        (rust_toolchain if name.endswith(".rs") else c_toolchain)()
    except ToolchainMissingError as missing:
        pytest.skip(str(missing))
    (outside / name).write_text(source)
    done = _run(venv, "wasinn", "build", name, "--run", cwd=outside)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == ("onnx" if name.endswith(".rs") else "1")
    if name.endswith(".rs"):  # the cell project depends on the wheel's copy of the crate
        manifest = (outside / "builds" / "rust" / "cell" / "Cargo.toml").read_text()
        assert f'nn = {{ path = "{venv}/' in manifest
