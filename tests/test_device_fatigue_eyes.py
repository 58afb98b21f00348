"""`edgeemo eyes`: the fatigue app's eye-openness measure scored on folders of eye patches.

The `-m dataset` test runs it on real open and closed eyes (CEW, 24x24; EDGEEMO_CEW_EYES points at
the folder, .ci/run sets it when ../shared/datasets/cew-eyes exists)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeemo.apps.fatigue.eyes import roc_auc
from edgeemo.cli import cli
from tests.device_support import hopper_face

cv2 = pytest.importorskip("cv2", reason="needs OpenCV (device extra)")


def test_roc_auc_counts_ties_half_and_needs_both_classes() -> None:
    from edgeemo.errors import DataError

    assert roc_auc(np.array([1, 1, 0, 0]), np.array([0.9, 0.8, 0.1, 0.2])) == 1.0
    assert roc_auc(np.array([1, 0]), np.array([0.1, 0.9])) == 0.0
    assert roc_auc(np.array([1, 0, 1, 0]), np.array([0.5, 0.5, 0.7, 0.2])) == pytest.approx(0.875)
    with pytest.raises(DataError, match="expected both classes"):
        roc_auc(np.array([1, 1]), np.array([0.1, 0.2]))


def _eye_patches(root: Path) -> None:
    """Open eyes cut from the sample portrait (tight, like CEW's) and the same patches with the
    eye painted over in the skin tone around it and a dark lash line: shut."""
    face = hopper_face()  # 280x280; eye corners near (81, 84)-(119, 83) and (168, 80)-(206, 77)
    (root / "open").mkdir(parents=True)
    (root / "closed").mkdir(parents=True)
    for i, (x, y) in enumerate([(73, 57), (76, 59), (160, 52), (163, 54)]):
        patch = np.ascontiguousarray(face[y : y + 54, x : x + 54])
        cv2.imwrite(str(root / "open" / f"p{i}.png"), patch)
        shut = patch.copy()
        skin = np.median(patch[44:].reshape(-1, 3), axis=0).astype(np.uint8)
        cv2.ellipse(shut, (27, 27), (21, 10), 0, 0, 360, skin.tolist(), -1)
        cv2.ellipse(shut, (27, 26), (19, 5), 0, 10, 170, (50, 50, 60), 2)
        cv2.imwrite(str(root / "closed" / f"p{i}.png"), shut)


def test_eyes_command_writes_metrics_and_every_score(tmp_path: Path) -> None:
    _eye_patches(tmp_path / "eyes")
    out = tmp_path / "eyes.json"
    result = CliRunner().invoke(cli, ["eyes", str(tmp_path / "eyes"), "--json", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "ROC AUC" in result.stdout and "shipped closed-eye threshold" in result.stdout
    report = json.loads(out.read_text())
    assert {"auc", "accuracy", "threshold", "open", "closed", "scores"} <= set(report)
    assert len(report["scores"]) == 8 and {s["label"] for s in report["scores"]} == {"open", "closed"}
    assert report["threshold"] == pytest.approx(0.124, abs=1e-3)
    opened = [s["openness"] for s in report["scores"] if s["label"] == "open"]
    shut = [s["openness"] for s in report["scores"] if s["label"] == "closed"]
    assert min(opened) > report["threshold"], "the portrait's open eyes read as open"
    assert max(shut) < min(opened) and report["auc"] == 1.0


def test_eyes_command_names_a_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "open").mkdir()
    result = CliRunner().invoke(cli, ["eyes", str(tmp_path)])
    assert result.exit_code == 2
    assert "closed" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.dataset
def test_cew_eyes_auc(tmp_path: Path) -> None:
    value = os.environ.get("EDGEEMO_CEW_EYES")
    if not value or not (Path(value) / "open").is_dir():
        pytest.skip("EDGEEMO_CEW_EYES is not set to a folder with open/ and closed/ eye patches")
    out = tmp_path / "cew.json"
    result = CliRunner().invoke(cli, ["eyes", value, "--json", str(out)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["open"]["n"] > 1000 and report["closed"]["n"] > 1000
    assert report["auc"] >= 0.90, f"expected ROC AUC >= 0.90 on CEW, received {report['auc']}"
    # A geometric measure: the classes differ in their medians, not only in ranks.
    assert report["open"]["median"] - report["closed"]["median"] > 0.08
