"""Operator pipelines (wasinn_nb.pipeline): graph definitions, the built-in operators, failures.

The built-in operators are the committed Rust guests (guests/op-*.wasm); the hostile ones are
WAT written here. The classifier graph is checked against the witx classify guest on the
mirror's MobileNet V2 (quantized TFLite).
"""

from __future__ import annotations

import shlex
import shutil
from itertools import pairwise

import cv2
import numpy as np
import pytest
from _paths import FIXTURES, GUESTS

import wasinn_nb
from wasinn_nb.abi import Limits
from wasinn_nb.errors import WasinnError
from wasinn_nb.pipeline import GraphError, Pipeline, parse_graph

CORAL = FIXTURES / "coral-test-data"
MOBILENET = "mobilenet_v2_1.0_224_quant.tflite"


def chain(*stages: tuple[str, str, str]) -> str:
    """A graph: source ``in`` → each (kind, name, module) in turn → sink ``out``."""
    names = ["in", *(name for _, name, _ in stages), "out"]
    ops = ["  - {operationType: source, name: in}"]
    ops += [f"  - {{operationType: {k}, name: {n}, module: {m}}}" for k, n, m in stages]
    ops.append("  - {operationType: sink, name: out}")
    links = [f"  - {{from: {{name: {a}}}, to: {{name: {b}}}}}" for a, b in pairwise(names)]
    return "operations:\n" + "\n".join(ops) + "\nconnections:\n" + "\n".join(links) + "\n"


def run(stages, inputs, params=None, **options):
    with Pipeline(parse_graph(chain(*stages)), params=params, **options) as pipe:
        return pipe.run(inputs)


# ---- graph definitions ---------------------------------------------------------------------

BRANCHED = """\
metadata: {name: branched}
moduleConfigurations:
  - name: sure
    parameters:
      min: {name: min, default: 0.5}
operations:
  - {operationType: source, name: in}
  - {operationType: branch, name: sure, module: threshold}
  - {operationType: map, name: probs, module: "softmax:1.0.0"}
  - {operationType: sink, name: confident}
  - {operationType: sink, name: unsure}
connections:
  - {from: {name: in}, to: {name: sure}}
  - {from: {name: sure, arm: "True"}, to: {name: confident}}
  - {from: {name: sure, arm: "False"}, to: {name: probs}}
  - {from: {name: probs}, to: {name: unsure}}
"""


def test_a_graph_parses_with_arms_and_parameter_defaults():
    spec = parse_graph(BRANCHED)
    assert spec.name == "branched" and spec.source == "in"
    assert spec.operations["sure"].params == {"min": "0.5"}
    assert spec.after("sure", True) == ["confident"] and spec.after("sure", False) == ["probs"]
    order = [op.name for op in spec.order()]
    assert order.index("probs") < order.index("unsure")


def _broken(old: str, new: str) -> str:
    assert old in BRANCHED
    return BRANCHED.replace(old, new)


BAD_GRAPHS = [
    ("operations: [", "bad YAML (line 1, column 14)"),
    ("- just a list", "a graph definition is a mapping"),
    (_broken("operations:", "operators:"), "unknown top-level key 'operators'"),
    (_broken("operationType: branch", "operationType: accumulate"),
     "operationType 'accumulate' is not supported"),
    (_broken("name: probs, module", "name: sure, module"), "operation 'sure' is defined twice"),
    (_broken(', module: "softmax:1.0.0"', ""), "operation 'probs': a map needs a module"),
    (_broken("to: {name: unsure}", "to: {name: nowhere}"), "no operation named 'nowhere'"),
    (_broken('{from: {name: sure, arm: "True"}', "{from: {name: sure}"),
     "a branch's connections need arm: True or False"),
    (_broken("{from: {name: probs}", '{from: {name: probs, arm: "True"}'),
     "only a branch has arms"),
    (_broken('arm: "False"', 'arm: "Maybe"'), "arm must be True or False, got 'Maybe'"),
    (_broken("to: {name: confident}", "to: {name: in}"), "a source has no input"),
    (_broken("{from: {name: probs}, to: {name: unsure}}",
             "{from: {name: unsure}, to: {name: probs}}"), "a sink has no output"),
    (_broken("  - name: sure\n", "  - name: unsur\n"), "no operation named 'unsur'"),
    (_broken("{operationType: source, name: in}", "{operationType: source, name: in}\n"
             "  - {operationType: source, name: in2}"),
     "exactly one source operation, this one has 2"),
    (_broken("{from: {name: in}, to: {name: sure}}", "{from: {name: in}, to: {name: sure}}\n"
             "  - {from: {name: probs}, to: {name: sure}}"), ""),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), BAD_GRAPHS, ids=range(len(BAD_GRAPHS)))
