"""The pooled runner batches use: memory is reused between runs, never what was in it."""

from __future__ import annotations

import pytest

from wasinn_nb.runtime import Runner, batch_runner, default_runner
from wasinn_nb.runtime.instance_pool import SLOTS

#: Exits 1 if the words at 64 KiB - 4 or at 48 MiB (after growing) are not zero, then writes a
#: marker at both: a run that saw the previous run's marker would exit 1.
LEAK_PROBE = """
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (if (i32.lt_s (memory.grow (i32.const 800)) (i32.const 0)) (then (call $exit (i32.const 2))))
    (if (i32.or (i32.load (i32.const 65532)) (i32.load (i32.const 50331648)))
      (then (call $exit (i32.const 1))))
    (i32.store (i32.const 65532) (i32.const 0x5ec2e7))
    (i32.store (i32.const 50331648) (i32.const 0x5ec2e7))))
"""


@pytest.fixture
def pooled():
    with Runner(cache_dir=None, instance_pool=True) as runner:
        assert runner.pooled
        yield runner


def test_a_run_never_sees_what_an_earlier_run_left_in_memory(pooled):
    """The same module (the slot it reuses is its own), kept-resident and grown pages alike."""
    codes = [pooled.run(LEAK_PROBE).exit_code for _ in range(5)]
    assert codes == [0] * 5


def test_more_runs_than_slots_one_after_another(pooled):
    guest = '(module (memory (export "memory") 1) (func (export "_start")))'
    assert all(pooled.run(guest).ok for _ in range(SLOTS + 4))


def test_the_batch_runner_is_pooled_and_shares_the_default_runners_models():
    runner = batch_runner()
    assert runner.pooled and runner is batch_runner()
    assert runner.graphs is default_runner().graphs
    assert runner is not default_runner() and not default_runner().pooled


def test_a_component_runs_on_the_pool_as_on_the_default_allocator(pooled):
    from _paths import GUESTS

    guest = GUESTS / "classify-component.wasm"
    with Runner(cache_dir=None) as plain:
        expected = plain.run(guest, ["--help"])
    got = pooled.run(guest, ["--help"])
    assert (got.exit_code, got.stdout, got.stderr) == (expected.exit_code, expected.stdout,
                                                         expected.stderr)  # fmt: skip
    assert "usage: classify-component" in got.stderr
