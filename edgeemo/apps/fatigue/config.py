"""`[apps.fatigue]`: every threshold of the driver-fatigue analyzer, with where its default comes from.

Times are seconds (never frame counts), angles degrees, ratios 0..1. docs/fatigue.md explains each.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edgeemo.apps.config import AppConfig

__all__ = ["FatigueConfig"]


class FatigueConfig(AppConfig):
    # -- which face is the driver -------------------------------------------------------------
    # Only faces whose box centre lies in this region (x1, y1, x2, y2 as fractions of the frame)
    # are candidates; the largest one is the driver.
    region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    min_face_px: int = Field(60, ge=16)  # smaller faces give eyes too few pixels to measure
    # Reuse the previous frame's landmarks as the next mesh ROI (MediaPipe's tracking mode); the
    # mesh's face-presence score below this falls back to the detection box.
    track_landmarks: bool = True
    min_presence: float = Field(0.5, ge=0.0, le=1.0)
    # While the driver is tracked, run the face mesh (head pose, mouth, eye ROIs) on every Nth
    # analysed frame only, and at least every mesh_max_age_s; in between, pose and mouth hold
    # their last reading and each eye's ROI follows the previous frame's eyelid contour (its two
    # corners), so eyes are still read on every frame. 1: the mesh on every frame.
    mesh_every: int = Field(2, ge=1)
    mesh_max_age_s: float = Field(0.2, gt=0.0)
    # Read one eye per frame, taking turns, while the other eye's last reading is younger than
    # this (frames closer than 0.25 s: 4 frames/s and up); both whenever either is closing (see
    # flip_closure): blinks close both eyes, so whichever eye is read sees one start. 0: both
    # eyes on every frame.
    eye_alternate_s: float = Field(0.25, ge=0.0)
    # Analyse at most this often (0: every frame). On a Pi 4, where landmarks + iris cost more
    # than a 30 fps frame period, 10-15 keeps the camera loop's rate; windows are in seconds, so
    # the signals stay comparable (blinks shorter than about two analysis periods may be missed).
    max_hz: float = Field(0.0, ge=0.0)

    # -- calibration ---------------------------------------------------------------------------
    calibration_s: float = Field(60.0, gt=0.0)  # valid time before the baseline is "ready"
    min_calibration_s: float = Field(3.0, gt=0.0)  # before this much, nothing is measured
    open_percentile: float = Field(75.0, gt=50.0, lt=100.0)  # open-eye baseline (blinks lower the median)
    # Recalibrate when the open-eye level over the last recalibrate_window_s differs from the
    # baseline by more than this fraction for that long (glasses on or off, camera moved).
    recalibrate_shift: float = Field(0.3, gt=0.0, lt=1.0)
    recalibrate_window_s: float = Field(30.0, gt=0.0)

    # -- eyes ----------------------------------------------------------------------------------
    # Read each eye crop and its mirror image and average the two openness readings (ROC AUC on
    # real closed/open eye patches 0.90 -> 0.93) at the cost of two more iris runs per face:
    # "always", "never", or "auto": only once there is a baseline and the first reading is at
    # least flip_closure closed (open eyes, most frames, are far from any threshold).
    eye_flip_average: Literal["always", "auto", "never"] = "auto"
    flip_closure: float = Field(0.3, ge=0.0, le=1.0)
    # What the openness measure reads on a shut eye (the lids' contour never meets exactly):
    # closure runs from the driver's open baseline (0) to this (1). Shut eyes on FER-2013 faces
    # read 0.06-0.13.
    closed_openness: float = Field(0.08, ge=0.0, lt=1.0)
    # A typical open eye (the eye aspect ratio's ~0.3): with closed_openness and closed_closure it
    # gives the absolute closed-eye threshold `edgeemo eyes` scores patches at (no baseline there).
    nominal_openness: float = Field(0.30, gt=0.0, lt=1.0)
    closed_closure: float = Field(0.8, gt=0.0, le=1.0)  # P80: closed when >= 80% closed
    reopen_closure: float = Field(0.6, gt=0.0, le=1.0)  # hysteresis: open again below this
    perclos_window_s: float = Field(60.0, gt=0.0)
    min_coverage: float = Field(0.5, ge=0.0, le=1.0)  # PERCLOS counts for levels above this coverage
    max_gap_s: float = Field(0.5, gt=0.0)  # a longer gap between frames is not covered
    long_blink_s: float = Field(0.5, gt=0.0)
    microsleep_s: float = Field(1.0, gt=0.0)  # closures of microsleep_s..sleep_s are microsleeps
    sleep_s: float = Field(3.0, gt=0.0)
    rate_window_s: float = Field(60.0, gt=0.0)  # blinks per minute over this window
    event_window_s: float = Field(300.0, gt=0.0)  # microsleeps_5min, yawns_5min
    saturated_share: float = Field(0.3, gt=0.0, le=1.0)  # eye crop pixels at 0 or 255 -> unknown

    # -- mouth ---------------------------------------------------------------------------------
    # Inner-lip gap / mouth width above its resting baseline (~0.05). On FER-2013 faces the widest
    # open mouths (screams, jaw dropped) read 0.43-0.47, an open "O" of surprise ~0.3, laughing and
    # talking mostly under 0.25; held for yawn_s it is a yawn.
    yawn_rise: float = Field(0.25, gt=0.0)
    yawn_s: float = Field(1.5, gt=0.0)

    # -- head ----------------------------------------------------------------------------------
    off_road_deg: float = Field(20.0, gt=0.0)  # Euro NCAP: a glance beyond ~20 deg of baseline
    long_glance_s: float = Field(3.0, gt=0.0)  # one glance this long is a distraction
    glance_total_s: float = Field(10.0, gt=0.0)  # ... or more than this in total
    glance_window_s: float = Field(30.0, gt=0.0)  # ... within this window
    unknown_turn_deg: float = Field(30.0, gt=0.0)  # beyond this the eyes are not measured
    nod_drop_deg: float = Field(15.0, gt=0.0)  # pitch below baseline by this much ...
    nod_fall_s: float = Field(0.7, gt=0.0)  # ... reached within this long of being level ...
    nod_return_deg: float = Field(7.0, gt=0.0)  # ... and back within this of baseline ...
    nod_max_s: float = Field(2.0, gt=0.0)  # ... within this long of leaving it

    # -- levels --------------------------------------------------------------------------------
    drowsy_perclos: float = Field(0.15, gt=0.0, le=1.0)  # Wierwille 1994; Dinges & Grace 1998
    drowsy_long_blinks_per_min: float = Field(3.0, gt=0.0)
    drowsy_yawns: float = Field(3.0, gt=0.0)  # within event_window_s
    warning_perclos: float = Field(0.25, gt=0.0, le=1.0)
    clear_factor: float = Field(0.7, gt=0.0, lt=1.0)  # clear only below this share of the threshold ...
    clear_s: float = Field(30.0, ge=0.0)  # ... held for this long
    alarm_level: int = Field(2, ge=1, le=3)  # the Home Assistant alarm is on from this level

    @model_validator(mode="after")
    def _ordered(self) -> FatigueConfig:
        x1, y1, x2, y2 = self.region
        if not (0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0):
            raise ValueError(f"region x1 < x2 and y1 < y2 within 0..1; region is {self.region}")
        if self.reopen_closure > self.closed_closure:
            raise ValueError(f"reopen_closure <= closed_closure; they are {self.reopen_closure} > {self.closed_closure}")
        if not self.long_blink_s < self.microsleep_s < self.sleep_s:
            raise ValueError(f"long_blink_s < microsleep_s < sleep_s; they are "
                             f"{self.long_blink_s}, {self.microsleep_s}, {self.sleep_s}")
        if self.warning_perclos < self.drowsy_perclos:
            raise ValueError(f"warning_perclos >= drowsy_perclos; they are {self.warning_perclos} < {self.drowsy_perclos}")
        if self.closed_openness >= self.nominal_openness:
            raise ValueError(f"closed_openness < nominal_openness; they are {self.closed_openness} >= {self.nominal_openness}")
        if self.min_calibration_s > self.calibration_s:
            raise ValueError(f"min_calibration_s <= calibration_s; they are {self.min_calibration_s} > {self.calibration_s}")
        return self

    @property
    def closed_threshold(self) -> float:
        """Openness at which a nominal eye counts as closed (P80 of its range): what `edgeemo eyes`
        thresholds patches at, having no driver baseline."""
        return self.closed_openness + (1.0 - self.closed_closure) * (self.nominal_openness - self.closed_openness)
