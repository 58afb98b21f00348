"""This driver's baseline: open-eye openness, resting mouth and neutral head pose.

Learnt from the first `calibration_s` seconds of valid frames (time, not frames), usable as a
provisional baseline after `min_calibration_s`, and learnt again when the open-eye level shifts
for a while (glasses put on or taken off, the camera moved) while the eyes are not closed.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np

from edgeemo.apps.fatigue.config import FatigueConfig

__all__ = ["Baseline", "Calibration"]


@dataclass(frozen=True)
class Baseline:
    openness: float  # typical open-eye openness (a high percentile: blinks pull the median down)
    mouth: float  # resting inner-lip gap / mouth width
    pitch: float
    yaw: float


class Calibration:
    def __init__(self, config: FatigueConfig) -> None:
        self.config = config
        self.baseline: Baseline | None = None
        self.ready = False
        self.recalibrations = 0
        self._recent: collections.deque[tuple[float, float, bool]] = collections.deque()
        self._last_check = -1e18
        self._start()

    def _start(self) -> None:
        self.valid_s = 0.0
        self._last_fit = -1e18
        self._open: list[float] = []
        self._mouth: list[float] = []
        self._pitch: list[float] = []
        self._yaw: list[float] = []
        self.ready = False

    @property
    def status(self) -> str:
        return "ready" if self.ready else "calibrating"

    def add(self, dt: float, openness: float, mouth: float | None, pose: tuple[float, float, float] | None) -> None:
        """One valid frame that covered `dt` seconds (0 for the first frame after a gap)."""
        if self.ready:
            return
        self.valid_s += dt
        self._open.append(openness)
        if mouth is not None:
            self._mouth.append(mouth)
        if pose is not None:
            self._pitch.append(pose[0])
            self._yaw.append(pose[1])
        c = self.config
        done = self.valid_s >= c.calibration_s
        # Percentiles over the samples so far: twice a second is enough, and keeps a minute at
        # 60 fps (3600 samples) cheap.
        if self.valid_s >= c.min_calibration_s and (done or self.valid_s - self._last_fit >= 0.5):
            self._last_fit = self.valid_s
            self.baseline = Baseline(
                openness=float(np.percentile(self._open, c.open_percentile)),
                mouth=float(np.median(self._mouth)) if self._mouth else 0.0,
                pitch=float(np.median(self._pitch)) if self._pitch else 0.0,
                yaw=float(np.median(self._yaw)) if self._yaw else 0.0,
            )
        if done:
            self.ready = True
            self._open, self._mouth, self._pitch, self._yaw = [], [], [], []

    def watch(self, now: float, openness: float, closed: bool) -> bool:
        """After calibration: True (and calibration restarts) when the open-eye level of the last
        `recalibrate_window_s` moved more than `recalibrate_shift` from the baseline while the
        eyes were mostly open (closed eyes are fatigue, not a new baseline)."""
        if not self.ready or self.baseline is None:
            return False
        c = self.config
        self._recent.append((now, openness, closed))
        while self._recent and self._recent[0][0] < now - c.recalibrate_window_s:
            self._recent.popleft()
        if now - self._last_check < 1.0:  # a percentile once a second is plenty
            return False
        self._last_check = now
        if now - self._recent[0][0] < 0.9 * c.recalibrate_window_s:
            return False
        closed_share = sum(x[2] for x in self._recent) / len(self._recent)
        level = float(np.percentile([x[1] for x in self._recent], c.open_percentile))
        shift = abs(level / self.baseline.openness - 1.0) if self.baseline.openness > 0 else 1.0
        if shift <= c.recalibrate_shift or closed_share > 0.1:
            return False
        self.recalibrations += 1
        self._recent.clear()
        self._start()  # the provisional baseline stays until min_calibration_s of new data
        return True
