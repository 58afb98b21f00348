"""research/fer2013/park_run.py: an unfinished run, parked in the repository, resumes and finishes after
its run folder (and the machine it was on) is gone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from research_support import load_script

pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")


def _train(*args: object) -> str:
    from click.testing import CliRunner

    from edgeemo.cli import cli

    result = CliRunner().invoke(cli, ["train", *map(str, args)])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_parked_run_resumes_and_finishes_without_its_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from edgeemo.data.demo import write_demo_dataset

    park_run = load_script("park_run")
    demo = write_demo_dataset(tmp_path / "data", train_per_class=20, test_per_class=5)
    quick = ("--data", demo, "--epochs", "1", "--batch-size", "32", "--no-reestimate-bn", "--split-seed", "0")
    teacher, student = tmp_path / "runs" / "teacher", tmp_path / "runs" / "student"
    _train(*quick, "--out", teacher, "--seed", "0")
    _train(*quick, "--out", student, "--seed", "1", "--teacher", teacher / "best.keras")
    # The student as a kill would leave it: one of three epochs done, the blur not chosen yet.
    config = json.loads((student / "config.json").read_text())
    (student / "config.json").write_text(json.dumps({**config, "epochs": 3}))
    state = json.loads((student / "state.json").read_text())
    (student / "state.json").write_text(json.dumps({k: v for k, v in state.items() if not k.startswith("smoothing")}))
    out = tmp_path / "parked"

    # A finished run is refused with one line, and nothing is written.
    capsys.readouterr()
    assert park_run.main([str(student), str(teacher), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "expected an unfinished training run" in err and "keep_teacher.py" in err
    assert not out.exists()

    assert park_run.main([str(student), "--out", str(out)]) == 0
    assert "resumes from epoch 1" in capsys.readouterr().out
    parked = out / "student"
    assert (parked / "last.keras").read_bytes() == (student / "last.keras").read_bytes()  # optimizer state and all
    assert (parked / "best.keras").stat().st_size < (student / "best.keras").stat().st_size
    assert (parked / "teacher_probs.npy").read_bytes() == (student / "teacher_probs.npy").read_bytes()

    # The machine is gone; the parked copy, put back, trains the two epochs left and finishes the run.
    shutil.rmtree(student)
    restored = tmp_path / "runs" / "restored"
    shutil.copytree(parked, restored)
    _train("--out", restored, "--resume")
    state = json.loads((restored / "state.json").read_text())
    assert state["epochs_done"] == 3 and "smoothing_val_accuracy" in state
    assert len(json.loads((restored / "history.json").read_text())["accuracy"]) == 3
    assert park_run.problem(restored) is not None  # finished now: nothing left to park
