"""Every run can be stopped: spinning, sleeping, in a start function, in a backend compute.

Each test is an attack from issue 10. The bounds on elapsed time are generous (this machine is
shared); ``bench/stop_latency.py`` measures the real latencies.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from wasinn_nb.errors import SpecError

from .guests import CTX_OUT, LOAD, call, data, layout, module, printed

SPIN = "(loop $forever (br $forever))"
SLACK = 2.0  # seconds past the deadline a test tolerates; the bench measures the real figure


def _sleep(seconds: float, *, absolute: bool = False) -> str:
    """poll_oneoff on one clock subscription, relative or at now + seconds (monotonic)."""
    ns = int(seconds * 1e9)
    timeout = (
        f"(i64.add (i64.load (i32.const 0x3000)) (i64.const {ns}))" if absolute
        else f"(i64.const {ns})"
    )  # fmt: skip
    return "\n".join([
        "(drop (call $clock_time_get (i32.const 1) (i64.const 1) (i32.const 0x3000)))",
        "(i64.store (i32.const 0x3100) (i64.const 7))",  # userdata
        "(i32.store8 (i32.const 0x3108) (i32.const 0))",  # tag: clock
        "(i32.store (i32.const 0x3110) (i32.const 1))",  # monotonic
        f"(i64.store (i32.const 0x3118) {timeout})",
        f"(i32.store16 (i32.const 0x3128) (i32.const {int(absolute)}))",
        "(call $show (call $poll_oneoff (i32.const 0x3100) (i32.const 0x3200) (i32.const 1) "
        "(i32.const 0x3300)))",
        "(call $dump (i32.const 0x3200) (i32.const 11))",
    ])  # fmt: skip


def _with_clocks(guest: str) -> str:
    imports = (
        '  (import "wasi_snapshot_preview1" "clock_time_get" '
        "(func $clock_time_get (param i32 i64 i32) (result i32)))\n"
        '  (import "wasi_snapshot_preview1" "poll_oneoff" '
        "(func $poll_oneoff (param i32 i32 i32 i32) (result i32)))\n"
    )
    return guest.replace("  (memory (export", imports + "  (memory (export", 1)


def _timed(run, guest: str, **options):
    start = time.perf_counter()
    result = run(guest, **options)
    return result, time.perf_counter() - start


def test_a_spinning_guest_stops_at_the_deadline(run):
    result, elapsed = _timed(run, module(SPIN), timeout=0.3)
    assert (result.exit_code, result.error) == (None, "timed out after 0.3 s")
    assert 0.3 <= elapsed < 0.3 + SLACK


def test_a_sleeping_guest_stops_at_the_deadline(run):
    result, elapsed = _timed(run, _with_clocks(module(_sleep(3600))), timeout=0.3)
    assert result.error == "timed out after 0.3 s"
    assert elapsed < 0.3 + SLACK


def test_sleeping_with_an_absolute_deadline_wakes_on_time(run):
    result, elapsed = _timed(run, _with_clocks(module(_sleep(0.05, absolute=True))))
    out = printed(result.stdout)
    assert result.ok and out.errnos == [0]
    assert out.dumps[0][:8] == (7).to_bytes(8, "little")  # the event carries our userdata
    assert 0.05 <= elapsed < 0.05 + SLACK


def test_a_bad_poll_is_an_errno(run):
    guest = _with_clocks(module(
        "(call $show (call $poll_oneoff (i32.const 0) (i32.const 0x3200) (i32.const 0) (i32.const 0x3300)))",  # noqa: E501
        "(call $show (call $poll_oneoff (i32.const 0xFFFFFFF0) (i32.const 0x3200) (i32.const 1) (i32.const 0x3300)))",  # noqa: E501
    ))  # fmt: skip
    assert printed(run(guest).stdout).errnos == [28, 21]  # EINVAL, EFAULT


def test_a_harmless_start_function_runs(run):
    guest = module().replace(
        "  (memory (export", "  (func $init)\n  (start $init)\n  (memory (export"
    )
    result = run(guest)
    assert result.ok, result.error


def test_a_spinning_start_function_stops_at_the_deadline(run):
    guest = module().replace(
        "  (memory (export", f"  (func $init {SPIN})\n  (start $init)\n  (memory (export"
    )
    result, elapsed = _timed(run, guest, timeout=0.3)
    assert result.error == "timed out after 0.3 s"
    assert elapsed < 0.3 + SLACK


def test_a_blocked_backend_compute_is_cancelled(run, fake):
    segments = layout(model=b"FAKE fail=block")
    body = [LOAD, call("init_execution_context", 0, CTX_OUT), call("set_input", 0, 0, 0x300),
            call("compute", 0), SPIN]  # fmt: skip
    result, elapsed = _timed(run, module(*body, segments=segments), timeout=0.3)
    assert result.error == "timed out after 0.3 s"
    assert elapsed < 0.3 + SLACK
    assert any("inference cancelled" in line for line in result.host_log)


def _ctrl_c_in(seconds: float) -> None:
    """Send this process SIGINT, as Ctrl-C or the kernel's interrupt would."""
    threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT)).start()


def test_ctrl_c_stops_a_guest_without_a_timeout(run):
    _ctrl_c_in(0.3)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run(module(SPIN))
    assert time.perf_counter() - start < 0.3 + SLACK
    deadline = time.monotonic() + SLACK
    while any(t.name == "wasinn-guest" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the guest thread is still running"
        time.sleep(0.02)
    assert run(module(call("compute", 5))).ok  # the runner is still usable


def test_ctrl_c_wakes_a_sleeping_guest(run):
    _ctrl_c_in(0.3)
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        run(_with_clocks(module(_sleep(3600))))
    assert time.perf_counter() - start < 0.3 + SLACK


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), 1e300, float("inf")])
def test_bad_timeouts_are_refused(run, timeout):
    with pytest.raises(SpecError, match="--timeout must be"):
        run(module(), timeout=timeout)


def test_a_timeout_covers_a_slow_load(run, fake, monkeypatch):
    def slow_load(*args, **kwargs):
        time.sleep(3)
        raise AssertionError("the run should have been stopped")

    monkeypatch.setattr(fake, "load", slow_load)
    result, elapsed = _timed(run, module(LOAD, segments=[data(0x100, b"")]), timeout=0.3)
    assert result.error == "timed out after 0.3 s"
    assert elapsed < 0.3 + SLACK


def test_a_guest_woken_by_the_deadline_that_then_returns_is_still_timed_out(run):
    """The sleep ends when the run is stopped; ending right after is not a success."""
    guest = _with_clocks(module(_sleep(3600).rsplit("\n", 1)[0].replace("(call $show ", "(drop ")))
    assert "$dump" not in guest.split('(func (export "_start")')[1]
    result, elapsed = _timed(run, guest, timeout=0.3)
    assert (result.exit_code, result.error) == (None, "timed out after 0.3 s")
    assert elapsed < 0.3 + SLACK
