"""Vision: face detectors (BlazeFace, Haar, YuNet, fake), crop + align, tracking + smoothing."""

from __future__ import annotations

from edgeemo.vision.align import crop_faces
from edgeemo.vision.base import DETECTORS, Detection, FaceDetector, open_detector
from edgeemo.vision.tracking import FaceTrack, IoUTracker, iou

__all__ = [
    "DETECTORS",
    "Detection",
    "FaceDetector",
    "FaceTrack",
    "IoUTracker",
    "crop_faces",
    "iou",
    "open_detector",
]
