"""The backend protocol: what the wasi-nn host needs from an inference engine.

A backend turns model bytes into a :class:`Graph`; a graph makes :class:`Context` objects that
take inputs by index, compute, and hand outputs back as numpy arrays. Backends know nothing of
WebAssembly: errors are raised as :mod:`wasinn_nb.errors` exceptions, which the host turns into
errno values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding

DEFAULT_OPTIONS = BackendOptions()

__all__ = ["Backend", "Cancellable", "Context", "Graph", "Quantization", "TensorInfo"]


@dataclass(frozen=True)
class Quantization:
    """Per-tensor affine quantization: ``real = (stored - zero_point) * scale``.

    Example:
        >>> Quantization(scale=0.5, zero_point=128).dequantize(np.array([128, 130], np.uint8))
        array([0., 1.], dtype=float32)
    """

    scale: float
    zero_point: int

    def dequantize(self, stored: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        """The real values of ``stored`` (integers as the model holds them), as f32."""
        real: npt.NDArray[np.float32] = stored.astype(np.float32) - np.float32(self.zero_point)
        real *= np.float32(self.scale)
        return real


@dataclass(frozen=True)
class TensorInfo:
    """What a model declares about one input or output.

    ``dtype`` is None when the element type has no wasi-nn tensor type (e.g. i16) or is not
    known before inference; ``shape`` is ``()`` when the rank is not known, with ``None`` for
    each dimension that is not fixed. ``quantization`` is set for quantized tensors of models
    that declare it (TFLite), so a caller can turn their integers into real values.
    """

    name: str
    dtype: DType | None
    shape: tuple[int | None, ...]
    quantization: Quantization | None = None


class Context(Protocol):
    """One execution context: set inputs, compute, read outputs."""

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        """Bind input ``index`` (raises InvalidInputError for a bad index, shape or type)."""

    def compute(self) -> None:
        """Run inference on the bound inputs (raises BackendError on failure)."""

    def get_output(self, index: int) -> npt.NDArray[np.generic]:
        """Output ``index`` of the last compute (raises InvalidInputError if there is none).

        The array may share memory with the engine: it is valid until the next ``compute``.
        """


class Cancellable(Protocol):
    """A context whose ``compute`` can be stopped from another thread (optional)."""

    def cancel(self) -> None:
        """Make a ``compute`` in progress end soon with a BackendError."""


class Graph(Protocol):
    """A loaded, compiled model."""

    @property
    def inputs(self) -> Sequence[TensorInfo]:
        """The model's declared inputs, in index order."""

    @property
    def outputs(self) -> Sequence[TensorInfo]:
        """The model's declared outputs, in index order."""

    def init_context(self) -> Context:
        """A fresh execution context."""


class Backend(Protocol):
    """An inference engine that can load models."""

    name: str
    encodings: frozenset[GraphEncoding]

    @property
    def version(self) -> str:
        """The engine's version."""

    @property
    def devices(self) -> tuple[str, ...]:
        """The devices (or execution providers) the engine can use here."""

    def load(
        self,
        builders: Sequence[bytes],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        options: BackendOptions = DEFAULT_OPTIONS,
    ) -> Graph:
        """Load a model from its builder byte strings (e.g. IR xml + weights for OpenVINO)."""
