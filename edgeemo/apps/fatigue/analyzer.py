"""The fatigue Analyzer: picks the driver, runs the face mesh and eye models on the frame, and
folds the measurements into the driver's state (state.py)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np

from edgeemo.apps.base import Analyzer, AppContext, AppEvent, AppOutput, MqttTopics
from edgeemo.apps.fatigue.config import FatigueConfig
from edgeemo.apps.fatigue.discovery import fatigue_components
from edgeemo.apps.fatigue.landmarks import (
    LEFT_EYE_CORNERS,
    RIGHT_EYE_CORNERS,
    EyeResult,
    FaceMesh,
    IrisModel,
    MeshResult,
    roi_from_box,
    roi_from_eye_corners,
    roi_from_landmarks,
)
from edgeemo.apps.fatigue.models import require_landmark_models
from edgeemo.apps.fatigue.signals import (
    HeadPose,
    eye_openness,
    eye_openness_averaged,
    mouth_opening,
    saturation,
)
from edgeemo.apps.fatigue.state import DriverState, Sample

if TYPE_CHECKING:
    from edgeemo.daemon.pipeline import FaceResult, FrameResult

__all__ = ["DriverMeasurer", "FatigueAnalyzer", "pick_driver"]

GAUGES = ("perclos_60s", "coverage_60s", "blinks_per_min", "long_blinks_per_min", "microsleeps_5min", "yawns_5min",
          "pitch_deg", "yaw_deg", "roll_deg")


def pick_driver(faces: list[FaceResult], width: int, height: int, config: FatigueConfig) -> FaceResult | None:
    """The largest face whose centre is in the configured region and that is big enough."""
    x1, y1, x2, y2 = config.region
    best, best_area = None, 0.0
    for face in faces:
        bx1, by1, bx2, by2 = face.box
        w, h = bx2 - bx1, by2 - by1
        cx, cy = (bx1 + bx2) / 2 / max(1, width), (by1 + by2) / 2 / max(1, height)
        if min(w, h) < config.min_face_px or not (x1 <= cx <= x2 and y1 <= cy <= y2):
            continue
        if w * h > best_area:
            best, best_area = face, w * h
    return best


class DriverMeasurer:
    """Mesh, eyes, mouth and pose for one face per frame, reusing the previous landmarks as the next
    mesh ROI while the face stays (MediaPipe's tracking mode)."""

    def __init__(self, mesh: FaceMesh, iris: IrisModel, config: FatigueConfig) -> None:
        self.mesh, self.iris, self.config = mesh, iris, config
        self.pose = HeadPose()
        self._prev: np.ndarray | None = None
        self._prev_id: int | None = None
        self.roi_from_landmarks = 0  # frames whose mesh ROI came from the previous landmarks
        self.roi_from_box = 0

    def reset(self) -> None:
        self._prev, self._prev_id = None, None
        self.pose.reset()

    def measure(self, image: np.ndarray, box: list[float], track_id: int | None, timings: dict[str, float],
                flip_below: float | None = None) -> tuple[Sample, MeshResult, tuple[EyeResult, EyeResult]] | None:
        """flip_below: with eye_flip_average "auto", the openness under which an eye is read again
        from its mirrored crop (None: no baseline yet, one reading is enough to learn it)."""
        t0 = time.perf_counter()
        mesh = None
        if self.config.track_landmarks and self._prev is not None and track_id == self._prev_id:
            mesh = self.mesh.run(image, roi_from_landmarks(self._prev))
            if mesh.presence < self.config.min_presence:
                mesh = None  # the face moved out of the tracked ROI: back to the detection box
            else:
                self.roi_from_landmarks += 1
        if mesh is None:
            self.roi_from_box += 1
            mesh = self.mesh.run(image, roi_from_box(box))
            if mesh.presence >= self.config.min_presence:
                # The box carries no eye line: one more pass rotated by the mesh's own eyes.
                mesh = self.mesh.run(image, roi_from_landmarks(mesh.points))
        t1 = time.perf_counter()
        timings["landmarks"] = t1 - t0
        if mesh.presence < self.config.min_presence:
            self.reset()
            return None
        self._prev, self._prev_id = mesh.points, track_id
        pts = mesh.points
        mode = self.config.eye_flip_average
        always = mode == "always"
        gate = flip_below if mode == "auto" else None

        def closing(contour: np.ndarray) -> bool:
            return gate is not None and eye_openness(contour) < gate

        left = self.iris.run(image, roi_from_eye_corners(pts[LEFT_EYE_CORNERS[0]], pts[LEFT_EYE_CORNERS[1]]),
                             mirror=False, flip_average=always, flip_when=closing)
        right = self.iris.run(image, roi_from_eye_corners(pts[RIGHT_EYE_CORNERS[0]], pts[RIGHT_EYE_CORNERS[1]]),
                              mirror=True, flip_average=always, flip_when=closing)
        t2 = time.perf_counter()
        timings["iris"] = t2 - t1
        # The frame's left/right as the driver sees it: the image-left eye is the driver's right.
        openness = (eye_openness_averaged(right.contours), eye_openness_averaged(left.contours))
        saturated = max(saturation(left.crop), saturation(right.crop)) > self.config.saturated_share
        pose = self.pose(pts, int(image.shape[1]), int(image.shape[0]))
        sample = Sample(openness=openness, mouth=mouth_opening(pts), pose=pose, saturated=saturated)
        timings["fatigue_signals"] = time.perf_counter() - t2
        return sample, mesh, (left, right)


class FatigueAnalyzer(Analyzer):
    name = "fatigue"
    mqtt_topic = "fatigue"

    def __init__(self, mesh: FaceMesh, iris: IrisModel, config: FatigueConfig | None = None) -> None:
        self.config = config or FatigueConfig()
        self.measurer = DriverMeasurer(mesh, iris, self.config)
        self.state = DriverState(self.config)
        self._last_key: tuple[Any, ...] | None = None
        self._absent_state: dict[str, Any] | None = None
        self._last: AppOutput | None = None
        self._due: float | None = None  # with max_hz: when the next analysis is due

    @classmethod
    def from_config(cls, config: FatigueConfig, context: AppContext) -> FatigueAnalyzer:
        face_path, iris_path = require_landmark_models(context.bundle)
        return cls(FaceMesh(face_path, threads=context.threads), IrisModel(iris_path, threads=context.threads), config)

    def warm_up(self) -> None:
        frame = np.zeros((240, 320, 3), np.uint8)
        box = [100.0, 60.0, 220.0, 180.0]
        for _ in range(2):
            mesh = self.measurer.mesh.run(frame, roi_from_box(box))
            self.measurer.iris.run(frame, roi_from_eye_corners(mesh.points[33], mesh.points[133]), mirror=True)

    def update(self, result: FrameResult, now: float, image: np.ndarray | None = None) -> AppOutput:
        if self.config.max_hz > 0:
            period = 1.0 / self.config.max_hz
            if self._last is not None and self._due is not None and now < self._due - 1e-6:
                return AppOutput(self._last.state, gauges=dict(self._last.gauges))  # not analysed: as before
            # Due times on a grid keep the average rate at max_hz whatever the camera's jitter.
            self._due = self._due + period if self._due is not None and now - self._due < period else now + period
        out = self._analyse(result, now, image)
        self._last = out
        return out

    def _analyse(self, result: FrameResult, now: float, image: np.ndarray | None) -> AppOutput:
        timings: dict[str, float] = {}
        driver = pick_driver(result.faces, result.width, result.height, self.config)
        measured = None
        if driver is not None and image is not None:
            measured = self.measurer.measure(image, driver.box, driver.id, timings, self.state.flip_below())
        else:
            self.measurer.reset()
        state, events = self.state.update(now, measured[0] if measured else None)
        out_state = {"track_id": driver.id, **state} if measured and driver is not None else None
        self._absent_state = {"track_id": None, **state} if out_state is None else None
        key = (state["level_name"], state["calibration"], state["distracted"], driver.id if driver else None)
        changed = key != self._last_key or bool(events)
        self._last_key = key
        gauges = {k: float(state[k]) for k in GAUGES if state.get(k) is not None}
        gauges["level"] = float(state["level"]) if state["level"] is not None else -1.0
        gauges["eyes_closed_seconds"] = state["eyes_closed_ms"] / 1000.0
        gauges["off_road_seconds"] = state["off_road_ms"] / 1000.0
        gauges["distracted"] = float(state["distracted"])
        if state["eye_openness"] is not None:
            gauges["eye_openness_left"], gauges["eye_openness_right"] = state["eye_openness"]
        app_events = [AppEvent(self.name, kind, {"track_id": driver.id if driver else None, **data})
                      for kind, data in events]
        return AppOutput(out_state, events=app_events, changed=changed, gauges=gauges, timings=timings)

    def mqtt_state(self, state: dict[str, Any] | None) -> dict[str, Any] | None:
        # No driver: JSON Lines gets null, MQTT the "unknown" state, so Home Assistant never keeps
        # showing the last driver's level (and no entity needs expire_after).
        return state if state is not None else self._absent_state

    def discovery_components(self, topics: MqttTopics) -> dict[str, dict[str, Any]]:
        return fatigue_components(topics, self.name, self.config.alarm_level)

    def close(self) -> None:
        self.measurer.mesh.close()
        self.measurer.iris.close()
