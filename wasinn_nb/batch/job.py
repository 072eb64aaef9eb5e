"""One batch's work as picklable data, and how one item of it runs.

A :class:`Job` holds the guest's bytes and everything a run needs but the input, so a process
pool or a Dask worker gets it once and keeps the compiled module and loaded models warm
(:func:`warm`) for every item it is sent.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from wasinn_nb.backends import BackendChoice
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.batch.parse import auto_parse
from wasinn_nb.errors import GuestError, SpecError, describe
from wasinn_nb.files import read_file
from wasinn_nb.im2tensor import TensorSpec, image_to_tensor, save_tensor, tensor_file_name
from wasinn_nb.results import PHASES, RunResult
from wasinn_nb.runtime import DirMapping, Limits, Preload, Runner, batch_runner
from wasinn_nb.runtime.modules import looks_like_wat

__all__ = ["INPUT", "INPUT_DIR", "Job", "Row", "dumps", "job_key", "loads", "run_item", "warm",
           "worker_payload"]  # fmt: skip

#: The placeholder in a job's arguments that each item's path replaces.
INPUT = "{input}"
#: Where the guest sees each item's folder (read-only).
INPUT_DIR = "/input"
MAX_MODULE_BYTES = 1 << 30

#: One item's outcome: input, exit_code, error, the parsed result's columns, time_<phase>.
Row = dict[str, Any]
Postprocess = Callable[[RunResult], Any]


@dataclass(frozen=True)
class Job:
    """What to run on every item: the guest, its arguments, folders, models and engine options.

    Attributes:
        module: The guest as wasm bytes or WAT text (read once, sent to every worker).
        name: How the module is named in errors.
        args: The guest's arguments; :data:`INPUT` is replaced by the item's path as the
            guest sees it (appended when absent).
        dirs: Host folders the guest may use besides the item's (``DIR``, ``GUEST:HOST``…).
        preload: Named models, ``NAME:ENCODING:TARGET:PATH…``.
        backend: The backend for every model (default: per encoding).
        timeout: Seconds each item may take.
        env: The guest's environment variables.
        limits: What each run may use.
        backend_options: How the engines run models.
        spec: Convert each image to a tensor file with this spec first, and pass that file.
        postprocess: Turns a :class:`RunResult` into the item's result (default: the guest's
            top-K lines for a classifier, class shares for a segmenter).
    """

    module: bytes | str
    name: str = "<guest>"
    args: tuple[str, ...] = (INPUT,)
    dirs: tuple[str, ...] = ()
    preload: tuple[str, ...] = ()
    backend: str | None = None
    timeout: float | None = None
    env: tuple[tuple[str, str], ...] = ()
    limits: Limits = field(default_factory=Limits)
    backend_options: BackendOptions = field(default_factory=BackendOptions)
    spec: TensorSpec | None = None
    postprocess: Postprocess | None = None

    @classmethod
    def build(cls, module: str | os.PathLike[str] | bytes, **options: Any) -> Job:
        """A job for ``module`` (a ``.wasm`` path, wasm bytes or WAT text), checked up front.

        Raises:
            GuestError: If the module cannot be read or compiled.
            SpecError: For bad ``dirs`` or ``preload`` values, or a missing folder or model.
        """
        if isinstance(module, bytes) or looks_like_wat(os.fspath(module)):
            source: bytes | str = module if isinstance(module, bytes) else os.fspath(module)
            name = "<bytes>" if isinstance(module, bytes) else "<wat>"
        else:
            name = os.fspath(module)
            source = read_file(name, limit=MAX_MODULE_BYTES, error=_module_error)
        args = tuple(options.pop("args", (INPUT,)))
        if INPUT not in args:
            args = (*args, INPUT)
        job = cls(source, name, args, **options)
        job.check()
        return job

    def check(self) -> None:
        """Fail now, not on every item: a module that does not compile, a missing folder or model.

        Compiling here also fills the disk cache the workers then load the module from.
        """
        batch_runner().compile(self.module)
        for text in self.dirs:
            mapping = DirMapping.parse(text)
            if not Path(mapping.host).is_dir():
                raise SpecError(f"--dir {mapping.host}: no such folder")
        for text in self.preload:
            missing = [str(p) for p in Preload.parse(text).paths if not p.is_file()]
            if missing:
                raise SpecError(f"preload {text!r}: no such file: {', '.join(missing)}")
        BackendChoice(self.backend)

    def with_threads(self, threads: int) -> Job:
        """The same job with ``threads`` inference threads, unless the job sets them."""
        if self.backend_options.threads is not None:
            return self
        return replace(self, backend_options=self.backend_options.replace({"threads": threads}))


def _module_error(path: str, reason: str) -> GuestError:
    return GuestError(f"cannot read module {path}: {reason}")


def dumps(job: Job) -> bytes:
    """The job as bytes for another process (cloudpickle, when installed, for notebook lambdas)."""
    try:
        import cloudpickle
    except ImportError:
        return pickle.dumps(job)
    return bytes(cloudpickle.dumps(job))


def loads(payload: bytes) -> Job:
    """The job :func:`dumps` made."""
    job = pickle.loads(payload)  # noqa: S301 - bytes this batch made for its own workers
    if not isinstance(job, Job):
        raise TypeError(f"expected a Job, got {type(job).__name__}")
    return job


class _Warm:
    """A worker's state for one job: its runner, its compiled module, a folder for tensors."""

    def __init__(self, job: Job, runner: Runner) -> None:
        self.job, self.runner = job, runner
        self.scratch = tempfile.TemporaryDirectory(prefix="wasinn-batch-")
        runner.compile(job.module)
        choice = BackendChoice(job.backend)
        for text in job.preload:  # compile the named models before the first item
            preload = Preload.parse(text)
            runner.graphs.for_run([preload], choice, job.backend_options).load_named(preload.name)


