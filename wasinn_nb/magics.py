"""``%wasinn`` and ``%%wasinn``: the command line's commands and options, in IPython.

Load with ``%load_ext wasinn_nb``. The line is split with IPython's ``arg_split``, parsed by the
same parsers as the CLI and handed to the same command functions. Every mistake becomes exactly
``UsageError`` with a one-line message (``--traceback`` or ``%config WasinnMagics.traceback =
True`` shows the full traceback).
"""

from __future__ import annotations

import difflib
import math
import sys
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display
from IPython.utils.process import arg_split  # type: ignore[attr-defined]
from traitlets import Bool, Float, Int, TraitError, Unicode, validate

from wasinn_nb.backends import backend_names
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.commands import COMMANDS, Outcome, Session
from wasinn_nb.commands.build import Built
from wasinn_nb.commands.options import (
    BUILD_CELL_OPTIONS,
    GUEST_OPTIONS,
    TRACEBACK,
    HelpRequested,
    Option,
    OptionParser,
    parse_names,
)
from wasinn_nb.enums import ExecutionTarget
from wasinn_nb.errors import OptionError, SpecError, describe
from wasinn_nb.results import RunResult

__all__ = ["WasinnMagics", "load_ipython_extension"]

SHOW_MODES = ("widget", "png", "text", "none")
_OUT = Option(
    ("-o", "--result"),
    {"metavar": "NAME", "dest": "result_name", "help": "also store the result in NAME"},
)
#: Commands whose value is the point of calling them from a notebook: the magic returns it
#: (and so Jupyter echoes it), unless ``-o NAME`` stores it.
_RETURNS_VALUE = frozenset({"im2tensor", "fetch", "build", "pipeline", "batch"})


