"""Home Assistant discovery for one edgeemo device: a single retained device-based payload
(`<discovery_prefix>/device/<device_id>/config` with `dev`, `o` and `cmps`) that carries the
device's own entities and every enabled app's components.

Component keys double as the object ids of the old per-component topics
(`<discovery_prefix>/<platform>/<device_id>/<key>/config`), so Home Assistant's migration moves
an entity found there to the device payload with its entity id and history intact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edgeemo import __version__
from edgeemo.apps.ha import component, entity_object_id
from edgeemo.errors import ConfigError

__all__ = ["MIGRATE_PAYLOAD", "DeviceTopics", "device_discovery", "legacy_key"]

# Published on an old per-component topic before the device payload: Home Assistant then
# unloads that entity but keeps its registry entry for the device payload to take over.
MIGRATE_PAYLOAD = '{"migrate_discovery":true}'


@dataclass(frozen=True)
class DeviceTopics:
    discovery_prefix: str
    device_id: str
    state: str  # the device's own state: faces, label, score, fps
    availability: str
    analysis: str | None  # the analysis switch's state (ON/OFF); None: no switch
    analysis_command: str | None

    @property
    def discovery(self) -> str:
        return f"{self.discovery_prefix}/device/{self.device_id}/config"

    @property
    def legacy_filter(self) -> str:
        """Subscription that finds the old per-component discovery topics of this device."""
        return f"{self.discovery_prefix}/+/{self.device_id}/+/config"


def legacy_key(topics: DeviceTopics, topic: str) -> tuple[str, str] | None:
    """(platform, object id) of an old per-component discovery topic of this device, else None."""
    m = re.fullmatch(
        rf"{re.escape(topics.discovery_prefix)}/([A-Za-z0-9_]+)/{re.escape(topics.device_id)}/([A-Za-z0-9_-]+)/config",
        topic,
    )
    if m is None or m.group(1) == "device":
        return None
    return m.group(1), m.group(2)


def _device_components(t: DeviceTopics) -> dict[str, dict[str, Any]]:
    dev = t.device_id
    state = t.state
    cmps = {
        "emotion": component(dev, "sensor", "emotion", "Emotion", state_topic=state,
                             value_template="{{ value_json.label }}", json_attributes_topic=state,
                             icon="mdi:emoticon-outline"),
        "faces": component(dev, "sensor", "faces", "Faces", state_topic=state, state_class="measurement",
                           value_template="{{ value_json.faces }}", icon="mdi:account-multiple"),
        "confidence": component(dev, "sensor", "confidence", "Emotion confidence", state_topic=state,
                                value_template="{{ (value_json.score * 100) | round(1) }}",
                                unit_of_measurement="%", state_class="measurement"),
        "fps": component(dev, "sensor", "fps", "Frame rate", state_topic=state, state_class="measurement",
                         value_template="{{ value_json.fps }}", unit_of_measurement="fps",
                         entity_category="diagnostic", icon="mdi:speedometer"),
    }
    if t.analysis is not None and t.analysis_command is not None:
        cmps["analysis"] = component(
            dev, "switch", "analysis", "Analysis", state_topic=t.analysis, command_topic=t.analysis_command,
            payload_on="ON", payload_off="OFF", state_on="ON", state_off="OFF", icon="mdi:cctv",
        )
    return cmps


def _entity_ids(device_id: str, key: str, comp: dict[str, Any]) -> dict[str, Any]:
    """Stable ids for a component that brings none: Home Assistant needs a unique_id for every
    entity of a device payload, and without an object id the entity id would follow the name."""
    if comp["p"] in ("device_automation", "tag"):
        return {}
    prefix = f"edgeemo_{device_id}_"
    unique_id = key if key.startswith(prefix) else prefix + key
    object_id = entity_object_id(unique_id)
    return {"unique_id": unique_id, "object_id": object_id, "default_entity_id": f"{comp['p']}.{object_id}"}


def device_discovery(
    t: DeviceTopics, app_components: Iterable[tuple[str, dict[str, dict[str, Any]]]], *, qos: int = 1
) -> tuple[str, dict[str, Any]]:
    """The discovery topic and payload. `app_components`: (app name, its components) per app.
    Readings are available while the device is online and, with the analysis switch, while
    analysis is on: off shows them unavailable rather than frozen at their last value."""
    device_avail = {"topic": t.availability, "payload_available": "online", "payload_not_available": "offline"}
    reading_avail: dict[str, Any] = {}
    if t.analysis is not None:
        reading_avail = {
            "availability": [device_avail, {"topic": t.analysis, "payload_available": "ON", "payload_not_available": "OFF"}],
            "availability_mode": "all",
        }
    cmps: dict[str, dict[str, Any]] = {}
    owner: dict[str, str] = {}
    for app, comps in [("device", _device_components(t)), *app_components]:
        for key, comp in comps.items():
            if key in cmps:
                raise ConfigError(f"Home Assistant component {key!r} of app {app!r}: expected a key no other app "
                                  f"uses, received one that {owner[key]!r} already has")
            if "p" not in comp:
                raise ConfigError(f"Home Assistant component {key!r} of app {app!r}: expected its platform "
                                  f"under 'p', received keys {sorted(comp)}")
            gated = key != "analysis" and "availability" not in comp and "availability_topic" not in comp
            cmps[key] = {**_entity_ids(t.device_id, key, comp), **comp, **(reading_avail if gated else {})}
            owner[key] = app
    uids = [c["unique_id"] for c in cmps.values() if "unique_id" in c]
    if len(set(uids)) != len(uids):
        dup = sorted({u for u in uids if uids.count(u) > 1})
        raise ConfigError(f"Home Assistant components: expected unique ids, received duplicates {dup}")
    payload = {
        "dev": {
            "identifiers": [f"edgeemo_{t.device_id}"],
            "name": f"edgeemo {t.device_id}",
            "manufacturer": "edgeemo",
            "model": "facial emotion recognition",
            "sw_version": __version__,
        },
        "o": {"name": "edgeemo", "sw_version": __version__},
        "availability": [device_avail],
        "qos": qos,
        "cmps": cmps,
    }
    return t.discovery, payload
