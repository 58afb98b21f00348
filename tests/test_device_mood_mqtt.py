"""The daemon with the mood app against a real mosquitto: retained device discovery and
availability, old per-component topics migrated and emptied, discovery again after Home
Assistant says it is online, the analysis switch closing and reopening the camera, and the
last will after kill -9."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest
from test_device_integration import EDGEEMO, Subscriber, broker, free_port, http_get, wait_for  # noqa: F401

from edgeemo.bundle import default_bundle_path

pytestmark = pytest.mark.integration

DEVICE_TOPIC = "homeassistant/device/testcam/config"
OLD_TOPIC = "homeassistant/sensor/testcam/emotion/config"


def _publish(port: int, topic: str, payload: str, retain: bool = False) -> None:
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{time.monotonic_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def _status(port: int) -> dict:
    """/status, with the capture state (running, paused, ...) under "capture"."""
    code, body = http_get(f"http://127.0.0.1:{port}/status")
    out = json.loads(body) if code in (200, 503) and body else {}
    out["capture"] = ((out.get("metrics") or {}).get("source") or {}).get("state")
    return out


def test_daemon_discovery_switch_migration_and_last_will(broker, tmp_path):  # noqa: F811 - the imported fixture
    if default_bundle_path() is None:
        pytest.skip("this installation ships no default bundle")
    # What an older edgeemo left on the broker: one retained per-component discovery topic.
    _publish(broker.port, OLD_TOPIC, json.dumps({"name": "Emotion", "unique_id": "edgeemo_testcam_emotion",
                                                 "state_topic": "edgeemo/testcam/state"}), retain=True)
    sub = Subscriber(broker.port)
    assert wait_for(lambda: sub.client.is_connected(), 5)
    http_port = free_port()
    config = tmp_path / "edgeemo.toml"
    config.write_text(f"""
[source]
uri = "fake:320x240@15"
[publish.mqtt]
enabled = true
port = {broker.port}
device_id = "testcam"
interval_s = 0.5
[publish.http]
enabled = true
port = {http_port}
[apps.mood]
enabled = true
""")
    proc = subprocess.Popen([*EDGEEMO, "daemon", "--config", str(config)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)

    def on(topic: str) -> list[bytes]:
        return [p for t, p, _ in sub.messages if t == topic]

    try:
        assert wait_for(lambda: on(DEVICE_TOPIC), 90), (
            f"no device discovery; daemon output: {proc.stdout.read() if proc.poll() is not None else ''}")
        payload = json.loads(on(DEVICE_TOPIC)[0])
        assert {"room_mood", "occupancy", "mood", "analysis", "emotion", "fps"} <= set(payload["cmps"])
        assert wait_for(lambda: on("edgeemo/testcam/availability")[-1:] == [b"online"], 10)
        assert wait_for(lambda: on("edgeemo/testcam/analysis")[-1:] == [b"ON"], 10)
        assert wait_for(lambda: on("edgeemo/testcam/room"), 10)
        room = json.loads(on("edgeemo/testcam/room")[-1])
        assert room["state"] == "none" and room["people"] == 0 and room["quiet"] is False

        # The old topic: migrated (Home Assistant keeps the entity), then emptied, exactly once.
        assert wait_for(lambda: on(OLD_TOPIC)[-1:] == [b""], 10), on(OLD_TOPIC)
        assert on(OLD_TOPIC)[1:] == [b'{"migrate_discovery":true}', b""], on(OLD_TOPIC)
        order = [(t, p) for t, p, _ in sub.messages if t in (OLD_TOPIC, DEVICE_TOPIC)]
        i_device = next(i for i, (t, _) in enumerate(order) if t == DEVICE_TOPIC)
        migrate, empty = order.index((OLD_TOPIC, b'{"migrate_discovery":true}')), order.index((OLD_TOPIC, b""))
        assert migrate < empty < i_device, f"expected migrate, empty, device payload; received {order}"
        late = Subscriber(broker.port)  # joins now: sees what is retained
        try:
            assert wait_for(lambda: any(t == DEVICE_TOPIC and r for t, _, r in late.messages), 5)
            assert wait_for(lambda: any(t == "edgeemo/testcam/availability" and p == b"online" and r
                                        for t, p, r in late.messages), 5)
            time.sleep(0.5)
            assert not [m for m in late.messages if m[0] == OLD_TOPIC], "the old topic keeps no retained payload"
        finally:
            late.close()

        # Home Assistant restarts and says so: discovery again, within 0-5 s.
        n = len(on(DEVICE_TOPIC))
        t0 = time.monotonic()
        _publish(broker.port, "homeassistant/status", "online")
        assert wait_for(lambda: len(on(DEVICE_TOPIC)) > n, 8), "no discovery after homeassistant/status online"
        assert time.monotonic() - t0 < 6.5

        # The analysis switch: off closes the camera (no frames), on reopens it.
        assert wait_for(lambda: _status(http_port)["capture"] == "running", 10)
        _publish(broker.port, "edgeemo/testcam/set/analysis", "OFF")
        assert wait_for(lambda: on("edgeemo/testcam/analysis")[-1:] == [b"OFF"], 5)
        assert wait_for(lambda: _status(http_port)["capture"] == "paused", 5), _status(http_port)
        frames = _status(http_port)["metrics"]["frames"]
        time.sleep(1.5)
        idle = _status(http_port)
        assert idle["metrics"]["frames"] == frames, "frames processed while analysis was off"
        assert idle["status"] == "ok", "paused on purpose is healthy"
        _publish(broker.port, "edgeemo/testcam/set/analysis", "ON")
        assert wait_for(lambda: on("edgeemo/testcam/analysis")[-1:] == [b"ON"], 5)
        assert wait_for(lambda: _status(http_port).get("metrics", {}).get("frames", 0) > frames + 5, 15)
        assert _status(http_port)["capture"] == "running"

        # kill -9: no clean goodbye, the broker sends the last will.
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert wait_for(lambda: on("edgeemo/testcam/availability")[-1:] == [b"offline"], 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        sub.close()
