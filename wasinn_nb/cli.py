"""Command-line front ends: ``wasinn`` (subcommands) and ``im2tensor`` (WasmEdge-compatible).

Both are thin shells: they parse options defined in :mod:`wasinn_nb._options`, call the library,
and turn every :class:`~wasinn_nb.errors.WasinnError` into one line on stderr and a non-zero
exit status (``--traceback`` shows the full error instead).
"""

from __future__ import annotations

import argparse
import enum
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from wasinn_nb import _commands, _run_command
from wasinn_nb._options import (
    CONVERT_OPTIONS,
    DEMO_OPTIONS,
    FETCH_OPTIONS,
    INSPECT_OPTIONS,
    RUN_OPTIONS,
    TO_PNG_OPTIONS,
    Option,
    OptionError,
    OptionParser,
    add_options,
)
from wasinn_nb.errors import WasinnError

__all__ = ["ExitStatus", "im2tensor_main", "main"]

Command = Callable[[argparse.Namespace, TextIO, TextIO], int]


class ExitStatus(enum.IntEnum):
    """Exit statuses of the command-line tools."""

    OK = 0
    ERROR = 1
    USAGE = 2
    INTERRUPTED = 130


_TRACEBACK = Option(("--traceback",), {"action": "store_true", "help": argparse.SUPPRESS})

_SUBCOMMANDS: dict[str, tuple[str, tuple[Option, ...], Command]] = {
    "run": ("run a wasi-nn WebAssembly guest (exit status is the guest's)", RUN_OPTIONS,
            _run_command.run_guest),
    "im2tensor": ("convert images to tensor files", CONVERT_OPTIONS, _commands.convert),
    "inspect": ("print shape, dtype and per-channel stats of a tensor file", INSPECT_OPTIONS,
                _commands.inspect),
    "to-png": ("turn a tensor file back into an image", TO_PNG_OPTIONS, _commands.to_png),
    "fetch": ("fetch models and images (verified by sha256)", FETCH_OPTIONS, _commands.fetch),
    "demo": ("segment a road photo with the road-seg guest, write an overlay PNG", DEMO_OPTIONS,
             _commands.demo),
}  # fmt: skip


def _subcommand_parser(prog: str, name: str) -> OptionParser:
    summary, options, command = _SUBCOMMANDS[name]
    description = summary[0].upper() + summary[1:] + "."
    parser = OptionParser.build(prog, (*options, _TRACEBACK), description, intermixed=name == "run")
    parser.set_defaults(command=command)
    return parser


def _wasinn_parser() -> OptionParser:
    parser = OptionParser(
        prog="wasinn", description="Run wasi-nn WebAssembly inference guests; convert tensors."
    )
    add_options(parser, (_TRACEBACK,))
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for name, (summary, options, command) in _SUBCOMMANDS.items():
        sub = commands.add_parser(
            name, help=summary, description=summary[0].upper() + summary[1:] + "."
        )
        add_options(sub, (*options, _TRACEBACK))
        sub.set_defaults(command=command)
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
    if args and args[0] in _SUBCOMMANDS:
        parser = _subcommand_parser(f"wasinn {args[0]}", args[0])
        return _run("wasinn", parser, args[1:], stdout, stderr)
    return _run("wasinn", _wasinn_parser(), args, stdout, stderr)


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
    name = args[0] if args and args[0] in ("inspect", "to-png") else "im2tensor"
    if name != "im2tensor":
        args = args[1:]
    prog = "im2tensor" if name == "im2tensor" else f"im2tensor {name}"
    return _run("im2tensor", _subcommand_parser(prog, name), args, stdout, stderr)


def _run(
    prog: str,
    parser: OptionParser,
    argv: Sequence[str] | None,
    stdout: TextIO | None,
    stderr: TextIO | None,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = parser.parse(sys.argv[1:] if argv is None else list(argv))
    except OptionError as usage:
        print(f"{prog}: error: {usage}", file=err)
        return int(ExitStatus.USAGE)
    except SystemExit as exit_:  # --help and --version
        return int(exit_.code or 0)
    try:
        return int(args.command(args, out, err))
    except WasinnError as error:
        if args.traceback:
            raise
        print(f"{prog}: error: {error}", file=err)
        return int(ExitStatus.ERROR)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=err)
        return int(ExitStatus.INTERRUPTED)