def test_a_bad_graph_is_one_line(text, expected):
    with pytest.raises(GraphError) as caught:
        parse_graph(text)
    assert expected in str(caught.value) and "\n" not in str(caught.value)


def test_a_cycle_is_refused():
    text = _broken("{from: {name: probs}, to: {name: unsure}}",
                   "{from: {name: probs}, to: {name: unsure}}\n"
                   "  - {from: {name: probs}, to: {name: sure}}")  # fmt: skip
    with pytest.raises(GraphError, match=r"the connections make a cycle through .*probs, sure"):
        parse_graph(text)


def test_unknown_modules_and_required_parameters_fail_before_running(tmp_path):
    with pytest.raises(GraphError, match="unknown operator module 'nope'"):
        Pipeline(parse_graph(chain(("map", "x", "nope"))))
    with pytest.raises(GraphError, match=r"operation 'x': cannot read module .*missing\.wasm"):
        Pipeline(parse_graph(chain(("map", "x", "missing.wasm")), folder=tmp_path))
    (tmp_path / "plain.wat").write_text('(module (memory (export "memory") 1))')
    with pytest.raises(
        WasinnError,
        match="'x': the module is not a wasinn operator \\(no export "
        "op_abi_version, op_buffer, op_init, op_process, op_output",
    ):
        Pipeline(parse_graph(chain(("map", "x", "plain.wat")), folder=tmp_path))
    with pytest.raises(GraphError, match="parameter 'labels' is required"):
        Pipeline(
            parse_graph(
                chain(("map", "names", "labels"))
                + """\
moduleConfigurations:
  - {name: names, parameters: {labels: {name: labels, required: true}}}
"""
            )
        )
    with pytest.raises(GraphError, match="no operation named 'nobody'"):
        Pipeline(parse_graph(chain(("map", "p", "softmax"))), params={"nobody": {"k": "1"}})


def test_an_init_error_is_the_operators_message():
    with pytest.raises(
        GraphError, match="operation 'top': init: unknown parameter 'kk' \\(known: k\\)"
    ):
        run([("map", "top", "topk")], [np.zeros(3, np.float32)], {"top": {"kk": "2"}})


# ---- the built-in operators ----------------------------------------------------------------


def test_softmax_sums_to_one_and_keeps_the_order():
    logits = np.array([[2.0, -1.0, 0.5, 3.0]], np.float32)
    probs = run([("map", "p", "softmax")], [logits])[0]["p"]
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    assert probs.dtype == np.float32 and probs.shape == (1, 4)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(probs, expected, rtol=1e-6)


def test_softmax_of_quantized_probabilities_renormalizes_them():
    scores = np.array([192, 64, 0, 0], np.uint8)  # 0.75, 0.25 at scale 1/256
    params = {"p": {"scale": "0.00390625", "from": "probabilities"}}
    probs = run([("map", "p", "softmax")], [scores], params)[0]["p"]
    assert probs.tolist() == [0.75, 0.25, 0.0, 0.0]


def test_topk_ranks_highest_first_and_ties_by_index():
    scores = np.array([0.1, 0.4, 0.2, 0.4, 0.05], np.float32)
    top = run([("map", "top", "topk")], [scores], {"top": {"k": "3"}})[0]["top"]
    assert top.shape == (3, 2)
    assert top[:, 0].tolist() == [1, 3, 2]
    np.testing.assert_allclose(top[:, 1], [0.4, 0.4, 0.2])


