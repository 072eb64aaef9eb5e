"""Build hook: a wheel carries the example guests, our wasi-nn bindings and the notebooks.

Everything else is in pyproject.toml. The guests (``guests/*.wasm``, built reproducibly by
``guests/build.sh``), the bindings ``%%wasinn build`` compiles guests against (the Rust crate
``guests/nn`` and the C header ``guests/nn-c/wasi_nn.h``) and the notebooks
(``notebooks/*.ipynb``) stay where they are, the one copy in the repository; building the
package copies them, byte for byte, to ``wasinn_nb/data/examples/{guests,notebooks}/`` in the
wheel (keeping their paths below those folders), where ``wasinn_nb.data`` finds them. An
editable install needs no copy: it reads the checkout's folders. ``MANIFEST.in`` puts them in
the sdist, so a wheel built from the sdist has them too. ``tests/test_wheel.py`` builds
a wheel and checks its copies against the repository's files.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent

#: Repository folder → the files of it a wheel carries (globs relative to the folder).
EXAMPLES = {
    "guests": ("*.wasm", "nn/Cargo.toml", "nn/src/*.rs", "nn-c/*.h"),
    "notebooks": ("*.ipynb",),
}


class BuildWithExamples(build_py):
    """``build_py`` that also copies the examples into the package being built."""

    def run(self) -> None:
        """Build the package, then add the examples (not for an editable install)."""
        super().run()
        if self.editable_mode:
            return
        for source, target in self.examples():
            self.mkpath(str(target.parent))
            self.copy_file(str(source), str(target), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """The built files, examples included."""
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return [*outputs, *(str(target) for _, target in self.examples())]

    def examples(self) -> list[tuple[Path, Path]]:
        """Each example file and where it goes in the build folder."""
        base = Path(self.build_lib, "wasinn_nb", "data", "examples")
        pairs = []
        for folder, patterns in EXAMPLES.items():
            for pattern in patterns:
                sources = sorted((HERE / folder).glob(pattern))
                if not sources:
                    raise SystemExit(f"setup.py: no {folder}/{pattern} in {HERE}: cannot build")
                pairs += [(s, base / folder / s.relative_to(HERE / folder)) for s in sources]
        return pairs


setup(cmdclass={"build_py": BuildWithExamples})
