"""Doctest collection of the package: skip backend modules whose engine is not installed.

``pytest`` collects ``wasinn_nb`` with ``--doctest-modules``, which imports every module. A
backend module imports its engine at the top (the registry imports the module only when the
engine is there), so without that engine, e.g. torch, which the ``all`` extra leaves out, the
module is left out of collection instead of failing it.
"""

from __future__ import annotations

import importlib.util

#: Backend modules and the package each needs (as in ``wasinn_nb.backends._BACKENDS``).
_ENGINES = {
    "openvino": "openvino",
    "onnxruntime": "onnxruntime",
    "litert": "ai_edge_litert",
    "pytorch": "torch",
}

collect_ignore = [
    f"wasinn_nb/backends/{module}.py"
    for module, package in _ENGINES.items()
    if importlib.util.find_spec(package) is None
]