def test_threshold_filter_drops_the_unsure():
    sure, unsure = np.array([0.1, 0.9], np.float32), np.array([0.4, 0.6], np.float32)
    result = run([("filter", "sure", "threshold")], [("a", sure), ("b", unsure)],
                 {"sure": {"min": "0.8"}})  # fmt: skip
    first, second = result
    assert first.sinks["out"][0] is sure or np.array_equal(first.sinks["out"][0], sure)
    assert second.sinks == {} and second.ok
    assert [s.verdict for s in second.stages if s.operation == "sure"] == [False]


def test_a_branch_sends_each_arm_its_items():
    with Pipeline(parse_graph(BRANCHED)) as pipe:
        result = pipe.run([np.array([0.9, 0.1], np.float32), np.array([0.3, 0.2], np.float32)])
    assert list(result[0].sinks) == ["confident"]
    assert list(result[1].sinks) == ["unsure"]
    assert result[1]["probs"].sum() == pytest.approx(1.0)


def test_labels_name_the_topk_rows(tmp_path):
    (tmp_path / "labels.txt").write_text("cat\ndog\n\nfox\n")
    scores = np.array([0.1, 0.6, 0.05, 0.25], np.float32)
    labels = f"@{tmp_path / 'labels.txt'}"
    result = run([("map", "top", "topk"), ("map", "names", "labels")], [scores],
                 {"top": {"k": "3"}, "names": {"labels": labels}})  # fmt: skip
    assert result[0]["names"] == b"1 dog 0.6000\n3 fox 0.2500\n0 cat 0.1000\n"


@pytest.mark.parametrize("extension", [".png", ".bmp", ".jpg"])
def test_decode_gives_rgb24_pixels(tmp_path, extension):
    bgr = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3) * 3
    cv2.imwrite(str(tmp_path / f"p{extension}"), bgr)
    params = {"d": {"width": "6", "height": "4"}}
    tensor = run([("map", "d", "decode")], [tmp_path / f"p{extension}"], params)[0]["d"]
    assert tensor.dtype == np.uint8 and tensor.shape == (1, 4, 6, 3)
    if extension == ".jpg":  # lossy: close, in RGB order
        assert np.abs(tensor[0].astype(int) - bgr[..., ::-1]).max() < 12
    else:
        assert np.array_equal(tensor[0], bgr[..., ::-1])
    planar = run([("map", "d", "decode")], [tmp_path / f"p{extension}"],
                 {"d": {**params["d"], "layout": "nchw"}})[0]["d"]  # fmt: skip
    assert np.array_equal(planar[0], tensor[0].transpose(2, 0, 1))


def test_every_stage_is_timed_and_kept():
    result = run([("map", "p", "softmax"), ("map", "top", "topk")], [np.ones(4, np.float32)])
    item = result[0]
    assert [s.operation for s in item.stages] == ["in", "p", "top", "out"]
    assert all(s.seconds >= 0 for s in item.stages)
    assert set(result.timings()) == {"in", "p", "top", "out"}
    assert item["p"].shape == (4,) and item["top"].shape == (4, 2)
    assert result.rows()[1]["value"] == "float32[4]"


# ---- hostile operators ---------------------------------------------------------------------

#: An operator that echoes its input; on a first data byte 0 it traps, on 1 it spins forever.
HOSTILE = """(module
  (memory (export "memory") 2)
  (global $last (mut i32) (i32.const 0))
  (func (export "op_abi_version") (result i32) (i32.const 1))
  (func (export "op_buffer") (param i32) (result i32)
    (if (i32.gt_u (local.get 0) (i32.const 60000)) (then (return (i32.const 0))))
    (i32.const 1024))
  (func (export "op_init") (param i32 i32) (result i32) (i32.const 0))
  (func (export "op_process") (param $v i32) (result i32) (local $byte i32)
    (global.set $last (local.get $v))
    (local.set $byte (i32.load8_u (i32.load offset=8 (local.get $v))))
    (if (i32.eqz (local.get $byte)) (then unreachable))
    (if (i32.eq (local.get $byte) (i32.const 1)) (then (loop $spin (br $spin))))
    (i32.const 0))
  (func (export "op_output") (result i32) (global.get $last)))
"""


