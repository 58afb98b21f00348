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
    Roi,
    roi_from_box,
    roi_from_eye_corners,
    roi_from_landmarks,
)
from edgeemo.apps.fatigue.models import require_landmark_models
from edgeemo.apps.fatigue.signals import (
    CONTOUR_CORNERS,
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

MIN_EYE_ROI_PX = 8.0  # a tracked eye ROI smaller than this has lost the eye: run the mesh again
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


def _contour_roi(eye: EyeResult, mirrored: bool) -> Roi:
    """An eye ROI from the corners of its eyelid contour, in the frame's left-to-right order."""
    outer, inner = (eye.contour[i] for i in CONTOUR_CORNERS)
    return roi_from_eye_corners(inner, outer) if mirrored else roi_from_eye_corners(outer, inner)


class DriverMeasurer:
    """Mesh, eyes, mouth and pose for one face per frame, doing no more work than the frame rate
    needs: the previous landmarks give the next mesh ROI while the face stays (MediaPipe's
    tracking mode); the mesh runs on every mesh_every-th frame, and in between each eye's ROI
    follows its previous eyelid contour; with frames closer than eye_alternate_s the eyes take
    turns unless one is closing."""

    def __init__(self, mesh: FaceMesh, iris: IrisModel, config: FatigueConfig) -> None:
        self.mesh, self.iris, self.config = mesh, iris, config
        self.pose = HeadPose()
        self._prev: MeshResult | None = None
        self._prev_id: int | None = None
        self._mesh_rois: tuple[Roi, Roi] | None = None  # each eye's ROI from the last mesh
        self._mesh_seq = 0  # mesh runs so far
        self._mesh_age = 0  # analysed frames since the last mesh run
        self._mesh_t: float | None = None
        self._eyes: list[EyeResult] = []  # the last reading of each eye (image-left, image-right)
        self._eye_values: list[tuple[float, float]] = [(0.0, 0.0)] * 2  # its openness and saturated share
        self._eye_t: list[float | None] = [None, None]  # when each was read
        self._eye_seq = [-1, -1]  # the mesh run each eye's ROI offset was learnt on
        self._eye_offsets: list[tuple[float, float, float, float]] = [(0.0, 0.0, 1.0, 0.0)] * 2
        self._next_eye = 0  # the eye read first on the next frame
        self._held: tuple[float, tuple[float, float, float] | None] = (0.0, None)  # mouth, pose of the last mesh
        self.roi_from_landmarks = 0  # mesh runs whose ROI came from the previous landmarks
        self.roi_from_box = 0
        self.mesh_skipped = 0  # frames without a mesh run
        self.eye_reads = 0  # iris runs on an eye crop (mirrored second readings not counted)

    def reset(self) -> None:
        self._prev, self._prev_id, self._eyes, self._eye_t = None, None, [], [None, None]
        self.pose.reset()

    def measure(self, image: np.ndarray, box: list[float], track_id: int | None, timings: dict[str, float],
                flip_below: float | None = None, now: float | None = None,
                ) -> tuple[Sample, MeshResult, tuple[EyeResult, EyeResult]] | None:
        """One frame of the driver; the MeshResult returned is the one pose and mouth come from
        (an earlier frame's when this frame skipped the mesh). flip_below: the openness under
        which an eye counts as closing (read again from its mirrored crop with eye_flip_average
        "auto", and never left out of a frame); None until there is a baseline. now: the frame
        time, for mesh_max_age_s and eye_alternate_s."""
        t0 = time.perf_counter()
        if track_id != self._prev_id:  # another face: nothing of the last one's readings carries over
            self.reset()
        key = self._mesh_due(track_id, now)
        if key:
            mesh = self._run_mesh(image, box, track_id)
            if mesh is None:
                timings["landmarks"] = time.perf_counter() - t0
                self.reset()
                return None
            self._prev, self._prev_id, self._mesh_age, self._mesh_t = mesh, track_id, 0, now
            self._mesh_seq += 1
            pts = mesh.points
            self._mesh_rois = (roi_from_eye_corners(pts[LEFT_EYE_CORNERS[0]], pts[LEFT_EYE_CORNERS[1]]),
                               roi_from_eye_corners(pts[RIGHT_EYE_CORNERS[0]], pts[RIGHT_EYE_CORNERS[1]]))
        else:
            self._mesh_age += 1
            self.mesh_skipped += 1
        assert self._prev is not None
        t1 = time.perf_counter()
        timings["landmarks"] = t1 - t0
        self._read_eyes(image, flip_below, now)
        left, right = self._eyes
        t2 = time.perf_counter()
        timings["iris"] = t2 - t1
        # The frame's left/right as the driver sees it: the image-left eye is the driver's right.
        (left_open, left_sat), (right_open, right_sat) = self._eye_values
        openness = (right_open, left_open)
        saturated = max(left_sat, right_sat) > self.config.saturated_share
        if key:
            pts = self._prev.points
            self._held = (mouth_opening(pts), self.pose(pts, int(image.shape[1]), int(image.shape[0])))
        mouth, pose = self._held
        sample = Sample(openness=openness, mouth=mouth, pose=pose, saturated=saturated)
        timings["fatigue_signals"] = time.perf_counter() - t2
        return sample, self._prev, (left, right)

    def _read_eyes(self, image: np.ndarray, flip_below: float | None, now: float | None) -> None:
        """One eye, taking turns; the other too when its reading is older than eye_alternate_s or
        either eye is closing (both eyes on a new track)."""
        mode = self.config.eye_flip_average
        flip_gate = flip_below if mode == "auto" else None

        def closing(contour: np.ndarray, gate: float | None) -> bool:
            return gate is not None and eye_openness(contour) < gate

        def read(i: int) -> EyeResult:
            self.eye_reads += 1
            self._eye_t[i] = now
            eye = self.iris.run(image, self._eye_roi(i), mirror=i == 1, flip_average=mode == "always",
                                flip_when=lambda contour: closing(contour, flip_gate))
            # Measured once per reading: an eye not read this frame keeps its values.
            self._eye_values[i] = (eye_openness_averaged(eye.contours), saturation(eye.crop))
            return eye

        if not self._eyes:
            self._eyes = [read(0), read(1)]
            self._learn_offsets()
            return
        first, other = self._next_eye, 1 - self._next_eye
        self._eyes[first] = read(first)
        last = self._eye_t[other]
        due = now is None or last is None or now - last >= self.config.eye_alternate_s
        if due or closing(self._eyes[first].contour, flip_below) or closing(self._eyes[other].contour, flip_below):
            self._eyes[other] = read(other)
        self._next_eye = other
        self._learn_offsets()

    def _eye_roi(self, i: int) -> Roi:
        """The mesh's ROI for an eye not read since the last mesh run; otherwise one placed on its
        last eyelid contour as the mesh's was (the contour's corners sit inside the mesh's, so a
        plain corner ROI would shrink frame by frame)."""
        assert self._mesh_rois is not None
        if self._eye_seq[i] != self._mesh_seq or len(self._eyes) < 2:
            return self._mesh_rois[i]
        roi = _contour_roi(self._eyes[i], i == 1).placed(self._eye_offsets[i])
        if roi.size < MIN_EYE_ROI_PX:  # the contour collapsed: the mesh's ROI, and the mesh next frame
            self._mesh_age = self.config.mesh_every
            return self._mesh_rois[i]
        return roi

    def _learn_offsets(self) -> None:
        """For each eye read from the mesh's ROI: where that ROI sits relative to its contour."""
        assert self._mesh_rois is not None
        for i in (0, 1):
            if self._eye_seq[i] != self._mesh_seq and self._eyes[i].roi is self._mesh_rois[i]:
                self._eye_offsets[i] = self._mesh_rois[i].offset_from(_contour_roi(self._eyes[i], i == 1))
                self._eye_seq[i] = self._mesh_seq

    def _mesh_due(self, track_id: int | None, now: float | None) -> bool:
        if not self._eyes or self._prev is None or track_id != self._prev_id:
            return True
        if self._mesh_age + 1 >= self.config.mesh_every:
            return True
        return now is not None and self._mesh_t is not None and now - self._mesh_t >= self.config.mesh_max_age_s

    def _run_mesh(self, image: np.ndarray, box: list[float], track_id: int | None) -> MeshResult | None:
        mesh = None
        if self.config.track_landmarks and self._prev is not None and track_id == self._prev_id:
            mesh = self.mesh.run(image, roi_from_landmarks(self._prev.points))
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
        return mesh if mesh.presence >= self.config.min_presence else None


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
            measured = self.measurer.measure(image, driver.box, driver.id, timings, self.state.flip_below(), now)
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
