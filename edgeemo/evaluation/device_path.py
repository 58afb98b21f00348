"""Photos of any size through the device's own face path, for `edgeemo evaluate --detect`.

The detector the device would use finds the faces, the largest one is kept (one face per photo),
and it is aligned and cropped exactly as the pipeline does (edgeemo.vision.align with the bundle's
PreprocessSpec). What comes out is the crop the device would classify; a photo where no face is
found gives None and is scored as wrong.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import numpy as np

from edgeemo.daemon.config import DetectorConfig
from edgeemo.preprocess import PreprocessSpec
from edgeemo.vision.align import crop_faces
from edgeemo.vision.base import FaceDetector, open_detector

__all__ = ["DeviceFaceCropper"]


class DeviceFaceCropper:
    """image (BGR, any size) -> uint8 HxWxC face crop at the model size, or None without a face."""

    def __init__(self, detector: FaceDetector, spec: PreprocessSpec, *, min_face_px: int | None = None) -> None:
        self.detector = detector
        self.spec = spec
        # The daemon's own defaults, so this measures what a device with a default config does.
        self.min_face_px = DetectorConfig().min_face_px if min_face_px is None else min_face_px
        self.faces_found = 0
        self.photos = 0

    @classmethod
    def open(cls, spec: PreprocessSpec, *, detector_model: Path | None, kind: str = "auto",
             threads: int = 1) -> DeviceFaceCropper:
        defaults = DetectorConfig()
        detector = open_detector(kind, model_path=detector_model, min_score=defaults.min_score,
                                 max_faces=defaults.max_faces, threads=threads, detect_width=defaults.detect_width)
        return cls(detector, spec)

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        self.photos += 1
        faces = [d for d in self.detector.detect(image) if min(d.width, d.height) >= self.min_face_px]
        if not faces:
            return None
        self.faces_found += 1
        largest = max(faces, key=lambda d: d.width * d.height)
        return crop_faces(image, [largest], self.spec)[0]

    @property
    def hit_rate(self) -> float:
        return self.faces_found / self.photos if self.photos else 0.0

    def close(self) -> None:
        self.detector.close()

    def __enter__(self) -> DeviceFaceCropper:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
