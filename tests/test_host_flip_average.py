"""`edgeemo quantize --flip-average`: the bundle's flip averaging, decided as the reference model build decides it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeemo.cli import cli
from edgeemo.evaluation.flip_average import FLIP_MIN_GAIN_PP, flip_choice_from_grids, recorded_flip_choice

PLAIN = {0.0: 0.700, 0.4: 0.702, 0.5: 0.701}


def test_flip_averaging_ships_only_when_it_gains_enough() -> None:
    gains = flip_choice_from_grids(PLAIN, {0.0: 0.703, 0.4: 0.700, 0.5: 0.703})
    assert gains.flip_average is (FLIP_MIN_GAIN_PP <= 100 * (0.703 - 0.702))  # 0.1 pp: not enough
    pays = flip_choice_from_grids(PLAIN, {0.0: 0.705, 0.4: 0.706, 0.5: 0.706})
    assert pays.flip_average and pays.sigma_flip == 0.4 and pays.smoothing_sigma == 0.4  # a tie: the least blur
    assert not gains.flip_average and gains.smoothing_sigma == 0.4 == gains.sigma_plain


def test_recorded_choice_reads_the_grids_of_a_training_run(tmp_path: Path) -> None:
    assert recorded_flip_choice(tmp_path / "best.keras") is None
    (tmp_path / "state.json").write_text(json.dumps({"epochs_done": 3}))
    assert recorded_flip_choice(tmp_path / "best.keras") is None
    (tmp_path / "state.json").write_text(json.dumps({"smoothing_val_accuracy": {"0.0": 0.5, "0.5": 0.52},
                                                     "smoothing_val_accuracy_flip_average": {"0.0": 0.53, "0.5": 0.51}}))
    choice = recorded_flip_choice(tmp_path / "best.keras")
    assert choice is not None and choice.flip_average and choice.smoothing_sigma == 0.0
    assert choice.accuracy_plain == 0.52 and choice.accuracy_flip == 0.53


@pytest.mark.parametrize(("mode", "grids", "expected", "sigma"), [
    ("auto", True, True, 0.5), ("auto", False, False, 0.0), ("on", False, True, 0.0), ("off", True, False, 0.0)])
def test_quantize_writes_the_chosen_flip_averaging_into_the_bundle(
        tiny_artifacts: dict[str, Path], demo_root: Path, tmp_path: Path, mode: str, grids: bool, expected: bool,
        sigma: float) -> None:
    model_dir = tmp_path / "run"
    model_dir.mkdir()
    shutil.copy2(tiny_artifacts["keras"], model_dir / "best.keras")
    shutil.copy2(tiny_artifacts["keras"].parent / "spec.json", model_dir / "spec.json")
    if grids:
        (model_dir / "state.json").write_text(json.dumps({
            "smoothing_val_accuracy": {"0.0": 0.60, "0.5": 0.59},
            "smoothing_val_accuracy_flip_average": {"0.0": 0.61, "0.5": 0.63}}))
    result = CliRunner().invoke(cli, ["quantize", str(model_dir / "best.keras"), "--calib", str(demo_root),
                                      "--out", str(tmp_path / "q"), "--formats", "tflite", "--precisions", "int8",
                                      "--calib-samples", "16", "--no-detector", "--flip-average", mode])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "q" / "bundle" / "manifest.json").read_text())
    assert manifest["flip_average"] is expected
    assert manifest["preprocess"]["smoothing_sigma"] == sigma
    assert f"flip averaging {'on' if expected else 'off'}" in result.stdout
