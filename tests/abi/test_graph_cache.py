"""The graph cache knows model bytes it loaded lately by comparing them, not hashing them."""

from __future__ import annotations

import numpy as np
import pytest

from wasinn_nb.backends import BackendChoice
from wasinn_nb.backends.options import BackendOptions
from wasinn_nb.enums import ExecutionTarget, GraphEncoding
from wasinn_nb.runtime import graphs
from wasinn_nb.runtime.graphs import GraphCache, RecentModels

from .fakes import MAGIC


def _load(cache: GraphCache, model: bytes) -> object:
    view = np.frombuffer(bytearray(model), np.uint8)  # like guest memory: a fresh buffer
    return cache.load([view], GraphEncoding.ONNX, ExecutionTarget.CPU,
                      BackendChoice("fake"), BackendOptions())  # fmt: skip


def test_the_same_bytes_again_are_known_without_hashing(fake, monkeypatch):
    hashed = []
    real = graphs._digest
    monkeypatch.setattr(graphs, "_digest", lambda arrays: hashed.append(1) or real(arrays))
    cache = GraphCache()
    model = MAGIC + b"\x01" * 4096
    first = _load(cache, model)
    again = _load(cache, model)
    assert again is first and len(fake.loads) == 1 and len(hashed) == 1
    other = _load(cache, model[:-1] + b"\x02")  # same size, last byte differs: another model
    assert other is not first and len(fake.loads) == 2 and len(hashed) == 2


def test_recent_models_keep_few_and_small():
    recent = RecentModels(count=2, max_bytes=100)
    models = [[np.full(10, n, np.uint8)] for n in range(3)]
    for n, model in enumerate(models):
        recent.remember(model, f"d{n}")
    assert [recent.digest(m) for m in models] == [None, "d1", "d2"]  # the oldest went
    recent.remember([np.zeros(101, np.uint8)], "big")
    assert recent.digest([np.zeros(101, np.uint8)]) is None  # larger than max_bytes: not kept


@pytest.mark.parametrize("builders", [1, 2])
def test_builders_must_all_match(builders):
    recent = RecentModels()
    model = [np.arange(builders * 8, dtype=np.uint8)[i * 8 : (i + 1) * 8] for i in range(builders)]
    recent.remember(model, "d")
    changed = [part.copy() for part in model]
    changed[-1][0] ^= 1
    assert recent.digest(model) == "d" and recent.digest(changed) is None
