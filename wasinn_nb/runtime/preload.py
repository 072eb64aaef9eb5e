"""Named models: WasmEdge's ``--nn-preload`` and wasmtime's ``-S nn-graph=`` spellings.

A preload is a name and the files to read when a guest asks for it with ``load_by_name``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import SpecError

__all__ = ["Preload"]

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

    def signature(self) -> tuple[object, ...]:
        """What identifies the files' current contents cheaply.

        Each one's path, device, inode, size and modification time: a rewrite or a
        replacement changes it.
        """
        try:
            stats = [path.stat() for path in self.paths]
        except OSError as error:
            raise SpecError(
                f"preload {self.name!r}: cannot read {error.filename}: {error.strerror}"
            ) from None
        return tuple((str(p), s.st_dev, s.st_ino, s.st_size, s.st_mtime_ns)
                     for p, s in zip(self.paths, stats, strict=True))  # fmt: skip

    def read(self) -> list[bytes]:
        """The builder bytes: each file's contents, in order."""
        try:
            return [path.read_bytes() for path in self.paths]
        except OSError as error:
            raise SpecError(
                f"preload {self.name!r}: cannot read {error.filename}: {error.strerror}"
            ) from None
