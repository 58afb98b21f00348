"""FakeDetector: returns boxes it was given, so tests and demos run the real pipeline without a model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeemo.vision.base import Detection, FaceDetector

__all__ = ["FakeDetector"]


class FakeDetector(FaceDetector):
    """Boxes as fixed xyxy tuples, or a callable frame -> boxes (for moving faces)."""

    key = "fake"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        boxes: Sequence[Sequence[float]] | Callable[[np.ndarray], Sequence[Sequence[float]]] = (),
        score: float = 0.99,
        max_faces: int = 8,
        **_: Any,
    ) -> None:
        self.boxes = boxes
        self.score = score
        self.max_faces = max_faces
        self.calls = 0

    def detect(self, frame: np.ndarray) -> list[Detection]:
        self.calls += 1
        boxes = self.boxes(frame) if callable(self.boxes) else self.boxes
        return [Detection(box=np.asarray(b, np.float32), score=self.score) for b in list(boxes)[: self.max_faces]]
