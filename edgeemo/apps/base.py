"""The application layer: analyzers that read each frame's tracked faces and keep state over time.

An Analyzer runs after tracking, in the frame loop, and turns what the pipeline saw into what an
application needs (a driver's fatigue level, a room's mood). Its output travels in FrameResult to
every publisher: the state as a top-level JSON object named after the app, events on the event
topic, gauges on /metrics and Home Assistant components in the device's discovery payload. Time is
always the `now` handed to update() (monotonic seconds), never a frame count, so an analyzer gives
the same answers at 5 and at 60 frames per second and tests can script it (FakeClock).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from edgeemo.bundle import Bundle
    from edgeemo.daemon.pipeline import FrameResult

__all__ = ["Analyzer", "AppContext", "AppEvent", "AppOutput", "MqttTopics"]


@dataclass
class AppEvent:
    """Something that happened once (a microsleep, a mood change): published, never retained."""

    app: str
    type: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"app": self.app, "type": self.type, **self.data}


@dataclass
class AppOutput:
    """What one analyzer made of one frame."""

    state: dict[str, Any] | None  # JSON-ready; None when there is nothing to report (no driver)
    events: list[AppEvent] = field(default_factory=list)
    # Publishers that send on change (MQTT) send this state now rather than at the next heartbeat.
    changed: bool = False
    gauges: dict[str, float] = field(default_factory=dict)  # /metrics: edgeemo_<app>_<name>
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage the app ran


@dataclass(frozen=True)
class AppContext:
    """What an analyzer may build itself from: the verified bundle and the inference threads."""

    bundle: Bundle | None
    labels: list[str]
    threads: int = 1


@dataclass(frozen=True)
class MqttTopics:
    """The topics an analyzer's Home Assistant components point at."""

    device_id: str
    base: str  # <prefix>/<device>
    state: str  # <base>/<app topic>: this app's state (JSON)
    event: str  # <base>/event
    availability: str
    command: str  # <base>/set: commands from Home Assistant (switches)


class Analyzer(abc.ABC):
    """One application. Subclasses set `name` (the [apps.NAME] key and the JSON field) and
    `mqtt_topic` (the state topic under <prefix>/<device>/)."""

    name: ClassVar[str]
    mqtt_topic: ClassVar[str]

    @abc.abstractmethod
    def update(self, result: FrameResult, now: float, image: np.ndarray | None = None) -> AppOutput:
        """Fold one frame into the state and say what it is now. `now` is monotonic seconds;
        `image` is the frame (BGR) for analyzers that run models of their own."""

    def warm_up(self) -> None:  # noqa: B027 - optional hook
        """Allocate and run models once, before the service reports READY."""

    def mqtt_state(self, state: dict[str, Any] | None) -> dict[str, Any] | None:
        """The state as published on MQTT (retained). An app whose JSON state is None at times
        (no driver) returns what Home Assistant should show then, so an entity reads "unknown"
        instead of keeping the last value; None publishes nothing."""
        return state

    def discovery_components(self, topics: MqttTopics) -> dict[str, dict[str, Any]]:
        """Home Assistant components (the `cmps` of the device's one discovery payload), keyed by
        a key unique across the device's apps; each has its platform under "p". One without
        unique_id/object_id gets `edgeemo_<device>_<key>` (edgeemo.apps.ha.component builds them),
        and without an availability of its own it is available while the device is online and
        analysis is on. Default: none."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release models and state."""

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
