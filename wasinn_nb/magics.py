"""``%wasinn`` and ``%%wasinn``: the command line's options, in IPython.

Load with ``%load_ext wasinn_nb``. Every library error becomes exactly ``UsageError`` with a
one-line message (``%config WasinnMagics.traceback = True`` shows the full traceback).
"""

from __future__ import annotations

import difflib
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display
from traitlets import Bool, Float, TraitError, Unicode, validate

from wasinn_nb._bench import bench_guest
from wasinn_nb._options import (
    CONVERT_OPTIONS,
    FETCH_OPTIONS,
    RUN_OPTIONS,
    Option,
    OptionError,
    OptionParser,
)
from wasinn_nb._run_command import run_options
from wasinn_nb._types import ExecutionTarget, GraphEncoding
from wasinn_nb.backends import available_backends, backend_names, get_backend
from wasinn_nb.backends.models import Preload
from wasinn_nb.errors import WasinnError
from wasinn_nb.im2tensor import TensorSpec, image_to_tensor, save_tensor
from wasinn_nb.results import RunResult
from wasinn_nb.runner import default_runner

__all__ = ["WasinnMagics", "load_ipython_extension"]

SHOW_MODES = ("widget", "png", "text", "none")
_OUT = Option(("-o", "--out"), {"metavar": "NAME", "help": "also store the result in NAME"})
_REPEAT = Option(("-n",), {"type": int, "default": 10, "dest": "repeat", "help": "runs (10)"})
_MODULE_OPTIONS = tuple(o for o in RUN_OPTIONS if o.flags != ("module",))


def _did_you_mean(value: str, choices: tuple[str, ...], what: str) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (choose from: {', '.join(choices)})"
    return f"unknown {what} {value!r}{hint}"


