"""Detection off the critical path: when the face detector runs, and on which part of the frame.

Face detection is the largest stage of a frame (BlazeFace: a resize of the whole frame plus one
invoke, more than classifying a face). While every tracked face was seen in the last frame, the
detector need not look at the whole frame each time:

- "every_frame": the whole frame, every frame (for a user who wants every frame detected);
- "interval": the whole frame once every `every` frames; in between, each track's box and
  keypoints move on by the velocity measured between its last two detections;
- "roi": the whole frame once every `every` frames; in between, the detector runs on a region
  around each track only (the box grown by `roi_margin` on each side), so a face that moved is
  re-measured every frame, and one that left is noticed at once.

The whole frame is searched again as soon as a track is lost (not seen in the last frame), when
nothing is tracked, and at least every `every` frames, so a new face waits at most that long.
The same object can serve other regions of interest (landmarks) through `regions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from edgeemo.errors import ConfigError
from edgeemo.vision.base import Detection
from edgeemo.vision.tracking import FaceTrack

__all__ = ["SCHEDULES", "DetectionSchedule"]

ScheduleMode = Literal["every_frame", "interval", "roi"]
SCHEDULES: tuple[ScheduleMode, ...] = ("every_frame", "interval", "roi")


@dataclass
class _Seen:
    box: np.ndarray  # where the track is now (measured or carried)
    keypoints: np.ndarray | None
    frame: int
    velocity: np.ndarray  # box corners, pixels per frame, between measurements
    measured_box: np.ndarray  # the last box a detector run returned, and when
    measured_frame: int


class DetectionSchedule:
    """Per frame, the detections to hand the tracker: from a full-frame run, from regions around the
    tracks, or carried forward. `counts` says how often each happened."""

    def __init__(self, mode: str = "every_frame", every: int = 3, roi_margin: float = 0.5) -> None:
        if mode not in SCHEDULES:
            raise ConfigError(f"expected detector.schedule one of {', '.join(SCHEDULES)}, received {mode!r}")
        if every < 1:
            raise ConfigError(f"expected detector.every >= 1, received {every}")
        if roi_margin < 0:
            raise ConfigError(f"expected detector.roi_margin >= 0, received {roi_margin}")
        self.mode = mode
        self.every = every
        self.roi_margin = roi_margin
        self.counts = {"full": 0, "roi": 0, "carry": 0}
        self._frame = -1
        self._last_full = -(10**9)
        self._seen: dict[int, _Seen] = {}

    def reset(self) -> None:
        self._seen.clear()
        self._last_full = -(10**9)

    def detections(self, detect: Callable[[np.ndarray], list[Detection]], frame: np.ndarray,
                   tracks: Sequence[FaceTrack]) -> tuple[list[Detection], str]:
        """(detections, "full" | "roi" | "carry") for this frame, given the tracker's tracks so far."""
        self._frame += 1
        live = [t for t in tracks if t.missed == 0 and t.id in self._seen]
        lost = any(t.missed > 0 for t in tracks)
        due = self._frame - self._last_full >= self.every
        if self.mode == "every_frame" or not live or lost or due:
            self._last_full = self._frame
            return self._count("full", detect(frame))
        if self.mode == "roi":
            return self._count("roi", self.regions(detect, frame, [self._predict(t.id) for t in live]))
        return self._count("carry", [self._carry(t) for t in live])

    def observe(self, tracks: Sequence[FaceTrack], detections: Sequence[Detection]) -> None:
        """After the tracker's update: remember where each track is (same order as `detections`)
        and its velocity between the detector's measurements (carried boxes measure nothing)."""
        alive = set()
        for track, det in zip(tracks, detections, strict=True):
            alive.add(track.id)
            box = np.asarray(det.box, np.float32)
            kps = None if det.keypoints is None else np.asarray(det.keypoints, np.float32)
            before = self._seen.get(track.id)
            if before is None:
                self._seen[track.id] = _Seen(box, kps, self._frame, np.zeros(4, np.float32), box, self._frame)
            elif det.extra.get("carried"):
                before.box, before.keypoints, before.frame = box, kps, self._frame
            else:
                step = (box - before.measured_box) / np.float32(max(1, self._frame - before.measured_frame))
                # Half the newest step, half the old velocity: detector jitter does not throw boxes about.
                velocity = (step + before.velocity) / 2
                self._seen[track.id] = _Seen(box, kps, self._frame, velocity, box, self._frame)
        for tid in [t for t in self._seen if t not in alive]:
            del self._seen[tid]

    def regions(self, detect: Callable[[np.ndarray], list[Detection]], frame: np.ndarray,
                boxes: Sequence[np.ndarray]) -> list[Detection]:
        """The best detection inside each box grown by roi_margin, in frame coordinates."""
        fh, fw = frame.shape[:2]
        out: list[Detection] = []
        for box in boxes:
            x1, y1, x2, y2 = (float(v) for v in box)
            mx, my = (x2 - x1) * self.roi_margin, (y2 - y1) * self.roi_margin
            rx1, ry1 = max(0, int(x1 - mx)), max(0, int(y1 - my))
            rx2, ry2 = min(fw, int(np.ceil(x2 + mx))), min(fh, int(np.ceil(y2 + my)))
            if rx2 - rx1 < 8 or ry2 - ry1 < 8:
                continue
            found = detect(frame[ry1:ry2, rx1:rx2])
            if not found:
                continue
            best = found[0]
            shift = np.array([rx1, ry1], np.float32)
            out.append(Detection(
                box=np.asarray(best.box, np.float32) + np.tile(shift, 2), score=best.score,
                keypoints=None if best.keypoints is None else np.asarray(best.keypoints, np.float32) + shift,
                extra=dict(best.extra),
            ))
        return out

    def _predict(self, track_id: int) -> np.ndarray:
        seen = self._seen[track_id]
        return seen.box + seen.velocity * np.float32(self._frame - seen.frame)

    def _carry(self, track: FaceTrack) -> Detection:
        seen = self._seen[track.id]
        box = self._predict(track.id)
        shift = (box[:2] + box[2:] - seen.box[:2] - seen.box[2:]) / 2
        kps = None if seen.keypoints is None else seen.keypoints + shift
        return Detection(box=box, score=track.det_score, keypoints=kps, extra={"carried": True})

    def _count(self, kind: str, dets: list[Detection]) -> tuple[list[Detection], str]:
        self.counts[kind] += 1
        return dets, kind
