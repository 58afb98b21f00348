"""One driver over time: closure episodes, PERCLOS, blinks, yawns, glances, nods and the level.

Everything is driven by the frame times handed in, never by frame counts: a state change between
two frames is placed at their midpoint, and a gap longer than `max_gap_s` is not covered. So the
same scripted sequence gives the same PERCLOS and event counts at 5, 15 or 60 fps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from edgeemo.apps.fatigue.calibration import Calibration
from edgeemo.apps.fatigue.config import FatigueConfig
from edgeemo.apps.fatigue.windows import EventLog, TimeShare

__all__ = ["LEVEL_NAMES", "DriverState", "Sample"]

LEVEL_NAMES = ("ok", "drowsy", "warning", "critical")
UNKNOWN = "unknown"


@dataclass
class Sample:
    """What the models measured on one frame for the driver (None: not measured)."""

    openness: tuple[float, float] | None  # per eye (left, right): lid gap over eye width
    mouth: float | None = None  # inner-lip gap over mouth width
    pose: tuple[float, float, float] | None = None  # pitch (up +), yaw, roll in degrees
    saturated: bool = False  # the eye region is blown out (IR glare) or black


class _Episode:
    """A condition with a start time, placed at the midpoint of the frames around its edges."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.flagged = False  # the live event for this episode has been sent

    def duration(self, now: float) -> float:
        return 0.0 if self.since is None else now - self.since

    def start(self, t: float) -> None:
        self.since, self.flagged = t, False

    def stop(self) -> None:
        self.since, self.flagged = None, False


