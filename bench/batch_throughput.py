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

Goals on 2 cores: pool >= 1.8x serial, Dask >= 1.6x serial.
Run:  python bench/batch_throughput.py [--items 200] [--passes 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from wasinn_nb.batch import executors, make_variants, map_guest, without_timings

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


def worker_pids(mode: str, client, workers: int) -> list[int]:
    """The processes that run the items in this mode."""
    if mode == "serial":
        return [os.getpid()]
    if mode == "pool":
        return list(executors._pools[workers]._processes)
    return list(client.run(os.getpid).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
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
            rates: dict[str, list[float]] = {"serial": [], "pool": [], "dask": []}
            cpu: dict[str, list[float]] = {"serial": [], "pool": [], "dask": []}
            for number in range(options.passes):
                frames, shown = {}, []
                for mode, how in (("serial", {"workers": 1}),
                                  ("pool", {"workers": options.workers}),
                                  ("dask", {"client": client})):  # fmt: skip
                    pids = worker_pids(mode, client, options.workers)
                    before = cpu_seconds(pids)
                    seconds, frames[mode] = timed(items, **how)
                    cpu[mode].append((cpu_seconds(pids) - before) / len(items) * 1e3)
                    rates[mode].append(len(items) / seconds)
                    busy = frames[mode]["time_total"].sum() / seconds
                    rate = rates[mode][-1]
                    shown.append(f"{mode} {rate:5.1f}/s ({cpu[mode][-1]:.0f} ms CPU/item, "
                                 f"x{busy:.2f})")  # fmt: skip
                same = all(without_timings(frames["serial"]).equals(without_timings(f))
                           for f in frames.values())  # fmt: skip
                print(f"pass {number + 1}: {'  '.join(shown)}  identical: {same}  "
                      f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    serial_rate = statistics.median(rates["serial"])
    for mode in ("pool", "dask"):
        ratios = [r / s for r, s in zip(rates[mode], rates["serial"], strict=True)]
        work = statistics.median(cpu[mode]) / statistics.median(cpu["serial"])
        print(f"{mode} / serial: median {statistics.median(rates[mode]) / serial_rate:.2f}x "
              f"(per pass: {', '.join(f'{r:.2f}' for r in ratios)}); "
              f"CPU per item {work:.2f}x serial's")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
