"""Compiler messages as short lines that point at the cell: rustc's JSON, clang's text.

A :class:`SourceMap` turns a line of the compiled file into the line the user sees: a cell's
body is written to the file as it is, so line ``n`` of the file is line ``n + 1`` of the cell
(its first line is the ``%%wasinn build`` line, as Jupyter numbers them); a source file is
itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Diagnostic", "SourceMap", "clang_diagnostics", "rustc_diagnostics", "summary"]


@dataclass(frozen=True)
class SourceMap:
    """Where the compiled file's lines came from.

    Attributes:
        compiled: The path of the file the compiler saw (as it names it in messages).
        label: ``"cell"`` for a cell, else the source file's name as the user gave it.
        offset: What to add to the file's line numbers (1 for a cell: its magic line).
        lines: The source's lines, to quote the one a message is about.
    """

    compiled: str
    label: str
    offset: int = 0
    lines: tuple[str, ...] = ()

    @property
    def is_cell(self) -> bool:
        """Whether the source is a notebook cell."""
        return self.label == "cell"

    def where(self, file: str, line: int, column: int) -> str:
        """``cell line 4, column 9`` or ``guest.rs:3:9`` (or the foreign file's own place).

        Example:
            >>> SourceMap("/b/src/main.rs", "cell", 1).where("src/main.rs", 3, 9)
            'cell line 4, column 9'
            >>> SourceMap("/b/guest.c", "guest.c").where("/b/guest.c", 3, 9)
            'guest.c:3:9'
        """
        if self.owns(file):
            if self.is_cell:
                return f"cell line {line + self.offset}, column {column}"
            return f"{self.label}:{line + self.offset}:{column}"
        return f"{file}:{line}:{column}"

    def owns(self, file: str) -> bool:
        """Whether ``file`` (as a compiler names it) is the compiled source."""
        return file == self.compiled or self.compiled.endswith("/" + file.lstrip("./"))

    def quote(self, file: str, line: int) -> str | None:
        """The source line a message is about, if it is ours."""
        if self.owns(file) and 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return None


@dataclass(frozen=True)
class Diagnostic:
    """One compiler message.

    Attributes:
        level: ``"error"`` or ``"warning"``.
        message: The message with its level, e.g. ``"error[E0308]: mismatched types"``.
        where: ``cell line 4, column 9``, ``guest.rs:3:9``, or ``""`` (e.g. the linker).
        label: What the compiler says at that place, e.g. ``"expected `u32`, found `&str`"``.
        line: The line as the user numbers it (0 if none).
        column: The column (0 if none).
        source: The quoted source line, if the message is about the user's source.
    """

    level: str
    message: str
    where: str = ""
    label: str = ""
    line: int = 0
    column: int = 0
    source: str | None = None

    def one_line(self) -> str:
        """``cell line 4, column 9: error[E0308]: mismatched types: expected `u32`, …``."""
        text = self.message
        if self.label and self.label not in text:
            text += f": {self.label}"
        return f"{self.where}: {text}" if self.where else text

    def details(self) -> str:
        """The one line, then the quoted source line with a caret under the column."""
        text = self.one_line()
        if self.source is not None:
            caret = " " * max(self.column - 1, 0) + "^"
            text += f"\n    {self.source.rstrip()}\n    {caret}"
        return text


def _rust_level(level: str) -> str:
    return "error" if level.startswith("error") else level


def _rust_span(spans: list[dict[str, Any]], source: SourceMap) -> dict[str, Any] | None:
    """The primary span, followed out of macro expansions into the user's file if it can be."""
    primary = next((s for s in spans if s.get("is_primary")), spans[0] if spans else None)
    span = primary
    while span is not None and not source.owns(str(span.get("file_name", ""))):
        expansion = span.get("expansion") or {}
        span = expansion.get("span")
    return span or primary


def rustc_diagnostics(stdout: str, source: SourceMap) -> list[Diagnostic]:
    """The errors and warnings in ``cargo build --message-format=json`` output.

    Example:
        >>> line = json.dumps({"reason": "compiler-message", "message": {
        ...     "level": "error", "message": "mismatched types", "code": {"code": "E0308"},
        ...     "spans": [{"file_name": "src/main.rs", "line_start": 2, "column_start": 18,
        ...                "is_primary": True, "label": "expected `u32`, found `&str`"}]}})
        >>> [d.one_line() for d in rustc_diagnostics(line, SourceMap("/p/src/main.rs", "cell", 1))]
        ['cell line 3, column 18: error[E0308]: mismatched types: expected `u32`, found `&str`']
    """
    found = []
    for text in stdout.splitlines():
        try:
            record = json.loads(text)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("reason") != "compiler-message":
            continue
        message = record.get("message") or {}
        level, words = _rust_level(str(message.get("level", ""))), str(message.get("message", ""))
        spans = list(message.get("spans") or [])
        if level not in ("error", "warning") or (not spans and _is_summary(words)):
            continue
        code = (message.get("code") or {}).get("code")
        headline = f"{level}[{code}]: {words}" if code else f"{level}: {words}"
        span = _rust_span(spans, source)
        found.append(_located(level, headline, span, source))
    return found


def _is_summary(words: str) -> bool:
    return words.startswith(("aborting due to", "For more information")) or bool(
        re.match(r"\d+ warnings? emitted|`\w[\w-]*` \(bin", words)
    )


def _located(
    level: str, headline: str, span: dict[str, Any] | None, source: SourceMap
) -> Diagnostic:
    if span is None:
        return Diagnostic(level, headline)
    file, line, column = str(span["file_name"]), int(span["line_start"]), int(span["column_start"])
    shown = line + source.offset if source.owns(file) else line
    return Diagnostic(
        level,
        headline,
        source.where(file, line, column),
        str(span.get("label") or ""),
        shown,
        column,
        source.quote(file, line),
    )


_CLANG = re.compile(
    r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<level>fatal error|error|warning): (?P<msg>.*)$"
)
_LINKER = re.compile(r"^(?:\S*/)?(?:wasm-ld|ld)(?:-\d+)?: (?P<level>error|warning): (?P<msg>.*)$")


