"""Running a graph: its operators instantiated once, each input pushed through, every stage kept.

Items run one at a time, in input order, on a worker thread while the caller waits, so Ctrl-C
and ``timeout`` (the whole run) always stop it; ``item_timeout`` fails one item and goes on.
An operator's failure (its error status, a trap, a timeout) fails that item only.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from wasinn_nb.abi import Limits
from wasinn_nb.backends import BackendChoice
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.errors import GuestError, SpecError, WasinnError
from wasinn_nb.files import read_file
from wasinn_nb.pipeline.command import CommandOperator
from wasinn_nb.pipeline.component import ComponentOperator
from wasinn_nb.pipeline.graph import GraphError, GraphSpec, Operation, load_graph, missing_params
from wasinn_nb.pipeline.operator import EXPORTS, FALSE, ItemSwitch, OperatorError, OperatorInstance
from wasinn_nb.results.pipeline import PipelineItem, PipelineResult, StageRecord, Value
from wasinn_nb.runtime import Preload, Runner, default_runner
from wasinn_nb.runtime.interrupts import GRACE, Ticker

if TYPE_CHECKING:
    from wasmtime import Module

__all__ = ["BUILTINS", "Pipeline", "builtin_module", "run_pipeline"]

#: The built-in operators: module name → what it does.
BUILTINS = {
    "decode": "map: JPEG/PNG/BMP bytes -> RGB24 u8 [1,H,W,3] (width, height, layout)",
    "infer": "map: tensor -> output of a preloaded model through wasi-nn (model, output_type, …)",
    "softmax": "map: scores -> f32 probabilities (scale, zero_point, from)",
    "topk": "map: scores -> f32 [k,2] (index, score) rows, best first (k)",
    "threshold": "filter/branch: true when the best score >= min (min, column)",
    "labels": "map: [k,2] rows -> text lines 'INDEX LABEL SCORE' (labels)",
}
_POLL = 0.1


class Stage(Protocol):
    """What runs a map/filter/branch: an op-ABI instance, or a command run per item."""

    def start(self) -> None:
        """Get ready (instantiate, initialise); OperatorError if it cannot."""

    def process(self, value: Value) -> tuple[int, Value | None]:
        """(status, output) for one item; OperatorError if it fails on it."""

    def close(self) -> None:
        """Let go of instances and files."""


#: An input: a file path, or a value (bytes, or a tensor) with a name.
Input = str | os.PathLike[str] | Value | tuple[str, Value]


def builtin_module(name: str) -> Path:
    """The ``.wasm`` of a built-in operator (``softmax`` or ``softmax:1.0.0``).

    Example:
        >>> builtin_module("softmax:1.0.0").name
        'op-softmax.wasm'
    """
    from wasinn_nb.data import example_guest

    base = name.split(":")[0].removeprefix("wasinn/")
    if base not in BUILTINS:
        raise GraphError(f"unknown operator module {name!r} (built-in: {', '.join(BUILTINS)}; "
                         "or a path to a .wasm/.wat file)")  # fmt: skip
    return example_guest(f"op-{base}")


class Pipeline:
    """A graph ready to run: its operators compiled, instantiated on first use, then reused.

    Args:
        graph: A :class:`GraphSpec`, or the path of a YAML graph definition.
        params: Parameter values by operation, overriding the graph's defaults:
            ``{"top": {"k": "3"}}``; a value ``@PATH`` is the file's text.
        preload: Named models for ``infer`` operators (``NAME:ENCODING:TARGET:PATH``).
        backend: Run every model on this backend (default: each encoding's).
        backend_options: Threads, precision, providers for the engines.
        limits: Memory and wasi-nn bounds of each operator instance.
        timeout: Seconds for a whole :meth:`run`; Ctrl-C stops it too.
        item_timeout: Seconds each item may take before it fails (the run goes on).
        runner: Whose engine, module cache and graph cache to use (the shared one by default).

    Example:
        >>> import numpy as np
        >>> from wasinn_nb.pipeline import parse_graph
        >>> pipe = Pipeline(parse_graph('''
        ... operations:
        ...   - {operationType: source, name: in}
        ...   - {operationType: map, name: probs, module: softmax}
        ...   - {operationType: sink, name: out}
        ... connections:
        ...   - {from: {name: in}, to: {name: probs}}
        ...   - {from: {name: probs}, to: {name: out}}
        ... '''))
        >>> item = pipe.run([("logits", np.array([0.0, 0.0], np.float32))])[0]
        >>> item["probs"].tolist()
        [0.5, 0.5]
    """

    def __init__(
        self,
        graph: GraphSpec | str | os.PathLike[str],
        *,
        params: Mapping[str, Mapping[str, str]] | None = None,
        preload: Iterable[str | Preload] = (),
        backend: str | None = None,
        backend_options: BackendOptions | None = None,
        limits: Limits | None = None,
        timeout: float | None = None,
        item_timeout: float | None = None,
        runner: Runner | None = None,
    ) -> None:
        from wasinn_nb.pipeline.graph import param_value

        spec = graph if isinstance(graph, GraphSpec) else load_graph(graph)
        values = {op: {k: param_value(v, spec.folder) for k, v in kv.items()}
                  for op, kv in (params or {}).items()}  # fmt: skip
        self.spec = spec.with_params(values)
        for op in self.spec.operations.values():
            missing = missing_params(op)
            if missing:
                hint = f"--param {op.name}:{missing[0]}=VALUE"
                raise GraphError(f"operation {op.name!r}: parameter {missing[0]!r} is required "
                                 f"(give it with {hint})")  # fmt: skip
        self.runner = runner or default_runner()
        self.limits = limits or Limits()
        self.switch = ItemSwitch(timeout, item_timeout)
        self._worker: threading.Thread | None = None
        self.log: list[str] = []
        self.preloads = [p if isinstance(p, Preload) else Preload.parse(p) for p in preload]
        self.backend, self.backend_options = backend, backend_options
        self.models = self.runner.graphs.for_run(
            self.preloads, BackendChoice(backend), backend_options
        )
        self.operators: dict[str, Stage] = {
            op.name: self._operator(op) for op in self.spec.order() if op.module
        }

    def _operator(self, op: Operation) -> Stage:
        path = self._path(op)
        if _is_component(path) and "function" in op.params:
            if op.kind != "map":
                raise GraphError(f"operation {op.name!r}: a component operator is a map")
            return ComponentOperator(op.name, path, op.params, self.runner,
                                     preload=self.preloads, backend=self.backend,
                                     backend_options=self.backend_options, limits=self.limits,
                                     switch=self.switch)  # fmt: skip
        module = None if _is_component(path) else self._compile(op, path)
        if module is None or not _is_operator(module):
            if op.kind != "map":
                raise GraphError(f"operation {op.name!r}: a {op.kind} needs an operator module "
                                 "(a command or component can only be a map)")  # fmt: skip
            try:
                return CommandOperator(op.name, path, op.params, self.runner,
                                       folder=self.spec.folder, preload=self.preloads,
                                       backend=self.backend, backend_options=self.backend_options,
                                       limits=self.limits, switch=self.switch,
                                       log=self._note)  # fmt: skip
            except (OperatorError, SpecError) as error:
                raise GraphError(f"operation {op.name!r}: {error}") from None
        return OperatorInstance(op.name, self.runner.engine, module, dict(op.params),
                                self.models, self.limits, self.switch, self._note)  # fmt: skip

    def _path(self, op: Operation) -> Path:
        reference = op.module or ""
        if reference.endswith((".wasm", ".wat")):
            path = Path(reference).expanduser()
            if not path.is_absolute() and self.spec.folder is not None:
                path = self.spec.folder / path
        else:
            path = builtin_module(reference)
        return path

    def _compile(self, op: Operation, path: Path) -> Module:
        from wasmtime import Module

        try:
            module, _ = self.runner.compile(str(path))
        except GuestError as error:
            raise GraphError(f"operation {op.name!r}: {error}") from None
        if not isinstance(module, Module):
            raise GraphError(f"operation {op.name!r}: {path} is a component, not a core module")
        return module

    def _note(self, line: str) -> None:
        if len(self.log) < self.limits.log_lines:
            self.log.append(line)

    # ---- running -----------------------------------------------------------------------------

    def run(self, inputs: Iterable[Input]) -> PipelineResult:
        """Push each input through the graph; one :class:`PipelineItem` per input.

        Args:
            inputs: File paths (read as bytes; a folder stands for its files, sorted), bytes,
                tensors, or ``(name, value)`` pairs.

        Raises:
            KeyboardInterrupt: If the run was interrupted (Ctrl-C).
            WasinnError: If the run's ``timeout`` passed, or an input cannot be read.
        """
        started = time.perf_counter()
        if self._worker is not None and self._worker.is_alive():
            raise WasinnError(f"pipeline {self.spec.name}: the previous run is still stopping")
        named = list(_named(inputs, self.limits.tensor_bytes))
        self.switch.restart()
        self.log.clear()  # each run keeps its own (first limits.log_lines) host lines
        items: list[PipelineItem] = []
        failure: list[BaseException] = []
        done = threading.Event()

        def work() -> None:
            try:
                with Ticker(self.runner.engine):
                    self._start()
                    for source, value in named:
                        if self.switch.stopped:
                            break
                        items.append(self._item(source, value))
            except BaseException as error:  # re-raised on the caller's thread
                failure.append(error)
            finally:
                done.set()

        self._worker = threading.Thread(target=work, name="wasinn-pipeline", daemon=True)
        self._worker.start()
        self._supervise(done)
        if failure:
            raise failure[0]
        if self.switch.stopped:
            raise WasinnError(f"pipeline {self.spec.name}: {self.switch.reason}")
        return PipelineResult(self.spec.name, tuple(items), time.perf_counter() - started,
                              tuple(self.log))  # fmt: skip

    def _start(self) -> None:
        """Instantiate and initialise every operator: a bad parameter fails the run, once."""
        for name, operator in self.operators.items():
            try:
                operator.start()
            except OperatorError as error:
                raise GraphError(f"operation {name!r}: {error}") from None

    def _supervise(self, done: threading.Event) -> None:
        try:
            while not done.wait(_POLL):
                if self.switch.expired() and self.switch.stopped:
                    break
        except KeyboardInterrupt:
            self.switch.trip("interrupted")
            if any(isinstance(stage, CommandOperator) for stage in self.operators.values()):
                from wasinn_nb.runtime.runner import stop_all

                stop_all("interrupted", wait=0)  # a command stage's run has its own switch
            done.wait(GRACE)
            raise
        if self.switch.stopped:
            done.wait(GRACE)

    def _item(self, source: str, value: Value) -> PipelineItem:
        """One input through the graph, depth first from the source."""
        self.switch.next_item()
        stages: list[StageRecord] = [StageRecord(self.spec.source, "source", value, 0.0)]
        sinks: dict[str, list[Value]] = {}
        todo = [(name, value) for name in reversed(self.spec.after(self.spec.source))]
        while todo:
            name, item = todo.pop()
            op = self.spec.operations[name]
            record, nexts = self._stage(op, item)
            stages.append(record)
            if record.error is not None:
                error = f"{name}: {record.error}"
                return PipelineItem(source, tuple(stages), _frozen(sinks), error)
            if op.kind == "sink":
                sinks.setdefault(name, []).append(item)
            todo += [(n, record.value) for n in reversed(nexts) if record.value is not None]
        return PipelineItem(source, tuple(stages), _frozen(sinks))

    def _stage(self, op: Operation, item: Value) -> tuple[StageRecord, list[str]]:
        """Run one operation on ``item``: its record and the operations it feeds."""
        if op.kind in ("sink", "concatenate"):
            return StageRecord(op.name, op.kind, item, 0.0), self.spec.after(op.name)
        start = time.perf_counter()
        try:
            status, output = self.operators[op.name].process(item)
        except OperatorError as error:
            return StageRecord(op.name, op.kind, None, time.perf_counter() - start,
                               error=str(error)), []  # fmt: skip
        seconds = time.perf_counter() - start
        verdict = status != FALSE
        if op.kind == "map":
            return StageRecord(op.name, op.kind, output, seconds), self.spec.after(op.name)
        passed = item if verdict else None
        arm = verdict if op.kind == "branch" else None
        nexts = self.spec.after(op.name, arm) if op.kind == "branch" or verdict else []
        return StageRecord(op.name, op.kind, passed if op.kind == "filter" else item, seconds,
                           verdict), nexts  # fmt: skip

    def close(self) -> None:
        """Drop every operator instance."""
        for operator in self.operators.values():
            operator.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_pipeline(graph: GraphSpec | str | os.PathLike[str], inputs: Iterable[Input],
                 **options: object) -> PipelineResult:  # fmt: skip
    """Build a :class:`Pipeline` (``options`` as its arguments), run ``inputs``, close it."""
    with Pipeline(graph, **options) as pipe:  # type: ignore[arg-type]
        return pipe.run(inputs)


def _is_component(path: Path) -> bool:
    """Whether ``path`` holds a component binary (version bytes 4..8 are not a core module's)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        return False  # compiling it reports why
    return head[:4] == b"\0asm" and head[4:8] != b"\x01\0\0\0"


def _is_operator(module: Module) -> bool:
    """Whether a core module has the op ABI's exports (else it is run as a command)."""
    names = {export.name for export in module.exports}
    return any(name in names for name in EXPORTS) or "_start" not in names


def _frozen(sinks: dict[str, list[Value]]) -> dict[str, tuple[Value, ...]]:
    return {name: tuple(values) for name, values in sinks.items()}


def _named(inputs: Iterable[Input], limit: int) -> Iterable[tuple[str, Value]]:
    """Each input as ``(name, value)``: files read (folders expanded), values named."""
    for index, entry in enumerate(inputs):
        if isinstance(entry, tuple):
            yield str(entry[0]), entry[1]
        elif isinstance(entry, bytes):
            yield f"input {index}", entry
        elif isinstance(entry, (str, os.PathLike)):
            path = Path(entry)
            files: Sequence[Path] = sorted(p for p in path.iterdir() if p.is_file()) if (
                path.is_dir()) else [path]  # fmt: skip
            for file in files:
                yield str(file), read_file(file, limit=limit, what="input")
        elif hasattr(entry, "dtype"):
            yield f"input {index}", entry
        else:
            raise SpecError(f"pipeline input {index}: expected a path, bytes or a tensor")
