"""Inference backends, and the registry: the one place a backend is chosen for a model.

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
from dataclasses import dataclass, field

from wasinn_nb.backends.base import Backend, Context, Graph, TensorInfo
from wasinn_nb.enums import GraphEncoding
from wasinn_nb.errors import BackendUnavailableError, SpecError, UnsupportedError

__all__ = [
    "Backend",
    "BackendChoice",
    "BackendInfo",
    "Context",
    "Graph",
    "TensorInfo",
    "available_backends",
    "backend_info",
    "backend_names",
    "default_backend",
    "default_backends",
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


def backend_info() -> tuple[BackendInfo, ...]:
    """How each known backend is loaded and installed."""
    return tuple(_BACKENDS.values())


def default_backends() -> dict[GraphEncoding, str]:
    """The backend each encoding goes to when none is requested, on this machine."""
    return {encoding: name for encoding in _DEFAULT_FOR if (name := default_backend(encoding))}


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


@dataclass(frozen=True)
class BackendChoice:
    """Which backend loads each encoding: ``requested`` for every model, else each one's default.

    Creating one checks the requested backend, so a run fails before it starts, not at the
    guest's first ``load``.

    Example:
        >>> BackendChoice("tensorrt")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.SpecError: unknown backend 'tensorrt' (choose from: openvino, ...)
    """

    requested: str | None = None
    _backend: Backend | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.requested is not None:
            object.__setattr__(self, "_backend", get_backend(self.requested))

    def for_encoding(self, encoding: GraphEncoding) -> Backend:
        """The backend that loads ``encoding`` models.

        Raises:
            UnsupportedError: If no backend (or not the requested one) reads this encoding.
            BackendUnavailableError: If the encoding's default backend is not installed.
        """
        if self._backend is not None:
            backend = self._backend
        elif (name := default_backend(encoding)) is not None:
            backend = get_backend(name)
        else:
            raise UnsupportedError(f"no backend reads {encoding.name.lower()} models")
        if encoding not in backend.encodings:
            raise UnsupportedError(
                f"backend {backend.name!r} cannot read {encoding.name.lower()} models"
            )
        return backend
