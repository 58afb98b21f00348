"""Daemon config validation, the example config, sd_notify datagrams and the systemd unit."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from edgeemo.cli import cli
from edgeemo.daemon.config import load_config, parse_config
from edgeemo.daemon.mqtt_config import read_secret
from edgeemo.daemon.systemd import SystemdNotifier
from edgeemo.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "device" / "edgeemo.example.toml"
UNIT = ROOT / "systemd" / "edgeemo.service"


def test_example_config_validates():
    cfg = load_config(EXAMPLE)
    assert cfg.publish.mqtt.enabled and cfg.publish.http.host == "127.0.0.1"
    assert cfg.publish.http.preview is False  # no image leaves the device by default
    res = CliRunner().invoke(cli, ["daemon", "--config", str(EXAMPLE), "--validate-config"])
    assert res.exit_code == 0 and "ok" in res.output


def test_bad_config_names_key_path_and_value(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[publish.mqtt]\nport = 70000\n\n[source]\nuri = "0"\nfsp = 30\n')
    res = CliRunner().invoke(cli, ["daemon", "--config", str(bad), "--validate-config"])
    assert res.exit_code == 2
    err = res.stderr
    assert "publish.mqtt.port" in err and "70000" in err
    assert "source.fsp" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_invalid_toml_and_missing_file(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("[source\nuri=")
    with pytest.raises(ConfigError, match="valid TOML"):
        load_config(broken)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "none.toml")


def test_defaults_are_private():
    cfg = parse_config({})
    assert cfg.publish.http.enabled is False and cfg.publish.http.host == "127.0.0.1"
    assert cfg.publish.mqtt.enabled is False and cfg.publish.jsonl.enabled is False


def test_secret_from_credentials_directory(tmp_path, monkeypatch):
    (tmp_path / "mqtt-password").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_secret("mqtt-password") == "s3cret"
    with pytest.raises(ConfigError, match="password_file"):
        read_secret("other")


@pytest.fixture()
def notify_socket(tmp_path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    yield path, sock
    sock.close()


def test_notifier_sends_datagrams_and_rate_limits_watchdog(notify_socket):
    path, sock = notify_socket
    n = SystemdNotifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "2000000"})
    assert n.ready("warm")
    assert sock.recv(256) == b"READY=1\nSTATUS=warm"
    assert n.watchdog() is True
    assert sock.recv(64) == b"WATCHDOG=1"
    assert n.watchdog() is False  # within WatchdogSec/2 of the last ping
    n.stopping()
    assert sock.recv(64) == b"STOPPING=1"
    n.close()


def test_notifier_is_a_no_op_outside_systemd():
    n = SystemdNotifier({})
    assert not n.enabled and n.ready() is False and n.watchdog() is False


def test_watchdog_ignored_for_another_pid():
    n = SystemdNotifier({"WATCHDOG_USEC": "1000000", "WATCHDOG_PID": str(os.getpid() + 1)})
    assert n.watchdog_s is None


def test_unit_file_verifies_and_is_hardened(tmp_path):
    exe = shutil.which("systemd-analyze")
    if exe is None:
        pytest.skip("systemd-analyze is not installed")
    text = UNIT.read_text()
    for key in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "User=edgeemo", "NoNewPrivileges=yes",
                "ProtectSystem=strict", "DevicePolicy=closed", "LoadCredential="):
        assert key in text
    assert "password=" not in text.lower()
    edgeemo = shutil.which("edgeemo")
    if edgeemo is None:
        pytest.skip("the edgeemo script is not on PATH")
    # Verify everything as shipped except where the venv lives on this machine.
    unit = tmp_path / "edgeemo.service"
    unit.write_text(text.replace("/opt/edgeemo/venv/bin/edgeemo", edgeemo))
    res = subprocess.run([exe, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    sec = subprocess.run([exe, "security", "--offline=true", str(unit)], capture_output=True, text=True, timeout=60)
    line = [x for x in sec.stdout.splitlines() if "Overall exposure level" in x]
    if not line:
        pytest.skip(f"this systemd-analyze has no --offline security check: {sec.stderr.strip()[:200]}")
    score = float(line[0].split(":")[1].split()[0])
    assert score < 2.0, line[0]


def test_mqtt_offline_buffer_is_bounded_and_drops_oldest():
    from edgeemo.daemon.mqtt_config import MqttConfig
    from edgeemo.daemon.pipeline import FaceResult, FrameResult
    from edgeemo.daemon.publish_mqtt import MqttPublisher

    pub = MqttPublisher(MqttConfig(enabled=True, device_id="cam", interval_s=0.0, buffer_size=10, per_face=True))
    face = FaceResult(id=1, box=[0, 0, 10, 10], det_score=0.9, label="happy", score=0.8,
                      probs={"happy": 0.8, "sad": 0.2}, raw_label="happy")
    for i in range(25):  # never started: nothing is connected, everything buffers
        pub.publish(FrameResult(index=i, wall_time=0.0, width=64, height=48, faces=[face]))
    assert pub.buffered == 10 and pub.dropped == 40
    frames = [json.loads(m[1])["frame"] for m in pub._buffer]
    assert min(frames) == 20 and max(frames) == 24  # the newest survive
    topics = {m[0] for m in pub._buffer}
    assert topics == {"edgeemo/cam/state", "edgeemo/cam/face/1"}
    disc = dict(pub.discovery_messages())
    assert disc["homeassistant/device/cam/config"]["cmps"]["emotion"]["p"] == "sensor"
