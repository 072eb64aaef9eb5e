"""Benchmark: how long ``%%wasinn build`` takes, cold, cached and after a change to the cell.

For each language, in a fresh build cache (a temporary folder, so nothing of an earlier run
helps): the first build (cold: for Rust the ``nn`` crate and the cell; the standard library
comes prebuilt with Debian's package), the same source again (the cache: no compiler runs), and
the source with one line changed (Rust: cargo recompiles only the cell, in the shared target
folder). The Rust source is the road-seg guest's core of tests/test_build.py; the C one is its
identity-model guest. Medians of ``--repeat`` rounds, each in its own cache; no assertions.
Run:  python bench/build_cells.py [--repeat N] [--release]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_build import IDENTITY_C, ROAD_SEG_CELL

from wasinn_nb.build import build_guest, c_toolchain, rust_toolchain

SOURCES = {
    "rust": (ROAD_SEG_CELL, '"road-seg cell"', '"changed cell"'),
    "c": (IDENTITY_C, "bytes: %g", "bytes back: %g"),
}


def one_round(lang: str, release: bool) -> tuple[float, float, float]:
    source, old, new = SOURCES[lang]
    changed = source.replace(old, new)
    assert changed != source
    with tempfile.TemporaryDirectory() as folder:
        times = []
        for text in (source, source, changed):
            started = time.perf_counter()
            build_guest(text, lang=lang, release=release, folder=Path(folder))
            times.append(time.perf_counter() - started)
    return times[0], times[1], times[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--release", action="store_true")
    args = parser.parse_args()
    print(f"{rust_toolchain().version}; {c_toolchain().version}")
    print(f"{'lang':<5} {'profile':<8} {'cold s':>8} {'cached ms':>10} {'changed s':>10}")
    for lang in SOURCES:
        rounds = [one_round(lang, args.release) for _ in range(args.repeat)]
        cold, cached, changed = (statistics.median(r[i] for r in rounds) for i in range(3))
        profile = "release" if args.release else "debug"
        print(f"{lang:<5} {profile:<8} {cold:8.2f} {cached * 1000:10.1f} {changed:10.2f}")


if __name__ == "__main__":
    main()
