"""research/fer2013/keep_teacher.py: finished fold teachers, kept in the repository, still serve a
--cross-fit student after their run folders are gone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from research_support import load_script

pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")


def _train(*args: object) -> str:
    from click.testing import CliRunner

    from edgeemo.cli import cli

    result = CliRunner().invoke(cli, ["train", *map(str, args)])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_kept_fold_teachers_serve_a_cross_fit_student_without_their_run_folders(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edgeemo.data import load_split
    from edgeemo.data.demo import write_demo_dataset
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.training.distill import teacher_probabilities

    keep_teacher = load_script("keep_teacher")
    demo = write_demo_dataset(tmp_path / "data", train_per_class=20, test_per_class=5)
    quick = ("--data", demo, "--epochs", "1", "--batch-size", "32", "--no-reestimate-bn", "--split-seed", "0")
    runs = [tmp_path / "runs" / f"fold{fold}" for fold in (0, 1)]
    for fold, run in enumerate(runs):
        _train(*quick, "--out", run, "--folds", "2", "--holdout-fold", fold, "--seed", fold)

    # A run still training is refused with one line, and nothing is written.
    unfinished = tmp_path / "runs" / "unfinished"
    shutil.copytree(runs[0], unfinished)
    config = json.loads((unfinished / "config.json").read_text())
    (unfinished / "config.json").write_text(json.dumps({**config, "epochs": 3}))
    out = tmp_path / "teachers"
    capsys.readouterr()
    assert keep_teacher.main([str(runs[1]), str(unfinished), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "expected a finished training run" in err and "1 of 3 epochs done" in err
    assert not out.exists()

    assert keep_teacher.main([*map(str, runs), "--out", str(out)]) == 0
    faces = load_split(demo, "train", PreprocessSpec(), progress=False).images
    for run in runs:
        kept = out / run.name
        assert (kept / "best.keras").stat().st_size < (run / "best.keras").stat().st_size  # no optimizer state
        for name in ("config.json", "spec.json", "state.json", "history.json"):
            assert (kept / name).read_bytes() == (run / name).read_bytes()
        np.testing.assert_array_equal(teacher_probabilities([str(kept / "best.keras")], faces, PreprocessSpec(), 7),
                                      teacher_probabilities([str(run / "best.keras")], faces, PreprocessSpec(), 7))

    # The machine that trained them is gone; the student learns from the kept copies alone.
    shutil.rmtree(tmp_path / "runs")
    stdout = _train(*quick, "--out", tmp_path / "student", "--seed", "2", "--cross-fit",
                    "--teacher", out / "fold0" / "best.keras", "--teacher", out / "fold1" / "best.keras")
    assert "each image scored by the teachers that never trained on it" in stdout
