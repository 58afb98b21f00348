"""Scripted drivers for the fatigue tests: what the eyes, mouth and head do at each moment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from edgeemo.apps import FakeClock
from edgeemo.apps.fatigue.config import FatigueConfig
from edgeemo.apps.fatigue.state import DriverState, Sample

OPEN = 0.32  # lid gap over eye width of an open eye
SHUT = 0.03
MOUTH_REST = 0.05
MOUTH_YAWN = 0.7


@dataclass
class Script:
    """Episodes as (start s, duration s, ...) measured from the start of the drive."""

    closures: list[tuple[float, float]] = field(default_factory=list)
    yawns: list[tuple[float, float]] = field(default_factory=list)
    glances: list[tuple[float, float, float]] = field(default_factory=list)  # start, duration, yaw
    nods: list[float] = field(default_factory=list)  # drop 0.3 s, hold 0.3 s, return 0.3 s
    looking_down: list[tuple[float, float]] = field(default_factory=list)  # slow: 2 s down, hold
    absent: list[tuple[float, float]] = field(default_factory=list)  # no face at all
    openness_scale: list[tuple[float, float, float]] = field(default_factory=list)  # start, duration, factor

    @staticmethod
    def _inside(t: float, spans: list[Any]) -> Any:
        for span in spans:
            if span[0] <= t < span[0] + span[1]:
                return span
        return None

    def sample(self, t: float) -> Sample | None:
        if self._inside(t, self.absent):
            return None
        scale = self._inside(t, self.openness_scale)
        eye = SHUT if self._inside(t, self.closures) else OPEN * (scale[2] if scale else 1.0)
        # A little deterministic unevenness between the eyes and over time.
        wobble = 0.01 * ((t * 7.3) % 1.0 - 0.5)
        mouth = MOUTH_YAWN if self._inside(t, self.yawns) else MOUTH_REST
        pitch, yaw = 2.0, -3.0
        glance = self._inside(t, self.glances)
        if glance:
            yaw += glance[2]
        for t0 in self.nods:
            if t0 <= t < t0 + 0.9:
                k = t - t0
                pitch -= 28.0 * (min(k, 0.3) / 0.3 if k < 0.6 else (0.9 - k) / 0.3)
        down = self._inside(t, self.looking_down)
        if down:
            pitch -= 25.0 * min(1.0, (t - down[0]) / 2.0)
        return Sample(openness=(eye + wobble, eye - wobble), mouth=mouth, pose=(pitch, yaw, 1.0))


@dataclass
class Run:
    times: list[float]
    states: list[dict[str, Any]]
    events: list[tuple[float, str, dict[str, Any]]]
    start: float

    def counts(self) -> Counter[str]:
        return Counter(kind for _, kind, _ in self.events)

    def at(self, t: float) -> dict[str, Any]:
        """The state of the last frame at or before `t` s into the drive."""
        best = self.states[0]
        for ft, st in zip(self.times, self.states, strict=True):
            if ft - self.start > t:
                break
            best = st
        return best

    def first(self, pred: Any, after: float = 0.0) -> float | None:
        """Seconds into the drive of the first frame after `after` whose state satisfies pred."""
        for ft, st in zip(self.times, self.states, strict=True):
            if ft - self.start >= after and pred(st):
                return ft - self.start
        return None


def drive(script: Script, seconds: float, fps: float, *, jitter: float = 0.2, drop: float = 0.05,
          seed: int = 0, config: FatigueConfig | None = None) -> Run:
    clock = FakeClock(start=500.0)
    state = DriverState(config or FatigueConfig())
    start = clock()
    times, states, events = [], [], []
    for t in clock.frames(seconds, fps, jitter=jitter, drop=drop, seed=seed):
        st, evs = state.update(t, script.sample(t - start))
        times.append(t)
        states.append(st)
        events += [(t - start, kind, data) for kind, data in evs]
    return Run(times, states, events, start)
