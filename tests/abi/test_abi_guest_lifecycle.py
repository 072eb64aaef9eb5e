"""How a run ends: normally, by proc_exit, by a trap, by a timeout; and what fails to link."""

from __future__ import annotations

import time

import pytest

from wasinn_nb.abi.wasi_nn import FUNCTIONS
from wasinn_nb.errors import GuestError

from .guests import WAT, module


def test_infinite_loop_times_out(run):
    start = time.perf_counter()
    result = run(str(WAT / "spin.wat"), timeout=0.2)

    assert result.exit_code is None
    assert "timed out" in result.error
    assert time.perf_counter() - start < 3


def test_timeout_does_not_stop_a_quick_guest(run):
    result = run(module(), timeout=5)
    assert (result.exit_code, result.error) == (0, None)


def test_unreachable_is_reported_as_a_trap(run):
    result = run(str(WAT / "trap.wat"))

    assert result.exit_code is None
    assert result.error.startswith("trapped")
    assert result.stdout == "about to trap\n"  # output before the trap is kept


def test_trap_message_names_the_cause(run):
    # wasmtime's message starts with "error while executing at wasm backtrace:"; the cause
    # ("wasm trap: wasm `unreachable` instruction executed") is on the last line.
    result = run(str(WAT / "trap.wat"))

    assert "unreachable" in result.error


def test_proc_exit_status_and_output_are_captured(run):
    result = run(str(WAT / "exit3.wat"))

    assert (result.exit_code, result.error) == (3, None)
    assert not result.ok
    assert result.stdout == "hello from the guest\n"
    assert result.stderr == "bye, stderr\n"


def test_wasi_call_without_memory_is_reported_not_raised(run):
    # WASI's proc_exit needs the memory export; wasmtime fails the call with a WasmtimeError
    # (not a Trap). The run must still come back as a result that says why.
    guest = """(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
      (func (export "_start") (call $proc_exit (i32.const 0))))"""
    result = run(guest)

    assert result.exit_code is None
    assert "missing required memory export" in result.error


def test_every_function_links_with_its_documented_signature(run):
    # The prelude of `module` imports all twelve functions; instantiation checks the types.
    assert len(FUNCTIONS) == 12
    result = run(module())
    assert (result.exit_code, result.error) == (0, None)


@pytest.mark.parametrize(
    "import_",
    [
        pytest.param('"load" (func (param i32 i32 i32 i32) (result i32))', id="load with 4 params"),
        pytest.param('"compute" (func (param i32) (result i64))', id="compute returning i64"),
        pytest.param('"set_input_by_string" (func (param i32) (result i32))', id="unknown name"),
    ],
)
def test_wrong_imports_fail_to_instantiate(run, import_):
    guest = f"""(module
      (import "wasi_ephemeral_nn" {import_})
      (memory (export "memory") 1)
      (func (export "_start")))"""
    with pytest.raises(GuestError, match="cannot instantiate"):
        run(guest)


def test_module_without_start_is_a_guest_error(run):
    with pytest.raises(GuestError, match="no _start"):
        run('(module (memory (export "memory") 1))')
