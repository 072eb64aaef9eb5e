"""Fixtures for the wasi-nn ABI tests: a FakeBackend registered as ``fake`` and a runner."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from wasinn_nb import backends
from wasinn_nb.results import RunResult
from wasinn_nb.runtime import Runner
from wasinn_nb.runtime.graphs import GraphCache

from .fakes import FakeBackend


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    """A fresh FakeBackend, registered as backend ``fake`` for this test only.

    The registry entry says the module is ``fakes`` and the package ``numpy`` (always present);
    the instance is put straight into the registry's cache, so ``get_backend("fake")`` returns
    it without importing anything. monkeypatch removes both entries after the test.
    """
    backend = FakeBackend()
    info = backends.BackendInfo("fake", "fakes", "numpy", "fake")
    monkeypatch.setitem(backends._BACKENDS, "fake", info)
    monkeypatch.setitem(backends._loaded, "fake", backend)
    return backend


@pytest.fixture
def runner() -> Runner:
    """A runner with no disk cache and its own graph cache (so no graph outlives the test)."""
    return Runner(cache_dir=None, graphs=GraphCache())


@pytest.fixture
def run(fake: FakeBackend, runner: Runner) -> Callable[..., RunResult]:
    """Run a guest (WAT text or path) with ``runner``, sending every model to ``fake``."""

    def run_guest(module: str, *args: str, **options: object) -> RunResult:
        options.setdefault("backend", "fake")
        return runner.run(module, args, **options)  # type: ignore[arg-type]

    return run_guest
