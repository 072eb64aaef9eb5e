"""Inference backends and how the host picks one.

Each encoding has a default backend: OpenVINO for IR, TensorFlow and autodetect; ONNX Runtime
for ONNX; LiteRT for TFLite and torch for PyTorch (TorchScript) when they are installed, OpenVINO
otherwise.
``backend="openvino"`` sends every model to OpenVINO instead. There is no silent fallback: a
backend that is not installed, or that cannot read a model, is an error (the latter names the
other backend that reads the encoding).

Example:
    >>> from wasinn_nb.backends import backend_names
    >>> backend_names()
    ('openvino', 'onnxruntime', 'litert', 'pytorch')
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass

from wasinn_nb._types import GraphEncoding
from wasinn_nb.backends.base import Backend, Context, Graph, TensorInfo
from wasinn_nb.errors import BackendUnavailableError, SpecError, UnsupportedError

__all__ = [
    "Backend",
    "BackendInfo",
    "Context",
    "Graph",
    "TensorInfo",
    "available_backends",
    "backend_for",
    "backend_names",
    "default_backend",
    "get_backend",
]


@dataclass(frozen=True)
class BackendInfo:
    """How to load one backend: its module, the Python package it needs, the pip extra."""

    name: str
    module: str
    package: str
    extra: str


_BACKENDS = {
    "openvino": BackendInfo("openvino", "wasinn_nb.backends.openvino", "openvino", "openvino"),
    "onnxruntime": BackendInfo(
        "onnxruntime", "wasinn_nb.backends.onnxruntime", "onnxruntime", "onnxruntime"
    ),
    "litert": BackendInfo("litert", "wasinn_nb.backends.litert", "ai_edge_litert", "tflite"),
    "pytorch": BackendInfo("pytorch", "wasinn_nb.backends.pytorch", "torch", "pytorch"),
}

#: Each encoding's backends, most preferred first: the first one installed is the default.
_DEFAULT_FOR: dict[GraphEncoding, tuple[str, ...]] = {
    GraphEncoding.OPENVINO: ("openvino",),
    GraphEncoding.ONNX: ("onnxruntime",),
    GraphEncoding.TENSORFLOW: ("openvino",),
    GraphEncoding.PYTORCH: ("pytorch", "openvino"),
    GraphEncoding.TENSORFLOWLITE: ("litert", "openvino"),
    GraphEncoding.AUTODETECT: ("openvino",),
}

_loaded: dict[str, Backend] = {}


def backend_names() -> tuple[str, ...]:
    """Every backend wasinn-nb knows, installed or not."""
    return tuple(_BACKENDS)


def available_backends() -> tuple[str, ...]:
    """The backends whose engine is installed (without importing them)."""
    return tuple(n for n, i in _BACKENDS.items() if importlib.util.find_spec(i.package) is not None)


def default_backend(encoding: GraphEncoding) -> str | None:
    """The backend that loads ``encoding`` when none is chosen: the first preferred one installed.

    When none of them is installed, the most preferred (so the error names its extra).
    """
    preferred = _DEFAULT_FOR.get(encoding, ())
    installed = available_backends()
    return next((name for name in preferred if name in installed), next(iter(preferred), None))


def get_backend(name: str) -> Backend:
    """The backend called ``name``, imported on first use and shared afterwards.

    Raises:
        SpecError: If no backend has that name.
        BackendUnavailableError: If its engine is not installed.
    """
    key = name.strip().lower()
    if key not in _BACKENDS:
        raise SpecError(f"unknown backend {name!r} (choose from: {', '.join(_BACKENDS)})")
    if key not in _loaded:
        info = _BACKENDS[key]
        if importlib.util.find_spec(info.package) is None:
            raise BackendUnavailableError(key, info.extra)
        module = importlib.import_module(info.module)
        _loaded[key] = module.create()
    return _loaded[key]


def backend_for(encoding: GraphEncoding, chosen: str | None = None) -> Backend:
    """The backend that loads ``encoding``: ``chosen`` if given, else the encoding's default.

    Raises:
        UnsupportedError: If no backend (or not the chosen one) reads this encoding.
        BackendUnavailableError: If the backend is not installed.
    """
    name = chosen or default_backend(encoding)
    if name is None:
        raise UnsupportedError(f"no backend reads {encoding.name.lower()} models")
    backend = get_backend(name)
    if encoding not in backend.encodings:
        raise UnsupportedError(
            f"backend {backend.name!r} cannot read {encoding.name.lower()} models"
        )
    return backend
