"""The mood app's Home Assistant components (the `cmps` entries of the device discovery payload).

Keys are the entities' object ids under the device: `room_mood` becomes
`sensor.edgeemo_<device>_room_mood`, with unique id `edgeemo_<device>_room_mood`. Every reading
renders "None" (Home Assistant's "unknown") when the app has nothing to say, never a value that
would fail the entity's options or numeric check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgeemo.apps.base import MqttTopics
from edgeemo.apps.ha import component
from edgeemo.apps.mood.affect import EVENT_TYPES, MOOD_STATES

__all__ = ["mood_components"]


def mood_components(topics: MqttTopics, labels: Sequence[str]) -> dict[str, dict[str, Any]]:
    state = topics.state
    # Only this app's events reach the event entity; other apps share the event topic and
    # render to nothing, which Home Assistant ignores quietly.
    event_template = (
        "{% if value_json.app == 'mood' %}"
        "{{ dict(value_json, event_type=value_json.type) | tojson }}"
        "{% endif %}"
    )
    return {
        "room_mood": component(
            topics.device_id, "sensor", "room_mood", "Room mood", state_topic=state,
            device_class="enum", options=list(MOOD_STATES), icon="mdi:home-heart",
            value_template="{{ value_json.state }}",
            json_attributes_topic=state,
            json_attributes_template="{{ {'since': value_json.since, 'quiet': value_json.quiet} | tojson }}",
        ),
        "valence": component(
            topics.device_id, "sensor", "valence", "Room valence", state_topic=state, state_class="measurement",
            suggested_display_precision=2, icon="mdi:emoticon-happy-outline",
            value_template="{{ value_json.valence }}",
        ),
        "arousal": component(
            topics.device_id, "sensor", "arousal", "Room arousal", state_topic=state, state_class="measurement",
            suggested_display_precision=2, icon="mdi:lightning-bolt-outline",
            value_template="{{ value_json.arousal }}",
        ),
        "people": component(
            topics.device_id, "sensor", "people", "People", state_topic=state, state_class="measurement",
            icon="mdi:account-group", value_template="{{ value_json.people }}",
        ),
        "dominant_emotion": component(
            topics.device_id, "sensor", "dominant_emotion", "Dominant emotion", state_topic=state,
            device_class="enum", options=["none", *labels], icon="mdi:emoticon-outline",
            value_template="{{ value_json.dominant_emotion }}",
        ),
        "occupancy": component(
            topics.device_id, "binary_sensor", "occupancy", "Occupancy", state_topic=state, device_class="occupancy",
            value_template="{{ 'None' if value_json.occupied is none else ('ON' if value_json.occupied else 'OFF') }}",
        ),
        "mood": component(
            topics.device_id, "event", "mood", "Mood", state_topic=topics.event, event_types=list(EVENT_TYPES),
            icon="mdi:home-heart", value_template=event_template,
        ),
    }
