"""MQTT publisher (paho-mqtt 2.x): per-device and per-face topics, Home Assistant discovery,
availability through a last will, TLS and a password from a credentials file.

The frame loop only appends to a bounded deque; a worker thread hands messages to paho while
connected. With the broker gone the deque keeps the newest `buffer_size` messages (the oldest are
dropped and counted) and is delivered once the broker is back.

Topics (prefix "edgeemo", device "pi-kitchen"):
    edgeemo/pi-kitchen/availability   online | offline (retained; offline is also the last will)
    edgeemo/pi-kitchen/state          {"faces": 1, "label": "happy", "score": 0.81, ...}
    edgeemo/pi-kitchen/face/<id>      one tracked face
    edgeemo/pi-kitchen/<app topic>    an application's state (retained; on change + heartbeat)
    edgeemo/pi-kitchen/event          application events (microsleep, mood_changed, ...)
    edgeemo/pi-kitchen/analysis       ON | OFF (retained): the analysis switch
    edgeemo/pi-kitchen/set/analysis   commands: ON | OFF (from Home Assistant)
    homeassistant/device/pi-kitchen/config   device-based discovery (retained; edgeemo.daemon.homeassistant)

Discovery goes out shortly after each connect (once retained old per-component discovery topics
of this device had time to arrive: those are migrated to the device payload, then emptied) and
again 0-5 s after Home Assistant announces itself `online` on <discovery_prefix>/status.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from edgeemo._lazy import require
from edgeemo.apps.base import Analyzer, MqttTopics
from edgeemo.daemon.control import Controls
from edgeemo.daemon.homeassistant import MIGRATE_PAYLOAD, DeviceTopics, device_discovery, legacy_key
from edgeemo.daemon.metrics import Metrics
from edgeemo.daemon.mqtt_config import MqttConfig, read_secret
from edgeemo.daemon.pipeline import FaceResult, FrameResult
from edgeemo.daemon.publishers import Publisher

__all__ = ["MqttPublisher"]

log = logging.getLogger(__name__)

# After connecting, wait this long for retained old discovery topics before sending discovery.
LEGACY_SETTLE_S = 0.5
# Home Assistant takes a moment to unload a migrating entity; empty the old topic after this.
MIGRATE_SETTLE_S = 1.0
# Re-send discovery this long (random, so a house full of devices does not answer at once)
# after Home Assistant says it is online.
HA_ONLINE_DELAY_S = (0.0, 5.0)


class MqttPublisher(Publisher):
    key = "mqtt"

    def __init__(
        self,
        config: MqttConfig | None = None,
        *,
        analyzers: Sequence[Analyzer] = (),
        controls: Controls | None = None,
        **overrides: Any,
    ) -> None:
        self.config = (config or MqttConfig(enabled=True)).model_copy(update=overrides)
        c = self.config
        base = f"{c.topic_prefix}/{c.device_id}"
        self.topic_availability = f"{base}/availability"
        self.topic_state = f"{base}/state"
        self.topic_face = f"{base}/face"
        self.topic_event = f"{base}/event"
        self.topic_command = f"{base}/set"
        self.controls = controls
        self.device_topics = DeviceTopics(
            discovery_prefix=c.discovery_prefix, device_id=c.device_id, state=self.topic_state,
            availability=self.topic_availability,
            analysis=f"{base}/analysis" if controls is not None else None,
            analysis_command=f"{self.topic_command}/analysis" if controls is not None else None,
        )
        self.topic_ha_status = f"{c.discovery_prefix}/status"
        # Discovery jobs, run by the worker thread: when the payload is due, the old topics found
        # (topic -> still needs the migrate message), and when to empty the migrated ones.
        self._discovery_due: float | None = None
        self._legacy: dict[str, bool] = {}
        self._legacy_seen: set[str] = set()
        self._empty_due: float | None = None
        self._to_empty: list[str] = []
        self.discoveries = 0
        self.analyzers = list(analyzers)
        # name -> (the app, its topics): what _publish_apps and discovery look up by name.
        self._apps = {a.name: (a, self._app_topics(a)) for a in self.analyzers}
        self._app_last_t: dict[str, float] = {}
        self._buffer: collections.deque[tuple[str, str, int, bool]] = collections.deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._client: Any = None
        self._worker: threading.Thread | None = None
        self._metrics: Metrics | None = None
        self._last_info: Any = None
        self._last_t = 0.0
        self._last_sig: tuple[Any, ...] | None = None
        self.sent = 0
        self.dropped = 0
        self.connects = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, metrics: Metrics | None = None) -> None:
        mqtt = require("paho.mqtt.client", "device", "paho-mqtt")
        c = self.config
        self._metrics = metrics
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=c.client_id or f"edgeemo-{c.device_id}",
            protocol=mqtt.MQTTv311,
        )
        client.will_set(self.topic_availability, "offline", qos=1, retain=True)
        if c.username:
            client.username_pw_set(c.username, read_secret(c.password_file) if c.password_file else None)
        if c.tls:
            client.tls_set(ca_certs=c.ca_file, certfile=c.cert_file, keyfile=c.key_file)
        # paho's own queue is a second bound behind ours.
        client.max_queued_messages_set(c.buffer_size)
        client.reconnect_delay_set(c.reconnect_min_s, c.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        if self.controls is not None:
            self.controls.subscribe(self._on_control)
        client.connect_async(c.host, c.port, keepalive=c.keepalive_s)
        client.loop_start()
        self._worker = threading.Thread(target=self._drain, name="edgeemo-mqtt", daemon=True)
        self._worker.start()

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if getattr(reason_code, "is_failure", False):
            log.warning("MQTT: broker %s:%s refused the connection: %s", self.config.host, self.config.port, reason_code)
            return
        self.connects += 1
        log.info("MQTT: connected to %s:%s", self.config.host, self.config.port)
        client.publish(self.topic_availability, "online", qos=1, retain=True)
        subs = []
        if self.controls is not None:
            # The real switch state at every start: no stale retained value survives a restart.
            client.publish(self.device_topics.analysis, "ON" if self.controls.analysis else "OFF", qos=1, retain=True)
            subs.append((f"{self.topic_command}/+", 1))
        if self.config.discovery:
            subs += [(self.topic_ha_status, 1), (self.device_topics.legacy_filter, 1)]
            self._discovery_due = time.monotonic() + LEGACY_SETTLE_S
        if subs:
            client.subscribe(subs)
        self._connected.set()
        self._wake.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        topic, payload = msg.topic, msg.payload.decode("utf-8", "replace")
        if topic.startswith(self.topic_command + "/") and self.controls is not None:
            if not msg.retain:  # a retained command would replay on every restart
                self.controls.command(topic.rsplit("/", 1)[1], payload)
        elif topic == self.topic_ha_status:
            if payload == "online" and self.config.discovery:
                delay = random.uniform(*HA_ONLINE_DELAY_S)  # noqa: S311 - spreading load, not security
                log.info("MQTT: Home Assistant is online; discovery again in %.1f s", delay)
                self._schedule_discovery(delay)
        elif payload and legacy_key(self.device_topics, topic) is not None and topic not in self._legacy_seen:
            # An old per-component discovery topic of this device, or a migration cut short.
            self._legacy_seen.add(topic)
            with self._lock:
                self._legacy[topic] = payload.replace(" ", "") != MIGRATE_PAYLOAD
            self._schedule_discovery(LEGACY_SETTLE_S)

    def _schedule_discovery(self, delay: float) -> None:
        with self._lock:
            due = time.monotonic() + delay
            if self._discovery_due is None or due < self._discovery_due:
                self._discovery_due = due
        self._wake.set()

    def _on_control(self, name: str, value: bool) -> None:
        if name == "analysis" and self.device_topics.analysis is not None:
            self._enqueue_raw(self.device_topics.analysis, "ON" if value else "OFF", retain=True)

    def _run_discovery_jobs(self) -> None:
        """Send discovery when due. Old per-component topics go first: a migrate message (Home
        Assistant unloads the entity, keeps its registry entry), then, once that settled, an
        empty retained payload (gone from the broker, so this happens once), then the device
        payload, which takes the entity over under the same entity id. Emptying after the device
        payload would make Home Assistant warn about a conflicting discovery message."""
        now = time.monotonic()
        client = self._client
        with self._lock:
            send = self._discovery_due is not None and now >= self._discovery_due
            if send:
                self._discovery_due = None
                legacy, self._legacy = self._legacy, {}
            empty = self._empty_due is not None and now >= self._empty_due
            if empty:
                self._empty_due = None
                to_empty, self._to_empty = self._to_empty, []
        if send and legacy:
            wanted = {(comp["p"], key) for key, comp in self.discovery_messages()[0][1]["cmps"].items()}
            for topic, needs_migrate in legacy.items():
                if needs_migrate and legacy_key(self.device_topics, topic) in wanted:
                    client.publish(topic, MIGRATE_PAYLOAD, qos=1, retain=True)
            log.info("MQTT: moving %d old discovery topic(s) to the device payload", len(legacy))
            with self._lock:
                self._to_empty.extend(legacy)
                self._empty_due = now + MIGRATE_SETTLE_S
            return  # the device payload follows the emptying
        if empty:
            for topic in to_empty:
                client.publish(topic, "", qos=1, retain=True)
        if send or empty:
            for topic, payload in self.discovery_messages():
                client.publish(topic, json.dumps(payload, separators=(",", ":")), qos=1, retain=True)
            self.discoveries += 1

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("MQTT: disconnected (%s); buffering up to %d messages", reason_code, self.config.buffer_size)

    def _drain(self) -> None:
        mqtt = require("paho.mqtt.client", "device", "paho-mqtt")
        while not self._stop.is_set():
            self._wake.wait(0.1 if self._discovery_due is not None or self._empty_due is not None else 0.5)
            self._wake.clear()
            if self._connected.is_set():
                self._run_discovery_jobs()
            while self._connected.is_set():
                with self._lock:
                    if not self._buffer:
                        break
                    msg = self._buffer.popleft()
                info = self._client.publish(*msg)
                if info.rc != mqtt.MQTT_ERR_SUCCESS:
                    with self._lock:
                        self._buffer.appendleft(msg)  # keep order; retried after reconnect
                    self._stop.wait(0.05)
                    break
                self._last_info = info
                self.sent += 1
            self._update_gauges()

    def _update_gauges(self) -> None:
        if self._metrics is not None:
            self._metrics.extra["mqtt_buffered"] = float(len(self._buffer))
            self._metrics.extra["mqtt_dropped"] = float(self.dropped)
            self._metrics.extra["mqtt_connected"] = 1.0 if self._connected.is_set() else 0.0

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- messages ----------------------------------------------------------------------------
    def _app_topics(self, analyzer: Analyzer) -> MqttTopics:
        c = self.config
        base = f"{c.topic_prefix}/{c.device_id}"
        return MqttTopics(
            device_id=c.device_id, base=base, state=f"{base}/{analyzer.mqtt_topic}", event=self.topic_event,
            availability=self.topic_availability, command=f"{base}/set",
        )

    def discovery_messages(self) -> list[tuple[str, dict[str, Any]]]:
        """The device-based discovery message (topic, payload): the device's entities and every
        analyzer's components (edgeemo.daemon.homeassistant)."""
        apps = [(a.name, a.discovery_components(self._apps[a.name][1])) for a in self.analyzers]
        return [device_discovery(self.device_topics, apps, qos=self.config.qos)]

    def _enqueue(self, topic: str, payload: dict[str, Any], retain: bool = False) -> None:
        self._enqueue_raw(topic, json.dumps(payload, separators=(",", ":")), retain=retain)

    def _enqueue_raw(self, topic: str, payload: str, retain: bool = False) -> None:
        msg = (topic, payload, self.config.qos, retain)
        with self._lock:
            if len(self._buffer) >= self.config.buffer_size:
                self._buffer.popleft()
                self.dropped += 1
            self._buffer.append(msg)
        self._wake.set()

    @staticmethod
    def _dominant(faces: list[FaceResult]) -> FaceResult | None:
        if not faces:
            return None
        return max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))

    def publish(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        now = time.monotonic()
        self._publish_apps(result, now)
        sig = tuple((f.id, f.label) for f in result.faces)
        if sig == self._last_sig and now - self._last_t < self.config.interval_s:
            return
        self._last_sig, self._last_t = sig, now
        top = self._dominant(result.faces)
        state = {
            "ts": round(result.wall_time, 3),
            "frame": result.index,
            "faces": len(result.faces),
            "label": top.label if top else "none",
            "score": round(top.score, 4) if top else 0.0,
            "ids": [f.id for f in result.faces],
            "fps": round(self._metrics.fps, 2) if self._metrics is not None else None,
        }
        self._enqueue(self.topic_state, state)
        if self.config.per_face:
            for face in result.faces:
                self._enqueue(f"{self.topic_face}/{face.id}", {"ts": state["ts"], "frame": result.index, **face.to_json()})

    def _publish_apps(self, result: FrameResult, now: float) -> None:
        """Each application's state when it changed, else as a heartbeat every interval_s
        (retained, so a subscriber that joins late gets the current state); events as they come."""
        ts = round(result.wall_time, 3)
        for name, json_state in result.apps.items():
            if name not in self._apps:
                continue
            app, topics = self._apps[name]
            state = app.mqtt_state(json_state)
            if state is None:
                continue
            if name in result.changed_apps or now - self._app_last_t.get(name, -1e9) >= self.config.interval_s:
                self._app_last_t[name] = now
                self._enqueue(topics.state, {"ts": ts, **state}, retain=True)
        for event in result.events:
            self._enqueue(self.topic_event, {"ts": ts, **event.to_json()})

    def flush(self, timeout: float = 5.0) -> None:
        """Wait (bounded) until the buffer is handed to paho and the last message acknowledged."""
        deadline = time.monotonic() + timeout
        while self._buffer and self._connected.is_set() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.01)
        info = self._last_info
        if info is not None and self._connected.is_set():
            # Not connected any more raises; the buffer keeps what was not sent.
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.controls is not None:
            self.controls.unsubscribe(self._on_control)
        if self._client is None:
            return
        self.flush()
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join(2.0)
        if self._connected.is_set():
            # A clean stop says offline itself; the last will covers crashes and power loss.
            info = self._client.publish(self.topic_availability, "offline", qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(2.0)
        self._client.disconnect()
        self._client.loop_stop()
        self._client = None