def _did_you_mean(value: str, choices: tuple[str, ...], what: str) -> str:
    close = difflib.get_close_matches(value, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (choose from: {', '.join(choices)})"
    return f"unknown {what} {value!r}{hint}"


def _split(text: str, *, comments: bool = False) -> list[str]:
    """Words of a magic line (IPython's ``arg_split``), comments dropped from cells."""
    if comments:
        text = "\n".join(line.partition("#")[0] for line in text.splitlines())
    try:
        return list(arg_split(text, posix=True))
    except ValueError as error:  # shlex: "No closing quotation"
        raise UsageError(f"cannot split {text.strip()!r}: {error}") from None


@magics_class
class WasinnMagics(Magics):
    """Run wasi-nn guests and convert images from IPython; configure with ``%config``."""

    backend = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Backend for every model (see %wasinn backends); None: per encoding.",
    )
    target = Unicode("cpu", config=True, help="Default target of %wasinn preload.")
    timeout = Float(None, allow_none=True, config=True, help="Seconds before a guest is stopped.")
    mirror = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Folder %wasinn fetch copies models and images from (else download).",
    )
    threads = Int(None, allow_none=True, config=True, help="Inference threads (every backend).")
    precision = Unicode(
        None,
        allow_none=True,
        config=True,
        help="OpenVINO precision: f32 (default), bf16, f16, auto.",
    )
    performance_hint = Unicode(
        None, allow_none=True, config=True, help="OpenVINO performance hint: latency, throughput."
    )
    providers = Unicode(
        None, allow_none=True, config=True, help="ONNX Runtime providers, comma-separated."
    )
    scheduler = Unicode(
        None,
        allow_none=True,
        config=True,
        help="Dask scheduler address %wasinn batch runs on (e.g. tcp://host:8786); None: locally.",
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

    @validate("timeout")
    def _check_timeout(self, proposal: Any) -> Any:
        value = proposal["value"]
        if value is not None and not (math.isfinite(value) and value > 0):
            raise TraitError(f"timeout must be a positive number of seconds, got {value!r}")
        return value

    @validate("threads", "precision", "performance_hint", "providers")
    def _check_backend_option(self, proposal: Any) -> Any:
        name, value = proposal["trait"].name, proposal["value"]
        if value is not None:
            try:
                parsed = parse_names(value) if name == "providers" else value
                BackendOptions().replace({name: parsed})
            except SpecError as error:
                raise TraitError(str(error)) from None
        return value

    @validate("show")
    def _check_show(self, proposal: Any) -> Any:
        if proposal["value"] not in SHOW_MODES:
            raise TraitError(_did_you_mean(proposal["value"], SHOW_MODES, "show mode"))
        return proposal["value"]

    @line_cell_magic
    def wasinn(self, line: str, cell: str | None = None) -> Any:  # noqa: D102 - generated below
        words = _split(line)
        try:
            if cell is None:
                return self._command(words)
            if words and words[0] == "build":
                return self._build_cell(words[1:], cell)
            if words and words[0] in COMMANDS:
                return self._command(words + _split(cell, comments=True))
            return self._wat_cell(words, cell)
        except (UsageError, KeyboardInterrupt):
            raise
        except Exception as error:
            if self.traceback or "--traceback" in words:
                raise
            raise UsageError(describe(error).message) from None

    # ---- plumbing ----------------------------------------------------------------------------

    def _command(self, words: list[str]) -> Any:
        if not words or words[0] not in COMMANDS:
            unknown = _did_you_mean(words[0] if words else "", tuple(COMMANDS), "command")
            raise UsageError(f"{unknown} (see %wasinn?)")
        name = words[0]
        args = self._parse(COMMANDS[name].parser(f"%wasinn {name}", (_OUT,)), words[1:])
        if args is None:
            return None
        outcome = COMMANDS[name].function(args, Session(sys.stdout, sys.stderr, interactive=True))
        return self._finish(name, outcome, args.result_name)

    def _wat_cell(self, words: list[str], cell: str) -> Any:
        options = (*GUEST_OPTIONS, _OUT, TRACEBACK)
        args = self._parse(OptionParser.build("%%wasinn", options, intermixed=True), words)
        if args is None:
            return None
        args.module = cell
        outcome = COMMANDS["run"].function(args, Session(sys.stdout, sys.stderr, interactive=True))
        return self._finish("run", outcome, args.result_name)

    def _build_cell(self, words: list[str], cell: str) -> Any:
        options = (*BUILD_CELL_OPTIONS, _OUT, TRACEBACK)
        about = ("Build the cell, a Rust main.rs (use nn::...) or a C file (#include <wasi_nn.h>), "
                 "for wasm32-wasi; -o NAME keeps the module in NAME.")  # fmt: skip
        parser = OptionParser.build("%%wasinn build", options, about, intermixed=True)
        args = self._parse(parser, words)
        if args is None:
            return None
        args.cell = cell
        outcome = COMMANDS["build"].function(
            args, Session(sys.stdout, sys.stderr, interactive=True)
        )
        return self._finish("build", outcome, args.result_name)

    def _parse(self, parser: OptionParser, words: list[str]) -> Any:
        """Parsed options with the ``%config`` defaults filled in; None after ``--help``."""
        try:
            args = parser.parse(words)
        except HelpRequested as shown:
            print(shown.text, end="")
            return None
        except OptionError as error:
            raise UsageError(str(error)) from None
        providers = parse_names(self.providers) if self.providers else None
        defaults = {"backend": self.backend, "timeout": self.timeout, "mirror": self.mirror,
                    "target": self.target, "threads": self.threads, "precision": self.precision,
                    "performance_hint": self.performance_hint, "providers": providers,
                    "scheduler": self.scheduler}  # fmt: skip
        for key, value in defaults.items():
            if getattr(args, key, ...) is None:
                setattr(args, key, value)
        return args

    def _finish(self, name: str, outcome: Outcome[Any], out: str | None) -> Any:
        namespace = self.shell.user_ns if self.shell is not None else {}
        value: Any = outcome.value
        shown = value
        if isinstance(value, Built):  # NAME gets the module; _wasinn the run, if there was one
            value, shown = value.module, value.run if value.run is not None else value.module
        namespace["_wasinn"] = shown
        if out:
            namespace[out] = value
        if outcome.report:
            print(outcome.report)
        if outcome.warnings and self.show != "none":
            self._show_warnings(outcome.warnings, outcome.value)
        if outcome.problem:
            raise UsageError(outcome.problem)
        if isinstance(shown, RunResult):
            self._show(shown)
            return None
        return value if name in _RETURNS_VALUE and not out else None

    @staticmethod
    def _show_warnings(lines: tuple[str, ...], value: Any) -> None:
        """A compiler's warnings folded away under their count (a short list as plain text)."""
        import html

        details = [w.details() for w in value.module.warnings] if isinstance(value, Built) else []
        count = f"{len(lines)} warning{'s' * (len(lines) != 1)}"
        body = html.escape("\n\n".join(details or lines))
        folded = f"<details><summary>{count}</summary><pre>{body}</pre></details>"
        plain = "\n".join([f"{count}:", *(f"  {line}" for line in lines)])
        display({"text/html": folded, "text/plain": plain}, raw=True)  # type: ignore[no-untyped-call]

    def _show(self, result: RunResult) -> None:
        """One display of a run: its summary, and a view of each output it recognises.

        ``widget`` (default) is the RunResult's own rich display (SegmentationView / TopKView
        for score maps, class maps and classifier vectors; a PNG where widgets do not run);
        ``png`` the same without the live widget; ``text`` one line; ``none`` nothing.
        """
        if self.show == "none":
            return
        if self.show == "text" or not result.outputs:
            print(f"{result!r} -> _wasinn")
            return
        if self.show == "widget":
            display(result)  # type: ignore[no-untyped-call]
            return
        bundle = result._repr_mimebundle_() or {}
        static = {k: v for k, v in bundle.items() if not k.startswith("application/vnd.jupyter")}
        display(static, raw=True)  # type: ignore[no-untyped-call]


def _magic_help() -> str:
    """``%wasinn?``: every command's usage, made from the same parsers that parse the line."""
    lines = [
        "Run wasi-nn guests and tools: %wasinn COMMAND [options]; %wasinn COMMAND --help for more.",
        "",
        "Line magic commands:",
    ]
    for name, command in COMMANDS.items():
        usage = command.parser(f"%wasinn {name}", (_OUT,)).format_usage()
        lines += [f"  {name}: {command.summary}", "    " + usage.removeprefix("usage: ").strip()]
    lines += [
        "",
        "Cell magic: %%wasinn [run options] [-o NAME] [-- ARGS] with a guest in WebAssembly",
        "text (WAT) as the cell; or %%wasinn COMMAND with the rest of the command line in the",
        "cell. {name} expands Python variables, as in any magic. The result of a run lands in",
        "_wasinn (and NAME with -o).",
        "",
        "%%wasinn build [--lang rust|c] [-o NAME] [--release] [--run [run options] [-- ARGS]]:",
        "the cell is the guest's source, a Rust main.rs (use nn::...) or a C file",
        "(#include <wasi_nn.h>), built for wasm32-wasi with Debian's toolchains and cached. The",
        "module lands in NAME (a path %wasinn run takes); errors name the cell's line, counting",
        "the %%wasinn line as line 1.",
    ]
    return "\n".join(lines)


WasinnMagics.wasinn.__doc__ = _magic_help()


def _matcher() -> Any:
    """An IPython completion matcher (API v2) for ``%wasinn`` and ``%%wasinn`` lines.

    It answers from :func:`wasinn_nb.commands.completion.complete` — subcommands, flags and
    fixed values, all read off the parsers — and hides IPython's other guesses there (Python
    names, other magics); where a value is free (a path) it stays out of the way.
    """
    from IPython.core.completer import SimpleCompletion, context_matcher

    from wasinn_nb.commands.completion import complete

    @context_matcher()  # type: ignore[untyped-decorator]
    def wasinn_matcher(context: Any) -> dict[str, Any]:
        line = context.text_until_cursor.lstrip()
        magic, _, rest = line.partition(" ")
        answer = None
        if magic in ("%wasinn", "%%wasinn") and _:
            answer = complete(rest, (_OUT,), cell=magic == "%%wasinn")
        if answer is None:
            return {"completions": [], "suppress": False}
        fragment, candidates = answer
        return {
            "completions": [SimpleCompletion(text, type="param") for text in candidates],
            "matched_fragment": fragment,
            "suppress": True,
            "ordered": True,
        }

    return wasinn_matcher


def load_ipython_extension(ipython: Any) -> None:
    """Register :class:`WasinnMagics` and the completion of its lines with ``ipython``."""
    ipython.register_magics(WasinnMagics)
    completer = getattr(ipython, "Completer", None)
    if completer is not None and not any(
        getattr(m, "__qualname__", "").startswith("_matcher.") for m in completer.custom_matchers
    ):
        completer.custom_matchers.insert(0, _matcher())
