"""Named (preloaded) models and the compiled-graph cache shared by every run in a process."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from wasinn_nb._types import ExecutionTarget, GraphEncoding
from wasinn_nb.backends import backend_for
from wasinn_nb.backends.base import Graph
from wasinn_nb.errors import ModelNotFoundError, SpecError

__all__ = ["Buffer", "GraphCache", "Preload"]

#: Model bytes as the host has them: ``bytes`` or a zero-copy view of guest memory.
Buffer = bytes | npt.NDArray[np.uint8]

_FIXED_FILES = {
    GraphEncoding.OPENVINO: ("model.xml", "model.bin"),
    GraphEncoding.ONNX: ("model.onnx",),
    GraphEncoding.PYTORCH: ("model.pt",),
    GraphEncoding.TENSORFLOWLITE: ("model.tflite",),
}


@dataclass(frozen=True)
class Preload:
    """A model made available to ``load_by_name`` under ``name``.

    Example:
        >>> p = Preload.parse("road:OpenVINO:CPU:model/road.xml:model/road.bin")
        >>> p.name, p.encoding.name, p.target.name, [str(x) for x in p.paths]
        ('road', 'OPENVINO', 'CPU', ['model/road.xml', 'model/road.bin'])
        >>> Preload.parse("onnx::fixtures/mobilenet").paths
        (PosixPath('fixtures/mobilenet/model.onnx'),)
    """

    name: str
    encoding: GraphEncoding
    target: ExecutionTarget
    paths: tuple[Path, ...]

    @classmethod
    def parse(cls, text: str) -> Preload:
        """Parse WasmEdge's ``NAME:ENCODING:TARGET:PATH[:PATH…]`` or wasmtime's ``ENCODING::DIR``.

        wasmtime's form names the model after the folder and reads fixed file names from it
        (``model.xml`` + ``model.bin``, ``model.onnx``, ``model.pt``, ``model.tflite``).

        Raises:
            SpecError: If the text has neither form or names an unknown encoding or target.
        """
        if "::" in text:
            encoding_name, _, folder = text.partition("::")
            encoding = GraphEncoding.parse(encoding_name)
            if encoding not in _FIXED_FILES or not folder:
                raise SpecError(f"bad preload {text!r}: expected ENCODING::DIR (openvino, onnx, …)")
            paths = tuple(Path(folder) / f for f in _FIXED_FILES[encoding])
            return cls(Path(folder).name, encoding, ExecutionTarget.CPU, paths)
        parts = text.split(":")
        if len(parts) < 4 or not parts[0] or not all(parts[3:]):
            raise SpecError(
                f"bad preload {text!r}: expected NAME:ENCODING:TARGET:PATH[:PATH…], "
                "e.g. road:OpenVINO:CPU:road.xml:road.bin"
            )
        encoding, target = GraphEncoding.parse(parts[1]), ExecutionTarget.parse(parts[2])
        return cls(parts[0], encoding, target, tuple(Path(p) for p in parts[3:]))

    def read(self) -> list[bytes]:
        """The builder bytes: each file's contents, in order."""
        try:
            return [path.read_bytes() for path in self.paths]
        except OSError as error:
            raise SpecError(
                f"preload {self.name!r}: cannot read {error.filename}: {error.strerror}"
            ) from None


class GraphCache:
    """Compiled graphs, keyed by backend, encoding, target and the model bytes' digest.

    Compiling a model takes 100s of milliseconds; a notebook that runs the same guest again
    reuses the graph. Named models are read and compiled on first use.
    """

    def __init__(self, preloads: Iterable[Preload] = ()) -> None:
        self._graphs: dict[tuple[str, GraphEncoding, ExecutionTarget, str], Graph] = {}
        self._preloads: dict[str, Preload] = {}
        self._lock = threading.Lock()
        for preload in preloads:
            self.add(preload)

    def with_preloads(self, preloads: Iterable[Preload]) -> GraphCache:
        """A view that shares this cache's compiled graphs and adds ``preloads`` to its names.

        Used for one run's ``--nn-preload`` options: the names last as long as the run, the
        compiled graphs as long as the cache.
        """
        view = GraphCache()
        view._graphs, view._lock = self._graphs, self._lock
        view._preloads = dict(self._preloads)
        for preload in preloads:
            view.add(preload)
        return view

    def add(self, preload: Preload) -> None:
        """Make ``preload`` available by name (replacing one of the same name)."""
        missing = [str(p) for p in preload.paths if not p.is_file()]
        if missing:
            raise SpecError(f"preload {preload.name!r}: no such file: {', '.join(missing)}")
        self._preloads[preload.name] = preload

    def remove(self, name: str) -> None:
        """Forget the named model ``name`` (its compiled graph stays cached)."""
        if self._preloads.pop(name, None) is None:
            raise ModelNotFoundError(name, sorted(self._preloads))

    @property
    def preloads(self) -> dict[str, Preload]:
        """The named models, by name."""
        return dict(self._preloads)

    def load(
        self,
        builders: Sequence[Buffer],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        backend: str | None = None,
    ) -> Graph:
        """The compiled graph for these model bytes, compiling it on first use.

        ``builders`` may be views of guest memory: they are hashed in place and copied only
        when the model has to be compiled.
        """
        chosen = backend_for(encoding, backend)
        digest = hashlib.sha256()
        arrays = [np.frombuffer(b, np.uint8) if isinstance(b, bytes) else b for b in builders]
        for array in arrays:
            digest.update(array.size.to_bytes(8, "little"))
            digest.update(np.ascontiguousarray(array).data)
        key = (chosen.name, encoding, target, digest.hexdigest())
        with self._lock:
            if key not in self._graphs:
                blobs = [array.tobytes() for array in arrays]
                self._graphs[key] = chosen.load(blobs, encoding, target)
            return self._graphs[key]

    def load_named(self, name: str, backend: str | None = None) -> Graph:
        """The graph of the model preloaded as ``name``."""
        preload = self._preloads.get(name)
        if preload is None:
            raise ModelNotFoundError(name, sorted(self._preloads))
        return self.load(preload.read(), preload.encoding, preload.target, backend)

    def clear(self) -> None:
        """Forget every compiled graph (named models stay registered)."""
        with self._lock:
            self._graphs.clear()
