"""The application layer: analyzers run after tracking, their output reaches every publisher, and
a failing one never stops the frame loop. Runs on the shipped default bundle (no TensorFlow)."""

from __future__ import annotations

import json
import threading
from typing import Any

import numpy as np
import pytest

from edgeemo.apps import Analyzer, AppEvent, AppOutput, FakeClock, MqttTopics
from edgeemo.apps.appset import AppSet
from edgeemo.bundle import default_bundle_path
from edgeemo.daemon.config import parse_config
from edgeemo.daemon.metrics import Metrics
from edgeemo.daemon.pipeline import FrameResult
from edgeemo.daemon.publish_mqtt import MqttPublisher
from edgeemo.daemon.publishers import NullPublisher
from edgeemo.daemon.runner import Runner
from edgeemo.daemon.source_fake import FakeSource


class FrameCounter(Analyzer):
    """Counts frames and the time they span; an event every third frame."""

    name = "counter"
    mqtt_topic = "counter"

    def __init__(self) -> None:
        self.frames = 0
        self.first: float | None = None
        self.closed = False

    def update(self, result: FrameResult, now: float, image: np.ndarray | None = None) -> AppOutput:
        self.frames += 1
        self.first = now if self.first is None else self.first
        events = [AppEvent(self.name, "third", {"frame": result.index})] if self.frames % 3 == 0 else []
        return AppOutput({"frames": self.frames, "span_s": round(now - self.first, 3)}, events=events,
                         changed=bool(events), gauges={"frames": self.frames}, timings={"counter": 1e-6})

    def discovery_components(self, topics: MqttTopics) -> dict[str, dict[str, Any]]:
        return {f"edgeemo_{topics.device_id}_frames": {"p": "sensor", "state_topic": topics.state,
                                                       "value_template": "{{ value_json.frames }}"}}

    def close(self) -> None:
        self.closed = True


class Broken(Analyzer):
    name = "broken"
    mqtt_topic = "broken"

    def update(self, result: FrameResult, now: float, image: np.ndarray | None = None) -> AppOutput:
        raise RuntimeError("bad state")


def _frame(i: int) -> FrameResult:
    return FrameResult(index=i, wall_time=1.7e9 + i, width=64, height=48, faces=[])


def test_fake_clock_keeps_time_and_drops_frames():
    clock = FakeClock(start=0.0)
    times = list(clock.frames(10.0, 30.0))
    assert len(times) == 300 and times[-1] == pytest.approx(10.0)
    clock = FakeClock(start=0.0)
    dropped = list(clock.frames(10.0, 30.0, jitter=0.2, drop=0.1, seed=1))
    assert 230 < len(dropped) < 290 and all(b > a for a, b in zip(dropped, dropped[1:], strict=False))
    assert clock() <= 10.0
    with pytest.raises(ValueError, match="non-negative"):
        clock.advance(-1)


def test_a_failing_app_is_counted_and_the_others_still_run(caplog):
    metrics = Metrics()
    counter = FrameCounter()
    apps = AppSet([Broken(), counter], metrics)
    for i, t in enumerate(FakeClock(start=5.0).frames(1.0, 10)):
        result = _frame(i)
        apps.update(result, t)
    assert counter.frames == 10 and metrics.app_errors == {"broken": 10}
    assert result.apps == {"broken": None, "counter": {"frames": 10, "span_s": 0.9}}
    assert sum("app broken failed" in r.message for r in caplog.records) == 1, "logged once, not per frame"
    line = result.to_json()
    assert line["counter"] == {"frames": 10, "span_s": 0.9} and line["broken"] is None
    assert metrics.app_events == {("counter", "third"): 3}
    apps.close()
    assert counter.closed


def test_runner_hands_app_output_to_every_publisher(tmp_path):
    if default_bundle_path() is None:
        pytest.skip("this installation ships no default bundle")
    out = tmp_path / "frames.jsonl"
    config = parse_config({"publish": {"jsonl": {"enabled": True, "path": str(out), "max_bytes": 0}}})
    counter, null = FrameCounter(), NullPublisher()
    runner = Runner(config, source=FakeSource("fake:160x120*7", live=False), publishers=[null],
                    analyzers=[counter])
    try:
        runner.start()
        assert runner.info["apps"] == ["counter"]
        frames = runner.run(threading.Event())
        runner.flush()
    finally:
        runner.close()
    assert frames == 7 and counter.closed
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [rec["counter"]["frames"] for rec in lines] == list(range(1, 8))
    assert [len(rec.get("events", [])) for rec in lines] == [0, 0, 1, 0, 0, 1, 0]
    assert lines[2]["events"][0] == {"app": "counter", "type": "third", "frame": 2}
    assert "apps" in lines[0]["timings_ms"] and "counter" in runner.metrics.stages
    assert null.last is not None and null.last.apps["counter"] == {"frames": 7, "span_s": lines[-1]["counter"]["span_s"]}


def test_mqtt_sends_app_state_on_change_and_events_and_discovery():
    pub = MqttPublisher(device_id="car", interval_s=60.0, analyzers=[FrameCounter()])
    ((topic, payload),) = pub.discovery_messages()
    assert topic == "homeassistant/device/car/config", "one device-based discovery payload"
    component = payload["cmps"]["edgeemo_car_frames"]
    assert component["p"] == "sensor" and component["state_topic"] == "edgeemo/car/counter"
    assert payload["availability"] == [{"topic": "edgeemo/car/availability", "payload_available": "online",
                                        "payload_not_available": "offline"}]
    apps = AppSet(pub.analyzers, Metrics())
    for i in range(4):
        result = _frame(i)
        apps.update(result, float(i))
        pub.publish(result)
    sent = [(topic, json.loads(body), retain) for topic, body, _, retain in pub._buffer]
    states = [body["frames"] for topic, body, retain in sent if topic == "edgeemo/car/counter" and retain]
    assert states == [1, 3], "the first state, then only on change within the heartbeat interval"
    events = [body for topic, body, retain in sent if topic == "edgeemo/car/event"]
    assert events == [{"ts": 1.7e9 + 2, "app": "counter", "type": "third", "frame": 2}]


def test_an_unknown_app_section_is_rejected_with_its_key_path():
    from edgeemo.errors import ConfigError

    with pytest.raises(ConfigError, match=r"apps\.nosuchapp: expected no such key"):
        parse_config({"apps": {"nosuchapp": {"enabled": True}}})
