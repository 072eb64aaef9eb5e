"""The example guests and notebooks wasinn-nb comes with, and ``wasinn notebooks DIR``.

``tests/test_wheel.py`` checks the same from an installed wheel (the packaged copies); here the
package runs from the checkout, so it finds ``guests/`` and ``notebooks/`` directly.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from _paths import GUESTS, REPO

import wasinn_nb.data.guests as examples
from wasinn_nb.cli import main
from wasinn_nb.commands.notebooks import copy_notebooks
from wasinn_nb.data import example_guest, example_notebooks
from wasinn_nb.errors import GuestError, TensorFileError

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(autouse=True)
def _no_guest_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WASINN_GUESTS", raising=False)


@pytest.mark.parametrize("name", ["road-seg", "classify", "named", "pytorch-image"])
def test_every_example_guest_is_found(name: str) -> None:
    assert example_guest(name) == GUESTS / f"{name}.wasm"


def test_an_unknown_guest_names_the_ones_there_are() -> None:
    with pytest.raises(
        GuestError, match=r"no example guest 'nope' in .*there: classify, classify-component, named"
    ):
        example_guest("nope")
    with pytest.raises(GuestError, match=r"no example guest '\.\./guests/named'"):
        example_guest("../guests/named")


def test_wasinn_guests_overrides_the_examples(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "road-seg.wasm").write_bytes(b"\0asm\1\0\0\0")
    monkeypatch.setenv("WASINN_GUESTS", str(tmp_path))
    assert example_guest("road-seg") == tmp_path / "road-seg.wasm"
    with pytest.raises(GuestError, match=r"\(\$WASINN_GUESTS; there: road-seg\)"):
        example_guest("named")


def test_a_wheel_s_copies_come_before_a_checkout(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "guests").mkdir()
    (tmp_path / "guests" / "named.wasm").write_bytes(b"\0asm\1\0\0\0")
    monkeypatch.setattr(examples, "PACKAGED", tmp_path)
    assert example_guest("named") == tmp_path / "guests" / "named.wasm"
    assert example_notebooks() == {p.name: p for p in NOTEBOOKS}  # none packaged: the checkout's


def test_without_examples_the_error_says_to_reinstall(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(examples, "PACKAGED", tmp_path / "a")
    monkeypatch.setattr(examples, "CHECKOUT", tmp_path / "b")
    with pytest.raises(GuestError, match="has no example guests: reinstall it"):
        example_guest("road-seg")
    with pytest.raises(Exception, match="has no notebooks: reinstall it"):
        example_notebooks()


def test_the_notebooks_are_the_checkout_s() -> None:
    assert list(example_notebooks().values()) == NOTEBOOKS
    assert {"road-segmentation.ipynb", "classification.ipynb"} <= set(example_notebooks())


def test_the_notebooks_reach_nothing_outside_their_folder_but_the_optional_export() -> None:
    for path in NOTEBOOKS:
        for number, line in enumerate(path.read_text().splitlines()):
            if "../" in line:
                assert "export_efficientnet_lite0.py" in line, f"{path.name}:{number + 1}: {line}"


def test_copy_notebooks_keeps_what_is_there_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder"
    first = copy_notebooks(target)
    assert first.written == tuple(target / p.name for p in NOTEBOOKS) and not first.kept
    assert all((target / p.name).read_bytes() == p.read_bytes() for p in NOTEBOOKS)
    (target / "tour.ipynb").write_text("mine")
    (target / "classification.ipynb").unlink()
    (target / "road-segmentation.ipynb").unlink()
    (target / "road-segmentation.ipynb").symlink_to(tmp_path / "dangling")  # a link is a file too
    second = copy_notebooks(target)
    assert second.written == (target / "classification.ipynb",)
    assert len(second.kept) == len(NOTEBOOKS) - 1
    assert (target / "tour.ipynb").read_text() == "mine"
    assert not (tmp_path / "dangling").exists()
    forced = copy_notebooks(target, force=True)
    assert len(forced.written) == len(NOTEBOOKS) and not forced.kept
    assert (target / "tour.ipynb").read_bytes() == (REPO / "notebooks" / "tour.ipynb").read_bytes()


def test_copy_notebooks_into_a_file_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(TensorFileError, match=r"cannot make .*file"):
        copy_notebooks(tmp_path / "file")


def test_wasinn_notebooks_prints_one_line_per_notebook(tmp_path: Path) -> None:
    out = io.StringIO()
    assert main(["notebooks", str(tmp_path)], stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().splitlines() == [f"wrote {tmp_path / p.name}" for p in NOTEBOOKS]
    (tmp_path / "tour.ipynb").write_text("mine")
    out = io.StringIO()
    assert main(["notebooks", str(tmp_path)], stdout=out, stderr=io.StringIO()) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == len(NOTEBOOKS)
    assert f"kept  {tmp_path / 'tour.ipynb'} (exists; --force replaces it)" in lines


def test_percent_wasinn_notebooks_returns_what_it_copied(ip, tmp_path: Path, capsys) -> None:
    assert ip.run_line_magic("wasinn", f"notebooks {tmp_path} -o copied") is None  # printed
    copied = ip.user_ns["copied"]
    assert copied.written == tuple(tmp_path / p.name for p in NOTEBOOKS)
    ip.run_line_magic("wasinn", f"notebooks {tmp_path}")
    again = ip.user_ns["_wasinn"]
    assert again.kept == copied.written and not again.written
    assert capsys.readouterr().out.count("kept  ") == len(NOTEBOOKS)
