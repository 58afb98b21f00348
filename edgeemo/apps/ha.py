"""One Home Assistant MQTT component, as every app and the device itself describe theirs."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["component", "entity_object_id"]


def entity_object_id(unique_id: str) -> str:
    """The entity-id part Home Assistant accepts: lowercase letters, digits and underscores
    (a device id "pi-kitchen" gives "edgeemo_pi_kitchen_..."), as Home Assistant's own slug."""
    return re.sub(r"[^a-z0-9_]+", "_", unique_id.lower()).strip("_")


def component(device_id: str, platform: str, key: str, name: str, **options: Any) -> dict[str, Any]:
    """A `cmps` entry keyed `key`: unique id and entity id `edgeemo_<device>_<key>`, stable across
    restarts. object_id is what Home Assistant before 2025.10 reads; default_entity_id replaces it
    (object_id is gone in 2026.4) and older versions ignore it, so both go out."""
    unique_id = f"edgeemo_{device_id}_{key}"
    object_id = entity_object_id(unique_id)
    return {
        "p": platform,
        "name": name,
        "unique_id": unique_id,
        "object_id": object_id,
        "default_entity_id": f"{platform}.{object_id}",
        **options,
    }
