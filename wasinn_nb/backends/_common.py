"""Helpers shared by the backends: checking a load's arguments and an input against the model."""

from __future__ import annotations

from collections.abc import Container, Sequence

import numpy as np
import numpy.typing as npt

from wasinn_nb.backends.base import TensorInfo
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import InvalidInputError, UnsupportedError

__all__ = ["check_all_set", "check_index", "check_input", "single_cpu_model"]


def single_cpu_model(
    backend: str,
    builders: Sequence[bytes],
    encoding: GraphEncoding,
    target: ExecutionTarget,
    reads: GraphEncoding,
) -> bytes:
    """The one builder of a CPU-only backend that reads ``reads`` models, after checking.

    Example:
        >>> single_cpu_model("litert", [b"m"], GraphEncoding.ONNX, ExecutionTarget.CPU,
        ...                  GraphEncoding.TENSORFLOWLITE)
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.UnsupportedError: litert cannot read onnx models
    """
    if encoding is not reads:
        raise UnsupportedError(f"{backend} cannot read {encoding.name.lower()} models")
    if target not in (ExecutionTarget.CPU, ExecutionTarget.AUTO):
        raise UnsupportedError(
            f"target {target.name.lower()}: the {backend} backend runs on the CPU only here; "
            "try --backend openvino"
        )
    if len(builders) != 1:
        kind = reads.name.lower()
        raise InvalidInputError(f"{kind} models take 1 builder, got {len(builders)}")
    return bytes(builders[0])


def check_index(index: int, infos: Sequence[TensorInfo], kind: str) -> TensorInfo:
    """The declared tensor at ``index``, or an InvalidInputError naming how many there are."""
    if not 0 <= index < len(infos):
        raise InvalidInputError(f"{kind} index {index} is out of range: the model has {len(infos)}")
    return infos[index]


def check_all_set(infos: Sequence[TensorInfo], given: Container[int]) -> None:
    """Raise InvalidInputError naming the declared inputs whose index is not in ``given``.

    Example:
        >>> check_all_set([TensorInfo("x", None, (1,)), TensorInfo("y", None, (1,))], {0})
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.InvalidInputError: inputs not set before compute: y
    """
    missing = [info.name or str(n) for n, info in enumerate(infos) if n not in given]
    if missing:
        raise InvalidInputError(f"inputs not set before compute: {', '.join(missing)}")


def check_input(index: int, info: TensorInfo, tensor: npt.NDArray[np.generic]) -> None:
    """Raise InvalidInputError if ``tensor`` cannot feed the declared input ``info``."""
    if info.dtype is not None and tensor.dtype != info.dtype.numpy:
        raise InvalidInputError(
            f"input {index} ({info.name!r}) takes {info.dtype}, got {tensor.dtype.name}"
        )
    declared = info.shape
    fits = len(declared) == tensor.ndim and all(
        d is None or d == n for d, n in zip(declared, tensor.shape, strict=True)
    )
    if declared and not fits:
        want = "x".join("?" if d is None else str(d) for d in declared)
        got = "x".join(map(str, tensor.shape))
        raise InvalidInputError(f"input {index} ({info.name!r}) has shape {want}, got {got}")
