"""Home Assistant discovery as the MQTT publisher sends it: one device-based payload with the
device's entities and every app's components, the analysis switch, the migration of old
per-component topics, and the re-send when Home Assistant comes online. No broker here: a
recording client stands in for paho (tests/test_device_integration.py runs a real mosquitto)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from edgeemo.apps.mood.analyzer import MoodAnalyzer
from edgeemo.apps.mood.config import MoodConfig
from edgeemo.daemon import publish_mqtt
from edgeemo.daemon.control import Controls
from edgeemo.daemon.publish_mqtt import MqttPublisher
from edgeemo.errors import ConfigError
from edgeemo.labels import FER2013_LABELS


@dataclass
class Msg:
    topic: str
    payload: bytes
    retain: bool = False


class Info:
    rc = 0

    def wait_for_publish(self, timeout: float | None = None) -> None:
        return None


class RecordingClient:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, bool]] = []
        self.subscribed: list[tuple[str, int]] = []

    def publish(self, topic: str, payload: str, qos: int = 0, retain: bool = False) -> Info:
        self.published.append((topic, payload, retain))
        return Info()

    def subscribe(self, subs: list[tuple[str, int]]) -> None:
        self.subscribed.extend(subs)

    def disconnect(self) -> None:
        return None

    def loop_stop(self) -> None:
        return None


class Rc:
    is_failure = False


def publisher(controls: Controls | None = None, **overrides: Any) -> tuple[MqttPublisher, RecordingClient]:
    mood = MoodAnalyzer(MoodConfig(enabled=True), list(FER2013_LABELS))
    pub = MqttPublisher(device_id="den", analyzers=[mood], controls=controls or Controls(), **overrides)
    client = RecordingClient()
    pub._client = client
    return pub, client


def test_one_device_payload_with_every_entity_and_stable_ids():
    pub, _ = publisher()
    ((topic, payload),) = pub.discovery_messages()
    assert topic == "homeassistant/device/den/config"
    assert set(payload) == {"dev", "o", "availability", "qos", "cmps"}
    assert payload["dev"]["identifiers"] == ["edgeemo_den"] and payload["o"]["name"] == "edgeemo"
    cmps = payload["cmps"]
    entity_ids = {c["default_entity_id"] for c in cmps.values()}
    assert entity_ids == {
        "sensor.edgeemo_den_emotion", "sensor.edgeemo_den_faces", "sensor.edgeemo_den_confidence",
        "sensor.edgeemo_den_fps", "switch.edgeemo_den_analysis",
        "sensor.edgeemo_den_room_mood", "sensor.edgeemo_den_valence", "sensor.edgeemo_den_arousal",
        "sensor.edgeemo_den_people", "sensor.edgeemo_den_dominant_emotion",
        "binary_sensor.edgeemo_den_occupancy", "event.edgeemo_den_mood",
    }
    uids = [c["unique_id"] for c in cmps.values()]
    assert len(uids) == len(set(uids)) == len(cmps)
    for key, c in cmps.items():
        assert c["object_id"] == c["unique_id"] == c["default_entity_id"].split(".", 1)[1], key
        assert "expire_after" not in c, f"{key}: expire_after makes entities go unknown between updates"
    assert cmps["fps"]["entity_category"] == "diagnostic"
    # Readings are unavailable while analysis is off; the switch itself never is.
    gate = {"topic": "edgeemo/den/analysis", "payload_available": "ON", "payload_not_available": "OFF"}
    for key in ("emotion", "room_mood", "occupancy", "mood", "fps"):
        assert gate in cmps[key]["availability"] and cmps[key]["availability_mode"] == "all", key
    assert "availability" not in cmps["analysis"], "the switch takes the device's availability"
    sw = cmps["analysis"]
    assert (sw["state_topic"], sw["command_topic"]) == ("edgeemo/den/analysis", "edgeemo/den/set/analysis")
    json.dumps(payload, allow_nan=False)


def test_a_device_id_with_a_hyphen_gives_valid_entity_ids():
    mood = MoodAnalyzer(MoodConfig(enabled=True), list(FER2013_LABELS))
    ((_, payload),) = MqttPublisher(device_id="pi-Kitchen", analyzers=[mood], controls=Controls()).discovery_messages()
    c = payload["cmps"]["room_mood"]
    assert c["unique_id"] == "edgeemo_pi-Kitchen_room_mood", "unique ids stay as they always were"
    assert c["object_id"] == "edgeemo_pi_kitchen_room_mood"
    assert c["default_entity_id"] == "sensor.edgeemo_pi_kitchen_room_mood"
    for comp in payload["cmps"].values():
        assert re.fullmatch(r"[a-z_]+\.[a-z0-9_]+", comp["default_entity_id"]), comp["default_entity_id"]


def test_two_apps_with_the_same_component_key_are_refused():
    a = MoodAnalyzer(MoodConfig(enabled=True), list(FER2013_LABELS))
    b = MoodAnalyzer(MoodConfig(enabled=True), list(FER2013_LABELS))
    pub = MqttPublisher(device_id="den", analyzers=[a, b])
    with pytest.raises(ConfigError, match=r"'room_mood' of app 'mood': expected a key no other app uses"):
        pub.discovery_messages()


def test_connect_publishes_the_real_switch_state_and_subscribes():
    controls = Controls(analysis=False)
    pub, client = publisher(controls)
    pub._on_connect(client, None, None, Rc(), None)
    assert ("edgeemo/den/analysis", "OFF", True) in client.published
    assert {t for t, _ in client.subscribed} == {
        "edgeemo/den/set/+", "homeassistant/status", "homeassistant/+/den/+/config"}
    assert pub._discovery_due is not None, "discovery is scheduled, not sent before old topics can arrive"


def test_old_per_component_topics_are_migrated_then_emptied_once(monkeypatch):
    monkeypatch.setattr(publish_mqtt, "MIGRATE_SETTLE_S", 0.0)
    pub, client = publisher()
    pub._connected.set()
    old_emotion = "homeassistant/sensor/den/emotion/config"
    gone = "homeassistant/sensor/den/edgeemo_den_frames/config"  # an app that is no longer enabled
    for topic in (old_emotion, gone):
        pub._on_message(client, None, Msg(topic, b'{"name": "Emotion", "unique_id": "x"}', retain=True))
    pub._on_message(client, None, Msg("homeassistant/sensor/other/emotion/config", b"{}", retain=True))
    pub._discovery_due = 0.0
    pub._run_discovery_jobs()
    device = "homeassistant/device/den/config"
    assert [(t, p) for t, p, _ in client.published] == [(old_emotion, '{"migrate_discovery":true}')], \
        "first only the migrate message; a component no longer wanted is not migrated, only emptied"
    pub._run_discovery_jobs()
    sent = [(t, p) for t, p, _ in client.published[1:]]
    assert sorted(sent[:2]) == [(gone, ""), (old_emotion, "")], "then the old topics emptied"
    assert [t for t, _ in sent[2:]] == [device], "and only then the device payload"
    # Our own migrate and empty messages come back on the subscription: nothing more happens.
    pub._on_message(client, None, Msg(old_emotion, b'{"migrate_discovery":true}', retain=False))
    pub._on_message(client, None, Msg(old_emotion, b"", retain=False))
    pub._discovery_due = None
    pub._run_discovery_jobs()
    assert len(client.published) == 4


def test_a_migration_cut_short_is_finished_without_a_second_migrate(monkeypatch):
    monkeypatch.setattr(publish_mqtt, "MIGRATE_SETTLE_S", 0.0)
    pub, client = publisher()
    old = "homeassistant/sensor/den/faces/config"
    pub._on_message(client, None, Msg(old, b'{"migrate_discovery": true}', retain=True))
    pub._discovery_due = 0.0
    pub._run_discovery_jobs()
    pub._run_discovery_jobs()
    assert [(t, p) for t, p, _ in client.published if t == old] == [(old, "")]
    assert client.published[-1][0] == "homeassistant/device/den/config"


def test_home_assistant_online_resends_discovery_within_5s():
    pub, client = publisher()
    import time

    before = time.monotonic()
    pub._on_message(client, None, Msg("homeassistant/status", b"online"))
    assert pub._discovery_due is not None and before <= pub._discovery_due <= time.monotonic() + 5.0
    pub._discovery_due = None
    pub._on_message(client, None, Msg("homeassistant/status", b"offline"))
    assert pub._discovery_due is None


def test_switch_commands_reach_the_controls_and_echo_the_state():
    controls = Controls()
    pub, client = publisher(controls)
    controls.subscribe(pub._on_control)
    pub._on_message(client, None, Msg("edgeemo/den/set/analysis", b"OFF"))
    assert controls.analysis is False
    assert pub._buffer[-1][:2] == ("edgeemo/den/analysis", "OFF") and pub._buffer[-1][3] is True
    pub._on_message(client, None, Msg("edgeemo/den/set/analysis", b"ON", retain=True))
    assert controls.analysis is False, "a retained command is stale: ignored"
    pub._on_message(client, None, Msg("edgeemo/den/set/analysis", b"maybe"))
    pub._on_message(client, None, Msg("edgeemo/den/set/volume", b"ON"))
    assert controls.analysis is False
    pub._on_message(client, None, Msg("edgeemo/den/set/analysis", b"on"))
    assert controls.analysis is True
    pub.close()
    n = len(pub._buffer)
    controls.set_analysis(False)
    assert len(pub._buffer) == n, "a closed publisher no longer listens"


def test_controls_wait_and_bad_commands():
    c = Controls()
    assert c.command("analysis", "OFF") and not c.analysis
    assert not c.command("analysis", "sometimes") and not c.command("light", "ON")
    assert c.wait_for_analysis(False, 0.0) and not c.wait_for_analysis(True, 0.01)
    assert not c.set_analysis(False), "no change, no notification"
