"""Benchmark: map_guest's throughput serially, on a local process pool, and on Dask.

The classify guest with Coral's MobileNet V2 (quantized TFLite, LiteRT) over 200 generated
variants of the mirror's photos (flips, crops, brightness; at most 512 px a side). Each mode
runs the same 200 items; the modes are interleaved over several passes so machine noise hits
them alike. Per pass and mode it prints items/s, the CPU time the item-running processes spent
per item (this process for serial, the workers for pool and Dask; from /proc), and how many
items were in flight on average (their run times summed over the wall time: about 1 for
serial, the worker count when every worker is busy all the time). Then the ratios of items/s
to serial, and of CPU per item. The items/s ratios need an otherwise idle machine: with other
work on the cores, each item waits for a CPU, and the ratios mostly measure how the kernel
shares the CPUs; CPU per item and items in flight do not depend on that.

* serial: ``workers=1``, in this process, warm (module compiled and model loaded before).
* pool: ``workers=2`` (or --workers). The pool stays up between calls; its start (spawning
  workers, importing, compiling the module, loading the model) is printed on its own, then the
  passes run on the warm pool.
* dask: a ``LocalCluster`` of 2 worker processes (1 thread each), started once; the first,
  untimed call warms its workers, as a long-lived cluster would be.
* apart: the ceiling for this work on this machine, with no batch machinery between the
  processes: 2 (--workers) separate Python processes, each warm, each running its share of the
  items serially (items 0, 2, 4… and 1, 3, 5…), started together. Pool and Dask are also shown
  as a share of it.

Goals on 2 cores: pool >= 1.8x serial, Dask >= 1.6x serial.
Run:  python bench/batch_throughput.py [--items 200] [--passes 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wasinn_nb.batch import make_variants, map_guest, pool, without_timings

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("WASINN_MIRROR", REPO.parent / "shared/fixtures"))
CORAL = FIXTURES / "coral-test-data"
PHOTOS = [CORAL / "parrot.jpg", CORAL / "cat.bmp", CORAL / "grace_hopper.bmp", CORAL / "bird.bmp",
          CORAL / "sunflower.bmp", FIXTURES / "openvino-mobilenet" / "input.jpg"]  # fmt: skip
MODEL, LABELS = "/models/mobilenet_v2_1.0_224_quant.tflite", "/models/imagenet_labels.txt"
ARGS = ["--layout", "nhwc", "--dtype", "u8", "--output-dtype", "u8", "--top", "5",
        MODEL, "{input}", LABELS]  # fmt: skip
DIRS = [f"{CORAL}::/models:ro"]


def batch(items: list[str], **options: object):
    return map_guest(REPO / "guests" / "classify.wasm", items, args=ARGS, dirs=DIRS,
                     progress=False, **options)  # fmt: skip


def timed(items: list[str], **options: object) -> tuple[float, object]:
    start = time.perf_counter()
    frame = batch(items, **options)
    return time.perf_counter() - start, frame


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def worker_pids(mode: str, client, workers: int, apart: list[subprocess.Popen]) -> list[int]:
    """The processes that run the items in this mode."""
    if mode == "serial":
        return [os.getpid()]
    if mode == "pool":
        return list(pool._pools[workers]._processes)
    if mode == "apart":
        return [process.pid for process in apart]
    return list(client.run(os.getpid).values())


def start_apart(items: list[str], workers: int) -> list[subprocess.Popen]:
    """Separate processes, each warm and waiting to run its share of ``items`` serially."""
    shares = [json.dumps(items[i::workers]) for i in range(workers)]
    processes = [subprocess.Popen([sys.executable, __file__, "--serve", share],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
                 for share in shares]  # fmt: skip
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return processes


def run_apart(processes: list[subprocess.Popen]):
    """Start every process's share at once; wait for all. The frames, in input order."""
    import pandas as pd

    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    shares = [pd.read_json(io.StringIO(process.stdout.readline()), orient="split")
              for process in processes]  # fmt: skip
    rows = [share.iloc[i] for i in range(len(shares[0])) for share in shares if i < len(share)]
    return pd.DataFrame(rows).reset_index(drop=True)


def serve(items: list[str]) -> None:
    """A separate process of the apart mode: warm up, then run ``items`` at each "go"."""
    batch(items[:2], workers=1)
    print("ready", flush=True)
    for _ in sys.stdin:
        frame = batch(items, workers=1)
        print(frame[["input", "time_total"]].to_json(orient="split"), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve is not None:
        serve(json.loads(options.serve))
        return
    from dask.distributed import Client, LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        items = [str(p) for p in make_variants(PHOTOS, tmp, options.items)]
        print(f"{len(items)} items, {os.cpu_count()} CPUs, load average {os.getloadavg()}")
        batch(items[:2], workers=1)  # compile the module and load the model here
        cluster = LocalCluster(n_workers=options.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
        with cluster, Client(cluster) as client:
            batch(items[:4], client=client)  # warm the workers
            startup, _ = timed(items[: options.workers], workers=options.workers)
            print(f"pool start + {options.workers} items: {startup:.2f} s")
            apart = start_apart(items, options.workers)
            modes = ("serial", "pool", "dask", "apart")
            rates: dict[str, list[float]] = {mode: [] for mode in modes}
            cpu: dict[str, list[float]] = {mode: [] for mode in modes}
            for number in range(options.passes):
                frames, shown = {}, []
                for mode, how in (("serial", {"workers": 1}),
                                  ("pool", {"workers": options.workers}),
                                  ("dask", {"client": client}), ("apart", None)):  # fmt: skip
                    pids = worker_pids(mode, client, options.workers, apart)
                    before = cpu_seconds(pids)
                    if how is None:
                        start = time.perf_counter()
                        frames[mode] = run_apart(apart)
                        seconds = time.perf_counter() - start
                    else:
                        seconds, frames[mode] = timed(items, **how)
                    cpu[mode].append((cpu_seconds(pids) - before) / len(items) * 1e3)
                    rates[mode].append(len(items) / seconds)
                    busy = frames[mode]["time_total"].sum() / seconds
                    rate = rates[mode][-1]
                    shown.append(f"{mode} {rate:5.1f}/s ({cpu[mode][-1]:.0f} ms CPU/item, "
                                 f"x{busy:.2f})")  # fmt: skip
                same = all(without_timings(frames["serial"]).equals(without_timings(frames[m]))
                           for m in ("pool", "dask"))  # fmt: skip
                same = same and list(frames["apart"]["input"]) == items
                print(f"pass {number + 1}: {'  '.join(shown)}  identical: {same}  "
                      f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
            for process in apart:
                process.stdin.close()
                process.wait()
    serial_rate = statistics.median(rates["serial"])
    for mode in ("pool", "dask", "apart"):
        ratios = [r / s for r, s in zip(rates[mode], rates["serial"], strict=True)]
        work = statistics.median(cpu[mode]) / statistics.median(cpu["serial"])
        share = ("" if mode == "apart" else
                 f"; {statistics.median(rates[mode]) / statistics.median(rates['apart']):.0%} "
                 "of apart")  # fmt: skip
        print(f"{mode} / serial: median {statistics.median(rates[mode]) / serial_rate:.2f}x "
              f"(per pass: {', '.join(f'{r:.2f}' for r in ratios)}); "
              f"CPU per item {work:.2f}x serial's{share}")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
