"""``run``: run a guest like ``wasmedge``/``wasmtime run`` would, on wasinn's host."""

from __future__ import annotations

import argparse
from typing import Any

from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.commands.base import Outcome, Session
from wasinn_nb.errors import GuestError, SpecError
from wasinn_nb.results import RunResult
from wasinn_nb.runtime import Limits, Preload, default_runner

__all__ = [
    "backend_options",
    "environment",
    "exit_problem",
    "preloads_from",
    "run",
    "run_guest",
    "run_options",
]


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


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """``Runner.run`` keyword arguments from parsed ``run`` options."""
    given = {"memory": args.max_memory, "model_bytes": args.max_model_bytes,
             "tensor_bytes": args.max_tensor_bytes}  # fmt: skip
    return {
        "dirs": args.dirs,
        "preload": preloads_from(args),
        "backend": args.backend,
        "timeout": args.timeout,
        "env": environment(args.env),
        "limits": Limits(**{k: v for k, v in given.items() if v is not None}),
        "backend_options": backend_options(args),
    }


def backend_options(args: argparse.Namespace) -> BackendOptions:
    """The engines' settings from parsed ``--threads``/``--precision``/… options."""
    given = {"threads": args.threads, "precision": args.precision,
             "performance_hint": args.performance_hint, "providers": args.providers}  # fmt: skip
    return BackendOptions().replace({k: v for k, v in given.items() if v is not None})


def run_guest(
    module: str, args: argparse.Namespace, session: Session, *, record: bool
) -> RunResult:
    """Run ``module`` with the parsed run options, streaming its output to the session.

    Raises:
        GuestError: If the guest trapped or timed out (a non-zero exit is not an error).
    """
    result = default_runner().run(
        module, args.args, **run_options(args), stdout=session.out, stderr=session.err,
        record=record,
    )  # fmt: skip
    if result.error is not None:
        raise GuestError(f"{result.module} {result.error}")
    return result


def run(args: argparse.Namespace, session: Session) -> Outcome[RunResult]:
    """Run the guest; the exit status is the guest's."""
    result = run_guest(args.module, args, session, record=session.interactive)
    return Outcome(result, status=result.exit_code or 0, problem=exit_problem(result))


def exit_problem(result: RunResult, name: str | None = None) -> str | None:
    """``MODULE exited with status N: LAST STDERR LINE``, or None for a zero exit status."""
    status = result.exit_code or 0
    if not status:
        return None
    tail = result.stderr.strip().splitlines()[-1:] or [""]
    return f"{name or result.module} exited with status {status}" + (
        f": {tail[0]}" if tail[0] else ""
    )
