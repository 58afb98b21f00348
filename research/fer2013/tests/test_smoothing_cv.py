"""research/fer2013/smoothing_cv.py: a sigma that only wins by luck scores lower on the held-out half."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from research_support import load_script

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "research" / "fer2013" / "smoothing_cv.py"


def test_luck_in_the_choice_is_not_counted() -> None:
    cv = load_script("smoothing_cv")
    rng = np.random.default_rng(1)
    # Eight sigmas that are all 70% accurate in truth: the in-sample best is above 70% by luck alone.
    correct = {float(s): rng.random(3000) < 0.7 for s in range(8)}
    in_sample = max(c.mean() for c in correct.values())
    held_out = cv.cross_validated_choice(correct)
    assert in_sample > 0.705 and abs(held_out - 0.7) < 0.004 and held_out < in_sample - 0.005
    # A sigma that is really better keeps its lead when chosen on the other half.
    correct[3.0] = rng.random(3000) < 0.8
    assert abs(cv.cross_validated_choice(correct) - correct[3.0].mean()) < 0.01