class DriverState:
    def __init__(self, config: FatigueConfig) -> None:
        self.config = c = config
        self.calibration = Calibration(c)
        self.perclos = TimeShare(c.perclos_window_s)
        self.glances = TimeShare(c.glance_window_s)
        self.blinks = EventLog(c.rate_window_s)
        self.microsleeps = EventLog(c.event_window_s)
        self.yawns = EventLog(c.event_window_s)
        self.closure = _Episode()
        self.mouth_open = _Episode()
        self.glance = _Episode()
        self.level = 0
        self._calm = [0.0, 0.0, 0.0, 0.0]  # per level: valid seconds all its sources stayed calm
        self._prev_t: float | None = None  # the last frame with measured eyes
        self._prev_closed = False
        self._prev_pose_t: float | None = None
        self._prev_off = False
        self._level_t: float | None = None
        self._last_level_name: str | None = None
        self._was_distracted = False
        # nod detection: last time the head was near level, and when it dropped
        self._level_head_t: float | None = None
        self._nod_down_t: float | None = None
        self.nod_drop = 0.0
        self._nod_low = 0.0  # lowest pitch (relative to baseline) of the nod in progress
        self.last: dict[str, Any] = {}

    # -- per frame ---------------------------------------------------------------------------
    def update(self, now: float, sample: Sample | None) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
        """Fold one frame in (sample None: no driver this frame). Returns the state and events."""
        c = self.config
        events: list[tuple[str, dict[str, Any]]] = []
        base = self.calibration.baseline
        pose = sample.pose if sample is not None else None
        rel = (pose[0] - (base.pitch if base else 0.0), pose[1] - (base.yaw if base else 0.0)) if pose else None

        # Head: glances (Euro NCAP) and nods need only the pose, so they go on while eyes are unknown.
        nod = False
        if rel is not None:
            off = max(abs(rel[0]), abs(rel[1])) > c.off_road_deg
            self._pose_step(now, off)
            nod = self._nod_step(now, rel[0])
        elif self.glance.since is not None and self._prev_pose_t is not None:
            # No face while looking away: the head turned out of the detector's reach. Still away.
            self._pose_step(now, True)
        else:
            self._prev_pose_t = None
        if nod:
            events.append(("nod", {"drop_deg": round(self.nod_drop, 1)}))
        off_total = self.glances.totals(now)[1]
        glance_s = self.glance.duration(now)
        distracted = glance_s >= c.long_glance_s or off_total > c.glance_total_s
        if distracted and not self._was_distracted:
            events.append(("distraction", {"off_road_ms": round(glance_s * 1000), "off_road_30s_ms": round(off_total * 1000)}))
        self._was_distracted = distracted

        # Eyes and mouth: only when the face is frontal enough and the eye region is usable.
        turned = rel is not None and max(abs(rel[0]), abs(rel[1])) > c.unknown_turn_deg
        eyes = sample.openness if sample is not None and not sample.saturated and not turned else None
        openness = None if eyes is None else (eyes[0] + eyes[1]) / 2.0
        closure: float | None = None
        dt = 0.0 if self._prev_t is None else now - self._prev_t
        covered = self._prev_t is not None and dt <= c.max_gap_s
        if openness is not None:
            self.calibration.add(dt if covered else 0.0, openness, sample.mouth if sample else None, pose)
            base = self.calibration.baseline
        floor = c.closed_openness
        if openness is not None and base is not None and base.openness > floor + 0.02:
            closure = min(1.0, max(0.0, (base.openness - openness) / (base.openness - floor)))
            events += self._eye_step(now, closure, covered)
            if sample is not None and sample.mouth is not None:
                events += self._mouth_step(now, sample.mouth - base.mouth, covered)
            if self.calibration.watch(now, openness, closure >= c.closed_closure):
                events.append(("recalibrating", {"reason": "open-eye level shifted"}))
        if openness is not None:
            self._prev_t = now
        else:  # nothing accumulates: an episode in progress is dropped, not counted
            self.closure.stop()
            self.mouth_open.stop()
            self._prev_t = None
            self._prev_closed = False

        known = closure is not None
        if known:
            self._level_step(now, nod)
        else:
            self._level_t = None  # unknown time does not count towards clearing a level
        name = LEVEL_NAMES[self.level] if known else UNKNOWN
        covered_s, closed_s = self.perclos.totals(now)
        blink_durations = self.blinks.values(now)
        long_blinks = sum(d >= c.long_blink_s for d in blink_durations)
        per_min = 60.0 / c.rate_window_s
        state = {
            "level": self.level if known else None,
            "level_name": name,
            "perclos_60s": round(closed_s / covered_s, 4) if covered_s > 0 else None,
            "coverage_60s": round(covered_s / c.perclos_window_s, 4),
            "blinks_per_min": round(len(blink_durations) * per_min, 2),
            "long_blinks_per_min": round(long_blinks * per_min, 2),
            "mean_blink_ms": round(1000 * sum(blink_durations) / len(blink_durations)) if blink_durations else None,
            "eyes_closed_ms": round(self.closure.duration(now) * 1000),
            "microsleeps_5min": self.microsleeps.count(now),
            "yawns_5min": self.yawns.count(now),
            "pitch_deg": round(pose[0], 1) if pose else None,
            "yaw_deg": round(pose[1], 1) if pose else None,
            "roll_deg": round(pose[2], 1) if pose else None,
            "off_road_ms": round(glance_s * 1000),
            "distracted": distracted,
            "calibration": self.calibration.status,
            "eye_openness": [round(eyes[0], 4), round(eyes[1], 4)] if eyes is not None else None,
            "closure": round(closure, 4) if closure is not None else None,
        }
        if name != self._last_level_name and self._last_level_name is not None:
            events.append(("level_changed", {"from": self._last_level_name, "to": name, "level": state["level"]}))
        self._last_level_name = name
        self.last = state
        return state, events

    def flip_below(self) -> float | None:
        """Openness under which an eye is read a second time, mirrored (eye_flip_average "auto"):
        None until there is a baseline (the open-eye level needs no second reading)."""
        base, c = self.calibration.baseline, self.config
        if base is None:
            return None
        return base.openness - c.flip_closure * (base.openness - c.closed_openness)

    # -- pieces ------------------------------------------------------------------------------
    def _edge(self, now: float, covered: bool) -> float:
        """When a change seen at `now` happened: midway from the previous frame, if it was close."""
        return (self._prev_t + now) / 2.0 if covered and self._prev_t is not None else now

    def _eye_step(self, now: float, closure: float, covered: bool) -> list[tuple[str, dict[str, Any]]]:
        c = self.config
        events: list[tuple[str, dict[str, Any]]] = []
        closed_p80 = closure >= c.closed_closure
        if covered and self._prev_t is not None:
            mid = (self._prev_t + now) / 2.0
            self.perclos.add(self._prev_t, mid, self._prev_closed)
            self.perclos.add(mid, now, closed_p80)
        self._prev_closed = closed_p80
        if self.closure.since is None:
            if closure >= c.closed_closure:
                self.closure.start(self._edge(now, covered))
        elif closure < c.reopen_closure:
            t_open = self._edge(now, covered)
            length = t_open - self.closure.since
            if length < c.microsleep_s:
                self.blinks.add(t_open, length)
            elif length < c.sleep_s:
                self.microsleeps.add(t_open)
                events.append(("microsleep", {"duration_ms": round(length * 1000)}))
            self.closure.stop()
        if self.closure.since is not None and not self.closure.flagged and self.closure.duration(now) >= c.sleep_s:
            self.closure.flagged = True
            events.append(("sleep", {"eyes_closed_ms": round(self.closure.duration(now) * 1000)}))
        return events

    def _mouth_step(self, now: float, rise: float, covered: bool) -> list[tuple[str, dict[str, Any]]]:
        c = self.config
        if self.mouth_open.since is None:
            if rise >= c.yawn_rise:
                self.mouth_open.start(self._edge(now, covered))
        elif rise < c.clear_factor * c.yawn_rise:
            self.mouth_open.stop()
        if self.mouth_open.since is not None and not self.mouth_open.flagged and self.mouth_open.duration(now) >= c.yawn_s:
            self.mouth_open.flagged = True
            self.yawns.add(now)
            return [("yawn", {"duration_ms": round(self.mouth_open.duration(now) * 1000)})]
        return []

    def _pose_step(self, now: float, off: bool) -> None:
        prev = self._prev_pose_t
        if prev is not None and now - prev <= self.config.max_gap_s:
            mid = (prev + now) / 2.0
            self.glances.add(prev, mid, self._prev_off)
            self.glances.add(mid, now, off)
            edge = mid
        else:
            edge = now
        if off and self.glance.since is None:
            self.glance.start(edge)
        elif not off:
            self.glance.stop()
        self._prev_pose_t, self._prev_off = now, off

    def _nod_step(self, now: float, pitch: float) -> bool:
        c = self.config
        self._nod_low = min(self._nod_low, pitch) if self._level_head_t is not None else 0.0
        if pitch > -c.nod_return_deg:  # near level (or up)
            nod = self._nod_down_t is not None and self._level_head_t is not None and now - self._level_head_t <= c.nod_max_s
            self._nod_down_t = None
            self._level_head_t = now
            self.nod_drop, self._nod_low = -self._nod_low, 0.0
            return nod
        if pitch <= -c.nod_drop_deg and self._nod_down_t is None and self._level_head_t is not None:
            if now - self._level_head_t <= c.nod_fall_s:
                self._nod_down_t = now
            else:  # a slow lowering of the head is looking down, not a nod
                self._level_head_t = None
        if self._nod_down_t is not None and self._level_head_t is not None and now - self._level_head_t > c.nod_max_s:
            self._nod_down_t = self._level_head_t = None  # head held down: not a nod
        return False

    def _level_step(self, now: float, nod: bool) -> None:
        """Raise at once; clear a level only after its sources stayed below clear_factor x their
        thresholds for clear_s seconds of valid frames."""
        c = self.config
        covered_s, closed_s = self.perclos.totals(now)
        perclos = closed_s / covered_s if covered_s > 0 and covered_s >= c.min_coverage * c.perclos_window_s else 0.0
        long_rate = sum(d >= c.long_blink_s for d in self.blinks.values(now)) * 60.0 / c.rate_window_s
        yawns = self.yawns.count(now)
        closed = self.closure.duration(now)
        f = c.clear_factor
        raise_ = [
            True,
            perclos >= c.drowsy_perclos or long_rate >= c.drowsy_long_blinks_per_min or yawns >= c.drowsy_yawns,
            perclos >= c.warning_perclos or closed >= c.microsleep_s,
            closed >= c.sleep_s or nod,
        ]
        calm = [
            True,
            perclos < f * c.drowsy_perclos and long_rate < f * c.drowsy_long_blinks_per_min and yawns < f * c.drowsy_yawns,
            perclos < f * c.warning_perclos and closed < f * c.microsleep_s,
            closed < f * c.sleep_s and not nod,
        ]
        dt = 0.0 if self._level_t is None else now - self._level_t
        self._level_t = now
        for lv in range(1, 4):
            self._calm[lv] = self._calm[lv] + dt if calm[lv] else 0.0
        level = 0
        for lv in range(3, 0, -1):
            if raise_[lv] or (self.level >= lv and self._calm[lv] < c.clear_s):
                level = lv
                break
        self.level = level
