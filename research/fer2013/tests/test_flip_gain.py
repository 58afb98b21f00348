"""research/fer2013/flip_gain.py: the gain is per face on the same faces, and only the faces that change add to its error."""

from __future__ import annotations

import math

import numpy as np
import pytest
from research_support import load_script


def test_gain_and_its_standard_error_come_from_the_faces_that_change() -> None:
    flip = load_script("flip_gain")
    plain = np.array([1, 1, 0, 0, 1, 0, 1, 0, 1, 1], bool)
    # Two faces turn right, one turns wrong: +1 face in 10.
    averaged = plain.copy()
    averaged[[2, 3]] = True
    averaged[0] = False
    gain, standard_error = flip.paired_gain(plain, averaged)
    assert gain == pytest.approx(0.1)
    diff = np.array([-1, 0, 1, 1, 0, 0, 0, 0, 0, 0], float)
    assert standard_error == pytest.approx(diff.std(ddof=1) / math.sqrt(10))
    # When no face changes there is no gain and no error.
    assert flip.paired_gain(plain, plain) == (0.0, 0.0)
