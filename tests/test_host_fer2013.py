"""The dataset tier: FER-2013 loaders, a short real training run, quantize + evaluate on the test split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeemo.cli import cli
from edgeemo.data import load_split
from edgeemo.preprocess import PreprocessSpec

pytestmark = pytest.mark.dataset

TRAIN_COUNTS = {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "neutral": 4965, "sad": 4830, "surprise": 3171}
TEST_COUNTS = {"angry": 467, "disgust": 56, "fear": 496, "happy": 895, "neutral": 607, "sad": 653, "surprise": 415}


def test_loaders_match_the_published_counts(fer2013_root: Path) -> None:
    test = load_split(fer2013_root, "test", PreprocessSpec(), progress=False)
    assert test.class_counts() == TEST_COUNTS and test.skipped == 0
    train = load_split(fer2013_root, "train", PreprocessSpec(), progress=False)
    assert train.class_counts() == TRAIN_COUNTS and train.images.shape[1:] == (48, 48, 1)


@pytest.mark.slow  # two epochs on all of FER-2013's training split
def test_short_training_then_quantize_and_evaluate_on_test(fer2013_root: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow", reason="needs the host extra (tensorflow)")
    run = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--data", str(fer2013_root), "--model", "mini_xception", "--epochs", "2",
                                      "--limit-per-class", "300", "--out", str(run)])
    assert result.exit_code == 0, result.stderr
    state = json.loads((run / "state.json").read_text())
    assert state["epochs_done"] == 2 and state["best_val_accuracy"] > 1 / 7  # above chance after two epochs

    out = tmp_path / "q"
    result = CliRunner().invoke(cli, ["quantize", str(run / "best.keras"), "--calib", str(fer2013_root), "--out", str(out),
                                      "--formats", "tflite,onnx", "--precisions", "fp32,int8", "--calib-samples", "200",
                                      "--eval", str(fer2013_root), "--split", "test"])
    assert result.exit_code == 0, result.stderr
    from edgeemo.export.convert import MIN_CONFIDENT_IMAGES

    report = json.loads((out / "report.json").read_text())["artifacts"]
    for key in ("tflite-int8", "onnx-int8"):
        assert report[key]["images"] == 3589
        # Tolerance: int8 moves probabilities by at most 0.03 on average and keeps the confident decisions.
        assert report[key]["mean_abs_prob_diff"] <= 0.03, report[key]
        verification = report[key]["verification"]
        if verification["confident_images"] >= MIN_CONFIDENT_IMAGES:
            assert verification["confident_agreement"] >= 0.85, report[key]
        else:  # a two-epoch model can be sure of almost nothing; then only mean |dp| is judged
            assert verification["confident_agreement"] is None, report[key]
    assert report["tflite-fp32"]["agreement"] >= 0.999
    # BlazeFace on the calibration faces: the box sits in the upper-middle of FER-2013's frame.
    x1, y1, x2, y2 = json.loads((out / "bundle" / "manifest.json").read_text())["preprocess"]["face_template"]
    assert 0.0 < x1 < 0.2 and 0.8 < x2 < 1.0 and 0.05 < y1 < 0.3 and 0.85 < y2 < 1.1
