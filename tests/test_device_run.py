"""`edgeemo run` and the pipeline on real video with the shipped int8 bundle and BlazeFace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import urllib.request

import numpy as np
import pytest
from click.testing import CliRunner
from device_support import device_bundle, hopper_face, make_face_frames, write_video

from edgeemo.cli import cli
from edgeemo.daemon.config import parse_config
from edgeemo.daemon.publishers import NullPublisher
from edgeemo.daemon.runner import Runner
from edgeemo.daemon.source_fake import FakeSource

cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return device_bundle(tmp_path_factory)


@pytest.fixture(scope="module")
def face_video(tmp_path_factory):
    frames, boxes = make_face_frames([hopper_face()], 60, step=3)  # no wrap-around: one track
    path = write_video(tmp_path_factory.mktemp("video") / "hopper.mp4", frames)
    return path, boxes


def test_run_writes_faces_at_the_right_places(bundle, face_video, tmp_path):
    video, boxes = face_video
    out = tmp_path / "out.jsonl"
    res = CliRunner().invoke(cli, ["run", "--bundle", str(bundle), "--source", str(video), "--jsonl", str(out),
                                   "--show-metrics"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [rec["frame"] for rec in lines] == list(range(len(boxes)))
    labels = json.loads((bundle / "manifest.json").read_text())["labels"]
    found, ids = 0, set()
    for rec, (x1, y1, x2, y2) in zip(lines, boxes, strict=True):
        assert len(rec["faces"]) <= 1
        if not rec["faces"]:
            continue
        face = rec["faces"][0]
        bx1, by1, bx2, by2 = face["box"]
        assert abs((bx1 + bx2) / 2 - (x1 + x2) / 2) < 40 and abs((by1 + by2) / 2 - (y1 + y2) / 2) < 40
        assert face["label"] in labels and set(face["probs"]) == set(labels)
        assert abs(sum(face["probs"].values()) - 1.0) < 0.02
        found += 1
        ids.add(face["id"])
    assert found >= 0.9 * len(boxes)
    assert len(ids) == 1, "one face sliding slowly keeps one track id"
    metrics = json.loads(res.stderr[res.stderr.index("{"):])
    assert metrics["frames"] == len(boxes) and metrics["source"]["dropped"] == 0
    assert metrics["fps"] > 0 and set(metrics["stage_ms_mean"]) >= {"decode", "detect", "classify"}


def test_run_without_bundle_says_what_to_pass(monkeypatch):
    import edgeemo.daemon.runner as runner_mod

    monkeypatch.setattr(runner_mod, "default_bundle_path", lambda: None)
    res = CliRunner().invoke(cli, ["run", "--source", "fake:64x48*3"])
    assert res.exit_code == 2
    err = res.stderr
    assert "--bundle" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_tampered_bundle_refuses_to_start(bundle, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(bundle, bad)
    model = next(bad.glob("*_int8.tflite"))
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    res = CliRunner().invoke(cli, ["run", "--bundle", str(bad), "--source", "fake:64x48*3"])
    assert res.exit_code == 2
    assert "sha256" in res.stderr


def test_runner_with_fake_source_http_endpoints_and_null_publisher(bundle):
    from prometheus_client.parser import text_string_to_metric_families

    frames, _ = make_face_frames([hopper_face()], 8, step=10)
    source = FakeSource("fake:640x480@60", frames=frames, live=True)
    null = NullPublisher()
    config = parse_config({"bundle": {"path": str(bundle)}, "publish": {"http": {"enabled": True, "port": 0}}})
    stop = threading.Event()
    with Runner(config, source=source, publishers=[null]) as runner:
        n = runner.run(stop, max_frames=40)
        http = next(p for p in runner.publishers.publishers if p.key == "http")
        base = f"http://127.0.0.1:{http.port}"
        with urllib.request.urlopen(base + "/healthz") as r:
            assert r.status == 200 and json.load(r)["status"] == "ok"
        with urllib.request.urlopen(base + "/status") as r:
            status = json.load(r)
        with urllib.request.urlopen(base + "/metrics") as r:
            text = r.read().decode()
        with pytest.raises(urllib.error.HTTPError) as e404:
            urllib.request.urlopen(base + "/preview.mjpg")  # off by default: no image leaves the device
        assert e404.value.code == 404
    assert n == 40 and null.frames == 40 and null.faces >= 30
    assert status["metrics"]["frames"] == 40 and status["last"]["faces"]
    fams = {f.name: f for f in text_string_to_metric_families(text)}
    assert fams["edgeemo_frames"].samples[0].value == 40
    stages = {s.labels["stage"] for s in fams["edgeemo_stage_latency_seconds"].samples}
    assert {"decode", "detect", "align", "classify", "track", "publish"} <= stages
    assert "edgeemo_dropped_frames" in fams and "edgeemo_source_reconnects" in fams


def test_healthz_degraded_while_source_is_down(bundle):
    source = FakeSource("fake:64x48@50", fail_opens=10_000)
    config = parse_config({"bundle": {"path": str(bundle)}, "publish": {"http": {"enabled": True, "port": 0}},
                           "source": {"reconnect_initial_s": 0.05, "reconnect_max_s": 0.1}})
    stop = threading.Event()
    with Runner(config, source=source) as runner:
        threading.Timer(0.5, stop.set).start()
        runner.run(stop)
        http = next(p for p in runner.publishers.publishers if p.key == "http")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{http.port}/healthz")
        assert err.value.code == 503
        assert json.loads(err.value.read())["status"] == "degraded"
        assert runner.grabber.stats.open_failures >= 3


def test_device_path_never_imports_tensorflow(bundle, face_video, tmp_path):
    video, _ = face_video
    code = f"""
import sys
from edgeemo.cli import main
try:
    main(["run", "--bundle", {str(bundle)!r}, "--source", {str(video)!r}, "--jsonl", {str(tmp_path / 'o.jsonl')!r},
          "--max-frames", "5"])
except SystemExit as e:
    assert e.code in (0, None), e.code
import edgeemo.daemon.service, edgeemo.daemon.publish_mqtt, edgeemo.daemon.publish_http
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf_keras'))
print('TF_MODULES', bad)
"""
    env = {**os.environ, "EDGEEMO_LITERT": "ai_edge_litert"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "TF_MODULES []" in out.stdout
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 5


def test_pipeline_batches_all_faces_of_a_frame(bundle):
    from edgeemo.bundle import load_bundle
    from edgeemo.daemon.runner import build_pipeline
    from edgeemo.vision.fake import FakeDetector

    b = load_bundle(bundle)
    boxes = [(10, 10, 110, 110), (200, 50, 300, 150), (400, 200, 520, 320)]
    pipe = build_pipeline(parse_config({}), b, detector=FakeDetector(boxes=boxes))
    calls = []
    real_predict = pipe.runtime.predict
    pipe.runtime.predict = lambda x: (calls.append(len(x)), real_predict(x))[1]
    frame = np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    res = pipe.process(frame)
    assert len(res.faces) == 3 and len({f.id for f in res.faces}) == 3
    assert calls == [4]  # one inference, padded to a batch bucket
    pipe.close()
