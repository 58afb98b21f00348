"""A real Home Assistant core for the `ha` test tier, in a virtual environment of its own.

Home Assistant needs Python >= 3.13 and ~800 MB, so its venv lives outside the checkout
(EDGEEMO_HA_VENV, default ~/.cache/edgeemo/ha-venv) and is built once:

    python tests/ha_support.py          # create or check the venv (CI runs this before -m ha)

The tests never install anything: without a ready venv they skip and say how to make one.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

__all__ = ["REQUIREMENTS", "HomeAssistant", "find_python313", "not_ready_reason", "prepare", "venv_path"]

REQUIREMENTS = ("homeassistant==2025.4.4", "home-assistant-frontend==20250411.0", "paho-mqtt==2.1.0")
MARKER = "edgeemo-ha-ready.json"  # written after a complete install: what was installed


def venv_path() -> Path:
    return Path(os.environ.get("EDGEEMO_HA_VENV", "~/.cache/edgeemo/ha-venv")).expanduser()


def _is_313(python: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys; print(sys.version_info >= (3, 13))"],
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == "True"


def find_python313() -> str | None:
    """EDGEEMO_HA_PYTHON, python3.13 on PATH (a pyenv shim only counts if it runs), then pyenv's
    and the system's usual places."""
    candidates = [os.environ.get("EDGEEMO_HA_PYTHON"), shutil.which("python3.13")]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1[3-9]*/bin/python3")), reverse=True)
    candidates += ["/usr/bin/python3.13", "/usr/local/bin/python3.13"]
    for c in candidates:
        if c and Path(c).exists() and _is_313(c):
            return c
    return None


def not_ready_reason(venv: Path | None = None) -> str | None:
    """None when the venv is complete, else why not (and how to fix it)."""
    venv = venv or venv_path()
    marker = venv / MARKER
    if not (venv / "bin" / "hass").exists() or not marker.exists():
        return (f"no Home Assistant venv at {venv} (EDGEEMO_HA_VENV); create it with "
                f"`python tests/ha_support.py` (needs Python 3.13 and PyPI, ~800 MB)")
    if json.loads(marker.read_text()).get("requirements") != list(REQUIREMENTS):
        return f"the Home Assistant venv at {venv} holds other versions; rerun `python tests/ha_support.py`"
    return None


def prepare(venv: Path | None = None) -> Path:
    """Create the venv and install REQUIREMENTS unless it is already complete."""
    venv = venv or venv_path()
    if not_ready_reason(venv) is None:
        return venv
    python = find_python313()
    if python is None:
        raise RuntimeError("expected Python >= 3.13 for Home Assistant (python3.13 on PATH or EDGEEMO_HA_PYTHON), found none")
    venv.parent.mkdir(parents=True, exist_ok=True)
    if not (venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, *REQUIREMENTS], timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"expected pip to install {' '.join(REQUIREMENTS)} into {venv}, it exited {done.returncode}")
    (venv / MARKER).write_text(json.dumps({"requirements": list(REQUIREMENTS), "python": python}))
    return venv


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HomeAssistant:
    """Home Assistant core in a config dir of its own: the MQTT integration as a config entry
    pointing at the test broker, and mqtt_statestream publishing every entity's state (and
    attributes) under `<state_topic>/<domain>/<object id>/...` so a test reads them over MQTT."""

    def __init__(
        self, venv: Path, config_dir: Path, mqtt_port: int, state_topic: str = "hastate", extra_yaml: str = ""
    ) -> None:
        self.venv = venv
        self.extra_yaml = extra_yaml  # appended to configuration.yaml (automations, ...)
        self.dir = config_dir
        self.mqtt_port = mqtt_port
        self.state_topic = state_topic
        self.proc: subprocess.Popen[bytes] | None = None
        self.http_port = _free_port()

    def write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "configuration.yaml").write_text(f"""\
homeassistant:
  name: edgeemo test
  latitude: 0
  longitude: 0
  elevation: 0
  unit_system: metric
  time_zone: UTC
http:
  server_host: 127.0.0.1
  server_port: {self.http_port}
logger:
  default: warning
mqtt_statestream:
  base_topic: {self.state_topic}
  publish_attributes: true
""" + self.extra_yaml)
        storage = self.dir / ".storage"
        storage.mkdir(exist_ok=True)
        now = "2026-01-01T00:00:00+00:00"
        entry = {
            "created_at": now, "modified_at": now,
            "data": {"broker": "127.0.0.1", "port": self.mqtt_port},
            "discovery_keys": {}, "disabled_by": None, "domain": "mqtt", "entry_id": uuid.uuid4().hex,
            "minor_version": 2, "version": 1,
            "options": {"discovery": True, "discovery_prefix": "homeassistant"},
            "pref_disable_new_entities": False, "pref_disable_polling": False, "source": "user",
            "subentries": [], "title": f"127.0.0.1:{self.mqtt_port}", "unique_id": None,
        }
        (storage / "core.config_entries").write_text(json.dumps({
            "version": 1, "minor_version": 5, "key": "core.config_entries", "data": {"entries": [entry]},
        }))

    @property
    def log_path(self) -> Path:
        return self.dir / "home-assistant.log"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        self.write_config()
        out = open(self.dir / "stdout.log", "wb")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [str(self.venv / "bin" / "hass"), "-c", str(self.dir), "--skip-pip", "--log-file", str(self.log_path)],
            stdout=out, stderr=subprocess.STDOUT, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


if __name__ == "__main__":
    reason = not_ready_reason()
    if reason is None:
        print(f"Home Assistant venv ready: {venv_path()}")
        sys.exit(0)
    t0 = time.monotonic()
    try:
        path = prepare()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"ha_support: could not set up the Home Assistant venv: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"Home Assistant venv ready: {path} ({time.monotonic() - t0:.0f} s)")
