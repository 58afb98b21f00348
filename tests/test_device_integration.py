"""Real external parts started by the tests: the daemon under a NOTIFY_SOCKET, a mosquitto
broker on 127.0.0.1, an HTTP MJPEG stream that is cut and restored, and FER-2013 video."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from device_support import device_bundle, fer_faces, hopper_face, make_face_frames, write_video

pytestmark = pytest.mark.integration
cv2 = pytest.importorskip("cv2")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return device_bundle(tmp_path_factory)


EDGEEMO = [sys.executable, "-c", "from edgeemo.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return 0, ""


# -- systemd notify ---------------------------------------------------------------------------

def test_daemon_notifies_ready_watchdog_reload_and_stopping(bundle, tmp_path):
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.5)
    port = free_port()
    config = tmp_path / "edgeemo.toml"
    body = f"""
[bundle]
path = "{bundle}"
[source]
uri = "fake:640x480@20"
[publish.http]
enabled = true
port = {port}
"""
    config.write_text(body)
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "400000"}
    proc = subprocess.Popen([*EDGEEMO, "daemon", "--config", str(config)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got: list[str] = []

    def collect(until: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                got.append(sock.recv(512).decode())
            except TimeoutError:
                continue
            if got[-1].startswith(until):
                return True
        return False

    try:
        assert collect("READY=1", 90), f"no READY=1; got {got}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
        # Warm-up happened before READY: the HTTP endpoint and the frame loop are already up.
        assert wait_for(lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200, 5)
        assert not any(m.startswith("WATCHDOG") for m in got[:-1]), "pings only come from the frame loop"
        assert collect("WATCHDOG=1", 3) and collect("WATCHDOG=1", 3)
        # SIGHUP: the edited config (a new port) is loaded.
        port2 = free_port()
        config.write_text(body.replace(f"port = {port}", f"port = {port2}"))
        proc.send_signal(signal.SIGHUP)
        assert collect("RELOADING=1", 10)
        assert collect("READY=1", 60)
        assert wait_for(lambda: http_get(f"http://127.0.0.1:{port2}/healthz")[0] == 200, 5)
        # A broken config on reload is refused and the service keeps running.
        config.write_text("[source]\nuri = 7\n")
        proc.send_signal(signal.SIGHUP)
        assert collect("READY=1", 10)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert collect("STOPPING=1", 10)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sock.close()


# -- mosquitto --------------------------------------------------------------------------------

@pytest.fixture()
def broker(tmp_path):
    exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if exe is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    pytest.importorskip("paho.mqtt.client")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")

    class Broker:
        def __init__(self) -> None:
            self.port = port
            self.proc: subprocess.Popen | None = None

        def start(self) -> None:
            self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            def up() -> bool:
                with socket.socket() as s:
                    return s.connect_ex(("127.0.0.1", port)) == 0
            assert wait_for(up, 10), "mosquitto did not start"

        def stop(self) -> None:
            if self.proc is not None:
                self.proc.terminate()
                self.proc.wait(10)
                self.proc = None

    b = Broker()
    b.start()
    yield b
    b.stop()


class Subscriber:
    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sub-{time.monotonic_ns()}")
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, bool(m.retain)))
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([("edgeemo/#", 1), ("homeassistant/#", 1)])
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mqtt_events_discovery_and_offline_buffer(bundle, broker):
    from edgeemo.daemon.config import parse_config
    from edgeemo.daemon.mqtt_config import MqttConfig
    from edgeemo.daemon.publish_mqtt import MqttPublisher
    from edgeemo.daemon.publishers import NullPublisher
    from edgeemo.daemon.runner import Runner
    from edgeemo.daemon.source_fake import FakeSource

    frames, _ = make_face_frames([hopper_face()], 30, step=2)
    sub = Subscriber(broker.port)
    assert wait_for(lambda: sub.client.is_connected(), 5)
    mqtt_cfg = MqttConfig(enabled=True, port=broker.port, device_id="testcam", interval_s=0.0, buffer_size=200,
                          reconnect_min_s=2, reconnect_max_s=2)
    pub = MqttPublisher(mqtt_cfg)
    null = NullPublisher()
    source = FakeSource("fake:640x480@30", frames=frames, live=True)
    runner = Runner(parse_config({"bundle": {"path": str(bundle)}}), source=source, publishers=[pub, null])
    stop = threading.Event()
    runner.start()
    loop = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    loop.start()
    try:
        topics = lambda: {t for t, _, _ in sub.messages}  # noqa: E731
        assert wait_for(lambda: "edgeemo/testcam/state" in topics(), 15), sub.messages[:5]
        assert wait_for(lambda: "homeassistant/device/testcam/config" in topics(), 5), "no device discovery"
        assert any(t.startswith("edgeemo/testcam/face/") for t in topics())
        avail = [p for t, p, _ in sub.messages if t == "edgeemo/testcam/availability"]
        assert avail and avail[-1] == b"online"
        disc = json.loads(next(p for t, p, _ in sub.messages if t == "homeassistant/device/testcam/config"))
        assert disc["cmps"]["emotion"]["state_topic"] == "edgeemo/testcam/state"
        assert disc["availability"][0]["topic"] == "edgeemo/testcam/availability"
        state = json.loads(next(p for t, p, _ in sub.messages if t == "edgeemo/testcam/state"))
        assert state["faces"] == 1 and state["label"] in runner.bundle.labels

        # Broker down: the frame loop keeps its pace, the buffer stays bounded.
        sub.close()
        broker.stop()
        frames_at_stop = null.frames
        time.sleep(2.5)
        # 2.5 s at 30 frames/s is 75 frames; a loop blocked on the broker would manage none.
        assert null.frames - frames_at_stop >= 40, "the frame loop must not wait for the broker"
        assert 0 < pub.buffered <= 200
        outage_last = null.last.index

        # Broker back: a fresh subscriber sees the buffered events arrive.
        broker.start()
        sub = Subscriber(broker.port)
        assert wait_for(lambda: sub.client.is_connected(), 5)
        def delivered_outage() -> bool:
            states = [json.loads(p) for t, p, _ in sub.messages if t == "edgeemo/testcam/state"]
            return any(s["frame"] <= outage_last for s in states)
        assert wait_for(delivered_outage, 30), "buffered events from the outage were not delivered"
        assert pub.buffered <= 200  # bounded throughout; overflow drops the oldest (counted)
    finally:
        stop.set()
        loop.join(10)
        runner.close()
        sub.close()
    assert not loop.is_alive()


# -- HTTP stream cut and restored ----------------------------------------------------------------

class MjpegServer:
    """multipart/x-mixed-replace JPEG stream on 127.0.0.1; `cut()` drops clients and refuses new ones."""

    def __init__(self, frames: list[np.ndarray], fps: float = 25.0) -> None:
        self.jpegs = [cv2.imencode(".jpg", f)[1].tobytes() for f in frames]
        self.fps = fps
        self.up = threading.Event()
        self.up.set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                if not outer.up.is_set():
                    self.send_error(503)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while outer.up.is_set():
                        jpg = outer.jpegs[i % len(outer.jpegs)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(jpg)).encode() + b"\r\n\r\n" + jpg + b"\r\n")
                        i += 1
                        time.sleep(1.0 / outer.fps)
                except OSError:
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cam.mjpg"

    def cut(self) -> None:
        self.up.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.up.clear()
        self.server.shutdown()
        self.server.server_close()


def _metric(text: str, name: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            if s.name == name:
                return float(s.value)
    return float("nan")


def test_stream_cut_and_restored_reconnects_without_exiting(bundle, tmp_path):
    frames, _ = make_face_frames([hopper_face()], 10, step=4)
    server = MjpegServer(frames)
    port = free_port()
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [*EDGEEMO, "run", "--bundle", str(bundle), "--source", server.url,
         "--jsonl", str(out), "--http-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: http_get(base + "/healthz")[0] == 200, 90), proc.stderr.read() if proc.poll() is not None else ""
        server.cut()
        code, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(http_get(base + "/healthz")), 20) or (0, "")
        assert code == 503 and json.loads(body)["status"] == "degraded"
        time.sleep(1.0)
        assert proc.poll() is None
        server.restore()
        assert wait_for(lambda: _metric(http_get(base + "/metrics")[1], "edgeemo_source_reconnects_total") >= 1, 40)
        assert wait_for(lambda: http_get(base + "/healthz")[0] == 200, 10)
        text = http_get(base + "/metrics")[1]
        assert _metric(text, "edgeemo_source_read_failures_total") >= 1
        assert _metric(text, "edgeemo_source_up") == 1.0
        assert proc.poll() is None, "the runner must never exit because the stream went away"
        n_before = len(out.read_text().splitlines())
        assert wait_for(lambda: len(out.read_text().splitlines()) > n_before, 10), "frames flow again"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        server.close()
    assert rc == 0


# -- FER-2013 faces in a video ------------------------------------------------------------------

@pytest.mark.dataset
def test_fer_faces_video_boxes(bundle, tmp_path):
    from click.testing import CliRunner

    from edgeemo.cli import cli

    frames, boxes = make_face_frames(fer_faces(20), 100, step=2)
    video = write_video(tmp_path / "fer.mp4", frames)
    out = tmp_path / "fer.jsonl"
    res = CliRunner().invoke(cli, ["run", "--bundle", str(bundle), "--source", str(video), "--jsonl", str(out)])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in out.read_text().splitlines()]
    hits = 0
    for rec, (x1, y1, x2, y2) in zip(recs, boxes, strict=True):
        for f in rec["faces"]:
            bx1, by1, bx2, by2 = f["box"]
            if abs((bx1 + bx2) / 2 - (x1 + x2) / 2) < 50 and abs((by1 + by2) / 2 - (y1 + y2) / 2) < 50:
                hits += 1
                break
        assert len(rec["faces"]) <= 1, "one face per frame, no phantom detections"
    # BlazeFace short-range finds about 90% of upscaled 48x48 FER faces.
    assert hits >= 0.8 * len(boxes), f"{hits}/{len(boxes)}"
