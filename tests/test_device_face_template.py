"""The face template: learnt from training faces with the real BlazeFace, and the device crop that
puts the detector's box where training faces had it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeemo.preprocess import PreprocessSpec
from edgeemo.vision.align import crop_face, crop_region
from edgeemo.vision.base import Detection
from tests.device_support import hopper_face

cv2 = pytest.importorskip("cv2", reason="needs OpenCV (device extra)")


def _detection(box: list[float], roll_deg: float = 0.0) -> Detection:
    x1, y1, x2, y2 = box
    cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 3, (x2 - x1) / 4
    dx, dy = half * math.cos(math.radians(roll_deg)), half * math.sin(math.radians(roll_deg))
    eyes = np.array([[cx - dx, cy - dy], [cx + dx, cy + dy]], np.float32)
    return Detection(box=np.array(box, np.float32), score=0.9, keypoints=eyes)


def test_a_centred_template_frames_the_face_as_the_margin_does() -> None:
    margin = 0.1
    inner = margin / (1 + 2 * margin)
    det = _detection([100.0, 80.0, 200.0, 180.0])
    by_margin = crop_region(det, PreprocessSpec(crop_margin=margin))
    by_template = crop_region(det, PreprocessSpec(face_template=(inner, inner, 1 - inner, 1 - inner)))
    assert np.allclose(by_margin, by_template, atol=1e-6)


@pytest.mark.parametrize("roll", [0.0, 30.0])
def test_the_template_places_the_box_where_it_sat_in_training(roll: float) -> None:
    """A box that sat low in the training frame (more forehead, less chin) moves the crop up, along
    the face's own axis when the head is rolled."""
    det = _detection([100.0, 80.0, 200.0, 180.0], roll)
    cx, cy, w, h, angle = crop_region(det, PreprocessSpec(face_template=(0.1, 0.2, 0.9, 1.0)))
    assert angle == pytest.approx(roll, abs=1e-4)
    assert w == pytest.approx(125.0) and h == pytest.approx(125.0)  # the box is 0.8 of the frame
    shift = 0.1 * 125.0  # the box centre sits 0.1 of the frame below the frame centre
    a = math.radians(roll)
    assert (cx, cy) == pytest.approx((150.0 + math.sin(a) * shift, 130.0 - math.cos(a) * shift), abs=1e-4)


def test_learnt_on_real_faces_the_template_reproduces_their_framing() -> None:
    """Training faces cut from the sample portrait with a known framing (the detector's box
    enlarged and set low in the frame, jittered a little): the learnt template puts the box back
    where it was, and the device crop of the full photo covers the same frame."""
    from edgeemo.bundle import default_bundle_path, load_bundle
    from edgeemo.vision.blazeface import BlazeFaceDetector
    from edgeemo.vision.template import learn_face_template

    path = default_bundle_path()
    if path is None:
        pytest.skip("this installation ships no default bundle")
    photo = cv2.copyMakeBorder(hopper_face(), 100, 100, 100, 100, cv2.BORDER_REPLICATE)
    with BlazeFaceDetector(load_bundle(path).detector_path) as det:
        found = det.detect(photo)[0]
        x1, y1, x2, y2 = (float(v) for v in found.box)
        side = (x2 - x1) / 0.8
        fx, fy = (x1 + x2) / 2 - side / 2, (y1 + y2) / 2 - 0.6 * side  # box centre 0.1 below the frame's
        rng = np.random.default_rng(0)
        faces = []
        for _ in range(12):
            jx, jy, js = rng.normal(0, 0.01 * side, 2).tolist() + [rng.normal(1, 0.01)]
            m = np.float32([[48 / (side * js), 0, -(fx + jx) * 48 / (side * js)], [0, 48 / (side * js), -(fy + jy) * 48 / (side * js)]])
            face = cv2.warpAffine(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY), m, (48, 48), flags=cv2.INTER_LINEAR)
            faces.append(face[..., None])
        template = learn_face_template(np.stack(faces), det)
        expected = ((x1 - fx) / side, (y1 - fy) / side, (x2 - fx) / side, (y2 - fy) / side)
        assert np.allclose(template, expected, atol=0.04), (template, expected)
        cx, cy, w, _, _ = crop_region(found, PreprocessSpec(face_template=template, align=False))
        assert abs(cx - (fx + side / 2)) < 0.04 * side and abs(cy - (fy + side / 2)) < 0.04 * side
        assert w == pytest.approx(side, rel=0.06)
        assert crop_face(photo, found, PreprocessSpec(face_template=template)).shape[:2] == (96, 96)