def test_a_trapping_operator_fails_that_item_only(tmp_path):
    (tmp_path / "hostile.wat").write_text(HOSTILE)
    spec = parse_graph(chain(("map", "h", "hostile.wat")), folder=tmp_path)
    with Pipeline(spec, item_timeout=1.0) as pipe:
        result = pipe.run([b"\x07ok", b"\x00trap", b"\x01spin", b"\x09again"])
    assert [item.ok for item in result] == [True, False, False, True]
    assert result[0]["h"] == b"\x07ok" and result[3]["h"] == b"\x09again"
    assert result[1].error.startswith("h: trapped: wasm trap: wasm `unreachable`")
    assert result[2].error == "h: timed out after 1 s"
    assert len(result.errors) == 2


def test_a_run_that_times_out_stops_and_the_pipeline_runs_again(tmp_path):
    (tmp_path / "hostile.wat").write_text(HOSTILE)
    spec = parse_graph(chain(("map", "h", "hostile.wat")), folder=tmp_path)
    with Pipeline(spec, timeout=0.5) as pipe:
        with pytest.raises(WasinnError, match=r"timed out after 0\.5 s"):
            pipe.run([b"\x07ok", b"\x01spin", b"\x09never"])
        again = pipe.run([b"\x09again"])
    assert again[0].ok and again[0]["h"] == b"\x09again"


def test_an_input_too_big_for_the_operator_is_an_error_row(tmp_path):
    (tmp_path / "hostile.wat").write_text(HOSTILE)
    spec = parse_graph(chain(("map", "h", "hostile.wat")), folder=tmp_path)
    result = Pipeline(spec).run([b"\x07" * 70000])
    assert result[0].error == "h: op_buffer could not give 70,056 bytes"


def test_operator_memory_is_bounded():
    logits = np.zeros(600_000, np.float32)  # 2.4 MB in, more than the 2 MiB it may have
    result = run([("map", "p", "softmax")], [logits], limits=Limits(memory=2 << 20))
    assert result[0].error == "p: op_buffer could not give 2,400,056 bytes"


# ---- whole guests as stages (commands, components) -------------------------------------------

COMMAND = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "said by the guest\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 18))
    (drop (call $w (i32.const %d) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $exit (i32.const %d))))
"""


def test_a_command_guest_is_a_map_stage_its_stdout_the_output(tmp_path):
    from wasinn_nb.pipeline.command import CommandOperator

    (tmp_path / "says.wat").write_text(COMMAND % (1, 0))
    (tmp_path / "fails.wat").write_text(COMMAND % (2, 3))
    spec = parse_graph(chain(("map", "says", "says.wat"), ("map", "fails", "fails.wat")),
                       folder=tmp_path)  # fmt: skip
    with Pipeline(spec) as pipe:
        assert isinstance(pipe.operators["says"], CommandOperator)
        result = pipe.run([b"anything"])
    assert result[0]["says"] == b"said by the guest\n"
    assert result[0].error == "fails: exited with status 3: said by the guest"
    with pytest.raises(GraphError, match="a filter needs an operator module"):
        Pipeline(parse_graph(chain(("filter", "says", "says.wat")), folder=tmp_path))
    with pytest.raises(GraphError, match="unknown parameter 'arg' of a command stage"):
        Pipeline(spec, params={"says": {"arg": "x"}})


def test_a_component_is_run_as_a_command_stage(tmp_path):
    """Components run through the runner (which knows them once the component host is in)."""
    from wasinn_nb.pipeline.command import CommandOperator

    (tmp_path / "empty-component.wasm").write_bytes(b"\0asm\x0d\x00\x01\x00")
    with Pipeline(
        parse_graph(chain(("map", "x", "empty-component.wasm")), folder=tmp_path)
    ) as pipe:
        assert isinstance(pipe.operators["x"], CommandOperator)
        result = pipe.run([b"bytes"])
    assert not result[0].ok and result[0].error.startswith("x: ")


def test_a_component_with_a_function_parameter_is_an_operator_stage(tmp_path):
    from wasinn_nb.pipeline.component import ComponentOperator

    (tmp_path / "empty-component.wasm").write_bytes(b"\0asm\x0d\x00\x01\x00")
    spec = parse_graph(chain(("map", "x", "empty-component.wasm")), folder=tmp_path)
    with Pipeline(spec, params={"x": {"function": "classify"}}) as pipe:
        assert isinstance(pipe.operators["x"], ComponentOperator)
        with pytest.raises(GraphError, match="operation 'x': "):  # no host, or no such export
            pipe.run([b"bytes"])


# ---- the classifier graph against the witx classify guest -------------------------------------

CLASSIFIER = """\
metadata: {name: classifier}
moduleRequirements: {apiVersion: "1.0.0", features: [{name: wasi-nn}]}
moduleConfigurations:
  - name: infer
    parameters:
      model: {name: model, default: mobilenet}
      output_type: {name: output_type, default: u8}
      output_dims: {name: output_dims, default: 1x1001}
  - name: softmax
    parameters:
      scale: {name: scale, default: "0.00390625"}
      from: {name: from, default: probabilities}
  - name: labels
    parameters:
      labels: {name: labels, default: "@imagenet_labels.txt"}
