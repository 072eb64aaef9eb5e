"""``%%wasinn build`` and ``wasinn build``: guests written in the notebook, in Rust and in C.

Real toolchains (Debian's rustc 1.63 and clang 14 with wasi-libc), real engines and the
mirror's models; a test that needs a toolchain skips, naming the packages, when it is missing.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from _paths import GUESTS, ONNX_FIXTURES, ROAD_INPUT

from wasinn_nb.build import (
    C_PACKAGES,
    RUST_PACKAGES,
    ToolchainMissingError,
    c_toolchain,
    find_tool,
    rust_toolchain,
)
from wasinn_nb.build.toolchain import is_rustup_proxy
from wasinn_nb.cli import main

IPython = pytest.importorskip("IPython")
from IPython.core.error import UsageError  # noqa: E402

#: The road-seg guest's core (guests/road-seg/src/main.rs), as a notebook cell would write it.
ROAD_SEG_CELL = """\
use std::{env, fs};

use nn::{Encoding, Graph, Target};

fn main() {
    let args: Vec<String> = env::args().collect();
    let xml = fs::read(&args[1]).expect("model XML");
    let weights = fs::read(&args[2]).expect("model weights");
    let input = fs::read(&args[3]).expect("input tensor");
    let graph = Graph::load(&[&xml, &weights], Encoding::OpenVino, Target::Cpu).unwrap();
    let mut context = graph.init_execution_context().unwrap();
    context.set_input(0, 1, &[1, 3, 512, 896], &input).unwrap(); // f32 is 1 in both numberings
    context.compute().unwrap();
    let mut output = vec![0u8; 4 * 512 * 896 * 4];
    let written = context.get_output(0, &mut output).unwrap();
    println!("{}: {} output bytes", "road-seg cell", written);
}
"""

#: A type error on the cell's body line 3, i.e. line 4 of the cell as Jupyter numbers it.
TYPE_ERROR_CELL = """\
fn main() {
    let greeting = "hello";
    let count: u32 = greeting;
    println!("{}", count);
}
"""

#: A C guest that runs the identity model on ONNX Runtime and prints what came back.
IDENTITY_C = r"""
#include <stdio.h>
#include <wasi_nn.h>

