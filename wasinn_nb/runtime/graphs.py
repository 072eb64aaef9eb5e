"""The compiled-graph cache shared by every run in a process, and the named models it knows."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from wasinn_nb.backends import BackendChoice
from wasinn_nb.backends.base import Graph
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import ModelNotFoundError, SpecError
from wasinn_nb.runtime.preload import Preload

__all__ = ["Buffer", "GraphCache", "RunModels", "release_memory"]

#: Model bytes as the host has them: ``bytes`` or a zero-copy view of guest memory.
Buffer = bytes | npt.NDArray[np.uint8]
_Key = tuple[str, GraphEncoding, ExecutionTarget, BackendOptions, str]


def release_memory() -> None:
    """Collect garbage and hand freed heap back to the system (glibc keeps it otherwise)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:
        trim(0)


class GraphCache:
    """Compiled graphs, keyed by backend, encoding, target and the model bytes' digest.

    Compiling a model takes 100s of milliseconds; a notebook that runs the same guest again
    reuses the graph. Named models (:class:`Preload`) are read and compiled on first use. The
    cache forgets the least recently used graphs beyond ``max_graphs`` or ``max_bytes`` of
    model bytes.

    Example:
        >>> GraphCache(max_graphs=0)
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.SpecError: the graph cache needs room for at least 1 graph
    """

    def __init__(
        self, preloads: Iterable[Preload] = (), *, max_graphs: int = 32, max_bytes: int = 2 << 30
    ) -> None:
        if max_graphs < 1 or max_bytes < 1:
            raise SpecError("the graph cache needs room for at least 1 graph")
        self._graphs: OrderedDict[_Key, tuple[Graph, int]] = OrderedDict()
        self._preloads: dict[str, Preload] = {}
        self._digests: dict[tuple[object, ...], str] = {}  # preload files' signature -> digest
        self._recent = RecentModels()
        self._lock = threading.Lock()
        self.max_graphs, self.max_bytes = max_graphs, max_bytes
        for preload in preloads:
            self.add(preload)

    def add(self, preload: Preload) -> None:
        """Make ``preload`` available by name (replacing one of the same name)."""
        _check_files(preload)
        self._preloads[preload.name] = preload

    def remove(self, name: str) -> None:
        """Forget the named model ``name`` (its compiled graph stays cached)."""
        if self._preloads.pop(name, None) is None:
            raise ModelNotFoundError(name, sorted(self._preloads))

    @property
    def preloads(self) -> dict[str, Preload]:
        """The named models, by name."""
        return dict(self._preloads)

    def for_run(
        self,
        preloads: Iterable[Preload] = (),
        choice: BackendChoice | None = None,
        options: BackendOptions | None = None,
    ) -> RunModels:
        """The models one run may load: these graphs, the named models plus ``preloads``.

        A run's ``--nn-preload`` names last as long as the run, its compiled graphs as long as
        the cache. ``choice`` says which backend loads each encoding, ``options`` how.
        """
        named = dict(self._preloads)
        for preload in preloads:
            _check_files(preload)
            named[preload.name] = preload
        return RunModels(self, named, choice or BackendChoice(), options or BackendOptions())

    def load(
        self,
        builders: Sequence[Buffer],
        encoding: GraphEncoding,
        target: ExecutionTarget,
        choice: BackendChoice,
        options: BackendOptions,
    ) -> Graph:
        """The compiled graph for these model bytes and options, compiling it on first use.

        ``builders`` may be views of guest memory. Bytes equal to one of the last few models
        loaded are known by comparing them with a kept copy (10x faster than hashing: a guest
        that reads its model file on every run pays ~0.2 ms per 3 MB, not ~2 ms); others are
        hashed in place, copied once to be kept (:class:`RecentModels`) and once more if the
        model has to be compiled.
        """
        arrays = [np.frombuffer(b, np.uint8) if isinstance(b, bytes) else b for b in builders]
        digest = self._recent.digest(arrays)
        if digest is None:
            digest = _digest(arrays)
            self._recent.remember(arrays, digest)
        return self._load(arrays, digest, encoding, target, choice, options)

    def load_preload(
        self, preload: Preload, choice: BackendChoice, options: BackendOptions
    ) -> Graph:
        """The compiled graph of a named model, reading and hashing its files only if needed.

        They are read when they changed (size, mtime or inode) since the last time, or when
        the graph is not cached.
        """
        signature = preload.signature()
        digest = self._digests.get(signature)
        if digest is not None:
            key = (choice.for_encoding(preload.encoding).name, preload.encoding, preload.target,
                   options, digest)  # fmt: skip
            with self._lock:
                if key in self._graphs:
                    self._graphs.move_to_end(key)
                    return self._graphs[key][0]
        arrays = [np.frombuffer(b, np.uint8) for b in preload.read()]
        digest = _digest(arrays)
        graph = self._load(arrays, digest, preload.encoding, preload.target, choice, options)
        with self._lock:
            if len(self._digests) >= 4 * self.max_graphs:
                self._digests.clear()
            self._digests[signature] = digest
        return graph

    def _load(
        self,
        arrays: list[npt.NDArray[np.uint8]],
        digest: str,
        encoding: GraphEncoding,
        target: ExecutionTarget,
        choice: BackendChoice,
        options: BackendOptions,
    ) -> Graph:
        backend = choice.for_encoding(encoding)
        key = (backend.name, encoding, target, options, digest)
        with self._lock:
            if key in self._graphs:
                self._graphs.move_to_end(key)
                return self._graphs[key][0]
            blobs = [array.tobytes() for array in arrays]
            graph = backend.load(blobs, encoding, target, options)
            self._graphs[key] = (graph, sum(array.size for array in arrays))
            self._evict()
            return graph

    def __len__(self) -> int:
        return len(self._graphs)

    @property
    def nbytes(self) -> int:
        """Model bytes of the cached graphs."""
        return sum(size for _, size in self._graphs.values())

    def _evict(self) -> None:
        while len(self._graphs) > 1 and (
            len(self._graphs) > self.max_graphs or self.nbytes > self.max_bytes
        ):
            self._graphs.popitem(last=False)

    def clear(self) -> None:
        """Forget every compiled graph (named models stay registered) and free their memory."""
        with self._lock:
            self._graphs.clear()
        self._recent.clear()
        release_memory()


