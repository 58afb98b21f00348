"""`edgeemo evaluate --detect`: photos of any size through the device's own face path, on the
shipped bundle (no TensorFlow needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from device_support import hopper_face

from edgeemo.bundle import default_bundle_path
from edgeemo.cli import cli
from edgeemo.evaluation.metrics import classification_metrics

cv2 = pytest.importorskip("cv2")


@pytest.fixture()
def bundle():
    path = default_bundle_path()
    if path is None:
        pytest.skip("this installation ships no default bundle")
    return path


def test_photos_without_a_face_count_as_wrong():
    probs = np.eye(3)[[0, 1, 2, 0]]
    m = classification_metrics(np.array([0, 1, 2, 0]), probs, ["a", "b", "c"], no_face=np.array([False, False, True, True]))
    assert m["accuracy"] == 0.5 and m["face_hit_rate"] == 0.5 and m["no_face_images"] == 2
    assert m["per_class_recall"] == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert np.array(m["confusion"]).sum() == 2, "only photos with a face enter the confusion matrix"
    assert m["macro_recall"] == pytest.approx(0.5)


def test_detect_scores_real_photos_of_any_size_through_the_device_path(bundle, tmp_path):
    face = hopper_face()
    root = tmp_path / "photos"
    for label, size in (("neutral", 500), ("happy", 331)):
        (root / label).mkdir(parents=True)
        # A head-and-shoulders photo of another size than the model's: the face must be found first.
        canvas = np.full((size, size, 3), 180, np.uint8)
        small = cv2.resize(face, (size // 2, size // 2))
        canvas[size // 4 : size // 4 + small.shape[0], size // 4 : size // 4 + small.shape[1]] = small
        cv2.imwrite(str(root / label / "a.jpg"), canvas)
    cv2.imwrite(str(root / "happy" / "empty.png"), np.full((240, 320, 3), 200, np.uint8))
    out = tmp_path / "eval" / "report.json"
    # No --split: a folder of class folders is its own split.
    res = CliRunner().invoke(cli, ["evaluate", str(bundle), "--data", str(root), "--detect", "--json", str(out)])
    assert res.exit_code == 0, res.output
    report = json.loads(out.read_text())
    tfl = report["artifacts"]["fer2013_reference_int8.tflite"]
    assert tfl["images"] == 3 and tfl["no_face_images"] == 1 and tfl["face_hit_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert np.array(tfl["confusion"]).sum() == 2
    assert tfl["per_class_recall"]["happy"] <= 0.5, "the photo without a face is wrong whatever the model says"
    assert any("face found in 2 of 3 photos" in n for n in report["notes"])
    assert any("flip averaging" in n for n in report["notes"]), "flip averaging as the bundle says"
    assert (out.parent / "confusion_fer2013_reference_int8.tflite.png").is_file()


def test_detect_refuses_already_cropped_csv_faces(bundle, tmp_path):
    csv = tmp_path / "fer2013.csv"
    csv.write_text("emotion,pixels,Usage\n3," + " ".join(["128"] * 2304) + ",PublicTest\n")
    res = CliRunner().invoke(cli, ["evaluate", str(bundle), "--data", str(csv), "--detect"])
    assert res.exit_code == 2
    assert "expected an image folder" in res.stderr and len(res.stderr.strip().splitlines()) == 1