operations:
  - {operationType: source, name: photos}
  - {operationType: map, name: decode, module: decode}
  - {operationType: map, name: infer, module: infer}
  - {operationType: map, name: softmax, module: softmax}
  - {operationType: map, name: top5, module: topk}
  - {operationType: map, name: labels, module: labels}
  - {operationType: sink, name: results}
connections:
  - {from: {name: photos}, to: {name: decode}}
  - {from: {name: decode}, to: {name: infer}}
  - {from: {name: infer}, to: {name: softmax}}
  - {from: {name: softmax}, to: {name: top5}}
  - {from: {name: top5}, to: {name: labels}}
  - {from: {name: labels}, to: {name: results}}
"""


@pytest.mark.openvino
@pytest.mark.slow
def test_the_classifier_graph_gives_the_classify_guests_top5(tmp_path, monkeypatch):
    pytest.importorskip("openvino")
    if not (CORAL / MOBILENET).is_file():
        pytest.skip(f"mirror not found at {FIXTURES}")
    for name in (MOBILENET, "imagenet_labels.txt", "parrot.jpg"):
        shutil.copy(CORAL / name, tmp_path / name)
    shutil.copy(FIXTURES / "openvino-mobilenet" / "input.jpg", tmp_path / "banana.jpg")
    (tmp_path / "classifier.yaml").write_text(CLASSIFIER)
    monkeypatch.chdir(tmp_path)
    with Pipeline(tmp_path / "classifier.yaml", backend="openvino",
                  preload=[f"mobilenet:TensorflowLite:CPU:{MOBILENET}"]) as pipe:  # fmt: skip
        result = pipe.run(["parrot.jpg", "banana.jpg"])
        again = pipe.run(["parrot.jpg"])  # the same graph and context, a second time
    for item, photo in zip(result, ("parrot.jpg", "banana.jpg"), strict=True):
        assert item.ok, item.error
        args = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", "--top", "5",
                MOBILENET, photo, "imagenet_labels.txt"]  # fmt: skip
        witx = wasinn_nb.run(GUESTS / "classify.wasm", args, dirs=[".:."], backend="openvino")
        assert witx.ok, witx.stderr
        assert np.array_equal(item["decode"], witx.inputs[0])  # the same pixels
        assert np.array_equal(item["infer"], witx.outputs[0].reshape(1, 1001))
        ours = [line.rsplit(" ", 1)[0] for line in item["labels"].decode().splitlines()]
        theirs = [line.rsplit(" ", 1)[0] for line in witx.stdout.splitlines()[1:]]
        assert ours == theirs and len(ours) == 5
        assert item["softmax"].sum() == pytest.approx(1.0, abs=1e-5)
    assert result[0]["labels"] == again[0]["labels"]
    # the witx guest itself as one stage: the same lines as running it directly
    args = (f"--layout nhwc --dtype u8 --output-dtype u8 --top 5 models/{MOBILENET} {{input}} "
            "models/imagenet_labels.txt")  # fmt: skip
    whole = parse_graph(chain(("map", "classify", str(GUESTS / "classify.wasm"))))
    params = {"classify": {"args": args, "input": "photo.jpg", "dirs": f"{tmp_path}::models"}}
    with Pipeline(whole, params=params, backend="openvino") as pipe:
        item = pipe.run(["parrot.jpg"])[0]
    assert item.ok, item.error
    direct = wasinn_nb.run(GUESTS / "classify.wasm", shlex.split(args.format(input="parrot.jpg")
                           .replace("models/", "")), dirs=[".:."], backend="openvino")  # fmt: skip
    assert item["classify"].decode().splitlines()[1:] == direct.stdout.splitlines()[1:]
    assert result[1]["labels"].startswith(b"955 banana ")


def test_a_result_displays_as_a_table_with_images_and_text(tmp_path):
    from wasinn_nb.viz.display import pipeline_bundle

    cv2.imwrite(str(tmp_path / "p.png"), np.full((16, 16, 3), 200, np.uint8))
    (tmp_path / "labels.txt").write_text("a\nb\nc\n")
    result = run([("map", "d", "decode"), ("map", "top", "topk"), ("map", "names", "labels")],
                 [tmp_path / "p.png", b"junk"],
                 {"d": {"width": "8", "height": "8"}, "top": {"k": "2"},
                  "names": {"labels": f"@{tmp_path / 'labels.txt'}"}})  # fmt: skip
    html = result._repr_mimebundle_()["text/html"]
    assert html.count("<tr>") == 2 and "data:image/png;base64," in html
    assert "<pre style='margin:0'>0 a 200.0000" in html
    assert "d: not a JPEG, PNG or BMP image" in html
    assert pipeline_bundle(result[0])["text/plain"] == repr(result[0])


def test_infer_without_its_model_fails_the_run_in_one_line():
    text = chain(("map", "infer", "infer")) + (
        "moduleConfigurations:\n  - {name: infer, parameters: {model: {default: nope}}}\n"
    )
    with pytest.raises(GraphError) as caught:
        Pipeline(parse_graph(text)).run([np.zeros(3, np.float32)])
    assert str(caught.value) == (
        "operation 'infer': init: model 'nope': wasi-nn load_by_name failed: "
        "model_not_found (errno 103)"
    )


@pytest.mark.openvino
@pytest.mark.slow
def test_a_classifier_component_is_the_infer_operator(tmp_path, monkeypatch):
    """decode (op ABI) -> the component classifier (wasi:nn component, kept) -> labels."""
    pytest.importorskip("wasinn_nb.runtime.component_guest", reason="needs the component host")
    pytest.importorskip("openvino")
    component = GUESTS / "classify-component.wasm"
    if not component.is_file() or not (CORAL / MOBILENET).is_file():
        pytest.skip("needs guests/classify-component.wasm and the mirror")
    for name in (MOBILENET, "imagenet_labels.txt", "parrot.jpg"):
        shutil.copy(CORAL / name, tmp_path / name)
    shutil.copy(FIXTURES / "openvino-mobilenet" / "input.jpg", tmp_path / "banana.jpg")
    monkeypatch.chdir(tmp_path)
    graph = parse_graph(chain(("map", "decode", "decode"), ("map", "classify", str(component)),
                              ("map", "names", "labels")))  # fmt: skip
    params = {"classify": {"function": "classify", "model": "mobilenet"},
              "names": {"labels": f"@{tmp_path / 'imagenet_labels.txt'}"}}  # fmt: skip
    with Pipeline(graph, params=params, backend="openvino",
                  preload=[f"mobilenet:TensorflowLite:CPU:{MOBILENET}"]) as pipe:  # fmt: skip
        result = pipe.run(["parrot.jpg", "banana.jpg"])
    for item in result:
        assert item.ok, item.error
        assert item["classify"].shape == (5, 2)
        args = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", "--top", "5",
                MOBILENET, item.source, "imagenet_labels.txt"]  # fmt: skip
        witx = wasinn_nb.run(GUESTS / "classify.wasm", args, dirs=[".:."], backend="openvino")
        ours = [line.split(" ")[0] for line in item["names"].decode().splitlines()]
        assert ours == [line.split(" ")[0] for line in witx.stdout.splitlines()[1:]]
    assert result[1]["names"].startswith(b"955 banana")
