"""research/fer2013/teacher_ensemble.py: real runs scored on their shared validation split, bad input refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "teacher_ensemble.py"


def _script(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=600)


def test_scores_every_combination_as_distillation_would(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
    from click.testing import CliRunner

    from edgeemo.cli import cli
    from edgeemo.data import load_split, stratified_split
    from edgeemo.data.demo import write_demo_dataset
    from edgeemo.preprocess import PreprocessSpec
    from edgeemo.runtime.keras_rt import KerasRuntime

    data = write_demo_dataset(tmp_path / "data", train_per_class=30, test_per_class=5)
    runs = [tmp_path / f"seed{seed}" for seed in (0, 1)]
    for seed, run in enumerate(runs):
        result = CliRunner().invoke(cli, ["train", "--data", str(data), "--epochs", "1", "--batch-size", "32", "--out", str(run),
                                          "--seed", str(seed), "--split-seed", "0", "--no-tune-smoothing", "--no-reestimate-bn"])
        assert result.exit_code == 0, result.stderr
    proc = _script(*runs, "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    (written,) = (tmp_path / "out").glob("*.json")
    result = json.loads(written.read_text())
    assert [sorted(e["runs"]) for e in result["ensembles"]][-1] == ["seed0", "seed1"] and len(result["ensembles"]) == 3

    # The same numbers, computed here from the models and the validation carve-out directly.
    images = load_split(data, "train", PreprocessSpec(), progress=False)
    _, val_idx = stratified_split(images.labels, 0.1, 0)
    probs = {}
    for run in runs:
        with KerasRuntime(run / "best.keras") as rt:
            probs[run.name] = rt.predict_pixels(images.images[val_idx], PreprocessSpec(), flip_average=True)
    labels = images.labels[val_idx]
    assert result["validation_images"] == len(labels)
    for entry in result["ensembles"]:
        expected = (sum(probs[name] for name in entry["runs"]).argmax(1) == labels).mean()
        assert entry["accuracy"] == pytest.approx(float(expected), abs=1e-9), entry
    assert "2 run(s):" in proc.stdout


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    def fake_run(name: str, split_seed: int) -> Path:
        run = tmp_path / name
        run.mkdir()
        (run / "best.keras").write_bytes(b"")
        (run / "spec.json").write_text("{}")
        (run / "config.json").write_text(json.dumps({"data": str(tmp_path), "split_seed": split_seed}))
        return run

    a, b, broken = fake_run("a", 0), fake_run("b", 1), fake_run("broken", 0)
    (broken / "config.json").write_text("{half")
    cases = {
        (a,): "expected 2 to 12 run folders (every combination is scored), received 1",
        (a, tmp_path): f"expected an `edgeemo train` folder with best.keras, spec.json, config.json, received {tmp_path} without",
        (a, broken): "expected each run's config.json to hold a JSON object, received",
        (a, b): "expected every run to share a's validation split {'split_seed': 0}, received b with {'split_seed': 1}",
    }
    for args, message in cases.items():
        proc = _script(*args, "--out", tmp_path / "out")
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
    assert not (tmp_path / "out").exists()