def clang_diagnostics(stderr: str, source: SourceMap) -> list[Diagnostic]:
    r"""The errors and warnings in clang's (and wasm-ld's) plain-text diagnostics.

    Example:
        >>> text = "/b/cell.c:3:5: error: use of undeclared identifier 'x'\n1 error generated."
        >>> [d.one_line() for d in clang_diagnostics(text, SourceMap("/b/cell.c", "cell", 1))]
        ["cell line 4, column 5: error: use of undeclared identifier 'x'"]
    """
    found = []
    for text in stderr.splitlines():
        match = _CLANG.match(text)
        if match:
            level = "error" if "error" in match["level"] else "warning"
            span = {
                "file_name": match["file"],
                "line_start": match["line"],
                "column_start": match["col"],
            }
            found.append(_located(level, f"{level}: {match['msg']}", span, source))
            continue
        match = _LINKER.match(text)
        if match:
            found.append(Diagnostic(match["level"], f"wasm-ld: {match['level']}: {match['msg']}"))
    return found


def summary(errors: Iterable[Diagnostic], warnings: int) -> str:
    """The first error as one line, with how many more errors and warnings there are.

    Example:
        >>> summary([Diagnostic("error", "error: boom", "cell line 2, column 1")] * 3, 1)
        'cell line 2, column 1: error: boom (and 2 more errors, 1 warning)'
    """
    errors = list(errors)
    if not errors:
        return "the build failed"
    more = [f"{len(errors) - 1} more error{'s' * (len(errors) > 2)}"] if len(errors) > 1 else []
    if warnings:
        more.append(f"{warnings} warning{'s' * (warnings > 1)}")
    tail = f" (and {', '.join(more)})" if more else ""
    return errors[0].one_line() + tail
