"""The room mood: who counts, a weighted and time-smoothed valence/arousal, a mood with
hysteresis and a minimum hold, occupancy, and quiet hours.

Per frame the cost is a few dozen float operations per counted face (no numpy: with 7 labels and
a handful of faces plain Python is faster than array set-up); `edgeemo bench`-style numbers come
from benchmarks/mood_analyzer.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeemo.apps.base import Analyzer, AppContext, AppEvent, AppOutput, MqttTopics
from edgeemo.apps.config import AppConfig
from edgeemo.apps.mood.affect import affect_vectors, normalised_certainty
from edgeemo.apps.mood.config import MoodConfig
from edgeemo.apps.mood.homeassistant import mood_components
from edgeemo.errors import ConfigError
from edgeemo.labels import FER2013_LABELS

if TYPE_CHECKING:
    from edgeemo.daemon.pipeline import FaceResult, FrameResult

__all__ = ["MoodAnalyzer"]

# A track id unseen this long is forgotten (the tracker has long dropped it by then).
FORGET_TRACK_S = 10.0


class MoodAnalyzer(Analyzer):
    """Room mood from the tracked faces. States: positive, neutral, tense, low, none."""

    name = "mood"
    mqtt_topic = "room"

    def __init__(self, config: MoodConfig | None = None, labels: Sequence[str] = FER2013_LABELS) -> None:
        self.config = config or MoodConfig(enabled=True)
        self.labels = list(labels)
        self._valence, self._arousal = affect_vectors(self.labels, self.config.affect)
        self._quiet_hours = self.config.quiet()
        self.reset()

    @classmethod
    def from_config(cls, config: AppConfig, context: AppContext) -> MoodAnalyzer:
        if not isinstance(config, MoodConfig):
            raise ConfigError(f"apps.mood: expected a MoodConfig section, received {type(config).__name__}")
        return cls(config, context.labels)

    def reset(self) -> None:
        """Forget everything: an empty room, mood none."""
        self._first_seen: dict[int, float] = {}
        self._last_seen: dict[int, float] = {}
        self._last_prune = -math.inf
        self._room: list[float] | None = None  # time-smoothed room probabilities, label order
        self._t_room = 0.0
        self.mood = "none"
        self._since: float | None = None  # monotonic start of the current mood
        self._since_wall: float | None = None
        self.occupied: bool | None = False  # None: quiet hours in "pause" mode, nothing is read
        self.people: int | None = 0
        self._last_counted: float | None = None
        self._last_key: tuple[Any, ...] | None = None

    # -- the frame -------------------------------------------------------------------------
    def update(self, result: FrameResult, now: float, image: np.ndarray | None = None) -> AppOutput:
        t0 = time.perf_counter()
        c = self.config
        events: list[AppEvent] = []
        wall = result.wall_time
        if self._since is None:
            self._since, self._since_wall = now, wall
        quiet = self._quiet_hours is not None and self._quiet_hours.contains(wall)
        if quiet and c.quiet_mode == "pause":
            if self.occupied is not None:
                self._first_seen.clear()
                self._last_seen.clear()
                self.occupied, self.people, self._last_counted = None, None, None
            self._room = None
            self._set_mood("none", now, wall, events)
        else:
            if self.occupied is None:  # out of a paused quiet window: start from an empty room
                self.occupied, self.people = False, 0
            counted = self._counted(result.faces, now)
            self.people = len(counted)
            self._occupancy(bool(counted), now, events)
            if quiet or not self.occupied:
                self._room = None
                self._set_mood("none", now, wall, events)
            else:
                if counted:
                    self._fold(counted, now)
                if self.mood == "none":
                    # Someone counts now, but nobody has been watched for a hold yet.
                    self._set_mood("neutral", now, wall, events)
                elif self._room is not None and now - self._since >= c.min_hold_s:
                    self._set_mood(self._candidate(), now, wall, events)
        return self._output(quiet, events, time.perf_counter() - t0)

    def _counted(self, faces: list[FaceResult], now: float) -> list[tuple[FaceResult, float]]:
        """The faces that count (dwell, size, detection score), each with its height in pixels."""
        c = self.config
        out = []
        for f in faces:
            first = self._first_seen.setdefault(f.id, now)
            self._last_seen[f.id] = now
            height = f.box[3] - f.box[1]
            if now - first >= c.min_dwell_s and height >= c.min_face_px and f.det_score >= c.min_det_score:
                out.append((f, height))
        if now - self._last_prune >= 1.0:
            self._last_prune = now
            for tid in [t for t, seen in self._last_seen.items() if now - seen > FORGET_TRACK_S]:
                del self._last_seen[tid], self._first_seen[tid]
        return out

    def _occupancy(self, anyone: bool, now: float, events: list[AppEvent]) -> None:
        if anyone:
            self._last_counted = now
            if not self.occupied:
                self.occupied = True
                events.append(AppEvent(self.name, "room_occupied", {"people": self.people}))
        elif self.occupied and (self._last_counted is None or now - self._last_counted >= self.config.empty_after_s):
            self.occupied = False
            events.append(AppEvent(self.name, "room_empty", {"after_s": self.config.empty_after_s}))

    def _fold(self, counted: list[tuple[FaceResult, float]], now: float) -> None:
        """Weighted mean of the counted faces' probabilities (weight: face height x certainty),
        folded into the room value with time constant tau_s."""
        labels = self.labels
        acc = [0.0] * len(labels)
        total_w = 0.0
        for face, height in counted:
            p = [face.probs.get(lab, 0.0) for lab in labels]
            s = sum(p)
            if s <= 0:
                continue
            w = height * normalised_certainty(p) / s
            if w <= 0:
                continue
            for k, pk in enumerate(p):
                acc[k] += w * pk
            total_w += w * s
        if total_w <= 0:
            return
        inst = [a / total_w for a in acc]
        if self._room is None:
            self._room = inst
        else:
            alpha = 1.0 - math.exp(-max(0.0, now - self._t_room) / self.config.tau_s)
            self._room = [r + alpha * (x - r) for r, x in zip(self._room, inst, strict=True)]
        self._t_room = now

    def valence_arousal(self) -> tuple[float, float] | None:
        if self._room is None:
            return None
        v = sum(p * x for p, x in zip(self._room, self._valence, strict=True))
        a = sum(p * x for p, x in zip(self._room, self._arousal, strict=True))
        return v, a

    def _candidate(self) -> str:
        """The mood the room value reads as, with hysteresis around the current one."""
        va = self.valence_arousal()
        if va is None:
            return self.mood
        v, a = va
        c = self.config
        stays_negative = self.mood in ("tense", "low") and v < -c.valence_exit
        if not stays_negative:
            if (self.mood == "positive" and v > c.valence_exit) or v >= c.valence_enter:
                return "positive"
            if v > -c.valence_enter:
                return "neutral"
        if self.mood == "tense":
            return "low" if a < c.arousal_split - c.arousal_margin else "tense"
        if self.mood == "low":
            return "tense" if a > c.arousal_split + c.arousal_margin else "low"
        return "tense" if a >= c.arousal_split else "low"

    def _set_mood(self, mood: str, now: float, wall: float, events: list[AppEvent]) -> None:
        if mood == self.mood:
            return
        va = self.valence_arousal()
        events.append(AppEvent(self.name, "mood_changed", {
            "from": self.mood, "to": mood,
            "valence": round(va[0], 3) if va else None, "arousal": round(va[1], 3) if va else None,
        }))
        self.mood, self._since, self._since_wall = mood, now, wall

    def dominant_emotion(self) -> str:
        if self._room is None:
            return "none"
        return self.labels[max(range(len(self._room)), key=self._room.__getitem__)]

    def _output(self, quiet: bool, events: list[AppEvent], seconds: float) -> AppOutput:
        va = self.valence_arousal()
        dominant = self.dominant_emotion()
        state = {
            "state": self.mood,
            "valence": round(va[0], 3) if va else None,
            "arousal": round(va[1], 3) if va else None,
            "people": self.people,
            "occupied": self.occupied,
            "dominant_emotion": dominant,
            "since": round(self._since_wall, 3) if self._since_wall is not None else None,
            "quiet": quiet,
        }
        # Publishers that send on change send these at once; valence/arousal ride the heartbeat.
        key = (self.mood, self.people, self.occupied, dominant, quiet)
        changed = key != self._last_key
        self._last_key = key
        nan = float("nan")
        gauges = {
            "valence": va[0] if va else nan,
            "arousal": va[1] if va else nan,
            "people": float(self.people) if self.people is not None else nan,
            "occupied": float(self.occupied) if self.occupied is not None else nan,
            "quiet": float(quiet),
        }
        return AppOutput(state, events=events, changed=changed, gauges=gauges, timings={"mood": seconds})

    # -- Home Assistant ----------------------------------------------------------------------
    def discovery_components(self, topics: MqttTopics) -> dict[str, dict[str, Any]]:
        return mood_components(topics, self.labels)
