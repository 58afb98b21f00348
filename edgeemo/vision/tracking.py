"""Per-face IoU tracking with stable ids, and label smoothing (EMA + hysteresis) per track.

Smoothing lives on the track so each face keeps its own history; hysteresis stops a label from
flickering between two classes whose probabilities are close.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from edgeemo.vision.base import Detection
from edgeemo.vision.nms import box_iou

__all__ = ["FaceTrack", "IoUTracker", "iou"]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float(box_iou(np.asarray(a, np.float32), np.asarray(b, np.float32)[None])[0])


@dataclass
class FaceTrack:
    id: int
    box: np.ndarray
    det_score: float
    probs: np.ndarray  # smoothed probabilities
    label: int  # index of the label shown, after hysteresis
    hits: int = 1
    missed: int = 0
    _pending: int = field(default=-1, repr=False)
    _pending_count: int = field(default=0, repr=False)

    @property
    def confidence(self) -> float:
        return float(self.probs[self.label])


class IoUTracker:
    """Greedy IoU matching of this frame's detections to live tracks.

    alpha: EMA weight of the newest probabilities (1.0 = no smoothing).
    margin/hold: a new label replaces the shown one only when its smoothed probability beats the
    shown label's by `margin` for `hold` consecutive frames.
    """

    def __init__(
        self,
        *,
        iou_threshold: float = 0.3,
        max_missed: int = 10,
        alpha: float = 0.4,
        margin: float = 0.1,
        hold: int = 2,
    ) -> None:
        self.iou_threshold = iou_threshold
        self.max_missed = max_missed
        self.alpha = alpha
        self.margin = margin
        self.hold = hold
        self.tracks: list[FaceTrack] = []
        self._ids = itertools.count(1)

    def reset(self) -> None:
        self.tracks = []

    def update(self, detections: list[Detection], probs: np.ndarray) -> list[FaceTrack]:
        """Tracks seen in this frame, in the order of `detections`."""
        matched: dict[int, FaceTrack] = {}
        if self.tracks and detections:
            tb = np.stack([t.box for t in self.tracks]).astype(np.float32)
            pairs: list[tuple[float, int, int]] = []  # (IoU, track index, detection index)
            for di, d in enumerate(detections):
                ious = box_iou(np.asarray(d.box, np.float32), tb)
                pairs.extend((float(v), ti, di) for ti, v in enumerate(ious) if v >= self.iou_threshold)
            used_t: set[int] = set()
            for _, ti, di in sorted(pairs, reverse=True):
                if ti in used_t or di in matched:
                    continue
                used_t.add(ti)
                matched[di] = self.tracks[ti]
        seen = []
        for di, d in enumerate(detections):
            p = np.asarray(probs[di], np.float32)
            track = matched.get(di)
            if track is None:
                track = FaceTrack(
                    id=next(self._ids), box=np.asarray(d.box, np.float32), det_score=d.score,
                    probs=p.copy(), label=int(np.argmax(p)),
                )
                self.tracks.append(track)
            else:
                track.box = np.asarray(d.box, np.float32)
                track.det_score = d.score
                track.hits += 1
                track.missed = 0
                track.probs = self.alpha * p + (1.0 - self.alpha) * track.probs
                self._hysteresis(track)
            seen.append(track)
        seen_ids = {t.id for t in seen}
        for t in self.tracks:
            if t.id not in seen_ids:
                t.missed += 1
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        return seen

    def _hysteresis(self, track: FaceTrack) -> None:
        best = int(np.argmax(track.probs))
        if best == track.label or track.probs[best] < track.probs[track.label] + self.margin:
            track._pending, track._pending_count = -1, 0
            return
        if best == track._pending:
            track._pending_count += 1
        else:
            track._pending, track._pending_count = best, 1
        if track._pending_count >= self.hold:
            track.label = best
            track._pending, track._pending_count = -1, 0