@magics_class
class WasinnMagics(Magics):
    """Run wasi-nn guests and convert images from IPython; configure with ``%config``."""

    backend = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Backend for every model (openvino, onnxruntime); None: per encoding.",
    )
    target = Unicode("cpu", config=True, help="Default target of %wasinn preload.")
    timeout = Float(None, allow_none=True, config=True, help="Seconds before a guest is stopped.")
    mirror = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Folder %wasinn fetch copies models and images from (else download).",
    )
    show = Unicode("widget", config=True, help="How results display: widget, png, text or none.")
    traceback = Bool(False, config=True, help="Full tracebacks instead of one-line errors.")

    @validate("backend")
    def _check_backend(self, proposal: Any) -> Any:
        value = proposal["value"]
        if value is not None and value not in backend_names():
            raise TraitError(_did_you_mean(value, backend_names(), "backend"))
        return value

    @validate("target")
    def _check_target(self, proposal: Any) -> Any:
        names = tuple(t.name.lower() for t in ExecutionTarget)
        if str(proposal["value"]).lower() not in names:
            raise TraitError(_did_you_mean(proposal["value"], names, "target"))
        return str(proposal["value"]).lower()

    @validate("show")
    def _check_show(self, proposal: Any) -> Any:
        if proposal["value"] not in SHOW_MODES:
            raise TraitError(_did_you_mean(proposal["value"], SHOW_MODES, "show mode"))
        return proposal["value"]

    @line_cell_magic
    def wasinn(self, line: str, cell: str | None = None) -> Any:
        """Run wasi-nn guests and tools.

        Line magic: ``%wasinn COMMAND …`` with COMMAND one of
          run MODULE.wasm [--dir D] [--nn-preload N:E:T:P…] [-o NAME] [--] ARGS   run a guest;
              its stdout shows here, the RunResult goes to ``_wasinn`` (and NAME)
          preload NAME ENCODING TARGET PATH…    make a model loadable by name
          models                                list preloaded models
          backends                              installed backends, versions, devices
          im2tensor --image IMG --dims HxWxCxT [options] [-o NAME]   image -> array
          bench MODULE.wasm [run options] [-n 10] [--] ARGS   guest vs direct backend timings
          fetch NAME… [--mirror DIR] [--dest DIR] [-o NAME]   models and images, verified

        Cell magic: ``%%wasinn [run options] [-o NAME] [-- ARGS]`` with a guest written in
        WebAssembly text (WAT) as the cell; or ``%%wasinn COMMAND`` with the rest of the
        command line in the cell. ``{name}`` expands Python variables, as in any magic.
        """
        with self._errors():
            if cell is not None:
                return self._cell(line, cell)
            words = shlex.split(line)
            if not words or words[0] not in self._commands():
                raise UsageError(_did_you_mean(words[0] if words else "", tuple(self._commands()),
                                               "command") + " (see %wasinn?)")  # fmt: skip
            return self._commands()[words[0]](words[1:])

    # ---- plumbing ----------------------------------------------------------------------------

    def _commands(self) -> dict[str, Callable[[list[str]], Any]]:
        return {
            "run": self._run, "preload": self._preload, "models": self._models,
            "backends": self._backends, "im2tensor": self._im2tensor, "bench": self._bench,
            "fetch": self._fetch,
        }  # fmt: skip

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (WasinnError, OptionError, OSError) as error:
            if self.traceback:
                raise
            raise UsageError(str(error)) from error

    @staticmethod
    def _parse(prog: str, options: tuple[Option, ...], words: list[str]) -> Any:
        return OptionParser.build(f"%wasinn {prog}", options, intermixed=True).parse(words)

    def _store(self, value: object, name: str | None) -> None:
        namespace = self.shell.user_ns if self.shell is not None else {}
        namespace["_wasinn"] = value
        if name:
            namespace[name] = value

    # ---- commands ----------------------------------------------------------------------------

    def _run_guest(self, module: str, args: Any, *, stream: bool = True) -> RunResult:
        options = run_options(args, backend=self.backend, timeout=self.timeout)
        if stream:  # the cell's output streams (ipykernel swaps sys.stdout per cell)
            options.update(stdout=sys.stdout, stderr=sys.stderr)
        return default_runner().run(module, args.args, **options)

    def _finish(self, result: RunResult, name: str | None) -> None:
        self._store(result, name)
        if result.error is not None or result.exit_code != 0:
            tail = result.stderr.strip().splitlines()[-1:] or [""]
            status = result.error or f"exited with status {result.exit_code}"
            raise UsageError(f"{result.module} {status}" + (f": {tail[0]}" if tail[0] else ""))
        self._show(result)

    def _show(self, result: RunResult) -> None:
        if self.show == "none":
            return
        print(f"{result!r} -> _wasinn")
        if self.show == "text" or not result.outputs:
            return
        if self.show == "widget":
            from wasinn_nb.viz.widgets import TensorView

            display(*(TensorView(array) for array in result.outputs))  # type: ignore[no-untyped-call]
        else:
            from IPython.display import Image

            from wasinn_nb.im2tensor.stats import guess_channel_axis
            from wasinn_nb.viz.render import encode_png, tensor_grid

            for array in result.outputs:
                axis = guess_channel_axis(array.shape)
                if axis is not None:
                    picture = Image(data=encode_png(tensor_grid(array, axis)))  # type: ignore[no-untyped-call]
                    display(picture)  # type: ignore[no-untyped-call]

    def _run(self, words: list[str]) -> None:
        args = self._parse("run", (*RUN_OPTIONS, _OUT), words)
        self._finish(self._run_guest(args.module, args), args.out)

    def _cell(self, line: str, cell: str) -> Any:
        words = shlex.split(line)
        if words and words[0] in self._commands():
            return self._commands()[words[0]](words[1:] + shlex.split(cell, comments=True))
        args = self._parse("", (*_MODULE_OPTIONS, _OUT), words)
        self._finish(self._run_guest(cell, args), args.out)
        return None

    def _preload(self, words: list[str]) -> None:
        if len(words) < 3:
            raise UsageError("usage: %wasinn preload NAME ENCODING [TARGET] PATH [PATH…]")
        name, encoding, rest = words[0], GraphEncoding.parse(words[1]), words[2:]
        target = self.target
        if rest[0].lower() in {t.name.lower() for t in ExecutionTarget}:
            target, rest = rest[0], rest[1:]
        if not rest:
            raise UsageError("usage: %wasinn preload NAME ENCODING [TARGET] PATH [PATH…]")
        paths = tuple(Path(p) for p in rest)
        default_runner().graphs.add(Preload(name, encoding, ExecutionTarget.parse(target), paths))
        print(f"preloaded {name!r}: {encoding.name.lower()} on {target} from {', '.join(rest)}")

    def _models(self, words: list[str]) -> None:
        preloads = default_runner().graphs.preloads
        if not preloads:
            print("no models preloaded (use %wasinn preload NAME ENCODING TARGET PATH…)")
        for name, p in sorted(preloads.items()):
            paths = ", ".join(str(x) for x in p.paths)
            print(f"{name:<16} {p.encoding.name.lower():<15} {p.target.name.lower():<5} {paths}")

    def _backends(self, words: list[str]) -> None:
        installed = available_backends()
        for name in backend_names():
            if name not in installed:
                print(f"{name:<12} not installed (pip install 'wasinn-nb[{name}]')")
                continue
            backend: Any = get_backend(name)
            print(f"{name:<12} {backend.version:<32} devices: {', '.join(backend.devices)}")

    def _im2tensor(self, words: list[str]) -> Any:
        args = self._parse("im2tensor", (*CONVERT_OPTIONS, _OUT), words)
        tensor = image_to_tensor(args.image, TensorSpec.from_options(vars(args)))
        if args.tensor:
            save_tensor(tensor, args.tensor)
        self._store(tensor, args.out)
        return tensor

    def _fetch(self, words: list[str]) -> Any:
        from wasinn_nb.data import fetch

        args = self._parse("fetch", (*FETCH_OPTIONS, _OUT), words)
        if args.list or not args.names:
            raise UsageError("name what to fetch; `wasinn fetch --list` shows the choices")
        paths = fetch(*args.names, mirror=args.mirror or self.mirror, dest=args.dest)
        self._store(paths, args.out)
        return paths

    def _bench(self, words: list[str]) -> None:
        args = self._parse("bench", (*RUN_OPTIONS, _REPEAT), words)
        run_once = lambda: self._checked(self._run_guest(args.module, args, stream=False))  # noqa: E731
        print(bench_guest(run_once, args.repeat).format())

    @staticmethod
    def _checked(result: RunResult) -> RunResult:
        if not result.ok:
            raise UsageError(
                f"{result.module} failed during bench: {result.error or result.stderr}"
            )
        return result


def load_ipython_extension(ipython: Any) -> None:
    """Register :class:`WasinnMagics` with ``ipython``."""
    ipython.register_magics(WasinnMagics)
