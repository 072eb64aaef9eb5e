"""Tab completion of a command line, read off the same parsers that parse it.

:func:`complete` answers for ``%wasinn`` (the magics register it with IPython's completer): the
subcommands, each command's flags, and the values of a flag or positional that has a fixed set
(argparse ``choices``, or an :class:`~wasinn_nb.commands.options.Option`'s ``values``: dtypes,
layouts, colour orders, backends, encodings, targets…). Nothing here keeps a list of its own,
so a new option or value completes as soon as a parser knows it.

Example:
    >>> complete("r")
    ('r', ['run'])
    >>> complete("run guest.wasm --backend onnx")
    ('onnx', ['onnxruntime'])
    >>> complete("im2tensor --image a.jpg --dims 4x4x3xf32 --col")
    ('--col', ['--color'])
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from wasinn_nb.commands import COMMANDS
from wasinn_nb.commands.options import GUEST_OPTIONS, Option, OptionParser

__all__ = ["complete", "values_of"]


def values_of(action: argparse.Action) -> tuple[str, ...]:
    """The fixed values ``action`` takes (argparse ``choices`` or its Option's ``values``)."""
    if action.choices is not None:
        return tuple(str(choice) for choice in action.choices)
    return tuple(getattr(action, "completions", ()))


def _parser(command: str | None, extra: tuple[Option, ...]) -> OptionParser:
    if command is None:  # %%wasinn OPTIONS, a guest in the cell
        return OptionParser.build("%%wasinn", (*GUEST_OPTIONS, *extra), intermixed=True)
    return COMMANDS[command].parser(f"%wasinn {command}", extra)


def _matching(candidates: Sequence[str], fragment: str) -> list[str]:
    low = fragment.lower()
    return list(dict.fromkeys(c for c in candidates if c.lower().startswith(low)))


def complete(
    line: str, extra: tuple[Option, ...] = (), *, cell: bool = False
) -> tuple[str, list[str]] | None:
    """What may come at the end of ``line``, a command line up to the cursor.

    Args:
        line: The words after ``%wasinn`` (or ``%%wasinn``), up to the cursor.
        extra: Options the front end adds to every command (the magics' ``-o NAME``).
        cell: The first line of ``%%wasinn``, where run options may stand without a command.

    Returns:
        ``(fragment, candidates)``: the end of ``line`` the candidates replace, and the
        candidates; or None where the value is free (a path, a number), to leave it to
        other completers (file names).
    """
    words = line.split()
    fragment = "" if not words or line[-1:].isspace() else words.pop()
    if not words and not fragment.startswith("-"):
        return fragment, _matching(list(COMMANDS), fragment)
    command = words[0] if words and words[0] in COMMANDS else None
    if command is None and not cell:
        return None
    parser = _parser(command, extra)
    flags = {flag: action for action in parser._actions for flag in action.option_strings}
    if fragment.startswith("-") and "=" not in fragment:
        return fragment, _matching(list(flags), fragment)
    if fragment.startswith("-"):  # --flag=VALUE
        flag, _, fragment = fragment.partition("=")
        action = flags.get(flag)
    elif words and words[-1] in flags and flags[words[-1]].nargs != 0:
        action = flags[words[-1]]
    else:
        action = _positional(parser, words[1:] if command else words, flags)
    if action is None:
        return None
    if action.dest == "preload":  # NAME:ENCODING:TARGET:PATH, one part at a time
        return _preload_part(fragment)
    values = values_of(action)
    return (fragment, _matching(values, fragment)) if values else None


def _positional(
    parser: OptionParser, words: list[str], flags: dict[str, argparse.Action]
) -> argparse.Action | None:
    """The positional argument the next word fills, after ``words`` (flags and their values)."""
    count, skip = 0, False
    for word in words:
        if skip:
            skip = False
        elif word in flags:
            skip = flags[word].nargs != 0
        elif not word.startswith("-"):
            count += 1
    positionals = [a for a in parser._actions if not a.option_strings]
    for action in positionals:
        if action.nargs in ("*", "+", "..."):
            return action
        if count == 0:
            return action
        count -= 1
    return None


def _preload_part(value: str) -> tuple[str, list[str]] | None:
    from wasinn_nb.enums import ExecutionTarget, GraphEncoding

    parts = value.split(":")
    choices = {
        2: [e.name.lower() for e in GraphEncoding],
        3: [t.name.lower() for t in ExecutionTarget],
    }
    if len(parts) not in choices:
        return None
    return parts[-1], _matching(choices[len(parts)], parts[-1])
