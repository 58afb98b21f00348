"""One frame through the stages: detect -> crop/align -> classify (one batch) -> track/smooth.

Each stage is timed; the frame loop adds decode (from the capture thread) and publish.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeemo.preprocess import PreprocessSpec
from edgeemo.runtime.base import Runtime
from edgeemo.vision.align import crop_faces
from edgeemo.vision.base import Detection, FaceDetector
from edgeemo.vision.schedule import DetectionSchedule
from edgeemo.vision.tracking import IoUTracker

if TYPE_CHECKING:
    from edgeemo.apps.base import AppEvent
    from edgeemo.runtime.choose import ModelChoice

__all__ = ["FaceResult", "FrameResult", "Pipeline"]

# Batch sizes the classifier is resized to; padding to these avoids re-allocating the
# interpreter every time the number of faces changes by one.
BATCH_BUCKETS = (1, 2, 4, 8, 16)


@dataclass
class FaceResult:
    id: int
    box: list[float]  # x1, y1, x2, y2 in frame pixels
    det_score: float
    label: str  # smoothed, with hysteresis
    score: float  # smoothed probability of `label`
    probs: dict[str, float]  # smoothed
    raw_label: str  # this frame's argmax, before smoothing

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "box": [round(v, 1) for v in self.box],
            "det_score": round(self.det_score, 4),
            "label": self.label,
            "score": round(self.score, 4),
            "raw_label": self.raw_label,
            "probs": {k: round(v, 4) for k, v in self.probs.items()},
        }


@dataclass
class FrameResult:
    index: int
    wall_time: float
    width: int
    height: int
    faces: list[FaceResult]
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    # Filled by the application layer (edgeemo.apps) after tracking: each enabled app's state
    # (None: nothing to report), the apps whose state changed, and this frame's events.
    apps: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    changed_apps: set[str] = field(default_factory=set)
    events: list[AppEvent] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ts": round(self.wall_time, 3),
            "frame": self.index,
            "size": [self.width, self.height],
            "faces": [f.to_json() for f in self.faces],
        }
        out.update(self.apps)
        if self.events:
            out["events"] = [e.to_json() for e in self.events]
        out["timings_ms"] = {k: round(v * 1000, 3) for k, v in self.timings.items()}
        return out


class Pipeline:
    def __init__(
        self,
        detector: FaceDetector,
        runtime: Runtime,
        spec: PreprocessSpec,
        labels: list[str],
        tracker: IoUTracker | None = None,
        *,
        max_faces: int = 8,
        min_face_px: int = 16,
        flip_average: bool = False,
        model_choice: ModelChoice | None = None,
        schedule: DetectionSchedule | None = None,
    ) -> None:
        self.detector = detector
        self.model_choice = model_choice  # which bundle model `runtime` is, and why
        self.runtime = runtime
        self.spec = spec
        self.labels = list(labels)
        self.tracker = tracker or IoUTracker()
        self.max_faces = max_faces
        self.min_face_px = min_face_px
        self.flip_average = flip_average
        # When the detector runs and where; None: the whole frame, every frame.
        self.schedule = schedule or DetectionSchedule("every_frame")

    def warm_up(self, width: int = 640, height: int = 480, runs: int = 3) -> None:
        """Run every stage on a blank frame and every batch size the classifier may see, so the
        first real frame (and READY=1) does not pay for allocation and XNNPACK packing."""
        frame = np.zeros((height, width, 3), np.uint8)
        for _ in range(runs):
            self.detector.detect(frame)
        probe = Detection(box=np.array([0, 0, width / 4, height / 4], np.float32), score=1.0,
                          keypoints=np.array([[width / 16, height / 12], [width / 8, height / 12]], np.float32))
        crop_faces(frame, [probe], self.spec)
        for n in BATCH_BUCKETS:
            if n > max(1, self.max_faces) and n != 1:
                break
            self._predict(np.zeros((n, *self.spec.input_shape), np.float32))
        self._predict(np.zeros((1, *self.spec.input_shape), np.float32))

    def _predict(self, batch: np.ndarray) -> np.ndarray:
        # With flip averaging the runtime sees 2x the bucket: still a fixed set of batch sizes.
        return self.runtime.predict_proba(batch, flip_average=self.flip_average)

    def _classify(self, pixels: np.ndarray) -> np.ndarray:
        n = len(pixels)
        bucket = next((b for b in BATCH_BUCKETS if b >= n), n)
        batch = self.spec.normalize(pixels)
        if bucket != n:
            pad = np.zeros((bucket - n, *batch.shape[1:]), batch.dtype)
            batch = np.concatenate([batch, pad])
        return self._predict(batch)[:n]

    def process(self, image: np.ndarray, *, index: int = 0, wall_time: float | None = None) -> FrameResult:
        t0 = time.perf_counter()
        dets, _ = self.schedule.detections(self.detector.detect, image, self.tracker.tracks)
        dets = [d for d in dets if min(d.width, d.height) >= self.min_face_px][: self.max_faces]
        t1 = time.perf_counter()
        pixels = crop_faces(image, dets, self.spec)
        t2 = time.perf_counter()
        probs = self._classify(pixels) if len(dets) else np.zeros((0, len(self.labels)), np.float32)
        t3 = time.perf_counter()
        raw = probs.argmax(axis=1) if len(dets) else []
        tracks = self.tracker.update(dets, probs)
        self.schedule.observe(tracks, dets)
        faces = [
            FaceResult(
                id=t.id,
                box=[float(v) for v in t.box],
                det_score=float(t.det_score),
                label=self.labels[t.label],
                score=t.confidence,
                probs={lab: float(p) for lab, p in zip(self.labels, t.probs, strict=True)},
                raw_label=self.labels[int(r)],
            )
            for t, r in zip(tracks, raw, strict=True)
        ]
        t4 = time.perf_counter()
        return FrameResult(
            index=index,
            wall_time=time.time() if wall_time is None else wall_time,
            width=int(image.shape[1]),
            height=int(image.shape[0]),
            faces=faces,
            timings={"detect": t1 - t0, "align": t2 - t1, "classify": t3 - t2, "track": t4 - t3},
        )

    def close(self) -> None:
        self.detector.close()
        self.runtime.close()
