"""Home Assistant components for the fatigue app: the level (enum), PERCLOS (%), an alarm and the
events. Each component is in HA's MQTT discovery schema with its platform under "p"."""

from __future__ import annotations

from typing import Any

from edgeemo.apps.base import MqttTopics
from edgeemo.apps.fatigue.state import LEVEL_NAMES, UNKNOWN

__all__ = ["EVENT_TYPES", "fatigue_components"]

EVENT_TYPES = ["microsleep", "sleep", "yawn", "nod", "distraction", "level_changed", "recalibrating"]
# No expire_after: the state is sent on change and as a heartbeat, with level "unknown" while no
# driver is seen, so the retained value is always the real one.


def fatigue_components(topics: MqttTopics, app: str = "fatigue", alarm_level: int = 2) -> dict[str, dict[str, Any]]:
    dev = topics.device_id

    def component(platform: str, key: str, name: str, **extra: Any) -> tuple[str, dict[str, Any]]:
        object_id = f"edgeemo_{dev}_{app}_{key}"
        return object_id, {"p": platform, "name": name, "unique_id": object_id, "object_id": object_id,
                           "default_entity_id": f"{platform}.{object_id}", **extra}

    items = [
        component("sensor", "level", "Driver fatigue level", state_topic=topics.state,
                  value_template="{{ value_json.level_name }}", device_class="enum",
                  options=[*LEVEL_NAMES, UNKNOWN], icon="mdi:sleep"),
        component("sensor", "perclos", "Driver PERCLOS (60 s)", state_topic=topics.state,
                  value_template="{% if value_json.perclos_60s is none %}None{% else %}"
                                 "{{ (value_json.perclos_60s * 100) | round(1) }}{% endif %}",
                  unit_of_measurement="%", state_class="measurement", icon="mdi:eye-minus"),
        component("binary_sensor", "alarm", "Driver fatigue alarm", state_topic=topics.state,
                  value_template="{{ 'ON' if value_json.level is not none and value_json.level >= "
                                 f"{alarm_level} else 'OFF' }}}}",
                  payload_on="ON", payload_off="OFF", device_class="safety"),
        component("event", "event", "Driver fatigue event", state_topic=topics.event, event_types=EVENT_TYPES,
                  # The event topic carries every app's events; HA ignores the empty rendering.
                  value_template=f"{{% if value_json.app == '{app}' %}}"
                                 "{\"event_type\": \"{{ value_json.type }}\"}{% endif %}"),
    ]
    return dict(items)
