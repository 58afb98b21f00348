"""Home Assistant components for the fatigue app: the level (enum), PERCLOS (%), an alarm and the
events. Each component is in HA's MQTT discovery schema with its platform under "p"."""

from __future__ import annotations

from typing import Any

from edgeemo.apps.base import MqttTopics
from edgeemo.apps.fatigue.state import LEVEL_NAMES, UNKNOWN
from edgeemo.apps.ha import component

__all__ = ["EVENT_TYPES", "fatigue_components"]

EVENT_TYPES = ["microsleep", "sleep", "yawn", "nod", "distraction", "level_changed", "recalibrating"]
# No expire_after: the state is sent on change and as a heartbeat, with level "unknown" while no
# driver is seen, so the retained value is always the real one.


def fatigue_components(topics: MqttTopics, app: str = "fatigue", alarm_level: int = 2) -> dict[str, dict[str, Any]]:
    """Keys are the object ids under the device: `fatigue_level` becomes
    `sensor.edgeemo_<device>_fatigue_level` (edgeemo.apps.ha.component: ids slugged as Home Assistant does)."""
    dev, state = topics.device_id, topics.state
    return {
        f"{app}_level": component(
            dev, "sensor", f"{app}_level", "Driver fatigue level", state_topic=state,
            value_template="{{ value_json.level_name }}", device_class="enum", options=[*LEVEL_NAMES, UNKNOWN],
            icon="mdi:sleep"),
        f"{app}_perclos": component(
            dev, "sensor", f"{app}_perclos", "Driver PERCLOS (60 s)", state_topic=state,
            value_template="{% if value_json.perclos_60s is none %}None{% else %}"
                           "{{ (value_json.perclos_60s * 100) | round(1) }}{% endif %}",
            unit_of_measurement="%", state_class="measurement", icon="mdi:eye-minus"),
        f"{app}_alarm": component(
            dev, "binary_sensor", f"{app}_alarm", "Driver fatigue alarm", state_topic=state,
            value_template="{{ 'ON' if value_json.level is not none and value_json.level >= "
                           f"{alarm_level} else 'OFF' }}}}",
            payload_on="ON", payload_off="OFF", device_class="safety"),
        f"{app}_event": component(
            dev, "event", f"{app}_event", "Driver fatigue event", state_topic=topics.event, event_types=EVENT_TYPES,
            # The event topic carries every app's events; HA ignores the empty rendering.
            value_template=f"{{% if value_json.app == '{app}' %}}"
                           "{\"event_type\": \"{{ value_json.type }}\"}{% endif %}"),
    }
