"""Runs every analyzer on each frame; one that raises is logged and counted, never stops the loop."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from edgeemo.apps.base import Analyzer

if TYPE_CHECKING:
    from edgeemo.daemon.metrics import Metrics
    from edgeemo.daemon.pipeline import FrameResult

__all__ = ["AppSet"]

log = logging.getLogger(__name__)

# A broken analyzer fails on every frame: log the first failure and then one in this many.
LOG_EVERY = 100


class AppSet:
    def __init__(self, analyzers: Sequence[Analyzer], metrics: Metrics) -> None:
        self.analyzers = list(analyzers)
        self.metrics = metrics

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.analyzers]

    def warm_up(self) -> None:
        for analyzer in self.analyzers:
            analyzer.warm_up()

    def update(self, result: FrameResult, now: float, image: np.ndarray | None = None) -> None:
        """Fill result.apps, result.events and the apps' timings for this frame."""
        if not self.analyzers:
            return
        t_all = time.perf_counter()
        for analyzer in self.analyzers:
            name = analyzer.name
            try:
                out = analyzer.update(result, now, image)
            except Exception as exc:  # an application bug must not take the camera loop down
                errors = self.metrics.record_app_error(name)
                if errors == 1 or errors % LOG_EVERY == 0:
                    log.warning("app %s failed (%d so far): %s: %s", name, errors, type(exc).__name__, exc)
                result.apps[name] = None
                continue
            result.apps[name] = out.state
            if out.changed:
                result.changed_apps.add(name)
            result.events.extend(out.events)
            result.timings.update(out.timings)
            self.metrics.record_app(name, out.gauges, [e.type for e in out.events])
        result.timings["apps"] = time.perf_counter() - t_all

    def close(self) -> None:
        for analyzer in self.analyzers:
            try:
                analyzer.close()
            except Exception as exc:
                log.warning("app %s close failed: %s", analyzer.name, exc)
