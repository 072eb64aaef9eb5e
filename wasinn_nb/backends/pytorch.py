"""PyTorch backend: TorchScript models on ``torch``, as WasmEdge's libtorch backend runs them.

* **Load**: the single builder is a TorchScript archive (``torch.jit.save`` of a traced or
  scripted module). It is checked for operators that touch host files before and after
  ``torch.jit.load(…, map_location="cpu")`` (see :mod:`wasinn_nb.backends._torchscript`), then
  put in eval mode. The graph shares the module between its contexts: inference runs under
  ``torch.inference_mode()``, which changes no module state.
* **Inputs**: TorchScript declares no shapes, so each input takes the dtype and shape
  ``set_input`` gives it (libtorch semantics): f32, f16, f64, i32, i64 or u8. Input ``i`` is
  ``forward``'s argument ``i``.
* **Outputs** are what ``forward`` returns: a tensor is output 0; a tuple or list of tensors
  gives outputs 0…n-1. They are known only after ``compute``, so ``Graph.outputs`` is empty.
* **Threads**: ``BackendOptions.threads`` (None = torch's default) is applied with
  ``torch.set_num_threads`` before each compute when set. It is process-wide, as torch's setting is.
* A model torch cannot load is runtime_error with one line naming the cause (OpenVINO's PyTorch
  path loads it with torch too, so it is no way out); one OpenVINO cannot convert names this
  backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from wasinn_nb.backends._common import check_all_set, check_index, single_cpu_model
from wasinn_nb.backends._reason import torch_reason
from wasinn_nb.backends._torchscript import forward_inputs, load_torchscript
from wasinn_nb.backends.base import DEFAULT_OPTIONS, TensorInfo
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import BackendError, InvalidInputError

__all__ = ["TorchBackend", "TorchContext", "TorchGraph", "create"]

#: Input element types (numpy names) the backend takes, as wasmtime's PyTorch backend does.
INPUT_DTYPES = ("float32", "float16", "float64", "int32", "int64", "uint8")


def _outputs(returned: Any) -> list[npt.NDArray[np.generic]]:
    """``forward``'s result as numpy arrays: one per tensor of a tensor, tuple or list."""
    tensors = list(returned) if isinstance(returned, (tuple, list)) else [returned]
    arrays = []
    for index, tensor in enumerate(tensors):
        if not isinstance(tensor, torch.Tensor):
            raise BackendError(
                f"the model's output {index} is a {type(tensor).__name__}, not a tensor"
            )
        try:
            arrays.append(tensor.detach().cpu().contiguous().numpy())
        except TypeError as error:  # e.g. bfloat16, which numpy has no type for
            raise BackendError(f"output {index} cannot be handed over: {error}") from None
    return arrays


class TorchContext:
    """Inputs bound by index, one ``forward`` call per compute."""

    def __init__(self, graph: TorchGraph) -> None:
        self._graph = graph
        self._inputs: dict[int, Any] = {}
        self._outputs: list[npt.NDArray[np.generic]] | None = None

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        """Bind input ``index`` (a copy, so the caller may reuse its array)."""
        info = check_index(index, self._graph.inputs, "input")
        if tensor.dtype.name not in INPUT_DTYPES:
            raise InvalidInputError(
                f"input {index} ({info.name!r}) is {tensor.dtype.name}; the pytorch backend "
                f"takes {', '.join(INPUT_DTYPES)}"
            )
        self._inputs[index] = torch.from_numpy(np.array(tensor, order="C", copy=True))
        self._outputs = None

    def compute(self) -> None:
        """Call ``forward`` on the bound inputs, without autograd."""
        check_all_set(self._graph.inputs, self._inputs)
        self._graph.apply_threads()
        arguments = [self._inputs[n] for n in range(len(self._graph.inputs))]
        try:
            with torch.inference_mode():
                returned = self._graph.module(*arguments)
        except (RuntimeError, ValueError, TypeError) as error:
            raise BackendError(f"PyTorch inference failed: {torch_reason(error)}") from None
        self._outputs = _outputs(returned)

    def get_output(self, index: int) -> npt.NDArray[np.generic]:
        """Output ``index`` of the last compute."""
        if self._outputs is None:
            raise InvalidInputError("get_output before compute")
        if not 0 <= index < len(self._outputs):
            raise InvalidInputError(
                f"output index {index} is out of range: the model returned {len(self._outputs)}"
            )
        return self._outputs[index]


class TorchGraph:
    """A loaded TorchScript module, shared by its contexts."""

    outputs: tuple[TensorInfo, ...] = ()

    def __init__(self, module: Any, threads: int | None) -> None:
        self.module = module
        self.inputs = forward_inputs(module)
        self._threads = threads

    def apply_threads(self) -> None:
        """Set torch's (process-wide) thread count to this graph's, if it has one."""
        threads = self._threads
        if threads is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)

    def init_context(self) -> TorchContext:
        """A new context over the shared module."""
        return TorchContext(self)


class TorchBackend:
    """Loads TorchScript with ``torch.jit.load`` (CPU)."""

    name = "pytorch"
    encodings = frozenset({GraphEncoding.PYTORCH})

    @property
    def version(self) -> str:
        """The torch version."""
        return str(torch.__version__)

    @property
    def devices(self) -> tuple[str, ...]:
        """The backend runs models on the CPU."""
        return ("CPU",)

    def load(
        self,
        builders: Sequence[bytes],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        options: BackendOptions = DEFAULT_OPTIONS,
    ) -> TorchGraph:
        """Check and load the single TorchScript builder."""
        model = single_cpu_model(self.name, builders, encoding, target, GraphEncoding.PYTORCH)
        return TorchGraph(load_torchscript(model), options.threads)


def create() -> TorchBackend:
    """The backend instance the registry shares."""
    return TorchBackend()
