"""Learn where the face detector's box sits on the training faces: the PreprocessSpec's face template.

Training sets such as FER-2013 come as faces already cropped by someone else's framing. A device
crops around its own detector's box, so the classifier sees faces framed differently from the
ones it learnt from unless the crop reproduces that framing. Running the device's detector on the
training faces themselves (upscaled, with a grey border so the whole face fits in the detector's
view) measures the framing: the box's median position, as fractions of the training frame.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgeemo.errors import DataError
from edgeemo.vision.base import FaceDetector

__all__ = ["MIN_HIT_RATE", "learn_face_template"]

DETECT_SIDE = 192  # training faces are upscaled to this before detection (BlazeFace sees 128x128)
BORDER = 0.5  # grey border on each side, as a share of the upscaled face
MIN_HIT_RATE = 0.5  # below this share of faces found, the faces are not the kind the detector knows


def learn_face_template(faces: np.ndarray, detector: FaceDetector,
                        progress: Callable[[int, int], None] | None = None) -> tuple[float, float, float, float]:
    """faces: uint8 NxHxWxC (or NxHxW) training faces at the model size -> the detector box's
    median (x1, y1, x2, y2) as fractions of the face frame."""
    import cv2

    if faces.ndim == 4 and faces.shape[3] == 1:
        faces = faces[..., 0]
    if len(faces) == 0:
        raise DataError("expected training faces to learn the face template from, received none")
    height, width = faces.shape[1:3]
    scale = DETECT_SIDE / max(height, width)
    pad = round(BORDER * DETECT_SIDE)
    boxes = []
    for i, face in enumerate(faces):
        big = cv2.resize(face, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_CUBIC)
        if big.ndim == 2:
            big = cv2.cvtColor(big, cv2.COLOR_GRAY2BGR)
        big = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        found = detector.detect(big)
        if found:
            x1, y1, x2, y2 = max(found, key=lambda d: d.width * d.height).box
            boxes.append([(x1 - pad) / scale / width, (y1 - pad) / scale / height,
                          (x2 - pad) / scale / width, (y2 - pad) / scale / height])
        if progress is not None:
            progress(i + 1, len(faces))
    if len(boxes) < MIN_HIT_RATE * len(faces):
        raise DataError(f"expected the face detector to find faces in at least {MIN_HIT_RATE:.0%} of the training "
                        f"faces to learn a face template, received {len(boxes)} of {len(faces)}")
    x1, y1, x2, y2 = (round(float(v), 4) for v in np.median(np.array(boxes), axis=0))
    return x1, y1, x2, y2
