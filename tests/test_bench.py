"""``python -m bench`` runs end to end on one cheap scenario (no timing asserts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _paths import FIXTURES, REPO


def test_quick_bench_of_module_start_prints_ratios_and_writes_json(tmp_path: Path) -> None:
    if not (FIXTURES / "openvino-road-segmentation-adas").is_dir():
        pytest.skip(f"fixture mirror not found at {FIXTURES} (set WASINN_MIRROR)")
    out = tmp_path / "bench.json"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "start", "--json", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| c module start road-seg.wasm" in done.stdout
    assert "| disk cache |" in done.stdout and "| compile (cold) |" in done.stdout
    report = json.loads(out.read_text())
    assert report["meta"]["quick"] and report["meta"]["only"] == ["start"]
    cases = {row["case"]: row for row in report["rows"]}
    assert {"compile (cold)", "disk cache", "memory cache", "run to exit (cached)"} <= set(cases)
    assert all(row["ratio"] > 0 for row in report["rows"] if row["baseline"])
    assert all(row["p10"] <= row["median"] <= row["p90"] for row in report["rows"])
    assert [g["goal"] for g in report["goals"]] == [
        "cached module start + instantiate (road-seg run to exit)"
    ]


def test_an_unknown_scenario_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "nope"], cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "invalid choice: 'nope'" in done.stderr
