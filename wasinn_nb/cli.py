"""Command-line front ends: ``wasinn`` (subcommands) and ``im2tensor`` (WasmEdge-compatible).

Both are thin edges: parse the options of a :mod:`wasinn_nb.commands` command, call it, print
its report, and turn every error into one line on stderr and a non-zero exit status
(``--traceback`` shows the whole traceback instead).
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Sequence
from typing import TextIO

from wasinn_nb.commands import CLI_COMMANDS, COMMANDS, Session
from wasinn_nb.commands.options import TRACEBACK, HelpRequested, OptionParser, add_options
from wasinn_nb.errors import OptionError, describe

__all__ = ["ExitStatus", "im2tensor_main", "main"]


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
    return outcome.status
