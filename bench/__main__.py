"""``python -m bench [--quick] [--json PATH] [--only SCENARIO...]``: wasinn-nb against its peers.

Scenarios (each against its baseline, measured interleaved in the same run):

* ``guest``: (a) road-seg and the 224x224 classifiers, guest vs the engine's direct call;
* ``process``: (b) whole processes, ``wasinn run`` vs ``wasmtime run -S nn`` (and vs a one-shot
  Python script), first and second run;
* ``start``: (c) cold compile vs cached module vs instantiate;
* ``ortweb``: (d) EfficientNet-Lite0 in onnxruntime-web (Node, 1 and 2 threads) vs our guest;
* ``im2tensor``: (e) im2tensor vs PIL + numpy;
* ``throughput``: (f) N back-to-back runs and 2 concurrent runs;
* ``wasi``: road-seg's WASI file I/O alone, a WAT probe under wasinn and the wasmtime CLI;
* ``display``: (g) showing a road result vs an argmax of its scores (``bench/display.py``).

Prints a Markdown table (median, p10, p90, ratio to the baseline) and the goals, and writes
JSON (default ``artifacts/bench/bench.json``, git-ignored). ``--quick`` takes under 3 minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench.harness import Report, machine
from bench.workdir import ARTIFACTS, Work, prepare

SCENARIOS = ("guest", "process", "start", "ortweb", "im2tensor", "throughput", "wasi", "display")


def _scenarios(quick: bool) -> dict[str, Callable[[Work, Report], None]]:
    from bench import inprocess, processes

    n = 5 if quick else 20

    def guest(work: Work, report: Report) -> None:
        inprocess.road_seg(work, report, n)
        inprocess.classifiers(work, report, 2 * n, quick)

    def process(work: Work, report: Report) -> None:
        processes.whole_process(work, report, 2 if quick else 7, quick)

    def ortweb(work: Work, report: Report) -> None:
        from bench import ortweb as web

        web.scenario(work, report, 10 if quick else 30)

    def im2tensor(work: Work, report: Report) -> None:
        from bench.im2tensor_vs_pil import scenario

        scenario(report, 5 if quick else 30)

    def throughput(work: Work, report: Report) -> None:
        processes.throughput(work, report, 2 if quick else 10)

    def wasi(work: Work, report: Report) -> None:
        from bench import wasi_probe

        wasi_probe.scenario(work, report, 5 if quick else 20)

    def display(work: Work, report: Report) -> None:
        _display(work, report, quick)

    return {"guest": guest, "process": process,
            "start": lambda w, r: inprocess.module_start(w, r, n), "ortweb": ortweb,
            "im2tensor": im2tensor, "throughput": throughput, "wasi": wasi,
            "display": display}  # fmt: skip


def _display(work: Work, report: Report, quick: bool) -> None:
    """(g): showing a road result, against an argmax of its scores (bench/display.py)."""
    from bench import display as display_bench

    display_bench.scenario(report, 5 if quick else 15)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, under 3 minutes")
    parser.add_argument("--json", type=Path, default=ARTIFACTS / "bench.json", metavar="PATH")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, metavar="SCENARIO",
                        help=f"run only these ({', '.join(SCENARIOS)})")  # fmt: skip
    args = parser.parse_args(argv)
    started = time.perf_counter()
    chosen = args.only or list(SCENARIOS)
    work = prepare(
        effnet=bool({"guest", "ortweb"} & set(chosen)),
        wasmtime=bool({"process", "wasi"} & set(chosen)),
    )
    report = Report()
    for name, scenario in _scenarios(args.quick).items():
        if name not in chosen:
            continue
        begun = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        try:
            scenario(work, report)
        except Exception as error:  # one broken scenario must not hide the others' numbers
            traceback.print_exc()
            report.skipped[name] = f"failed: {type(error).__name__}: {error}"
        print(
            f"bench: {name} took {time.perf_counter() - begun:.0f} s", file=sys.stderr, flush=True
        )
    meta = {**machine(), "quick": args.quick, "only": chosen,
            "seconds": round(time.perf_counter() - started, 1)}  # fmt: skip
    print(
        f"\nmachine: {meta['cpu']} ({meta['cpus']} CPUs), {meta['date']}, "
        f"load {meta['load_average']}"
    )
    print(report.table())
    report.save(args.json, meta)
    print(f"\nwrote {args.json} ({meta['seconds']} s)")
    return 1 if any(v.startswith("failed") for v in report.skipped.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
