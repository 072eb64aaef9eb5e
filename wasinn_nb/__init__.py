"""wasinn-nb: run WebAssembly wasi-nn inference guests from Jupyter.

The public API is re-exported here; heavy dependencies (OpenCV, OpenVINO, ONNX Runtime,
ipywidgets, matplotlib) load only when a function needs them.

Example:
    >>> import wasinn_nb
    >>> wasinn_nb.TensorSpec.from_dims("512x896x3xfp32").describe()
    '1x3x512x896 fp32 NCHW BGR'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wasinn_nb.enums import ColorOrder, DType, Interpolation, Layout, ResizeMode
from wasinn_nb.errors import (
    BackendUnavailableError,
    ConversionError,
    ImageReadError,
    ShapeError,
    SpecError,
    TensorFileError,
    WasinnError,
)
from wasinn_nb.im2tensor import (
    TensorSpec,
    image_to_tensor,
    load_image,
    load_tensor,
    parse_tensor_name,
    save_tensor,
    tensor_stats,
    tensor_to_image,
)
from wasinn_nb.results import Classification, PipelineResult, Prediction, RunResult, Segmentation
from wasinn_nb.runtime import Limits, Runner, run
from wasinn_nb.viz import display as _display  # noqa: F401 - registers the rich displays

if TYPE_CHECKING:  # imported when first used (see __getattr__): they cost start-up time
    from wasinn_nb.pipeline import Pipeline, run_pipeline


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%wasinn`` magics: ``%load_ext wasinn_nb``."""
    from wasinn_nb.magics import load_ipython_extension as load

    load(ipython)


def __getattr__(name: str) -> Any:
    """``__version__`` (importlib.metadata costs ~40 ms) and the pipeline API, when asked.

    Example:
        >>> import wasinn_nb
        >>> wasinn_nb.Pipeline.__module__
        'wasinn_nb.pipeline.run'
    """
    if name in ("Pipeline", "run_pipeline"):
        from wasinn_nb import pipeline

        return getattr(pipeline, name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("wasinn-nb")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0+unknown"
    raise AttributeError(f"module 'wasinn_nb' has no attribute {name!r}")


__all__ = [
    "BackendUnavailableError",
    "Classification",
    "ColorOrder",
    "ConversionError",
    "DType",
    "ImageReadError",
    "Interpolation",
    "Layout",
    "Limits",
    "Pipeline",
    "PipelineResult",
    "Prediction",
    "ResizeMode",
    "RunResult",
    "Runner",
    "Segmentation",
    "ShapeError",
    "SpecError",
    "TensorFileError",
    "TensorSpec",
    "WasinnError",
    "__version__",
    "image_to_tensor",
    "load_image",
    "load_ipython_extension",
    "load_tensor",
    "parse_tensor_name",
    "run",
    "run_pipeline",
    "save_tensor",
    "tensor_stats",
    "tensor_to_image",
]
