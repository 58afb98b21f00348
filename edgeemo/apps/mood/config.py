"""`[apps.mood]`: who counts, how the room value is smoothed, the mood thresholds, quiet hours."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from edgeemo.apps.config import AppConfig

__all__ = ["MoodConfig", "QuietHours"]

_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class QuietHours:
    """A daily window of local time, "22:00-07:00"; it may wrap past midnight. The start minute
    is inside the window, the end minute is not."""

    def __init__(self, spec: str) -> None:
        m = _QUIET.match(spec.strip())
        if m is None:
            # pydantic's message is "expected <this>, received <value>"
            raise ValueError('quiet hours as "HH:MM-HH:MM" (24 h, e.g. "22:00-07:00")')
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        self.start = h1 * 60 + m1
        self.end = h2 * 60 + m2
        if self.start == self.end:
            raise ValueError("quiet hours that start and end at different times")
        self.spec = spec.strip()

    def contains(self, wall_time: float) -> bool:
        """Whether `wall_time` (Unix seconds) falls in the window, in the device's local time."""
        t = dt.datetime.fromtimestamp(wall_time)
        minute = t.hour * 60 + t.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


class MoodConfig(AppConfig):
    # Who counts: a track seen this long, with a face this tall and a detection this sure.
    min_dwell_s: float = Field(3.0, ge=0)
    min_face_px: int = Field(48, ge=1)
    min_det_score: float = Field(0.6, ge=0, le=1)
    # The room value: exponential smoothing with this time constant (seconds, by the clock).
    tau_s: float = Field(20.0, gt=0)
    # Nobody counted for this long: the room is empty and the mood is "none".
    empty_after_s: float = Field(30.0, ge=0)
    # A mood lasts at least this long before it may change (the room emptying always applies).
    min_hold_s: float = Field(15.0, ge=0)
    # Hysteresis on valence: enter positive at >= +valence_enter, tense/low at <= -valence_enter;
    # fall back to neutral only once |valence| < valence_exit.
    valence_enter: float = Field(0.25, gt=0, le=1)
    valence_exit: float = Field(0.15, ge=0, le=1)
    # Negative valence: tense above arousal_split, low below; switching between them needs
    # arousal_margin past the split.
    arousal_split: float = Field(0.1, ge=-1, le=1)
    arousal_margin: float = Field(0.1, ge=0, le=1)
    # "22:00-07:00" (device local time) or none. In quiet hours "occupancy" keeps people and
    # occupancy and reads no emotions; "pause" reads nothing at all.
    quiet_hours: str | None = None
    quiet_mode: Literal["occupancy", "pause"] = "occupancy"
    # label -> [valence, arousal], on top of the built-in table (edgeemo.apps.mood.affect).
    affect: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        QuietHours(value)  # raises with the expected form
        return value.strip()

    @field_validator("affect")
    @classmethod
    def _affect(cls, value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for label, (v, a) in value.items():
            if not (-1.0 <= v <= 1.0 and -1.0 <= a <= 1.0):
                raise ValueError(f"valence and arousal in [-1, 1] for {label!r}, not [{v}, {a}]")
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> MoodConfig:
        if self.valence_exit >= self.valence_enter:
            raise ValueError(f"valence_exit < valence_enter (hysteresis), not {self.valence_exit} >= {self.valence_enter}")
        return self

    def quiet(self) -> QuietHours | None:
        return QuietHours(self.quiet_hours) if self.quiet_hours else None
