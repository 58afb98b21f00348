"""Crop and align faces for the classifier, following the bundle's PreprocessSpec.

Each face becomes one warpAffine: rotate so the eyes are level (when the detector gave eye
keypoints and the spec asks for alignment), frame the face as the training faces were (the
spec's face template: the detector box placed where it sits on training faces) or, for specs
without one, the box plus the spec's margin; sample at no more than twice the model size, so the
spec's own resize (INTER_AREA, as at training time) does the final anti-aliased shrink.
"""

from __future__ import annotations

import math

import numpy as np

from edgeemo.preprocess import PreprocessSpec
from edgeemo.vision.base import Detection

__all__ = ["crop_face", "crop_faces", "crop_region", "eye_angle"]

# Eye lines steeper than this are more likely a bad keypoint than a tilted head.
MAX_ROLL_DEG = 60.0


def eye_angle(eyes: np.ndarray) -> float:
    """Roll in degrees of the line through the two eyes, left-in-image eye first."""
    a, b = eyes[0], eyes[1]
    if a[0] > b[0]:
        a, b = b, a
    return math.degrees(math.atan2(float(b[1] - a[1]), float(b[0] - a[0])))


def crop_region(det: Detection, spec: PreprocessSpec) -> tuple[float, float, float, float, float]:
    """The region of the frame the model sees: centre x, y, width, height (pixels) and roll (degrees)."""
    x1, y1, x2, y2 = (float(v) for v in det.box)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    aspect = spec.width / spec.height
    angle = 0.0
    eyes = det.eyes
    if spec.align and eyes is not None:
        angle = eye_angle(eyes)
        if abs(angle) > MAX_ROLL_DEG:
            angle = 0.0
    if spec.face_template is None:
        # Keep the model's aspect ratio so the final resize does not stretch the face.
        cw = max(x2 - x1, (y2 - y1) * aspect) * (1.0 + 2.0 * spec.crop_margin)
        return cx, cy, cw, cw / aspect, angle
    tx1, ty1, tx2, ty2 = spec.face_template
    # The frame's size from the box's width and height (averaged), then the box moved to its place
    # in that frame, along the face's own axes when it is rolled.
    cw = ((x2 - x1) / (tx2 - tx1) + (y2 - y1) / (ty2 - ty1) * aspect) / 2.0
    ch = cw / aspect
    u, v = (0.5 - (tx1 + tx2) / 2.0) * cw, (0.5 - (ty1 + ty2) / 2.0) * ch
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return cx + c * u - s * v, cy + s * u + c * v, cw, ch, angle


def crop_face(frame: np.ndarray, det: Detection, spec: PreprocessSpec) -> np.ndarray:
    import cv2

    cx, cy, cw, ch, angle = crop_region(det, spec)
    out_w = max(1, min(round(cw), 2 * spec.width))
    out_h = max(1, min(round(ch), 2 * spec.height))
    scale = out_w / max(cw, 1e-6)
    m = cv2.getRotationMatrix2D((cx, cy), angle, scale)
    m[0, 2] += out_w / 2.0 - cx
    m[1, 2] += out_h / 2.0 - cy
    return cv2.warpAffine(frame, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def crop_faces(frame: np.ndarray, detections: list[Detection], spec: PreprocessSpec) -> np.ndarray:
    """All faces of one frame as one uint8 NxHxWxC batch at the model size (not yet normalised)."""
    if not detections:
        return np.zeros((0, *spec.input_shape), np.uint8)
    return np.stack([spec.to_pixels(crop_face(frame, d, spec)) for d in detections])
