"""benchmarks/augment_speed.py: both warps timed on the same images, and bad arguments refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "augment_speed.py"


def test_times_both_warps_side_by_side(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--images", "140", "--repeats", "2", "--batch-size", "32",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300, env=_env_without_dataset())
    assert proc.returncode == 0, proc.stderr
    (written,) = tmp_path.glob("*.json")
    result = json.loads(written.read_text())
    assert result["source"] == "generated faces" and result["images_per_pass"] == 128  # 4 full batches of 32
    assert {w: len(s) for w, s in result["seconds"].items()} == {"single": 2, "chained": 2}
    assert result["chained_over_single_time"] > 0 and "chained takes" in proc.stdout


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--images", "10", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "expected --images of at least --batch-size (64) and --repeats of at least 1, received 10 and 6"]
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def _env_without_dataset() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "EDGEEMO_FER2013"}
