"""What every command takes and gives back, whichever front end called it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TextIO, TypeVar

from wasinn_nb.commands.options import TRACEBACK, Option, OptionParser

__all__ = ["Command", "Outcome", "Session"]

T = TypeVar("T")


@dataclass(frozen=True)
class Session:
    """Where a command writes as it works, and who is asking.

    Attributes:
        out: Progress and guest stdout, as it happens.
        err: Warnings, progress bars and guest stderr.
        interactive: True in a notebook: keep what a display needs (e.g. every tensor a guest
            read), which a command line that only prints can skip.
    """

    out: TextIO
    err: TextIO
    interactive: bool = False


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What a command produced.

    Attributes:
        value: The result itself: what ``%wasinn`` returns and stores.
        report: Text both front ends show (the CLI prints it, the magic prints it too).
        status: The exit status of the CLI (0 for success).
        problem: Why ``status`` is not 0, in one line (the magic raises it as ``UsageError``;
            the CLI has already streamed the details).
        warnings: Warnings to show collapsed, one line each (e.g. a compiler's): the CLI
            lists them on stderr, the magic folds them away under a count.
    """

    value: T
    report: str = ""
    status: int = 0
    problem: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    """One subcommand: its summary, its options and the function that does the work."""

    name: str
    summary: str
    options: tuple[Option, ...]
    function: Callable[[argparse.Namespace, Session], Outcome[Any]]
    intermixed: bool = True

    def parser(self, prog: str, extra: tuple[Option, ...] = ()) -> OptionParser:
        """A parser for this command's options (plus ``extra``), named ``prog`` in messages."""
        description = self.summary[0].upper() + self.summary[1:] + "."
        options = (*self.options, *extra, TRACEBACK)
        return OptionParser.build(prog, options, description, intermixed=self.intermixed)
