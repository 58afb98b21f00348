"""OpenCV Haar cascade: the zero-file fallback where OpenCV 4.x ships it.

OpenCV 5 (the current opencv-python-headless) removed CascadeClassifier and the bundled cascade
files; Pi OS's python3-opencv (4.x) still has both. Without them this backend says so and the
"auto" choice moves on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgeemo._lazy import require
from edgeemo.errors import InputFileNotFound, MissingDependency
from edgeemo.vision.base import Detection, FaceDetector

__all__ = ["HaarDetector"]

CASCADE = "haarcascade_frontalface_default.xml"


class HaarDetector(FaceDetector):
    key = "haar"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        min_score: float = 0.5,
        max_faces: int = 8,
        detect_width: int = 320,
        min_neighbors: int = 5,
        **_: Any,
    ) -> None:
        cv2 = require("cv2", "device", "opencv-python-headless")
        if not hasattr(cv2, "CascadeClassifier"):
            raise MissingDependency(
                f"expected OpenCV 4.x with CascadeClassifier for the Haar detector, received OpenCV "
                f"{cv2.__version__}, which removed it (use BlazeFace, or install python3-opencv 4.x)"
            )
        if model_path is None:
            data = getattr(cv2, "data", None)
            path = Path(getattr(data, "haarcascades", "")) / CASCADE
        else:
            path = Path(model_path)
        if not path.is_file():
            raise InputFileNotFound(f"expected a Haar cascade XML file, received a missing path: {path}")
        self._cv2 = cv2
        self._cascade = cv2.CascadeClassifier(str(path))
        self.max_faces = max_faces
        self.detect_width = detect_width
        self.min_neighbors = min_neighbors

    def detect(self, frame: np.ndarray) -> list[Detection]:
        cv2 = self._cv2
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        scale = min(1.0, self.detect_width / gray.shape[1])
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rects, _, weights = self._cascade.detectMultiScale3(
            gray, scaleFactor=1.1, minNeighbors=self.min_neighbors, outputRejectLevels=True
        )
        out = []
        for (x, y, w, h), wt in zip(rects, np.ravel(weights) if len(rects) else [], strict=False):
            box = np.array([x, y, x + w, y + h], np.float32) / scale
            # Cascade weights are unbounded; squash into 0..1 so scores compare across detectors.
            out.append(Detection(box=box, score=float(1.0 / (1.0 + np.exp(-float(wt))))))
        out.sort(key=lambda d: -d.score)
        return out[: self.max_faces]
