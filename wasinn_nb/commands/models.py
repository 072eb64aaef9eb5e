"""``backends``, ``preload`` and ``models``: what can run models, and the models known by name."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.errors import OptionError
from wasinn_nb.runtime import Preload, default_runner

__all__ = ["BackendStatus", "backends", "models", "preload"]


@dataclass(frozen=True)
class BackendStatus:
    """One backend: whether it is installed, its version and devices, what it reads."""

    name: str
    installed: bool
    version: str = ""
    devices: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ()
    default_for: tuple[str, ...] = ()
    install: str = ""

    def format(self) -> str:
        """One line for the table ``wasinn backends`` prints."""
        if not self.installed:
            return f"{self.name:<12} not installed ({self.install})"
        default = f"; default for {', '.join(self.default_for)}" if self.default_for else ""
        return (
            f"{self.name:<12} {self.version:<24} devices: {', '.join(self.devices)}; "
            f"reads {', '.join(self.encodings)}{default}"
        )


def backends(args: argparse.Namespace, session: Session) -> Outcome[list[BackendStatus]]:
    """Every backend wasinn-nb knows: version, devices, encodings, defaults, or how to install."""
    from wasinn_nb.backends import available_backends, backend_info, default_backends, get_backend

    installed, defaults = available_backends(), default_backends()
    statuses = []
    for info in backend_info():
        if info.name not in installed:
            hint = f"pip install 'wasinn-nb[{info.extra}]'"
            statuses.append(BackendStatus(info.name, installed=False, install=hint))
            continue
        backend = get_backend(info.name)
        statuses.append(
            BackendStatus(
                info.name, installed=True, version=backend.version, devices=backend.devices,
                encodings=tuple(sorted(e.name.lower() for e in backend.encodings)),
                default_for=tuple(e.name.lower() for e, n in defaults.items() if n == info.name),
            )
        )  # fmt: skip
    return Outcome(statuses, "\n".join(s.format() for s in statuses))


def preload(args: argparse.Namespace, session: Session) -> Outcome[Preload]:
    """``preload NAME ENCODING [TARGET] PATH…``: make a model loadable by name in later runs."""
    rest = list(args.paths)
    target = args.target
    if rest and rest[0].lower() in {t.name.lower() for t in ExecutionTarget}:
        target = rest.pop(0)
    if not rest:
        raise OptionError("preload needs a model file: NAME ENCODING [TARGET] PATH [PATH…]")
    entry = Preload(
        args.name, GraphEncoding.parse(args.encoding), ExecutionTarget.parse(target or "cpu"),
        tuple(Path(p) for p in rest),
    )  # fmt: skip
    default_runner().graphs.add(entry)
    where = ", ".join(rest)
    report = f"preloaded {entry.name!r}: {entry.encoding.name.lower()} on "
    return Outcome(entry, report + f"{entry.target.name.lower()} from {where}")


def models(args: argparse.Namespace, session: Session) -> Outcome[dict[str, Preload]]:
    """``models``: the models preloaded by name."""
    preloads = default_runner().graphs.preloads
    if not preloads:
        return Outcome({}, "no models preloaded (use %wasinn preload NAME ENCODING TARGET PATH…)")
    lines = [
        f"{name:<16} {p.encoding.name.lower():<15} {p.target.name.lower():<5} "
        + ", ".join(str(x) for x in p.paths)
        for name, p in sorted(preloads.items())
    ]
    return Outcome(preloads, "\n".join(lines))
