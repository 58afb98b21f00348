"""The Publisher interface, the NullPublisher, and a fan-out that isolates publisher faults.

A publisher must never block the frame loop: slow work (network, disk sync) belongs on its own
thread behind a bounded buffer.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import ClassVar

import numpy as np

from edgeemo.daemon.metrics import Metrics
from edgeemo.daemon.pipeline import FrameResult

__all__ = ["NullPublisher", "Publisher", "PublisherSet"]

log = logging.getLogger(__name__)


class Publisher(abc.ABC):
    key: ClassVar[str]
    # Publishers that need the frame (the MJPEG preview) say so; others never see pixels.
    wants_image: bool = False

    def start(self, metrics: Metrics) -> None:  # noqa: B027 - optional hook
        """Connect, bind or open files; `metrics` is the run's live counters."""

    @abc.abstractmethod
    def publish(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Hand over one frame's result; must return quickly."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Push out anything buffered (called on SIGTERM and at the end of a run)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and release resources."""

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class NullPublisher(Publisher):
    """Counts what it is given and does nothing else: for benchmarks, tests and dry runs."""

    key = "null"

    def __init__(self) -> None:
        self.frames = 0
        self.faces = 0
        self.last: FrameResult | None = None

    def publish(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        self.frames += 1
        self.faces += len(result.faces)
        self.last = result


class PublisherSet:
    """Calls every publisher; one that raises is logged and counted, never stops the loop."""

    def __init__(self, publishers: Sequence[Publisher], metrics: Metrics) -> None:
        self.publishers = list(publishers)
        self.metrics = metrics
        self.wants_image = any(p.wants_image for p in self.publishers)

    def start(self) -> None:
        for p in self.publishers:
            p.start(self.metrics)

    def publish(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        for p in self.publishers:
            try:
                p.publish(result, image if p.wants_image else None)
            except Exception as exc:  # a publisher bug must not take the camera loop down
                self.metrics.publish_errors += 1
                log.warning("publisher %s failed: %s", p.key, exc)

    def flush(self) -> None:
        self._each("flush")

    def close(self) -> None:
        self._each("close")

    def _each(self, action: str) -> None:
        """Call `action` on every publisher; one that fails is logged and the others still run."""
        for p in self.publishers:
            try:
                getattr(p, action)()
            except Exception as exc:
                log.warning("publisher %s %s failed: %s", p.key, action, exc)
