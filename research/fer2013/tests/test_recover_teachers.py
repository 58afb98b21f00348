"""research/fer2013/recover_teachers.py: the earlier shipped models come back from git history as teacher
runs that the trainer accepts for this project's validation split."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "research" / "fer2013" / "recover_teachers.py"


def test_rebuilds_each_shipped_model_as_a_teacher_run(tmp_path: Path) -> None:
    keras = pytest.importorskip("keras", reason="needs the host extra (tensorflow)")
    from edgeemo.preprocess import load_spec_file
    from edgeemo.training.config import TrainConfig
    from edgeemo.training.split import check_same_split

    shallow = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--is-shallow-repository"], capture_output=True, text=True)
    if shallow.returncode != 0 or shallow.stdout.strip() != "false":
        pytest.skip("needs the repository's full git history")
    proc = subprocess.run([sys.executable, str(SCRIPT), tmp_path], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["row11", "row16", "row3", "row5"]
    student = TrainConfig(data="/anywhere/fer2013", split_seed=0)
    sigmas = {}
    for run in tmp_path.iterdir():
        model = keras.models.load_model(run / "best.keras")
        assert model.input_shape[1:] == (48, 48, 1) and model.output_shape[-1] == 7
        check_same_split(run / "best.keras", student)  # raises if the run says it used another split
        assert json.loads((run / "config.json").read_text())["data"] == "fer2013"
        sigmas[run.name] = load_spec_file(run / "spec.json", strict=False)["preprocess"].smoothing_sigma
    assert sigmas == {"row3": 0.7, "row5": 0.7, "row11": 0.5, "row16": 0.5}  # as chosen on validation (EXPERIMENTS.md)
    # A student on another split would have its validation images in these teachers' training data.
    with pytest.raises(ValueError, match="validation split"):
        check_same_split(tmp_path / "row5" / "best.keras", TrainConfig(data="/anywhere/fer2013", split_seed=1))