class RecentModels:
    """The bytes and digests of the last few models loaded, to know them again without hashing.

    Bytes are compared whole, so a match is exact. At most :attr:`count` models and
    :attr:`max_bytes` bytes are kept (a larger model is always hashed).

    Example:
        >>> recent, model = RecentModels(), [np.frombuffer(b"onnx bytes", np.uint8)]
        >>> recent.remember(model, "d1")
        >>> recent.digest([np.frombuffer(b"onnx bytes", np.uint8)]), recent.digest([model[0][:4]])
        ('d1', None)
    """

    def __init__(self, count: int = 4, max_bytes: int = 256 << 20) -> None:
        self.count, self.max_bytes = count, max_bytes
        self._models: OrderedDict[tuple[int, ...], list[tuple[list[bytes], str]]] = OrderedDict()
        self._lock = threading.Lock()

    def digest(self, arrays: Sequence[npt.NDArray[np.uint8]]) -> str | None:
        """The digest of a kept model with exactly these bytes, or None."""
        sizes = tuple(array.size for array in arrays)
        with self._lock:
            candidates = list(self._models.get(sizes, ()))
        for blobs, digest in candidates:
            if all(array.tobytes() == blob for array, blob in zip(arrays, blobs, strict=True)):
                return digest
        return None

    def remember(self, arrays: Sequence[npt.NDArray[np.uint8]], digest: str) -> None:
        """Keep a copy of these bytes under ``digest`` (dropping the oldest beyond the caps)."""
        sizes = tuple(array.size for array in arrays)
        if sum(sizes) > self.max_bytes:
            return
        blobs = [array.tobytes() for array in arrays]
        with self._lock:
            self._models.setdefault(sizes, []).append((blobs, digest))
            self._models.move_to_end(sizes)
            while self._kept() > self.count or self._kept_bytes() > self.max_bytes:
                oldest = next(iter(self._models))
                self._models[oldest].pop(0)
                if not self._models[oldest]:
                    del self._models[oldest]

    def _kept(self) -> int:
        return sum(len(entries) for entries in self._models.values())

    def _kept_bytes(self) -> int:
        return sum(sum(sizes) * len(entries) for sizes, entries in self._models.items())

    def clear(self) -> None:
        """Forget every kept model."""
        with self._lock:
            self._models.clear()


class RunModels:
    """What one run's guest may load: model bytes, or the names it was given.

    Example:
        >>> models = GraphCache().for_run()
        >>> models.load_named("road")
        Traceback (most recent call last):
        ...
        wasinn_nb.errors.ModelNotFoundError: no model named 'road' is preloaded (preloaded: none)
    """

    def __init__(
        self,
        cache: GraphCache,
        named: dict[str, Preload],
        choice: BackendChoice,
        options: BackendOptions,
    ) -> None:
        self._cache = cache
        self._named = named
        self._choice = choice
        self.options = options

    def load(
        self, builders: Sequence[Buffer], encoding: GraphEncoding, target: ExecutionTarget
    ) -> Graph:
        """The compiled graph for model bytes the guest passed."""
        return self._cache.load(builders, encoding, target, self._choice, self.options)

    def load_named(self, name: str, options: BackendOptions | None = None) -> Graph:
        """The compiled graph of the model preloaded as ``name`` (with these options)."""
        preload = self._named.get(name)
        if preload is None:
            raise ModelNotFoundError(name, sorted(self._named))
        return self._cache.load_preload(preload, self._choice, options or self.options)


def _digest(arrays: Sequence[npt.NDArray[np.uint8]]) -> str:
    """The sha256 naming these builders (each one's length, then its bytes)."""
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(array.size.to_bytes(8, "little"))
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


def _check_files(preload: Preload) -> None:
    missing = [str(p) for p in preload.paths if not p.is_file()]
    if missing:
        raise SpecError(f"preload {preload.name!r}: no such file: {', '.join(missing)}")
