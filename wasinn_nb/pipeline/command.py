"""A whole guest as one map stage: a WASI command (or component) run once per item.

For guests that are programs rather than operators — the witx ``classify`` guest, or a
component classifier with its model embedded — the stage writes the item to a file in a
scratch folder the guest sees as ``.``, runs the guest with the ``args`` parameter (``{input}``
stands for that file's name), and passes on what the guest printed (or the file named by the
``output`` parameter). A non-zero exit, a trap or a timeout fails the item.

Parameters: ``args`` (shell-style words), ``input`` (the file name, default ``input.bin``; an
extension tells guests such as ``classify`` what the bytes are), ``output`` (a file the guest
writes, instead of its stdout), ``dirs`` (more folders, ``HOST::GUEST`` words, host paths
relative to the graph's folder).
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from wasinn_nb.abi import Limits
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.errors import WasinnError
from wasinn_nb.files import read_file
from wasinn_nb.pipeline.operator import OK, ItemSwitch, OperatorError
from wasinn_nb.results.pipeline import Value
from wasinn_nb.runtime import DirMapping, Preload, Runner

__all__ = ["PARAMS", "CommandOperator"]

PARAMS = ("args", "input", "output", "dirs")


class CommandOperator:
    """Runs ``module`` (a path) once per item through ``runner``, in a scratch folder."""

    def __init__(
        self,
        name: str,
        module: Path,
        params: Mapping[str, str],
        runner: Runner,
        *,
        folder: Path | None,
        preload: Sequence[Preload],
        backend: str | None,
        backend_options: BackendOptions | None,
        limits: Limits,
        switch: ItemSwitch,
        log: Callable[[str], None],
    ) -> None:
        unknown = sorted(set(params) - set(PARAMS))
        if unknown:
            raise OperatorError(f"unknown parameter {unknown[0]!r} of a command stage "
                                f"(known: {', '.join(PARAMS)})")  # fmt: skip
        self.name, self.module, self.runner, self.switch, self.log = (
            name, module, runner, switch, log)  # fmt: skip
        self.args = shlex.split(params.get("args", "{input}"))
        self.input = params.get("input", "input.bin")
        self.output = params.get("output")
        for file in (self.input, self.output):
            if file is not None and (not file or "/" in file or file.startswith(".")):
                raise OperatorError(f"input/output must be a plain file name, got {file!r}")
        base = folder or Path.cwd()
        self.dirs = [_resolved(DirMapping.parse(word), base)
                     for word in shlex.split(params.get("dirs", ""))]  # fmt: skip
        self.preload, self.backend, self.backend_options = list(preload), backend, backend_options
        self.limits = limits
        self._scratch: Path | None = None

    def start(self) -> None:
        """Make the scratch folder (the module is compiled on its first run)."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="wasinn-stage-"))

    def process(self, value: Value) -> tuple[int, Value | None]:
        """Write the item, run the guest, read what it printed (or wrote)."""
        self.start()
        scratch = self._scratch
        assert scratch is not None  # noqa: S101 - start() made it
        data = value if isinstance(value, bytes) else np.ascontiguousarray(value).tobytes()
        (scratch / self.input).write_bytes(data)
        if self.output:
            (scratch / self.output).unlink(missing_ok=True)
        args = [word.replace("{input}", self.input) for word in self.args]
        try:
            result = self.runner.run(
                str(self.module), args, dirs=[DirMapping(str(scratch), ".", False), *self.dirs],
                preload=self.preload, backend=self.backend, backend_options=self.backend_options,
                limits=self.limits, timeout=self.switch.remaining(), record=False,
            )  # fmt: skip
        except WasinnError as error:
            raise OperatorError(str(error)) from None
        for line in result.host_log:
            self.log(f"{self.name}: {line}")
        if result.error is not None:
            raise OperatorError(result.error)
        if result.exit_code:
            tail = result.stderr.strip().splitlines()[-1:] or [""]
            raise OperatorError(f"exited with status {result.exit_code}: {tail[0]}".rstrip(": "))
        if self.output is None:
            return OK, result.stdout.encode()
        path = scratch / self.output
        return OK, read_file(path, limit=self.limits.tensor_bytes, what="stage output")

    def close(self) -> None:
        """Remove the scratch folder."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _resolved(mapping: DirMapping, base: Path) -> DirMapping:
    host = Path(mapping.host).expanduser()
    return DirMapping(str(host if host.is_absolute() else base / host), mapping.guest,
                      mapping.read_only)  # fmt: skip
