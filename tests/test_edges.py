"""Both front ends, one command: every subcommand through ``wasinn`` and ``%wasinn`` alike.

Each row is run as ``wasinn ARGS`` and as ``%wasinn ARGS`` in a real IPython shell. A success
must print the same report on both; a failure must be one line on the CLI (exit status != 0, no
traceback) and exactly that line as the magic's ``UsageError``.
"""

from __future__ import annotations

import io
import shlex
from pathlib import Path

import cv2
import numpy as np
import pytest
from _paths import ROAD

from wasinn_nb.cli import main

IPython = pytest.importorskip("IPython")
from IPython.core.error import UsageError  # noqa: E402

HELLO = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello from the guest\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 21))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const {status}))))
"""

GRAPH = """\
operations:
  - {operationType: source, name: photos}
  - {operationType: map, name: decode, module: %s}
  - {operationType: sink, name: out}
connections:
  - {from: {name: photos}, to: {name: decode}}
  - {from: {name: decode}, to: {name: out}}
"""

# (name, arguments with {tmp} for the work folder, expectation: "ok" or a substring of the error)
CASES = [
    ("im2tensor", "--image {tmp}/photo.png --dims 8x16x3xf32 --tensor {tmp}/t.tensor", "ok"),
    ("im2tensor into a folder", "--image {tmp} --dims 8x8x3xu8 --tensor {tmp}/tensors -q", "ok"),
    ("im2tensor missing image", "--image {tmp}/nope.jpg --dims 8x8x3xf32", "cannot read image"),
    ("im2tensor bad dims", "--image {tmp}/photo.png --dims 8x", "bad dims '8x'"),
    ("im2tensor unknown flag", "--image {tmp}/photo.png --dims 8x8x3xu8 --nope", "--nope"),
    (
        "im2tensor misspelt flag",
        "--image {tmp}/photo.png --dims 8x8x3xu8 --colour rgb",
        "unrecognized arguments: --colour rgb; did you mean --color?",
    ),
    ("inspect", "{tmp}/in-8x16x3xf32-bgr.tensor", "ok"),
    ("inspect missing file", "{tmp}/missing-8x8x3xf32.tensor", "missing-8x8x3xf32.tensor"),
    ("to-png", "{tmp}/in-8x16x3xf32-bgr.tensor {tmp}/back.png", "ok"),
    ("to-png bad channel", "{tmp}/in-8x16x3xf32-bgr.tensor {tmp}/c.png --channel 7", "channel 7"),
    ("to-png into /proc", "{tmp}/in-8x16x3xf32-bgr.tensor /proc/nope/x.png", "/proc/nope"),
    ("fetch list", "--list", "ok"),
    (
        "fetch into a missing mirror",
        "birds --mirror {tmp}/none --dest {tmp}/d",
        "cannot fetch birds_v1.tflite: mirror '{tmp}/none' is not a folder: tried {tmp}/none",
    ),
    ("fetch unknown", "no-such-model", "unknown asset 'no-such-model'"),
    ("fetch into /proc", "birds --dest /proc/x", "/proc/x"),
    ("run", "{tmp}/hello.wat", "ok"),
    ("run missing module", "{tmp}/missing.wasm", "cannot read module"),
    ("run bad --dir", "{tmp}/hello.wat --dir {tmp}/nowhere", "no such folder"),
    ("run misspelt flag", "{tmp}/hello.wat --dri {tmp}", "--dri {tmp}; did you mean --dir? (see"),
    ("fetch misspelt flags", "--lsit --mirorr=x", "did you mean --list or --mirror?"),
    ("run unknown backend", "{tmp}/hello.wat --backend tensorrt", "unknown backend 'tensorrt'"),
    ("batch", "{tmp}/hello.wat -i {tmp}/photo.png -i {tmp}/gone.png --workers 1 -q", "ok"),
    ("batch a folder as module", "{tmp} -i {tmp} -q", "is a folder"),
    ("batch bad module", "{tmp}/photo.png -i {tmp} -q", "is neither a wasm binary nor WAT text"),
    ("batch missing module", "{tmp}/missing.wasm -i {tmp}/photo.png -q", "cannot read module"),
    ("batch no inputs", "{tmp}/hello.wat -i {tmp}/*.gif -q", "no inputs match"),
    ("batch without inputs", "{tmp}/hello.wat", "arguments are required: -i/--inputs"),
    ("batch bad results file", "{tmp}/hello.wat -i {tmp} --results {tmp}/r.xlsx", "use .parquet"),
    ("batch zero workers", "{tmp}/hello.wat -i {tmp} --workers 0", "must be at least 1"),
    ("batch bad spec", "{tmp}/hello.wat -i {tmp} --spec 8x8", "bad dims '8x8'"),
    (
        "batch unreachable scheduler",
        "{tmp}/hello.wat -i {tmp} --scheduler tcp://127.0.0.1:9",
        "cannot reach the Dask scheduler at tcp://127.0.0.1:9",
    ),
    ("bench zero runs", "{tmp}/hello.wat -n 0", "must be at least 1"),
    ("backends", "", "ok"),
    ("demo into /proc", "--out /proc/nope", "/proc/nope"),
    ("pipeline", "{tmp}/graph.yaml {tmp}/photo.png --param decode:width=4", "ok"),
    ("pipeline bad YAML", "{tmp}/bad.yaml {tmp}/photo.png", "bad YAML (line 1, column 15)"),
    (
        "pipeline unknown operator",
        "{tmp}/unknown.yaml {tmp}/photo.png",
        "unknown operator module 'nope'",
    ),
    ("pipeline bad --param", "{tmp}/graph.yaml {tmp}/photo.png --param width=4", "bad --param"),
    ("pipeline missing input", "{tmp}/graph.yaml {tmp}/nope.png", "cannot read input"),
    ("notebooks", "{tmp}/walkthroughs --force", "ok"),
    ("notebooks into /proc", "/proc/nope", "cannot make /proc/nope"),
    ("notebooks without a folder", "", "the following arguments are required: DIR"),
    ("build", "{tmp}/hello.c", "ok"),
    ("build and run", "{tmp}/hello.c --run", "ok"),
    ("build into a file", "{tmp}/hello.c --wasm {tmp}/hello.wasm", "ok"),
    ("build a compile error", "{tmp}/broken.c", "broken.c:3:20: error: use of undeclared"),
    ("build missing source", "{tmp}/nope.rs", "cannot read source"),
    ("build unknown language", "{tmp}/hello.c --lang go", "invalid choice: 'go'"),
    ("build guest args without --run", "{tmp}/hello.c -- x", "ARGS without --run"),
    ("build into /proc", "{tmp}/hello.c --wasm /proc/nope/x.wasm", "/proc/nope"),
]
#: Rows that need the C toolchain (they skip, naming its packages, when it is missing).
COMPILES = {"build", "build and run", "build into a file", "build a compile error",
            "build into /proc"}  # fmt: skip
HELLO_C = '#include <stdio.h>\n\nint main(void) { puts("hello from C"); return 0; }\n'
BROKEN_C = "int main(void) {\n    int count = 1;\n    return count + missing;\n}\n"


def _untimed(report: str) -> str:
    """A report with its measured times blanked (they differ between two runs)."""
    import re

    return re.sub(r"\d+\.\d+ ms", "… ms", report)


def _command(name: str) -> str:
    return name.split()[0]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ip) -> Path:
    """A folder with a photo, a tensor file named after its shape, and a WAT guest."""
    photo = np.arange(8 * 16 * 3, dtype=np.uint8).reshape(8, 16, 3)
    cv2.imwrite(str(tmp_path / "photo.png"), photo)
    tensor = np.linspace(0, 1, 3 * 8 * 16, dtype=np.float32).reshape(1, 3, 8, 16)
    tensor.tofile(tmp_path / "in-8x16x3xf32-bgr.tensor")
    (tmp_path / "hello.wat").write_text(HELLO.format(status=0))
    (tmp_path / "hello.c").write_text(HELLO_C)
    (tmp_path / "broken.c").write_text(BROKEN_C)
    (tmp_path / "graph.yaml").write_text(GRAPH % "decode")
    (tmp_path / "unknown.yaml").write_text(GRAPH % "nope")
    (tmp_path / "bad.yaml").write_text("[operations: {")
    monkeypatch.setenv("WASINN_MIRROR", str(ROAD.parent))
    monkeypatch.chdir(tmp_path)
    magics = ip.magics_manager.registry["WasinnMagics"]
    magics.show = "none"
    yield tmp_path
    magics.show = "text"


def _cli(command: str, args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([command, *args], stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _magic(ip, command: str, args: list[str], capsys) -> tuple[str | None, str]:
    capsys.readouterr()
    try:
        ip.run_line_magic("wasinn", shlex.join([command, *args]))
    except UsageError as error:
        return str(error), capsys.readouterr().out
    return None, capsys.readouterr().out


@pytest.mark.parametrize(("name", "line", "expected"), CASES, ids=[c[0] for c in CASES])
def test_both_edges_agree(ip, work, capsys, name, line, expected):
    if name in COMPILES:
        from wasinn_nb.build import ToolchainMissingError, c_toolchain

        try:
            c_toolchain()
        except ToolchainMissingError as missing:
            pytest.skip(str(missing))
    command, args = _command(name), shlex.split(line.format(tmp=work))
    status, out, err = _cli(command, args)
    error, printed = _magic(ip, command, args, capsys)
    if expected == "ok":
        assert (status, err) == (0, "")
        assert error is None
        assert _untimed(printed) == _untimed(out)
        return
    assert status != 0 and out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    cli_line = err.removeprefix("wasinn: error: ").rstrip("\n")
    assert expected.format(tmp=work) in cli_line
    assert error == cli_line.replace("see wasinn ", "see %wasinn ")


def test_both_edges_return_the_same_value(ip, work):
    """The magic returns the value whose report the CLI prints; with ``-o`` it stores it instead.

    A returned value is echoed by Jupyter (a wall of ``array([[[[…``), so ``-o`` returns None.
    """
    args = f"--image {work}/photo.png --dims 8x16x3xf32 --tensor {work}/t.tensor"
    tensor = ip.run_line_magic("wasinn", f"im2tensor {args}")
    assert _cli("im2tensor", shlex.split(args))[0] == 0
    assert np.array_equal(tensor, np.fromfile(work / "t.tensor", np.float32).reshape(1, 3, 8, 16))
    assert ip.run_line_magic("wasinn", f"im2tensor {args} -o picture") is None
    assert np.array_equal(ip.user_ns["picture"], tensor)
    assert ip.run_line_magic("wasinn", "fetch --list") is None  # the table is printed


def test_a_guest_exit_status_is_the_cli_status_and_the_magic_error(ip, work, capsys):
    (work / "exit3.wat").write_text(HELLO.format(status=3))
    status, out, err = _cli("run", [str(work / "exit3.wat")])
    assert (status, out, err) == (3, "hello from the guest\n", "")
    error, printed = _magic(ip, "run", [str(work / "exit3.wat")], capsys)
    assert printed == "hello from the guest\n"
    assert error == f"{work / 'exit3.wat'} exited with status 3"
    assert ip.user_ns["_wasinn"].exit_code == 3


def test_a_failed_pipeline_input_is_status_1_and_the_magic_error(ip, work, capsys):
    args = [str(work / "graph.yaml"), str(work / "photo.png"), str(work / "hello.wat")]
    status, out, err = _cli("pipeline", args)
    assert (status, err) == (1, "")
    assert f"{work / 'hello.wat'}: error: decode: not a JPEG" in out
    error, printed = _magic(ip, "pipeline", args, capsys)
    assert _untimed(printed) == _untimed(out)
    assert error.startswith(f"1 of 2 inputs failed (first: {work / 'hello.wat'}: decode: ")
    assert [item.ok for item in ip.user_ns["_wasinn"]] == [True, False]


@pytest.mark.parametrize(
    "command", ["run", "im2tensor", "bench", "fetch", "inspect", "build", "pipeline", "batch"]
)
def test_help_prints_the_same_options_on_both_edges(ip, work, capsys, command):
    import re

    status, out, _ = _cli(command, ["--help"])
    error, printed = _magic(ip, command, ["--help"], capsys)
    assert status == 0 and error is None
    assert out.startswith(f"usage: wasinn {command}")
    assert printed.startswith(f"usage: %wasinn {command}")
    flags = set(re.findall(r"(?<![\w-])--?[a-zA-Z][\w-]*", out))
    assert flags and flags <= set(re.findall(r"(?<![\w-])--?[a-zA-Z][\w-]*", printed))
    assert "--result NAME" in printed


def test_an_unclosed_quote_is_a_usage_error(ip):
    with pytest.raises(UsageError, match="No closing quotation"):
        ip.run_line_magic("wasinn", 'run "x')


def test_magic_help_is_made_from_the_parsers(ip):
    from wasinn_nb.commands import COMMANDS
    from wasinn_nb.magics import WasinnMagics

    doc = WasinnMagics.wasinn.__doc__
    for name in COMMANDS:
        assert f"%wasinn {name} " in doc or f"%wasinn {name}\n" in doc
    assert "--nn-preload NAME:ENCODING:TARGET:PATH[:PATH]" in doc


def test_a_bug_is_a_short_line_with_the_traceback_hint(ip, work, monkeypatch, capsys):
    from wasinn_nb.commands import tensors

    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(tensors, "tensor_stats", broken)
    args = ["--image", str(work / "photo.png"), "--dims", "8x8x3xf32"]
    status, _, err = _cli("im2tensor", args)
    expected = "internal error: ZeroDivisionError: division by zero (rerun with --traceback)"
    assert (status, err) == (1, f"wasinn: error: {expected}\n")
    assert _magic(ip, "im2tensor", args, capsys)[0] == expected
    with pytest.raises(ZeroDivisionError):
        main(["im2tensor", *args, "--traceback"], stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(ZeroDivisionError):
        ip.run_line_magic("wasinn", shlex.join(["im2tensor", *args, "--traceback"]))
