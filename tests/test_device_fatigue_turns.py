"""Eyes taking turns (eye_alternate_s) and the mesh on every other frame (mesh_every) must not
change what the driver's state reports: the real DriverMeasurer and FatigueAnalyzer, with the two
models replaced by scripted ones that report each eye's scripted openness at the frame's time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgeemo.apps import FakeClock
from edgeemo.apps.fatigue.analyzer import FatigueAnalyzer
from edgeemo.apps.fatigue.config import FatigueConfig
from edgeemo.apps.fatigue.landmarks import EyeResult, MeshResult, Roi
from edgeemo.apps.fatigue.signals import POSE_INDICES, POSE_MODEL
from edgeemo.daemon.pipeline import FaceResult, FrameResult
from tests.fatigue_script import Script

cv2 = pytest.importorskip("cv2", reason="needs OpenCV (device extra)")

CAL = 62.0
W, H = 640, 480


def _mesh_points() -> np.ndarray:
    """468 points of a frontal head: the pose points projected, the eye corners and lips set."""
    cam = np.array([[W, 0, W / 2], [0, W, H / 2], [0, 0, 1.0]])
    proj = (cam @ (POSE_MODEL + [0, 0, 1500.0]).T).T
    points = np.zeros((468, 3), np.float32)
    points[:, :2] = (W / 2, H / 2)
    points[list(POSE_INDICES), :2] = proj[:, :2] / proj[:, 2:]
    for idx, xy in {33: (262, 190), 133: (298, 190), 362: (342, 190), 263: (378, 190), 13: (320, 300),
                    14: (320, 304)}.items():
        points[idx, :2] = xy
    return points


class ScriptedMesh:
    def __init__(self) -> None:
        self.points = _mesh_points()
        self.runs = 0

    def run(self, image: np.ndarray, roi: Roi) -> MeshResult:
        self.runs += 1
        return MeshResult(self.points.copy(), 1.0, roi)

    def close(self) -> None:
        pass


class ScriptedIris:
    """Each eye's contour opened as the script says at `now` (the image-left eye is the driver's right)."""

    def __init__(self, script: Script) -> None:
        self.script, self.now, self.runs = script, 0.0, 0

    def run(self, image: np.ndarray, roi: Roi, *, mirror: bool, flip_average: bool = False,
            flip_when: object = None) -> EyeResult:
        self.runs += 1
        sample = self.script.sample(self.now)
        assert sample is not None and sample.openness is not None
        right, left = sample.openness
        gap = 0.6 * (left if mirror else right)  # corners 0.6 of the crop apart
        contour = np.full((71, 2), 0.5, np.float32)
        contour[0], contour[8] = (0.2, 0.5), (0.8, 0.5)
        contour[1:8, 0] = np.linspace(0.275, 0.725, 7)
        contour[1:8, 1] = 0.5 + gap / 2
        contour[9:16, 0] = np.linspace(0.275, 0.725, 7)
        contour[9:16, 1] = 0.5 - gap / 2
        if mirror:
            contour = contour[[8, 7, 6, 5, 4, 3, 2, 1, 0, *range(15, 8, -1), *range(16, 71)]]
        to_frame = roi.to_image
        return EyeResult(to_frame(contour), to_frame(np.full((5, 2), 0.5, np.float32)), roi,
                         np.full((64, 64, 3), 128, np.uint8))

    def close(self) -> None:
        pass


def _drive(script: Script, seconds: float, fps: float, config: FatigueConfig) -> tuple[dict, list[str], int]:  # type: ignore[type-arg]
    iris = ScriptedIris(script)
    analyzer = FatigueAnalyzer(ScriptedMesh(), iris, config)  # type: ignore[arg-type]
    clock = FakeClock(start=500.0)
    start = clock()
    face = FaceResult(id=1, box=[240.0, 140.0, 400.0, 340.0], det_score=0.9, label="neutral", score=1.0, probs={},
                      raw_label="neutral")
    image = np.zeros((H, W, 3), np.uint8)
    state: dict = {}  # type: ignore[type-arg]
    events: list[str] = []
    for i, t in enumerate(clock.frames(seconds, fps, jitter=0.2, drop=0.05, seed=int(fps))):
        iris.now = t - start
        out = analyzer.update(FrameResult(index=i, wall_time=t, width=W, height=H, faces=[face]), t, image)
        assert out.state is not None
        state = out.state
        events += [e.type for e in out.events]
    return state, events, iris.runs


@pytest.mark.parametrize("fps", [10, 15, 30, 60])
def test_eyes_taking_turns_report_the_same_blinks_perclos_and_microsleeps(fps: int) -> None:
    normal = [(CAL + 1 + 4 * i, 0.12 + 0.04 * (i % 8)) for i in range(12)]  # 120-400 ms blinks
    long = [(CAL + 50 + 2 * i, 0.6) for i in range(4)]
    script = Script(closures=[*normal, *long, (CAL + 48.0, 1.5)])
    every = FatigueConfig(mesh_every=1, eye_alternate_s=0.0)
    ref, ref_events, ref_reads = _drive(script, CAL + 60.5, fps, every)
    got, events, reads = _drive(script, CAL + 60.5, fps, FatigueConfig())
    assert ref["calibration"] == got["calibration"] == "ready"
    for key in ("blinks_per_min", "long_blinks_per_min", "microsleeps_5min", "level_name"):
        assert got[key] == ref[key], key
    assert ref["blinks_per_min"] == 16 and ref["long_blinks_per_min"] == 4
    frame = 1000.0 / fps
    assert got["mean_blink_ms"] == pytest.approx(ref["mean_blink_ms"], abs=frame)  # onsets and ends within a frame
    assert got["perclos_60s"] == pytest.approx(ref["perclos_60s"], abs=0.002)
    assert sorted(events) == sorted(ref_events)
    assert reads < 0.6 * ref_reads  # one eye on most frames: what it is for
    assert math.isfinite(got["pitch_deg"]) and got["pitch_deg"] == pytest.approx(ref["pitch_deg"], abs=0.1)
