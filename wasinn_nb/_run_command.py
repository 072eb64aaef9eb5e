"""``wasinn run``: run a guest like ``wasmedge``/``wasmtime run`` would, on wasinn's host."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from wasinn_nb.backends.models import Preload
from wasinn_nb.errors import GuestError, SpecError
from wasinn_nb.runner import default_runner

__all__ = ["environment", "preloads_from", "run_guest", "run_options"]


def preloads_from(args: argparse.Namespace) -> list[Preload]:
    """The named models of ``--nn-preload`` and ``-S nn-graph=…`` options."""
    preloads = [Preload.parse(text) for text in args.preload]
    for option in args.wasi_options:
        key, _, value = option.partition("=")
        if key == "nn-graph" and value:
            preloads.append(Preload.parse(value))
        elif option != "nn":
            raise SpecError(f"unknown -S option {option!r} (supported: nn, nn-graph=ENCODING::DIR)")
    return preloads


def environment(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` strings as a dict."""
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SpecError(f"bad --env {pair!r}: expected NAME=VALUE")
        env[name] = value
    return env


def run_options(
    args: argparse.Namespace, *, backend: str | None = None, timeout: float | None = None
) -> dict[str, Any]:
    """``Runner.run`` keyword arguments from parsed ``run`` options.

    ``backend`` and ``timeout`` are the defaults when the options leave them out.
    """
    return {
        "dirs": args.dirs,
        "preload": preloads_from(args),
        "backend": args.backend or backend,
        "timeout": args.timeout if args.timeout is not None else timeout,
        "env": environment(args.env),
    }


def run_guest(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the guest, streaming its output; return its exit status."""
    result = default_runner().run(
        args.module, args.args, **run_options(args), stdout=out, stderr=err, record=False
    )
    if result.error is not None:
        raise GuestError(f"{result.module} {result.error}")
    return result.exit_code or 0
