"""The [publish.mqtt] section of the daemon config, and the secret file its password comes from.

Kept apart from the publisher so reading a config needs neither paho nor numpy.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from edgeemo.errors import ConfigError

__all__ = ["MqttConfig", "read_secret"]

_ID_PATTERN = r"^[A-Za-z0-9_-]+$"


def _hostname_id() -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in socket.gethostname()) or "edgeemo"


def read_secret(name: str) -> str:
    """A secret from a file; relative names are looked up in $CREDENTIALS_DIRECTORY (systemd
    LoadCredential=), so the unit file and the config never hold the secret itself."""
    path = Path(name)
    if not path.is_absolute():
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if creds:
            path = Path(creds) / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"expected a readable secret file for publish.mqtt.password_file, received {str(path)!r}: {exc.strerror}") from exc


class MqttConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    client_id: str | None = None
    device_id: str = Field(default_factory=_hostname_id, pattern=_ID_PATTERN)
    topic_prefix: str = Field("edgeemo", min_length=1)
    discovery: bool = True
    discovery_prefix: str = "homeassistant"
    qos: Literal[0, 1, 2] = 1
    keepalive_s: int = Field(30, ge=5)
    # At most one state message per interval, plus one whenever the faces or labels change.
    interval_s: float = Field(1.0, ge=0.0)
    per_face: bool = True
    buffer_size: int = Field(1000, ge=1)
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password_file: str | None = None
    reconnect_min_s: int = Field(1, ge=1)
    reconnect_max_s: int = Field(60, ge=1)
