"""Detection off the critical path: whole-frame search every N frames while faces are tracked,
carried or region-searched boxes in between, and a whole-frame search as soon as a track is lost."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from edgeemo.errors import ConfigError
from edgeemo.vision.base import Detection, FaceDetector
from edgeemo.vision.schedule import DetectionSchedule
from edgeemo.vision.tracking import IoUTracker

H, W, SIDE = 240, 320, 40


class _SquareDetector(FaceDetector):
    """Finds bright squares (the 'faces' of these tests) in whatever image it is given, so it works
    on regions of a frame as a real detector does; records the size of every image it searched."""

    key = "square"

    def __init__(self) -> None:
        self.searched: list[tuple[int, int]] = []

    def detect(self, frame: np.ndarray) -> list[Detection]:
        self.searched.append(frame.shape[:2])
        ys, xs = np.nonzero(frame[:, :, 0] > 200)
        if len(xs) == 0:
            return []
        x1, y1, x2, y2 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        eyes = np.array([[x1 + 0.3 * SIDE, y1 + 0.4 * SIDE], [x1 + 0.7 * SIDE, y1 + 0.4 * SIDE]], np.float32)
        return [Detection(box=np.array([x1, y1, x2, y2], np.float32), score=0.9, keypoints=eyes)]


def _frame(x: int | None, y: int = 100) -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    if x is not None:
        img[y : y + SIDE, x : x + SIDE] = 255
    return img


def _run(schedule: DetectionSchedule, xs: list[int | None]) -> tuple[_SquareDetector, list[list[Detection]], list[str]]:
    det, tracker = _SquareDetector(), IoUTracker()
    found, kinds = [], []
    for x in xs:
        dets, kind = schedule.detections(det.detect, _frame(x), tracker.tracks)
        tracks = tracker.update(dets, np.full((len(dets), 3), 1 / 3, np.float32))
        schedule.observe(tracks, dets)
        found.append(dets)
        kinds.append(kind)
    return det, found, kinds


@pytest.mark.parametrize("mode", ["interval", "roi"])
def test_a_moving_face_is_followed_with_few_whole_frame_searches(mode):
    xs = [20 + 4 * i for i in range(30)]  # 4 px per frame to the right
    det, found, kinds = _run(DetectionSchedule(mode, every=3), xs)
    assert kinds.count("full") == 10 and all(k in ("full", mode if mode == "roi" else "carry") for k in kinds)
    assert sum(1 for s in det.searched if s == (H, W)) == 10
    assert all(len(f) == 1 for f in found), "every frame reports the face"
    errors = [abs((f[0].box[0] + f[0].box[2]) / 2 - (x + SIDE / 2)) for f, x in zip(found, xs, strict=True)]
    assert max(errors[6:]) <= 2.0, "once the velocity is measured, carried boxes stay on the face"
    carried = [f[0] for f, k in zip(found, kinds, strict=True) if k != "full"]
    assert all(d.keypoints is not None for d in carried), "alignment keeps its eye points"
    if mode == "roi":
        assert all(s[0] < H and s[1] < W for s in det.searched if s != (H, W)), "regions, not frames"


def test_every_frame_searches_every_whole_frame():
    det, found, kinds = _run(DetectionSchedule("every_frame"), [20 + 4 * i for i in range(12)])
    assert kinds == ["full"] * 12 and det.searched == [(H, W)] * 12


def test_a_lost_face_triggers_whole_frame_searches_until_it_is_found():
    # The face jumps far away at frame 5: the region around the old track finds nothing.
    xs: list[int | None] = [20, 24, 28, 32, 36, 250, 250, 250, 250]
    _, found, kinds = _run(DetectionSchedule("roi", every=10), xs)
    assert kinds[:5] == ["full", "roi", "roi", "roi", "roi"]
    assert kinds[5] == "roi" and found[5] == [], "the region search notices the face left at once"
    assert kinds[6] == "full" and len(found[6]) == 1 and found[6][0].box[0] == 250


def test_with_nothing_tracked_every_frame_is_searched_whole():
    _, found, kinds = _run(DetectionSchedule("interval", every=5), [None] * 4 + [60])
    assert kinds == ["full"] * 5 and len(found[4]) == 1


def test_bad_settings_name_the_key():
    with pytest.raises(ConfigError, match="detector.schedule"):
        DetectionSchedule("sometimes")
    with pytest.raises(ConfigError, match="detector.every"):
        DetectionSchedule("interval", every=0)


def test_config_rejects_a_bad_schedule_with_its_key_path():
    from edgeemo.daemon.config import parse_config

    with pytest.raises(ConfigError, match=r"detector\.schedule.*'often'"):
        parse_config({"detector": {"schedule": "often"}})
    assert parse_config({}).detector.schedule == "interval"


@pytest.mark.parametrize("schedule", ["every_frame", "interval", "roi"])
def test_run_on_a_real_face_video_keeps_finding_the_face(schedule, tmp_path, tmp_path_factory):
    from device_support import device_bundle, hopper_face, make_face_frames, write_video

    from edgeemo.cli import cli

    pytest.importorskip("cv2")
    bundle = device_bundle(tmp_path_factory)
    frames, boxes = make_face_frames([hopper_face()], 30, step=6)
    video = write_video(tmp_path / "v.mp4", frames)
    out = tmp_path / "o.jsonl"
    res = CliRunner().invoke(cli, ["run", "--bundle", str(bundle), "--source", str(video), "--jsonl", str(out),
                                   "--detect-schedule", schedule, "--detect-every", "3", "--show-metrics"])
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    hits = 0
    for rec, (x1, y1, x2, y2) in zip(records, boxes, strict=True):
        for face in rec["faces"]:
            cx, cy = (face["box"][0] + face["box"][2]) / 2, (face["box"][1] + face["box"][3]) / 2
            hits += x1 <= cx <= x2 and y1 <= cy <= y2
    assert hits >= 0.9 * len(boxes)
    runs = json.loads(res.stderr[res.stderr.index("{"):])["detection_runs"]
    assert sum(runs.values()) == len(boxes)
    assert runs["full"] == len(boxes) if schedule == "every_frame" else runs["full"] <= len(boxes) // 2


def test_bench_pipeline_measures_the_schedule(tmp_path, tmp_path_factory):
    from device_support import device_bundle, hopper_face, make_face_frames, write_video

    from edgeemo.cli import cli

    pytest.importorskip("cv2")
    bundle = device_bundle(tmp_path_factory)
    frames, _ = make_face_frames([hopper_face()], 24, step=4)
    video = write_video(tmp_path / "v.mp4", frames)
    results = {}
    for schedule in ("every_frame", "interval"):
        out = tmp_path / f"{schedule}.json"
        res = CliRunner().invoke(cli, ["bench", "--pipeline", "--bundle", str(bundle), "--source", str(video),
                                       "--frames", "20", "--warmup", "1", "--detect-schedule", schedule,
                                       "--detect-every", "4", "--json", str(out)])
        assert res.exit_code == 0, res.output
        results[schedule] = json.loads(out.read_text())["pipeline"]["detection"]
    assert results["every_frame"]["counts"] == {"full": 20, "roi": 0, "carry": 0}
    assert results["interval"]["counts"]["full"] == 5 and results["interval"]["counts"]["carry"] == 15
