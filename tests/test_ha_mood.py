"""The `ha` tier: a real Home Assistant core (its own Python 3.13 venv, tests/ha_support.py), a
real mosquitto, and the daemon with the mood and fatigue apps on a looping face video. Home Assistant finds
the device by discovery and its states come back over mqtt_statestream; its log must show no
discovery error and no invalid option over the whole run.

Run: `python tests/ha_support.py` once (builds the venv), then `python -m pytest -m ha`."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from device_support import hopper_face, make_face_frames, write_video
from ha_support import HomeAssistant, not_ready_reason, venv_path
from test_device_integration import EDGEEMO, broker, wait_for  # noqa: F401

from edgeemo.apps.fatigue.state import LEVEL_NAMES, UNKNOWN
from edgeemo.apps.mood import EVENT_TYPES, MOOD_STATES
from edgeemo.bundle import default_bundle_path

pytestmark = pytest.mark.ha

DEVICE = "hatest"
OLD_TOPIC = f"homeassistant/sensor/{DEVICE}/emotion/config"
# What edgeemo before device-based discovery left retained for the emotion sensor.
OLD_PAYLOAD = {
    "name": "Emotion", "state_topic": f"edgeemo/{DEVICE}/state", "value_template": "{{ value_json.label }}",
    "availability_topic": f"edgeemo/{DEVICE}/availability", "payload_available": "online",
    "payload_not_available": "offline", "unique_id": f"edgeemo_{DEVICE}_emotion", "object_id": f"edgeemo_{DEVICE}_emotion",
    "device": {"identifiers": [f"edgeemo_{DEVICE}"], "name": f"edgeemo {DEVICE}", "manufacturer": "edgeemo"},
}


class Listener:
    """Everything on the broker, newest value per topic."""

    def __init__(self, port: int) -> None:
        import paho.mqtt.client as mqtt

        self.last: dict[str, str] = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"ha-test-{time.monotonic_ns()}")
        self.client.on_message = lambda c, u, m: self.last.__setitem__(m.topic, m.payload.decode("utf-8", "replace"))
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("#", 1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def state(self, entity_id: str) -> str | None:
        domain, object_id = entity_id.split(".", 1)
        return self.last.get(f"hastate/{domain}/{object_id}/state")

    def attr(self, entity_id: str, name: str) -> object:
        domain, object_id = entity_id.split(".", 1)
        raw = self.last.get(f"hastate/{domain}/{object_id}/{name}")
        return None if raw is None else json.loads(raw)

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def docs_yaml(heading: str) -> str:
    """The first ```yaml block after `heading` in docs/smart-home.md: the docs' examples run here."""
    text = (Path(__file__).parent.parent / "docs" / "smart-home.md").read_text()
    after = text[text.index(heading):]
    m = re.search(r"```yaml\n(.*?)```", after, re.S)
    assert m is not None, f"no yaml block after {heading!r} in docs/smart-home.md"
    return m.group(1)


def ha_extra_config(config_dir: Path) -> str:
    """The docs' mood-light automations for this device, one made from the docs' blueprint, and
    the light they drive: a template light over an input_boolean, on at start."""
    blueprint = config_dir / "blueprints" / "automation" / "edgeemo" / "mood_light.yaml"
    blueprint.parent.mkdir(parents=True, exist_ok=True)
    blueprint.write_text(docs_yaml("### Blueprint"))
    d = f"edgeemo_{DEVICE}"
    return docs_yaml("### Example: a mood light").replace("edgeemo_pi_livingroom", d) + f"""
automation blueprint:
  - alias: Mood light from the blueprint
    use_blueprint:
      path: edgeemo/mood_light.yaml
      input:
        mood_sensor: sensor.{d}_room_mood
        occupancy_sensor: binary_sensor.{d}_occupancy
        light:
          entity_id: light.living_room
input_boolean:
  living_room_light:
    name: Living room light
    initial: true
light:
  - platform: template
    lights:
      living_room:
        friendly_name: Living room
        value_template: "{{{{ is_state('input_boolean.living_room_light', 'on') }}}}"
        turn_on:
          action: input_boolean.turn_on
          target: {{entity_id: input_boolean.living_room_light}}
        turn_off:
          action: input_boolean.turn_off
          target: {{entity_id: input_boolean.living_room_light}}
"""


# The docs' automations that run when the room empties (the first frame after analysis comes back).
ON_EMPTY = ("automation.living_room_light_off_when_the_room_empties", "automation.mood_light_from_the_blueprint")


def _number(value: str | None) -> bool:
    try:
        return value is not None and value == value.strip() and float(value) == float(value)
    except ValueError:
        return False


@pytest.fixture(scope="module")
def ha_venv() -> Path:
    reason = not_ready_reason()
    if reason is not None:
        pytest.skip(reason)
    return venv_path()


def test_home_assistant_creates_the_mood_entities_with_valid_states(ha_venv, broker, tmp_path):  # noqa: F811
    if default_bundle_path() is None:
        pytest.skip("this installation ships no default bundle")
    t_start = time.monotonic()
    frames, _ = make_face_frames([hopper_face()], 45, step=2)
    video = write_video(tmp_path / "face.mp4", frames, fps=15.0)
    bus = Listener(broker.port)
    ha = HomeAssistant(ha_venv, tmp_path / "ha", broker.port, extra_yaml=ha_extra_config(tmp_path / "ha"))
    daemon: subprocess.Popen[str] | None = None
    labels: list[str] = []
    try:
        assert wait_for(lambda: bus.client.is_connected(), 5)
        bus.publish(OLD_TOPIC, json.dumps(OLD_PAYLOAD), retain=True)  # an older edgeemo was here
        ha.start()
        assert wait_for(lambda: bus.last.get("homeassistant/status") == "online", 90), (
            f"Home Assistant did not come up; its log ends: {ha.log()[-2000:]}")
        emotion = f"sensor.edgeemo_{DEVICE}_emotion"
        assert wait_for(lambda: bus.state(emotion) is not None, 20), "the old per-component entity was not created"

        config = tmp_path / "edgeemo.toml"
        config.write_text(f"""
max_fps = 10
[source]
uri = "{video}"
loop = true
[publish.mqtt]
enabled = true
port = {broker.port}
device_id = "{DEVICE}"
interval_s = 1.0
[apps.mood]
enabled = true
min_dwell_s = 1.0
min_hold_s = 2.0
tau_s = 2.0
empty_after_s = 2.0
[apps.fatigue]
enabled = true
""")
        daemon = subprocess.Popen([*EDGEEMO, "daemon", "--config", str(config)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        d = f"edgeemo_{DEVICE}"
        entities = {
            f"sensor.{d}_room_mood": lambda v: v in MOOD_STATES and v != "none",
            f"sensor.{d}_valence": _number,
            f"sensor.{d}_arousal": _number,
            f"sensor.{d}_people": lambda v: v == "1",
            f"sensor.{d}_dominant_emotion": lambda v: v not in (None, "none", "unknown", "unavailable"),
            f"binary_sensor.{d}_occupancy": lambda v: v == "on",
            f"event.{d}_mood": lambda v: v is not None and re.match(r"\d{4}-\d\d-\d\dT", v) is not None,
            f"switch.{d}_analysis": lambda v: v == "on",
            f"sensor.{d}_fps": _number,
            emotion: lambda v: v not in (None, "unknown", "unavailable"),
            f"sensor.{d}_faces": lambda v: v == "1",
            f"sensor.{d}_confidence": _number,
            # The fatigue app on the same device: calibrating on this short clip, so unknown is valid.
            f"sensor.{d}_fatigue_level": lambda v: v in (*LEVEL_NAMES, UNKNOWN),
            f"sensor.{d}_fatigue_perclos": lambda v: v == "unknown" or _number(v),
            f"binary_sensor.{d}_fatigue_alarm": lambda v: v in ("on", "off"),
            f"event.{d}_fatigue_event": lambda v: v is not None,
        }

        event = f"event.{d}_mood"

        def bad(*, events: bool = True) -> dict[str, str | None]:
            return {e: bus.state(e) for e, ok in entities.items() if not ok(bus.state(e)) and (events or e != event)}

        # Events are not retained: the first ones may come before Home Assistant set the event
        # entity up. Everything else must be there; the event entity gets its turn below.
        assert wait_for(lambda: not bad(events=False), 60, interval=0.5), (
            f"entities missing or in an invalid state: {bad()}; daemon: "
            f"{daemon.stdout.read()[-2000:] if daemon.poll() is not None and daemon.stdout else 'running'}")
        labels = list(bus.attr(f"sensor.{d}_dominant_emotion", "options") or [])
        assert labels[0] == "none" and bus.state(f"sensor.{d}_dominant_emotion") in labels
        assert bus.attr(f"sensor.{d}_room_mood", "options") == list(MOOD_STATES)
        assert bus.attr(f"binary_sensor.{d}_occupancy", "device_class") == "occupancy"
        assert not [t for t in bus.last if t.startswith(f"hastate/sensor/{d}_emotion_")], \
            "the migrated entity kept its id (no _2 copy)"
        assert wait_for(lambda: bus.last.get(OLD_TOPIC) == "", 10), f"old topic not emptied: {bus.last.get(OLD_TOPIC)}"

        # Analysis off from Home Assistant's side of the broker: readings unavailable, switch off.
        bus.publish(f"edgeemo/{DEVICE}/set/analysis", "OFF")
        assert wait_for(lambda: bus.state(f"switch.{d}_analysis") == "off"
                        and bus.state(f"sensor.{d}_room_mood") == "unavailable", 15), bad()
        time.sleep(2.5)  # longer than empty_after_s: back on, the room was empty, then occupied again
        bus.publish(f"edgeemo/{DEVICE}/set/analysis", "ON")
        assert wait_for(lambda: not bad(), 30, interval=0.5), f"after analysis on: {bad()}"
        assert bus.attr(event, "event_type") in EVENT_TYPES
        # Back on after longer than empty_after_s, the room was empty: the docs' automations ran.
        assert wait_for(lambda: all(bus.state(a) == "on" and bus.attr(a, "last_triggered") for a in ON_EMPTY), 15), (
            f"the docs' automations did not run: {[(a, bus.state(a), bus.attr(a, 'last_triggered')) for a in ON_EMPTY]}")
        # The light starts on (initial: true); states set before mqtt_statestream started are not
        # published, so "off" here is the automation's doing.
        assert wait_for(lambda: bus.state("light.living_room") == "off", 10), "the room emptied: the light goes off"

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(20) == 0
        assert wait_for(lambda: bus.state(f"sensor.{d}_room_mood") == "unavailable", 10), "offline not seen"
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        ha.stop()
        bus.close()
    log = ha.log()
    mqtt_problems = [line for line in log.splitlines()
                     if re.search(r"(WARNING|ERROR).*\[homeassistant\.components\.(mqtt|sensor|event|binary_sensor|switch)", line)]
    assert not re.search(r"Error .* processing MQTT discovery", log), log[-3000:]
    assert "Ignoring invalid option" not in log, log[-3000:]
    assert not mqtt_problems, "\n".join(mqtt_problems)
    config_errors = [line for line in log.splitlines() if re.search(r"ERROR.*(automation|blueprint|Invalid config)", line)]
    assert not config_errors, "\n".join(config_errors)
    print(f"ha tier: {time.monotonic() - t_start:.1f} s")
