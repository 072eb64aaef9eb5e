"""Building guests from source: Rust (Debian's rustc 1.63) and C (clang 14 + wasi-libc).

The source may use wasinn-nb's own wasi-nn bindings without crates.io: ``use nn::…`` in Rust
(the ``guests/nn`` crate), ``#include <wasi_nn.h>`` in C. Modules are cached by source and
toolchain; compiler messages point at the source's (or the cell's) lines.

Example:
    >>> from wasinn_nb.build import guess_lang
    >>> guess_lang("use nn::Graph; fn main() {}")
    'rust'
"""

from wasinn_nb.build.builder import (
    LANGUAGES,
    Build,
    BuildError,
    build_guest,
    default_build_dir,
    guess_lang,
)
from wasinn_nb.build.diagnostics import Diagnostic, SourceMap
from wasinn_nb.build.toolchain import (
    C_PACKAGES,
    RUST_PACKAGES,
    Toolchain,
    ToolchainMissingError,
    c_toolchain,
    find_tool,
    rust_toolchain,
)

__all__ = [
    "C_PACKAGES",
    "LANGUAGES",
    "RUST_PACKAGES",
    "Build",
    "BuildError",
    "Diagnostic",
    "SourceMap",
    "Toolchain",
    "ToolchainMissingError",
    "build_guest",
    "c_toolchain",
    "default_build_dir",
    "find_tool",
    "guess_lang",
    "rust_toolchain",
]
