"""A test double for the backend protocol of ``wasinn_nb.backends.base``.

The fake "model" is a byte string that must start with ``FAKE``; words after it configure it::

    FAKE                      input 0 of any type and shape
    FAKE dtype=fp64           input 0 declared as f64 (set_input rejects other types)
    FAKE fail=compute         compute raises BackendError (an engine failure)
    FAKE fail=crash           compute raises RuntimeError (a bug in the backend)

Output 0 is input 0 times two (same dtype, wrapping for integers); output 1 is the flat argmax of
input 0 as a one-element int64 array. Every ``load`` call is recorded so tests can check that the
host handed over exactly the bytes the guest pointed at.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from wasinn_nb.backends._common import check_index, check_input
from wasinn_nb.backends.base import TensorInfo
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import DType, ExecutionTarget, GraphEncoding
from wasinn_nb.errors import BackendError, InvalidInputError, UnsupportedError

MAGIC = b"FAKE"


@dataclass(frozen=True)
class LoadCall:
    builders: tuple[bytes, ...]
    encoding: GraphEncoding
    target: ExecutionTarget
    options: BackendOptions | None = None


@dataclass
class FakeGraph:
    builders: tuple[bytes, ...]
    input_dtype: DType | None = None
    fail: str | None = None
    contexts: list[FakeContext] = field(default_factory=list)

    @property
    def inputs(self) -> Sequence[TensorInfo]:
        return (TensorInfo("x", self.input_dtype, ()),)

    @property
    def outputs(self) -> Sequence[TensorInfo]:
        return (TensorInfo("scaled", self.input_dtype, ()), TensorInfo("argmax", DType.I64, (1,)))

    def init_context(self) -> FakeContext:
        context = FakeContext(self)
        self.contexts.append(context)
        return context


class FakeContext:
    def __init__(self, graph: FakeGraph) -> None:
        self.graph = graph
        self.inputs: dict[int, npt.NDArray[np.generic]] = {}
        self.results: list[npt.NDArray[np.generic]] | None = None
        self.computed = 0
        self.cancelled = threading.Event()

    def set_input(self, index: int, tensor: npt.NDArray[np.generic]) -> None:
        info = check_index(index, self.graph.inputs, "input")
        check_input(index, info, tensor)
        self.inputs[index] = tensor.copy()

    def compute(self) -> None:
        if 0 not in self.inputs:
            raise InvalidInputError("input 0 has not been set")
        if self.graph.fail == "compute":
            raise BackendError("fake engine: inference failed")
        if self.graph.fail == "crash":
            raise RuntimeError("fake engine: a bug")
        if self.graph.fail == "block":  # an inference that only ends when cancelled
            self.cancelled.wait(60)
            raise BackendError("fake engine: inference cancelled")
        x = self.inputs[0]
        scaled = (x * x.dtype.type(2)).astype(x.dtype)
        argmax = np.array([int(np.argmax(x)) if x.size else -1], dtype=np.int64)
        self.results = [scaled, argmax]
        self.computed += 1

    def cancel(self) -> None:
        self.cancelled.set()

    def get_output(self, index: int) -> npt.NDArray[np.generic]:
        if self.results is None:
            raise InvalidInputError("no outputs yet: compute has not run")
        check_index(index, self.graph.outputs, "output")
        return self.results[index]


class FakeBackend:
    """Loads ``FAKE`` models for ONNX (1 builder) and OpenVINO (2 builders: xml, weights)."""

    name = "fake"
    encodings = frozenset({GraphEncoding.ONNX, GraphEncoding.OPENVINO})

    def __init__(self) -> None:
        self.loads: list[LoadCall] = []

    version = "fake 1.0"
    devices = ("CPU",)

    def load(
        self,
        builders: Sequence[bytes],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        options: BackendOptions | None = None,
    ) -> FakeGraph:
        self.loads.append(LoadCall(tuple(builders), encoding, target, options))
        want = 2 if encoding == GraphEncoding.OPENVINO else 1
        if len(builders) != want:
            raise InvalidInputError(f"{encoding.name.lower()} takes {want} builders")
        if not builders[0].startswith(MAGIC):
            raise BackendError("fake engine: not a FAKE model")
        if target == ExecutionTarget.TPU:
            raise UnsupportedError("fake engine: no TPU")
        words = builders[0][len(MAGIC) :].decode("latin-1").split()
        options = dict(word.split("=", 1) for word in words if "=" in word)
        dtype = DType.parse(options["dtype"]) if "dtype" in options else None
        return FakeGraph(tuple(builders), dtype, options.get("fail"))


def create() -> FakeBackend:
    """The registry's entry point (``wasinn_nb.backends.get_backend`` calls it)."""
    return FakeBackend()