_warm: dict[str, _Warm] = {}
_warm_lock = threading.Lock()


def job_key(payload: bytes) -> str:
    """The name a worker keeps the job in ``payload`` under (its sha256)."""
    return hashlib.sha256(payload).hexdigest()


def worker_payload(job: Job) -> tuple[str, bytes]:
    """The job's key and bytes as pool and Dask workers get it: 1 inference thread each.

    (Unless the job sets its threads itself.)
    """
    data = dumps(job.with_threads(1))
    return job_key(data), data


def warm(key: str, payload: bytes | Callable[[], bytes]) -> _Warm:
    """This process's warm state for job ``key``: made on first use from ``payload``, then kept.

    ``payload`` is the :func:`dumps` bytes, or a function that reads them, called only when
    this process does not have the job yet.
    """
    with _warm_lock:
        if key not in _warm:
            data = payload() if callable(payload) else payload
            _warm.clear()  # one job at a time per worker: free the previous one's folder
            _warm[key] = _Warm(loads(data), batch_runner())
        return _warm[key]


def run_item(state: _Warm, item: str) -> Row:
    """Run the job on one item; every failure but an interrupt becomes the row's ``error``."""
    job = state.job
    row: Row = {"input": item, "exit_code": None, "error": None}
    staged: list[Path] = []
    try:
        guest_path, dirs = _stage(state, item, staged)
        args = [arg.replace(INPUT, guest_path) for arg in job.args]
        result = state.runner.run(
            job.module, args, dirs=[*job.dirs, *dirs], preload=job.preload, backend=job.backend,
            timeout=job.timeout, env=dict(job.env), limits=job.limits,
            backend_options=job.backend_options,
        )  # fmt: skip
        row.update(exit_code=result.exit_code, error=_failure(result))
        row.update(_timings(result.timings.seconds))
        if row["error"] is None:
            row.update(_parsed(job, result))
    except Exception as error:  # a bad item is a row, never the end of the batch
        row["error"] = describe(error).message
    finally:
        for path in staged:  # a converted tensor lives only as long as its run
            path.unlink(missing_ok=True)
    return row


def _stage(state: _Warm, item: str, staged: list[Path]) -> tuple[str, list[DirMapping]]:
    """The item's path as the guest sees it, and the read-only folder that shows it.

    With a spec, the item is converted to a tensor file first, added to ``staged``.
    """
    path = Path(item)
    if not path.is_file():
        reason = "no such file" if not path.exists() else "not a regular file"
        raise SpecError(f"cannot read input {item}: {reason}")
    spec = state.job.spec
    if spec is not None:
        name = tensor_file_name(path.stem, spec)
        path = Path(state.scratch.name) / name
        staged.append(path)
        save_tensor(image_to_tensor(item, spec), path)
    folder = DirMapping(str(path.parent.resolve()), INPUT_DIR, read_only=True)
    return str(PurePosixPath(INPUT_DIR) / path.name), [folder]


def _failure(result: RunResult) -> str | None:
    """Why a run failed, in one line; ``None`` if it exited with status 0."""
    if result.error is not None:
        return result.error
    if result.exit_code == 0:
        return None
    tail = [line for line in result.stderr.splitlines() if line.strip()][-1:]
    return f"exit status {result.exit_code}" + (f": {tail[0].strip()}" if tail else "")


def _parsed(job: Job, result: RunResult) -> Mapping[str, Any]:
    """The result's columns: ``postprocess``'s dict (or its value as ``result``), or auto."""
    if job.postprocess is None:
        return auto_parse(result)
    value = job.postprocess(result)
    return dict(value) if isinstance(value, Mapping) else {"result": value}


def _timings(seconds: Mapping[str, float]) -> Row:
    return {f"time_{phase}": float(seconds.get(phase, 0.0)) for phase in PHASES}
