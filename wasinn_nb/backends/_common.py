"""Helpers shared by the backends: checking an input against what the model declares."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from wasinn_nb.backends.base import TensorInfo
from wasinn_nb.errors import InvalidInputError

__all__ = ["check_index", "check_input"]


def check_index(index: int, infos: Sequence[TensorInfo], kind: str) -> TensorInfo:
    """The declared tensor at ``index``, or an InvalidInputError naming how many there are."""
    if not 0 <= index < len(infos):
        raise InvalidInputError(f"{kind} index {index} is out of range: the model has {len(infos)}")
    return infos[index]


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
