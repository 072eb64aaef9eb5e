"""Tab completion of ``%wasinn`` lines: subcommands, flags, fixed values — from the parsers.

The table runs :func:`~wasinn_nb.commands.completion.complete` directly; the last test asks a
real ipykernel, as JupyterLab does (a ``complete_request`` on the shell channel).
"""

from __future__ import annotations

import pytest

from wasinn_nb.commands import COMMANDS
from wasinn_nb.commands.completion import complete, values_of
from wasinn_nb.enums import ColorOrder, DType, Layout

# (line up to the cursor, fragment replaced, some candidates that must be offered)
CASES = [
    ("r", "r", ["run"]),
    ("", "", list(COMMANDS)),
    ("im", "im", ["im2tensor"]),
    ("run guest.wasm --ba", "--ba", ["--backend"]),
    ("run guest.wasm --backend ", "", ["openvino", "onnxruntime", "litert", "pytorch"]),
    ("run guest.wasm --backend=onnx", "onnx", ["onnxruntime"]),
    ("run guest.wasm --nn-preload road:Open", "Open", ["openvino"]),
    ("run guest.wasm --nn-preload road:openvino:", "", ["cpu", "gpu", "tpu", "auto"]),
    ("run guest.wasm --precision ", "", ["f32", "bf16", "f16", "auto"]),
    ("run guest.wasm -", "-", ["--dir", "--nn-preload", "--timeout", "--traceback"]),
    ("im2tensor --image a.jpg --color ", "", [c.value for c in ColorOrder]),
    ("im2tensor --layout n", "n", [m.value for m in Layout]),
    ("im2tensor --resize l", "l", ["letterbox"]),
    ("im2tensor --interp c", "c", ["cubic"]),
    ("inspect t.tensor --dtype ", "", [d.value for d in DType]),
    ("fetch road", "road", ["road-segmentation", "road-segmentation-adas-0001.xml"]),
    ("fetch --l", "--l", ["--list"]),
    ("preload road ", "", ["openvino", "onnx", "tensorflowlite", "pytorch"]),
    ("preload road onnx model.onnx --target g", "g", ["gpu"]),
    ("bench guest.wasm -", "-", ["-n", "--quiet"]),
]


@pytest.mark.parametrize(("line", "fragment", "offered"), CASES, ids=[c[0] for c in CASES])
def test_completion_offers(line, fragment, offered):
    answer = complete(line)
    assert answer is not None
    assert answer[0] == fragment
    assert set(offered) <= set(answer[1]), answer[1]
    assert all(c.lower().startswith(fragment.lower()) for c in answer[1])


@pytest.mark.parametrize(
    "line",
    ["run ", "run guest.wasm --dir ", "im2tensor --image ", "run g.wasm --nn-preload a:onnx:cpu:"],
)
def test_a_free_value_is_left_to_the_file_completer(line):
    assert complete(line) is None


def test_the_cell_magic_completes_run_options_without_a_command():
    assert complete("--ti", cell=True) == ("--ti", ["--timeout"])
    assert complete("--ti") is None


def test_every_flag_and_every_fixed_value_of_every_command_completes():
    """Nothing is listed twice: what a parser accepts is what completion offers."""
    for name, command in COMMANDS.items():
        parser = command.parser(f"%wasinn {name}")
        for action in parser._actions:
            for flag in action.option_strings:
                assert flag in complete(f"{name} {flag[:3]}")[1], (name, flag)
            values = values_of(action)
            if action.option_strings and values and action.dest != "preload":
                flag = action.option_strings[-1]
                assert complete(f"{name} {flag} ") == ("", list(values)), (name, flag)


@pytest.mark.parametrize(
    ("code", "offered"),
    [
        ("%wasinn r", ["run"]),
        ("%wasinn run guest.wasm --ba", ["--backend"]),
        ("%wasinn run guest.wasm --backend o", ["openvino", "onnxruntime"]),
        ("%wasinn im2tensor --image a.jpg --dims 8x8x3xf32 --color=", ["bgr", "rgb"]),
        ("%%wasinn --time", ["--timeout"]),
        ("%wasinn im2tensor --res", ["--resize", "--result"]),  # with the magics' -o/--result
    ],
)
def test_the_kernel_completes_wasinn_lines(kernel, code, offered):
    """A ``complete_request`` to ipykernel, as JupyterLab sends on Tab."""
    reply = kernel.complete(code, len(code), reply=True, timeout=60)["content"]
    assert reply["status"] == "ok"
    assert reply["matches"] == offered  # nothing else: no %%ruby, %recall, range…
    fragment = code.rsplit(" ", 1)[-1].rpartition("=")[2]
    assert (reply["cursor_start"], reply["cursor_end"]) == (len(code) - len(fragment), len(code))


def test_fetch_list_in_the_kernel_prints_the_whole_table(kernel):
    """``%wasinn fetch --list``: every bundle and asset, where each would come from, no echo."""
    from wasinn_nb.data import ASSETS, BUNDLES

    printed, results = [], []

    def collect(message: dict) -> None:
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])
        elif message["msg_type"] == "execute_result":
            results.append(message["content"])

    reply = kernel.execute_interactive("%wasinn fetch --list", output_hook=collect, timeout=60)
    assert reply["content"]["status"] == "ok" and results == []
    lines = "".join(printed).splitlines()
    for name in (*BUNDLES, *ASSETS):
        assert any(line.startswith(f"{name} ") for line in lines), name
    rows = [line.split() for line in lines if line.split()[:1] and line.split()[0] in ASSETS]
    assert {row[3] for row in rows} <= {"cached", "mirror", "download", "-"}
    assert lines[-1].startswith("from: cached in ")
