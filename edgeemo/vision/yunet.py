"""OpenCV YuNet (cv2.FaceDetectorYN) with a user-supplied face_detection_yunet_*.onnx file.

Frames wider than `detect_width` are downscaled for detection only; boxes and the five
keypoints (eyes first) come back in frame pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edgeemo._lazy import require
from edgeemo.errors import ConfigError, InputFileNotFound, MissingDependency
from edgeemo.vision.base import Detection, FaceDetector

__all__ = ["YuNetDetector"]


class YuNetDetector(FaceDetector):
    key = "yunet"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        min_score: float = 0.6,
        max_faces: int = 8,
        detect_width: int = 320,
        nms_threshold: float = 0.3,
        **_: Any,
    ) -> None:
        cv2 = require("cv2", "device", "opencv-python-headless")
        if not hasattr(cv2, "FaceDetectorYN"):
            raise MissingDependency(f"expected OpenCV >= 4.5.4 with FaceDetectorYN, received {cv2.__version__}")
        if model_path is None:
            raise ConfigError("expected detector.model to name a YuNet .onnx file, received none")
        path = Path(model_path)
        if not path.is_file():
            raise InputFileNotFound(f"expected a YuNet .onnx file, received a missing path: {path}")
        self._cv2 = cv2
        self._det = cv2.FaceDetectorYN.create(str(path), "", (320, 320), min_score, nms_threshold, max_faces)
        self._size: tuple[int, int] | None = None
        self.detect_width = detect_width
        self.max_faces = max_faces

    def detect(self, frame: np.ndarray) -> list[Detection]:
        cv2 = self._cv2
        img = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        scale = min(1.0, self.detect_width / img.shape[1])
        if scale < 1.0:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        size = (img.shape[1], img.shape[0])
        if size != self._size:
            self._det.setInputSize(size)
            self._size = size
        _, faces = self._det.detect(img)
        out = []
        for row in faces if faces is not None else []:
            x, y, w, h = row[:4]
            box = np.array([x, y, x + w, y + h], np.float32) / scale
            kps = np.asarray(row[4:14], np.float32).reshape(5, 2) / scale
            out.append(Detection(box=box, score=float(row[14]), keypoints=kps))
        out.sort(key=lambda d: -d.score)
        return out[: self.max_faces]
