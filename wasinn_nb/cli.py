"""Command-line front ends: ``wasinn`` (subcommands) and ``im2tensor`` (WasmEdge-compatible).

Both are thin edges: parse the options of a :mod:`wasinn_nb.commands` command, call it, print
its report, and turn every error into one line on stderr and a non-zero exit status
(``--traceback`` shows the whole traceback instead).
"""

from __future__ import annotations

import atexit
import enum
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

from wasinn_nb.commands import CLI_COMMANDS, COMMANDS, Session
from wasinn_nb.commands.options import TRACEBACK, HelpRequested, OptionParser, add_options
from wasinn_nb.errors import OptionError, describe

__all__ = ["ExitStatus", "im2tensor_console", "im2tensor_main", "main", "wasinn_console"]


class ExitStatus(enum.IntEnum):
    """Exit statuses of the command-line tools."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130


def _overview() -> OptionParser:
    """``wasinn --help``: the list of commands."""
    parser = OptionParser(
        prog="wasinn", description="Run wasi-nn WebAssembly inference guests; convert tensors."
    )
    add_options(parser, (TRACEBACK,))
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name in CLI_COMMANDS:
        commands.add_parser(name, help=COMMANDS[name].summary)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``wasinn COMMAND …`` and return its exit status.

    Example:
        >>> import io
        >>> main(["inspect"], stderr=io.StringIO())
        2
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in CLI_COMMANDS:
        return _call("wasinn", f"wasinn {args[0]}", args[0], args[1:], stdout, stderr)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        _overview().parse_args(args)
    except HelpRequested as shown:
        print(shown.text, end="", file=out)
        return int(ExitStatus.OK)
    except OptionError as usage:
        print(f"wasinn: error: {usage}", file=err)
    return int(ExitStatus.USAGE)


def im2tensor_main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run ``im2tensor --image IMG --dims HxWxCxTYPE --tensor OUT``, or ``inspect`` / ``to-png``.

    Example:
        >>> import io
        >>> err = io.StringIO()
        >>> im2tensor_main(["--image", "x.jpg", "--dims", "512x896"], stderr=err)
        2
        >>> print(err.getvalue().strip())  # doctest: +ELLIPSIS
        im2tensor: error: argument --dims: bad dims '512x896': expected HEIGHTxWIDTHx... --help)
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("inspect", "to-png"):
        return _call("im2tensor", f"im2tensor {args[0]}", args[0], args[1:], stdout, stderr)
    return _call("im2tensor", "im2tensor", "im2tensor", args, stdout, stderr)


def _call(
    tool: str,
    prog: str,
    name: str,
    argv: list[str],
    stdout: TextIO | None,
    stderr: TextIO | None,
) -> int:
    """Parse ``argv`` for command ``name``, run it, print its report; errors as one line."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = COMMANDS[name].parser(prog).parse(argv)
    except HelpRequested as shown:
        print(shown.text, end="", file=out)
        return int(ExitStatus.OK)
    except OptionError as usage:
        print(f"{tool}: error: {usage}", file=err)
        return int(ExitStatus.USAGE)
    try:
        outcome = COMMANDS[name].function(args, Session(out, err))
    except KeyboardInterrupt:
        print(f"{tool}: interrupted", file=err)
        return int(ExitStatus.INTERRUPTED)
    except Exception as error:
        if args.traceback:
            raise
        print(f"{tool}: error: {describe(error).message}", file=err)
        return int(ExitStatus.ERROR)
    if outcome.report:
        print(outcome.report, file=out)
    for warning in outcome.warnings:
        print(f"{tool}: {warning}", file=err)
    return outcome.status


def wasinn_console() -> NoReturn:
    """The ``wasinn`` console script: :func:`main`, then exit without interpreter teardown."""
    _exit(_piped(main))


def im2tensor_console() -> NoReturn:
    """The ``im2tensor`` console script: :func:`im2tensor_main`, then exit the same way."""
    _exit(_piped(im2tensor_main))


def _piped(entry: Callable[[], int]) -> int:
    """Run ``entry``; a reader that closed our stdout early (``| head``) ends it quietly."""
    try:
        return entry()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitStatus.ERROR)


def _exit(status: int) -> NoReturn:
    """Flush, run the atexit handlers (they stop runs and free wasmtime), then ``os._exit``.

    Interpreter teardown can abort the process: wasmtime's runtime threads are still alive, and
    one that reaches for the GIL while Python finalizes panics in Rust ("panic in a function
    that cannot unwind"). A command line has nothing left to tear down, so it skips that step.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
    atexit._run_exitfuncs()
    os._exit(status)
