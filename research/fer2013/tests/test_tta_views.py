"""research/fer2013/tta_views.py: the views are the transforms they are named for, and each is scored on top of the shipped pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from research_support import load_script

pytest.importorskip("cv2", reason="needs OpenCV")

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "research" / "fer2013" / "tta_views.py"


def test_views_move_the_face_as_named() -> None:
    tta = load_script("tta_views")
    faces = np.zeros((1, 48, 48, 1), np.uint8)
    faces[0, 20, 30] = 255
    moved = tta.warp(faces, *tta.VIEWS["shift x+2"])
    assert moved[0, 20, 32, 0] == 255 and moved[0, 20, 30, 0] == 0
    moved = tta.warp(faces, *tta.VIEWS["shift y-1"])
    assert moved[0, 19, 30, 0] == 255
    assert np.array_equal(tta.warp(faces, 0, 1, 0, 0), faces)


def test_an_extra_view_is_scored_on_top_of_the_face_and_its_mirror() -> None:
    tta = load_script("tta_views")
    labels = np.array([0, 1])
    confident_wrong = np.array([[0.4, 0.6], [0.6, 0.4]])
    strongly_right = np.array([[0.99, 0.01], [0.01, 0.99]])
    probs = {"face": confident_wrong, "face mirrored": confident_wrong}
    for view in tta.ONE_PIXEL_SHIFTS:
        probs[view] = probs[f"{view} mirrored"] = confident_wrong
    probs["shift x+1"] = probs["shift x+1 mirrored"] = strongly_right
    scores = tta.accuracy_by_views(probs, labels)
    assert scores["as shipped"] == 0.0
    assert scores["+ shift x+1"] == 1.0 and scores["+ shift y+1"] == 0.0
    # Diluted by the other views but still ahead: 2 x 0.99 + 8 x 0.4 = 5.18 against 2 x 0.01 + 8 x 0.6 = 4.82.
    assert scores["+ all four 1 px shifts"] == 1.0
    assert "+ zoom in 5%" not in scores  # only the views that were scored

