"""Face detection, alignment and tracking on real pixels (no bundle needed)."""

from __future__ import annotations

import numpy as np
import pytest
from device_support import hopper_face, make_face_frames

from edgeemo.errors import ConfigError, MissingDependency
from edgeemo.preprocess import PreprocessSpec
from edgeemo.vision import Detection, IoUTracker, crop_faces, open_detector
from edgeemo.vision.align import crop_face, eye_angle
from edgeemo.vision.nms import nms, weighted_nms

cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def blazeface():
    from edgeemo.vision.blazeface import BlazeFaceDetector, blazeface_model_path

    try:
        path = blazeface_model_path()
    except MissingDependency as exc:
        pytest.skip(str(exc))
    return BlazeFaceDetector(path, threads=1)


def test_anchors_match_mediapipe_layout():
    from edgeemo.vision.blazeface import ssd_anchors

    a = ssd_anchors()
    assert a.shape == (896, 2)
    # stride 8: 16x16 cells x 2 anchors, x runs fastest; then stride 16: 8x8 cells x 6 anchors
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[1], a[0])
    np.testing.assert_allclose(a[2], [1.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(a[512 + 6], [1.5 / 8, 0.5 / 8])
    assert np.all((a > 0) & (a < 1))


def test_nms_keeps_best_and_weighted_nms_blends():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    assert nms(boxes, scores, 0.3) == [0, 2]
    merged = weighted_nms(boxes, scores, None, 0.3)
    assert len(merged) == 2
    box, score, _ = merged[0]
    assert score == pytest.approx(0.9)
    expected = (boxes[0] * 0.9 + boxes[1] * 0.6) / 1.5
    np.testing.assert_allclose(box, expected, atol=1e-4)


def test_blazeface_finds_face_where_it_was_pasted(blazeface):
    frames, boxes = make_face_frames([hopper_face()], 5, step=40)
    for frame, (x1, y1, x2, y2) in zip(frames, boxes, strict=True):
        dets = blazeface.detect(frame)
        assert len(dets) == 1, "one face pasted, one face expected"
        d = dets[0]
        assert d.score > 0.7
        cx, cy = (d.box[0] + d.box[2]) / 2, (d.box[1] + d.box[3]) / 2
        # The photo crop is 280 px with the face inside it; the face centre sits near the crop centre.
        assert abs(cx - (x1 + x2) / 2) < 40 and abs(cy - (y1 + y2) / 2) < 40
        assert 100 < d.width < 280
        eyes = d.eyes
        assert eyes is not None and np.all((eyes[:, 0] > d.box[0]) & (eyes[:, 0] < d.box[2]))
        assert abs(eye_angle(eyes)) < 10


def test_blazeface_empty_frame_has_no_faces(blazeface):
    assert blazeface.detect(np.full((480, 640, 3), 100, np.uint8)) == []


def test_alignment_levels_the_eyes(blazeface):
    face = hopper_face()
    frame = np.full((480, 640, 3), 100, np.uint8)
    frame[100:380, 180:460] = face
    m = cv2.getRotationMatrix2D((320, 240), 25, 1.0)
    tilted = cv2.warpAffine(frame, m, (640, 480), borderMode=cv2.BORDER_REPLICATE)
    det = blazeface.detect(tilted)[0]
    assert abs(eye_angle(det.eyes)) > 15  # the tilt is visible to the detector
    spec = PreprocessSpec(height=128, width=128, channels=3, crop_margin=0.25, align=True)
    aligned = crop_face(tilted, det, spec)
    # Detect again inside the aligned crop (upscaled onto a canvas): the eyes are now level.
    canvas = np.full((480, 640, 3), 100, np.uint8)
    big = cv2.resize(aligned, (240, 240))
    canvas[120:360, 200:440] = big
    again = blazeface.detect(canvas)
    assert again, "the aligned crop still shows a face"
    assert abs(eye_angle(again[0].eyes)) < 8
    unaligned = crop_face(tilted, det, spec.model_copy(update={"align": False}))
    assert unaligned.shape == aligned.shape


def test_crop_faces_batches_at_model_size():
    spec = PreprocessSpec(height=48, width=48, channels=1, crop_margin=0.1)
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    dets = [Detection(np.array([10, 10, 110, 110], np.float32), 0.9),
            Detection(np.array([600, 400, 700, 520], np.float32), 0.8)]  # partly outside the frame
    batch = crop_faces(frame, dets, spec)
    assert batch.shape == (2, 48, 48, 1) and batch.dtype == np.uint8
    assert crop_faces(frame, [], spec).shape == (0, 48, 48, 1)


def test_tracker_keeps_ids_and_hysteresis_stops_flicker():
    tr = IoUTracker(alpha=0.5, margin=0.1, hold=2)
    a = np.array([0.6, 0.4], np.float32)
    b = np.array([0.45, 0.55], np.float32)
    box = np.array([100, 100, 200, 200], np.float32)
    ids, labels = [], []
    for i, p in enumerate([a, b, a, b, a, b]):
        (t,) = tr.update([Detection(box + i * 3, 0.9)], p[None])
        ids.append(t.id)
        labels.append(t.label)
    assert len(set(ids)) == 1
    assert labels == [0] * 6  # alternating close probabilities never flip the shown label
    for _ in range(6):
        (t,) = tr.update([Detection(box, 0.9)], np.array([[0.1, 0.9]], np.float32))
    assert t.label == 1  # a sustained change does get through
    far = tr.update([Detection(box + 300, 0.9)], np.array([[0.5, 0.5]], np.float32))
    assert far[0].id != ids[0]


def test_tracker_drops_tracks_after_max_missed():
    tr = IoUTracker(max_missed=2)
    tr.update([Detection(np.array([0, 0, 50, 50], np.float32), 0.9)], np.array([[1.0, 0.0]], np.float32))
    for _ in range(3):
        tr.update([], np.zeros((0, 2), np.float32))
    assert tr.tracks == []


def test_haar_explains_why_it_is_missing():
    if hasattr(cv2, "CascadeClassifier"):
        det = open_detector("haar")
        assert det.key == "haar"
        return
    with pytest.raises(MissingDependency, match="CascadeClassifier"):
        open_detector("haar")


def test_unknown_detector_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="received 'mtcnn'"):
        open_detector("mtcnn")


def test_yunet_needs_a_model_file(tmp_path):
    with pytest.raises((ConfigError, FileNotFoundError)):
        open_detector("yunet", model_path=tmp_path / "missing.onnx")
