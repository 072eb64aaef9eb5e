"""``build``: compile a guest's Rust or C source for wasm32-wasi, and optionally run it.

``wasinn build guest.rs --run -- ARGS`` and ``%%wasinn build --run -- ARGS`` (the cell is the
source) build with Debian's toolchains against wasinn-nb's wasi-nn bindings, take unchanged
sources from the build cache, and run the module as ``run`` would.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from wasinn_nb.build import Build, build_guest, guess_lang
from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.commands.run import exit_problem, run_guest
from wasinn_nb.errors import OptionError
from wasinn_nb.files import atomic_write, read_file
from wasinn_nb.results import RunResult

__all__ = ["MAX_SOURCE_BYTES", "Built", "build"]

MAX_SOURCE_BYTES = 16 << 20


@dataclass(frozen=True)
class Built:
    """What ``build`` made: the module, and its run with ``--run``.

    Attributes:
        module: The built module (a path any run accepts).
        run: The run's result, if ``--run`` was given.
    """

    module: Build
    run: RunResult | None = None


def _source(args: argparse.Namespace) -> tuple[str, str, int, str, Path | None]:
    """The source text, what messages call it, its line offset, module name and folder."""
    cell = getattr(args, "cell", None)
    if cell is not None:
        return cell, "cell", 1, getattr(args, "result_name", None) or "cell", None
    path = Path(args.source)
    data = read_file(path, limit=MAX_SOURCE_BYTES, what="source")
    return data.decode("utf-8", errors="replace"), str(args.source), 0, path.stem, path.parent


def _check_run_options(args: argparse.Namespace) -> None:
    given = [
        flag
        for flag, value in (
            ("ARGS", args.args),
            ("--dir", args.dirs),
            ("--nn-preload", args.preload),
            ("-S", args.wasi_options),
            ("--env", args.env),
        )
        if value
    ]
    if given and not args.run:
        raise OptionError(f"{', '.join(given)} without --run: add --run to run the guest")


def build(args: argparse.Namespace, session: Session) -> Outcome[Built]:
    """Build the guest (or take it from the cache); with ``--run``, run it."""
    _check_run_options(args)
    source, label, offset, name, folder = _source(args)
    lang = args.lang or guess_lang(source, None if label == "cell" else label)
    module = build_guest(
        source,
        lang=lang,
        release=args.release,
        name=name,
        label=label,
        offset=offset,
        source_dir=folder,
    )
    where = module.path
    if args.wasm:
        with atomic_write(args.wasm) as handle:
            handle.write(module.wasm)
        where = Path(args.wasm)
    count = len(module.warnings)
    notes = f", {count} warning{'s' * (count != 1)}" if count else ""
    report = (
        f"built {module.path.name}: {module.lang} {module.profile}, {module.size:,} bytes"
        f"{notes} -> {where}"
    )
    warnings = tuple(w.one_line() for w in module.warnings)
    if not args.run:
        return Outcome(Built(module), report=report, warnings=warnings)
    result = run_guest(str(module.path), args, session, record=session.interactive)
    problem = exit_problem(result, module.path.name)
    return Outcome(Built(module, result), report, result.exit_code or 0, problem, warnings)
