"""The validation-only probes (research/fer2013/validation_split.py's command line) refuse bad input with one line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["smoothing_cv.py", "tta_views.py", "flip_gain.py"])
def test_a_missing_model_or_dataset_is_one_line_and_exit_2(script: str, tmp_path: Path) -> None:
    missing = subprocess.run([sys.executable, str(BENCHMARKS / script), str(tmp_path / "none.keras"), "--data", str(tmp_path)],
                             capture_output=True, text=True)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        f"expected .keras models and a dataset folder with train/, received models that do not exist: {tmp_path / 'none.keras'}"]
    model = tmp_path / "model.keras"
    model.write_bytes(b"")
    no_data = subprocess.run([sys.executable, str(BENCHMARKS / script), str(model), "--data", str(tmp_path / "nowhere")],
                             capture_output=True, text=True)
    assert no_data.returncode == 2
    assert no_data.stderr.strip().splitlines() == [
        f"expected .keras models and a dataset folder with train/, received {tmp_path / 'nowhere'} without train/"]


@pytest.mark.parametrize("script", ["smoothing_cv.py", "tta_views.py", "flip_gain.py"])
def test_help_lists_the_models_and_the_options(script: str) -> None:
    shown = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert "10%, seed-0 carve-out" in shown.stdout and "--data" in shown.stdout and "--out" in shown.stdout