static uint8_t model[1 << 16];

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: identity MODEL.onnx\n");
        return 2;
    }
    FILE *file = fopen(argv[1], "rb");
    if (file == NULL) {
        perror(argv[1]);
        return 1;
    }
    size_t size = fread(model, 1, sizeof model, file);
    fclose(file);
    float input[4] = {1.5f, -2.0f, 3.25f, 42.0f}, output[4] = {0};
    uint32_t dims[2] = {1, 4}, written = 0;
    wasi_nn_graph_builder builder = {model, (uint32_t)size};
    wasi_nn_tensor tensor = {dims, 2, WASI_NN_TYPE_F32, (const uint8_t *)input, sizeof input};
    wasi_nn_graph graph;
    wasi_nn_context context;
    wasi_nn_errno rc = wasi_nn_load(&builder, 1, WASI_NN_ENCODING_ONNX, WASI_NN_TARGET_CPU, &graph);
    if (rc == WASI_NN_SUCCESS) rc = wasi_nn_init_execution_context(graph, &context);
    if (rc == WASI_NN_SUCCESS) rc = wasi_nn_set_input(context, 0, &tensor);
    if (rc == WASI_NN_SUCCESS) rc = wasi_nn_compute(context);
    if (rc == WASI_NN_SUCCESS)
        rc = wasi_nn_get_output(context, 0, (uint8_t *)output, sizeof output, &written);
    if (rc != WASI_NN_SUCCESS) {
        fprintf(stderr, "wasi-nn failed: errno %u\n", rc);
        return 1;
    }
    printf("%u bytes: %g %g %g %g\n", written, output[0], output[1], output[2], output[3]);
    return 0;
}
"""


def _needs(toolchain) -> None:
    try:
        toolchain()
    except ToolchainMissingError as missing:
        pytest.skip(str(missing))


@pytest.fixture
def rust():
    _needs(rust_toolchain)


@pytest.fixture
def clang():
    _needs(c_toolchain)


@pytest.fixture
def shell(ip):
    magics = ip.magics_manager.registry["WasinnMagics"]
    magics.show = "text"
    yield ip
    magics.show = "text"


@pytest.mark.openvino
def test_a_rust_cell_builds_runs_and_matches_the_prebuilt_road_seg_bit_for_bit(
    shell, rust, road_workdir, tmp_path_factory, monkeypatch, capsys
):
    pytest.importorskip("openvino")
    monkeypatch.setenv("WASINN_BUILD_DIR", str(tmp_path_factory.mktemp("cold-builds")))
    args = f"road-segmentation-adas-0001.xml road-segmentation-adas-0001.bin {ROAD_INPUT}"
    assert shell.run_cell_magic("wasinn", "build -o road_seg", ROAD_SEG_CELL) is None  # no echo
    cold = shell.user_ns["road_seg"]
    shell.run_cell_magic("wasinn", "build -o road_seg", ROAD_SEG_CELL)
    cached = shell.user_ns["road_seg"]
    assert (cold.cached, cached.cached) == (False, True)
    assert cached.path == cold.path
    changed = ROAD_SEG_CELL.replace('"road-seg cell"', '"changed cell"')
    shell.run_cell_magic("wasinn", f"build -o road_seg --run --dir . -- {args}", changed)
    rebuilt = shell.user_ns["road_seg"]
    assert not rebuilt.cached and rebuilt.path != cold.path
    mine = shell.user_ns["_wasinn"]
    assert "changed cell: 7340032 output bytes" in mine.stdout
    shell.run_line_magic("wasinn", f"run {GUESTS / 'road-seg.wasm'} --dir . -o prebuilt -- {args}")
    prebuilt = shell.user_ns["prebuilt"]
    assert (mine.exit_code, prebuilt.exit_code) == (0, 0)
    assert len(mine.outputs) == len(prebuilt.outputs) == 1
    assert mine.outputs[0].tobytes() == prebuilt.outputs[0].tobytes()
    assert mine.outputs[0].size == 4 * 512 * 896
    with capsys.disabled():
        print(
            f"\n  rust cell: cold {cold.seconds:.2f} s, cached {cached.seconds:.3f} s, "
            f"changed {rebuilt.seconds:.2f} s"
        )


def test_a_type_error_is_a_usage_error_naming_the_cell_line(shell, rust):
    with pytest.raises(UsageError) as raised:
        shell.run_cell_magic("wasinn", "build", TYPE_ERROR_CELL)
    message = str(raised.value)
    assert "\n" not in message
    where = re.match(r"cell line (\d+), column (\d+): error\[E0308\]: mismatched types", message)
    assert where, message
    assert (int(where[1]), int(where[2])) == (4, 22)  # the %%wasinn line is line 1
    assert "expected `u32`, found `&str`" in message


def test_a_source_file_error_names_the_file_line(rust, tmp_path):
    (tmp_path / "guest.rs").write_text(TYPE_ERROR_CELL)
    err = io.StringIO()
    status = main(["build", str(tmp_path / "guest.rs")], stdout=io.StringIO(), stderr=err)
    assert status == 1
    assert err.getvalue().startswith(f"wasinn: error: {tmp_path / 'guest.rs'}:3:22: error[E0308]")
    assert err.getvalue().count("\n") == 1


def test_warnings_are_counted_and_listed_not_printed_in_full(
    shell, rust, tmp_path, capsys, monkeypatch
):
    source = "fn main() {\n    let unused = 1;\n}\n"
    (tmp_path / "warn.rs").write_text(source)
    out, err = io.StringIO(), io.StringIO()
    assert main(["build", str(tmp_path / "warn.rs")], stdout=out, stderr=err) == 0
    assert ", 1 warning -> " in out.getvalue()
    assert err.getvalue() == (
        f"wasinn: {tmp_path / 'warn.rs'}:2:9: warning[unused_variables]: unused variable: "
        "`unused`\n"
    )
    capsys.readouterr()
    built = shell.run_cell_magic("wasinn", "build", source)
    printed = capsys.readouterr().out
    assert "1 warning:\n  cell line 3, column 9: warning[unused_variables]" in printed
    assert built.warnings[0].line == 3 and built.warnings[0].source == "    let unused = 1;"
    from wasinn_nb import magics

    shown = []
    monkeypatch.setattr(magics, "display", lambda bundle, raw: shown.append(bundle))
    shell.run_cell_magic("wasinn", "build", source)
    (bundle,) = shown
    assert bundle["text/html"].startswith("<details><summary>1 warning</summary><pre>cell line 3")
    assert "\n        let unused = 1;\n            ^</pre></details>" in bundle["text/html"]


@pytest.mark.onnxruntime
def test_the_c_route_builds_and_runs_the_identity_model_guest(shell, clang, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    shutil.copy(ONNX_FIXTURES / "identity_input_output.onnx", tmp_path / "identity.onnx")
    line = f"build --lang c -o identity --run --dir model:{tmp_path} -- model/identity.onnx"
    shell.run_cell_magic("wasinn", line, IDENTITY_C)
    result = shell.user_ns["_wasinn"]
    assert result.exit_code == 0
    assert result.stdout == "16 bytes: 1.5 -2 3.25 42\n"
    expected = np.array([[1.5, -2.0, 3.25, 42.0]], dtype=np.float32)
    assert np.array_equal(result.outputs[0].reshape(1, 4), expected)
    assert [c.name for c in result.calls][:2] == ["load", "init_execution_context"]
    module = shell.user_ns["identity"]
    assert module.lang == "c" and module.path.name == "identity.wasm"
    assert module.wasm.startswith(b"\0asm")


def test_an_unchanged_cell_comes_from_the_cache_in_a_fresh_process_too(clang, tmp_path):
    (tmp_path / "hello.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); }\n')
    out = io.StringIO()
    assert (
        main(
            ["build", str(tmp_path / "hello.c"), "--wasm", str(tmp_path / "a.wasm")],
            stdout=out,
            stderr=io.StringIO(),
        )
        == 0
    )
    import subprocess
    import sys

    code = (
        "import sys; from wasinn_nb.build import build_guest\n"
        "b = build_guest(open(sys.argv[1]).read(), lang='c', name='hello', label=sys.argv[1],"
        " offset=0)\n"
        "print(b.cached, b.wasm == open(sys.argv[2], 'rb').read())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "hello.c"), str(tmp_path / "a.wasm")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["True", "True"]


WAT = '(module (func (export "_start")) (memory (export "memory") 1))'


def test_without_a_toolchain_the_magic_says_what_to_install_and_nothing_else_breaks(
    shell, tmp_path, monkeypatch
):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(UsageError) as rust:
        shell.run_cell_magic("wasinn", "build", "fn main() {}\n")
    assert str(rust.value) == (
        "cannot build Rust guests: no rustc and cargo on PATH; install Debian's toolchain with: "
        f"apt-get install {RUST_PACKAGES}"
    )
    with pytest.raises(UsageError) as c:
        shell.run_cell_magic("wasinn", "build --lang c", "int main(void) { return 0; }\n")
    assert str(c.value).endswith(
        f"no clang on PATH; install Debian's toolchain with: apt-get install {C_PACKAGES}"
    )
    (tmp_path / "guest.rs").write_text("fn main() {}\n")
    err = io.StringIO()
    assert main(["build", str(tmp_path / "guest.rs")], stdout=io.StringIO(), stderr=err) == 1
    assert err.getvalue() == f"wasinn: error: {rust.value}\n"
    shell.run_cell_magic("wasinn", "-o ran", WAT)  # the rest works without any compiler
    assert shell.user_ns["ran"].exit_code == 0
    assert shell.run_line_magic("wasinn", "backends") is None


def test_debian_compilers_are_preferred_to_rustup_proxies(tmp_path, monkeypatch):
    proxies, real = tmp_path / "cargo-bin", tmp_path / "usr-bin"
    proxies.mkdir()
    real.mkdir()
    (proxies / "rustup").write_text("#!/bin/sh\nexit 1\n")
    (proxies / "rustup").chmod(0o755)
    (proxies / "rustc").symlink_to("rustup")
    (real / "rustc").write_text("#!/bin/sh\nexit 0\n")
    (real / "rustc").chmod(0o755)
    monkeypatch.setenv("PATH", os.pathsep.join([str(proxies), str(real)]))
    assert is_rustup_proxy(proxies / "rustc") and not is_rustup_proxy(real / "rustc")
    assert find_tool("rustc", skip_rustup=True) == real / "rustc"
    assert find_tool("rustc") == proxies / "rustc"
    monkeypatch.setenv("PATH", str(proxies))
    assert find_tool("rustc", skip_rustup=True) == proxies / "rustc"  # better than nothing


def test_the_machines_rust_toolchain_is_not_a_rustup_proxy(rust):
    chain = rust_toolchain()
    assert chain.version.startswith("rustc 1.")
    assert not is_rustup_proxy(Path(chain.tools["rustc"]))
    assert not is_rustup_proxy(Path(chain.tools["cargo"]))


def _script(folder: Path, name: str, body: str) -> None:
    (folder / name).write_text(f"#!/bin/sh\n{body}\n")
    (folder / name).chmod(0o755)


def test_a_rustc_without_the_wasm32_std_names_the_package(tmp_path, monkeypatch):
    sysroot = tmp_path / "sysroot"
    (sysroot / "lib" / "rustlib" / "x86_64-unknown-linux-gnu" / "lib").mkdir(parents=True)
    _script(tmp_path, "rustc", f'[ "$1" = -vV ] && echo "release: 1.99.0" || echo {sysroot}')
    _script(tmp_path, "cargo", "echo cargo 1.99.0")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainMissingError) as missing:
        rust_toolchain()
    assert str(missing.value) == (
        f"cannot build Rust guests: rustc 1.99.0 at {tmp_path / 'rustc'} has no wasm32-wasi "
        f"standard library; install Debian's toolchain with: apt-get install {RUST_PACKAGES}"
    )


def test_a_clang_without_wasi_libc_names_the_package(tmp_path, monkeypatch):
    _script(
        tmp_path,
        "clang",
        'case "$*" in *--version*) echo "clang version 99";; *) echo libc.a;; esac',
    )
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainMissingError) as missing:
        c_toolchain()
    assert str(missing.value) == (
        "cannot build C guests: clang has no wasm32-wasi libc.a; install Debian's toolchain "
        "with: apt-get install wasi-libc"
    )
