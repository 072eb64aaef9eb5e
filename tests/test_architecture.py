"""The one-way import rule of docs/architecture.md, checked on the package's source.

Every ``import`` of a ``wasinn_nb`` module — at the top of a file or inside a function — must
point down the layers: front ends → commands → runtime → abi → backends, and viz → results.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "wasinn_nb"

#: Each layer and the layers it may import (its own modules are always allowed).
ALLOWED: dict[str, frozenset[str]] = {
    "errors": frozenset(),
    "enums": frozenset({"errors"}),
    "files": frozenset({"errors"}),
    "progress": frozenset(),
    "im2tensor": frozenset({"errors", "enums", "files"}),
    "data": frozenset({"errors", "files", "progress"}),
    "results": frozenset({"errors", "enums"}),
    "backends": frozenset({"errors", "enums", "files"}),
    "abi": frozenset({"errors", "enums", "backends", "results"}),
    "runtime": frozenset({"errors", "enums", "files", "backends", "abi", "results"}),
    "pipeline": frozenset(
        {"errors", "enums", "files", "data", "backends", "abi", "results", "runtime"}
    ),
    "viz": frozenset({"errors", "enums", "results", "im2tensor"}),
    "build": frozenset({"errors", "files", "data"}),
    "batch": frozenset(
        {
            "errors",
            "enums",
            "files",
            "progress",
            "data",
            "results",
            "backends",
            "runtime",
            "im2tensor",
        }
    ),
    "commands": frozenset(
        {
            "errors",
            "enums",
            "files",
            "progress",
            "im2tensor",
            "data",
            "results",
            "backends",
            "runtime",
            "viz",
            "batch",
            "build",
            "pipeline",
        }
    ),
    "cli": frozenset({"errors", "commands"}),
    "magics": frozenset({"errors", "enums", "commands", "backends", "results", "im2tensor", "viz"}),
    "__main__": frozenset({"cli"}),
}

#: Third-party front-end and engine packages, and the only layers that may import them.
OWNERS = {
    "IPython": {"magics"},
    "traitlets": {"magics", "viz.widgets"},  # the widgets' synced traits
    "ipywidgets": {"viz.widgets"},
    "anywidget": {"viz.widgets"},
    "wasmtime": {"abi", "runtime", "pipeline"},
    "openvino": {"backends"},
    "onnxruntime": {"backends"},
    "ai_edge_litert": {"backends"},
    "torch": {"backends"},
    "pandas": {"batch"},
    "dask": {"batch"},
    "distributed": {"batch"},
    "pyarrow": {"batch"},
    "cloudpickle": {"batch"},
    "matplotlib": {"viz"},
}


def layer_of(module: str) -> str:
    """``wasinn_nb.runtime.runner`` → ``runtime``."""
    return module.split(".")[1]


def imports_of(source: str, module: str) -> list[str]:
    """Every module ``source`` imports, anywhere in the file, as absolute names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the importing module's package
                base = module.split(".")[: -node.level]
                found.append(".".join([*base, node.module or ""]).rstrip("."))
            elif node.module == "wasinn_nb":  # from wasinn_nb import data
                found += [f"wasinn_nb.{alias.name}" for alias in node.names]
            elif node.module:
                found.append(node.module)
    return found


def violations(module: str, source: str) -> list[str]:
    """The imports in ``module`` that break the rule, as readable lines."""
    if module == "wasinn_nb":  # the facade re-exports from every layer
        return []
    own = layer_of(module)
    problems = []
    for name in imports_of(source, module):
        top = name.split(".")[0]
        if top == "wasinn_nb":
            target = layer_of(name) if name.count(".") else "the package facade"
            if target not in ALLOWED:
                problems.append(f"{module} imports {name}: nothing may import the facade")
            elif target != own and target not in ALLOWED[own]:
                problems.append(f"{module} imports {name}: {own} may not import {target}")
        elif top in OWNERS:
            submodule = ".".join(module.split(".")[1:3])
            if own not in OWNERS[top] and submodule not in OWNERS[top]:
                problems.append(f"{module} imports {top}: only {sorted(OWNERS[top])} may")
    return problems


def package_modules() -> dict[str, str]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path.read_text(encoding="utf-8")
    return modules


def test_every_layer_is_known():
    layers = {layer_of(m) for m in package_modules() if m != "wasinn_nb"}
    assert layers == set(ALLOWED)


def test_imports_point_one_way():
    problems = [p for m, source in package_modules().items() for p in violations(m, source)]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        # what the package had before the layers: results knew the host, data knew its views
        ("wasinn_nb.results.run", "from wasinn_nb.abi.host import CallRecord",
         "results may not import abi"),
        ("wasinn_nb.results.predictions",
         "def _widgets():\n    from wasinn_nb.viz import widgets\n    return widgets",
         "results may not import viz"),
        ("wasinn_nb.viz.render", "from wasinn_nb.runtime import Runner",
         "viz may not import runtime"),
        ("wasinn_nb.abi.host", "from wasinn_nb.runtime.graphs import GraphCache",
         "abi may not import runtime"),
        ("wasinn_nb.backends.openvino", "import wasmtime",
         "only ['abi', 'pipeline', 'runtime'] may"),
        ("wasinn_nb.runtime.runner", "from IPython.display import display",
         "only ['magics'] may"),
        ("wasinn_nb.cli", "from wasinn_nb import runtime", "cli may not import runtime"),
        ("wasinn_nb.viz.summary", "from wasinn_nb.batch import to_frame",
         "viz may not import batch"),
        ("wasinn_nb.runtime.runner", "import pandas", "only ['batch'] may"),
        ("wasinn_nb.batch.api", "import matplotlib.pyplot", "only ['viz'] may"),
    ],
)  # fmt: skip
def test_the_rule_catches_backward_imports(module, source, expected):
    assert any(expected in problem for problem in violations(module, source))
